//! Request bodies the application answered without reading to the end: an
//! upload refused before its data (404, 409, 415, an identity or fault
//! rule's answer, a 413 on a JSON body, ...).
//!
//! hyper then stops reading and closes the connection after the answer,
//! sometimes without saying `Connection: close`, and closing a socket with
//! unread data resets it: a keep-alive client reusing the connection, or
//! still writing its body, meets a reset. So, over HTTP/1.x: a rest of at
//! most [`DRAIN_MAX`] bytes of known length is read and dropped before the
//! answer goes (the connection stays open, as gunicorn, which Glance runs
//! in, keeps it); anything larger, of unknown length (chunked) or still
//! held by the application gets `Connection: close` and a lingering close
//! (see [`super::connection`]). HTTP/2 resets just the stream.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::{HeaderValue, Request, Version, header};
use axum::response::Response;
use futures::future::BoxFuture;
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};

use super::connection::Activity;
use crate::config::ConnectionConfig;

/// The largest unread rest drained to keep the connection.
const DRAIN_MAX: u64 = 64 * 1024;

/// How long draining waits for a rest without a header read timeout.
const DRAIN_WAIT: Duration = Duration::from_secs(30);

/// What a connection serves: an application answering every request
/// (the mock's [`crate::api::MockService`], or the registry's router).
pub(crate) trait App:
    tower::Service<
        Request<axum::body::Body>,
        Response = Response,
        Error = Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> App for S where
    S: tower::Service<
            Request<axum::body::Body>,
            Response = Response,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + Sync
        + 'static
{
}

/// The application as a connection's hyper service: counts requests in
/// flight for the connection's watchdog and settles unread bodies.
#[derive(Clone)]
pub(super) struct Answering<A> {
    app: A,
    activity: Arc<Activity>,
    /// How long draining waits for the rest: as long as a head may take.
    drain_wait: Duration,
}

impl<A: App> Answering<A> {
    pub(super) fn new(app: A, activity: Arc<Activity>, limits: &ConnectionConfig) -> Self {
        Answering {
            app,
            activity,
            drain_wait: limits.header_read_timeout().unwrap_or(DRAIN_WAIT),
        }
    }
}

impl<A: App> tower::Service<Request<Incoming>> for Answering<A> {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Incoming>) -> Self::Future {
        self.activity.request_started();
        let in_flight = InFlight(self.activity.clone());
        let http1 = req.version() <= Version::HTTP_11;
        if !http1 || req.body().is_end_stream() {
            let answer = self.app.call(req.map(axum::body::Body::new));
            return Box::pin(async move {
                let answer = answer.await;
                drop(in_flight);
                answer
            });
        }
        let rest = Arc::new(Rest::default());
        let req = req.map(|body| {
            axum::body::Body::new(Tracked {
                body: Some(body),
                rest: rest.clone(),
            })
        });
        let answer = self.app.call(req);
        let drain_wait = self.drain_wait;
        Box::pin(async move {
            let mut answer = answer.await?;
            if !rest.settle(drain_wait).await {
                answer
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                in_flight.0.linger();
            }
            drop(in_flight);
            Ok(answer)
        })
    }
}

/// A request of the connection until its answer is ready.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_answered();
    }
}

/// What became of a request body: read to the end, or handed back unread
/// when the application dropped it.
#[derive(Default)]
struct Rest {
    ended: AtomicBool,
    unread: Mutex<Option<Incoming>>,
}

impl Rest {
    /// After the answer: whether the connection can stay open, the body
    /// read to its end (by the application, or drained now).
    async fn settle(&self, wait: Duration) -> bool {
        if self.ended.load(Relaxed) {
            return true;
        }
        let unread = self.unread.lock().ok().and_then(|mut rest| rest.take());
        // None: the application still holds the body.
        let Some(mut body) = unread else {
            return false;
        };
        if body.is_end_stream() {
            return true;
        }
        if body.size_hint().upper().is_none_or(|n| n > DRAIN_MAX) {
            return false;
        }
        let drain = async {
            while let Some(frame) =
                std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
            {
                if frame.is_err() {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(wait, drain).await.unwrap_or(false)
    }
}

/// The request body as the application sees it, reporting to [`Rest`].
struct Tracked {
    body: Option<Incoming>,
    rest: Arc<Rest>,
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let Some(body) = this.body.as_mut() else {
            return Poll::Ready(None);
        };
        let frame = Pin::new(body).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            this.rest.ended.store(true, Relaxed);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.as_ref().is_none_or(Incoming::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.body
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Incoming::size_hint)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(body) = self.body.take() {
            if !self.rest.ended.load(Relaxed) {
                if let Ok(mut unread) = self.rest.unread.lock() {
                    *unread = Some(body);
                }
            }
        }
    }
}
