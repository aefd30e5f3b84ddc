//! echo-upstream: answers every request with 200 and a JSON echo of it. See `--help`.

use std::process::ExitCode;
use std::sync::Arc;

use jwt_guard_devtools::cli::Flags;
use jwt_guard_devtools::echo;
use jwt_guard_devtools::http::{self, Handler};

fn run() -> Result<(), String> {
    let flags = Flags::parse(std::env::args().skip(1), echo::FLAGS)?;
    if flags.help {
        print!("{}", echo::USAGE);
        return Ok(());
    }
    let listener = jwt_guard_devtools::bind(flags.last("listen").unwrap_or(echo::DEFAULT_LISTEN))?;
    if let Ok(local) = listener.local_addr() {
        eprintln!("echo-upstream: listening on http://{local}");
    }
    let handler: Arc<Handler> = Arc::new(echo::handle);
    http::serve(listener, "echo-upstream", handler);
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("echo-upstream: {err}");
            ExitCode::from(2)
        }
    }
}
