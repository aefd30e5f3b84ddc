//! dev-idp: a local identity provider that behaves like an Auth0 tenant. See `--help`.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use jwt_guard_devtools::idp::{self, keys, Idp, IdpConfig};
use jwt_guard_devtools::serve;

async fn run(args: idp::Args) -> Result<(), String> {
    let listener = serve::bind(args.listen).await?;
    let local = listener
        .local_addr()
        .map_err(|err| format!("cannot read the bound address: {err}"))?;
    let config = IdpConfig::from_args(&args, local)?;
    let key = tokio::task::spawn_blocking(keys::new_signing_key)
        .await
        .map_err(|err| err.to_string())??;
    let provider = Arc::new(Idp::new(config, key));
    let cfg = provider.config();
    let users: Vec<String> = cfg
        .users
        .iter()
        .map(|u| format!("{} ({})", u.name, u.permissions.join(" ")))
        .collect();
    eprintln!(
        "dev-idp: listening on http://{local} (development only)\n\
         dev-idp: issuer {}, audiences {}, kid {}\n\
         dev-idp: client {} (client credentials, scopes {}), SPA client {} \
         (callbacks {}, web origins {}), users {}",
        cfg.issuer,
        cfg.audiences.join(" "),
        provider.current_kid(),
        cfg.client_id,
        cfg.allowed_scopes.join(" "),
        cfg.spa_client_id,
        cfg.callback_urls.join(" "),
        cfg.web_origins.join(" "),
        users.join(", "),
    );
    serve::run(listener, idp::router(provider)).await
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(idp::Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dev-idp: {err}");
            ExitCode::from(2)
        }
    }
}
