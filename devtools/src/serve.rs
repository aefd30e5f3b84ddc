//! Listening and graceful shutdown, shared by the three binaries.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

/// Binds `addr`, with an error message that names it.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr).await.map_err(|err| {
        format!("cannot listen on {addr}: {err} (is another program using the port?)")
    })
}

/// Serves `app` on `listener` until SIGINT or SIGTERM, then lets requests in flight finish.
pub async fn run(listener: TcpListener, app: Router) -> Result<(), String> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|err| format!("server error: {err}"))
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
