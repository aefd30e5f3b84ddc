//! dev-idp: a local identity provider that behaves like an Auth0 tenant. See `--help`.

use std::process::ExitCode;
use std::sync::Arc;

use jwt_guard_devtools::cli::Flags;
use jwt_guard_devtools::http::{self, Handler, Request};
use jwt_guard_devtools::idp::{self, Idp, IdpConfig};

fn run() -> Result<(), String> {
    let flags = Flags::parse(std::env::args().skip(1), idp::FLAGS)?;
    if flags.help {
        print!("{}", idp::USAGE);
        return Ok(());
    }
    let listener = jwt_guard_devtools::bind(flags.last("listen").unwrap_or(idp::DEFAULT_LISTEN))?;
    let local = listener
        .local_addr()
        .map_err(|err| format!("cannot read the bound address: {err}"))?;
    let config = IdpConfig::from_flags(&flags, local)?;
    let key = idp::new_signing_key()?;
    let provider = Arc::new(Idp::new(config, key));
    let cfg = provider.config();
    eprintln!(
        "dev-idp: listening on http://{local} (development only)\n\
         dev-idp: issuer {}, audiences {}, client {}, scopes {:?}, token ttl {} s, kid {}",
        cfg.issuer,
        cfg.audiences.join(" "),
        cfg.client_id,
        cfg.allowed_scopes.join(" "),
        cfg.token_ttl_s,
        provider.current_kid()
    );
    let handler: Arc<Handler> = Arc::new(move |request: &Request| provider.handle(request));
    http::serve(listener, "dev-idp", handler);
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dev-idp: {err}");
            ExitCode::from(2)
        }
    }
}
