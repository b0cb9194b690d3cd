//! The accept loop: a task per connection ([`super::connection`]), accept
//! errors survived, and a graceful stop.

use std::io;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

use super::connection;
use crate::config::ConnectionConfig;

/// How long accepting pauses after an error such as `EMFILE` (out of file
/// descriptors): connections closing meanwhile (the timeouts see to idle
/// ones) make room again.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Accept connections on `listener` and serve `app` on each until `stop`
/// fires (or its sender goes); then accept no more, let every connection
/// finish the request in flight, and return once all have closed.
pub(crate) async fn serve<A: super::unread::App>(
    listener: TcpListener,
    app: A,
    limits: ConnectionConfig,
    mut stop: oneshot::Receiver<()>,
) {
    let (stopping, stopping_rx) = watch::channel(false);
    // Every connection task holds a receiver; `closed()` waits for them all.
    let (open_tx, open) = watch::channel(());
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, _)) => {
                let (app, stopping, open) = (app.clone(), stopping_rx.clone(), open.clone());
                tokio::spawn(async move {
                    connection::serve(tcp, app, limits, stopping).await;
                    drop(open);
                });
            }
            // The client gave up before we accepted: nothing to do.
            Err(e) if is_connection_error(&e) => {}
            Err(e) => {
                tracing::error!("accepting a connection: {e}; pausing {ACCEPT_PAUSE:?}");
                tokio::select! {
                    _ = &mut stop => break,
                    () = tokio::time::sleep(ACCEPT_PAUSE) => {}
                }
            }
        }
    }
    drop(listener);
    let _ = stopping.send(true);
    drop(open);
    open_tx.closed().await;
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
