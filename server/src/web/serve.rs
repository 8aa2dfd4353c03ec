//! The accept loop: hyper's HTTP/1 connections with a header-read timeout
//! (which also ends idle kept-alive connections), each request stamped with
//! its peer's address, and a graceful shutdown bounded in time.
//!
//! `axum::serve` sets no timer on hyper, so a connection that never sends
//! (or never finishes) its request head held a file descriptor forever and
//! kept the graceful shutdown from ever finishing.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::config::HttpSection;

impl From<&HttpSection> for ServeOptions {
    /// The timeouts `http.header_read_timeout` and `http.shutdown_grace`
    /// configure.
    fn from(http: &HttpSection) -> Self {
        Self {
            header_read_timeout: http.header_read_timeout.0,
            shutdown_grace: http.shutdown_grace.0,
        }
    }
}

/// How long to wait before accepting again after `accept` failed (out of
/// file descriptors, most likely): connections that time out free some.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Timeouts of the connection layer.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// For a request's head, and for the next one on an idle connection.
    pub header_read_timeout: Duration,
    /// How long connections get to finish after `shutdown` resolves.
    pub shutdown_grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops
/// accepting, lets requests in flight finish for at most
/// `shutdown_grace`, and closes whatever is still open. WebSockets
/// (upgraded connections) live on in their own tasks until the process
/// ends.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    // hyper's own HTTP/1 builder, not hyper-util's `auto` one: `auto`
    // first reads the connection's opening bytes to tell HTTP/1 from
    // HTTP/2, with no timeout, so a client that sends nothing was never
    // timed out. (The server has never spoken HTTP/2: axum's `http2`
    // feature is off.)
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    let (closing, closing_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        // Reap the tasks of closed connections.
        while connections.try_join_next().is_some() {}
        let service = app
            .clone()
            .map_request(move |mut request: axum::extract::Request<_>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let service = TowerToHyperService::new(service);
        let builder = builder.clone();
        let mut closing = closing_rx.clone();
        connections.spawn(async move {
            let connection = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = closing.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = ended {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let open = connections.len();
    tracing::info!(
        open,
        grace = ?options.shutdown_grace,
        "no longer accepting connections; finishing requests in flight"
    );
    let _ = closing.send(true);
    let drained = tokio::time::timeout(options.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            still_open = connections.len(),
            "closing the connections still open after the shutdown grace period"
        );
        connections.shutdown().await;
    }
}
