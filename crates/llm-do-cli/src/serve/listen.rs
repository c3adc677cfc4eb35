//! The accept loop of `llm-do serve`: the router over hyper's HTTP/1, with a bound on how
//! long a client may take to send its request.
//!
//! `axum::serve` gives hyper no timer, so it has no header read timeout: a client that sends
//! half a request line and then nothing (slowloris), or opens a connection and sends nothing
//! at all, holds its connection, a task and a file descriptor for as long as it likes, and
//! enough of them exhaust the descriptors of the process. Here a connection that has not sent
//! a whole request head within [`HEADER_READ_TIMEOUT`] (also while it idles between two
//! requests) is closed; a body is bounded the same way by [`super::BODY_READ_TIMEOUT`].
//! At most [`super::Limits::max_connections`] connections are open at once
//! (`serve/limit.rs`).

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Longest wait for a connection's request head (the request line and headers), from the
/// moment the server is ready to read it: a slower connection is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `app` on `listener`, with at most `max_connections` connections open (no other is
/// accepted until one closes), until `shutdown` completes, then answers the requests in flight
/// and returns.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    max_connections: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let open = Arc::new(Semaphore::new(max_connections.clamp(1, Semaphore::MAX_PERMITS)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = open.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // A connection that failed before it was accepted concerns that client only.
                Err(e) if is_connection_error(&e) => continue,
                // Out of descriptors or memory: wait for some to be freed, as axum does.
                Err(_) => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A failed connection (a timeout, a client that went away) ends only itself.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}
