//! echo-upstream: answers every request with 200 and a JSON echo of it. See `--help`.

use std::process::ExitCode;

use clap::Parser;
use jwt_guard_devtools::{echo, serve};

#[tokio::main]
async fn main() -> ExitCode {
    let args = echo::Args::parse();
    let result = async {
        let listener = serve::bind(args.listen).await?;
        eprintln!("echo-upstream: listening on http://{}", args.listen);
        serve::run(listener, echo::app()).await
    };
    match result.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("echo-upstream: {err}");
            ExitCode::from(2)
        }
    }
}
