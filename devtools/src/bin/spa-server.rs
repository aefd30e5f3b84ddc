//! spa-server: serves the demo single-page app and its settings. See `--help`.

use std::process::ExitCode;

use clap::Parser;
use jwt_guard_devtools::{serve, spa};

#[tokio::main]
async fn main() -> ExitCode {
    let args = spa::Args::parse();
    let result = async {
        if !args.root.join("index.html").is_file() {
            return Err(format!("{} has no index.html", args.root.display()));
        }
        let listener = serve::bind(args.listen).await?;
        let config = args.config();
        eprintln!(
            "spa-server: the demo SPA on http://{} (IdP {}, API {}, client {})",
            args.listen, config.domain, config.api, config.client_id
        );
        serve::run(listener, spa::app(&args)).await
    };
    match result.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("spa-server: {err}");
            ExitCode::from(2)
        }
    }
}
