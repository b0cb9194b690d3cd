//! The request ids of successful calls, as glanceclient returns
//! `request_ids` with every result: `call.with_request_ids().await`.
//!
//! The ids are collected in a task-local scope around the one future, so
//! concurrent calls on the same client never see each other's ids (a
//! `client.last_request_id()` would race), and no call's signature
//! changes for the callers who do not ask.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::task::futures::TaskLocalFuture;

type Recorded = Arc<Mutex<Vec<String>>>;

tokio::task_local! {
    static RECORDER: Recorded;
}

/// Note a response's `x-openstack-request-id` for the enclosing
/// [`WithRequestIds::with_request_ids`], if any.
pub(crate) fn record(id: &str) {
    let _ = RECORDER.try_with(|ids| {
        if let Ok(mut ids) = ids.lock() {
            ids.push(id.to_owned());
        }
    });
}

/// `.with_request_ids()` on any call of this client: the call's result
/// and the `x-openstack-request-id` of every Image service response it
/// received, in order (several for calls that send several requests,
/// such as [`Images::find`](crate::Images::find) or a verified download;
/// the last is the final answer's). Errors carry theirs already
/// ([`Error::request_id`](crate::Error::request_id)).
///
/// ```no_run
/// use glance_client::WithRequestIds;
/// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
/// let (image, ids) = client.images().get(id).with_request_ids().await;
/// let image = image?;
/// println!("{} came with request {:?}", image.id, ids.last());
/// # Ok(()) }
/// ```
///
/// Listings too, when the whole listing is one future:
///
/// ```no_run
/// use futures::TryStreamExt;
/// use glance_client::{ListImages, WithRequestIds};
/// # async fn demo(client: glance_client::Client) -> glance_client::Result<()> {
/// let (images, page_ids) = client
///     .images()
///     .list(ListImages::new())
///     .try_collect::<Vec<_>>()
///     .with_request_ids()
///     .await;
/// println!("{} images in {} pages", images?.len(), page_ids.len());
/// # Ok(()) }
/// ```
pub trait WithRequestIds: Future + Sized {
    /// This future, answering its output with the request ids seen while
    /// it ran.
    fn with_request_ids(self) -> RequestIdsFuture<Self>;
}

impl<F: Future> WithRequestIds for F {
    fn with_request_ids(self) -> RequestIdsFuture<Self> {
        let ids = Recorded::default();
        RequestIdsFuture {
            inner: Box::pin(RECORDER.scope(ids.clone(), self)),
            ids,
        }
    }
}

/// What [`WithRequestIds::with_request_ids`] returns: a future of the
/// call's output and its request ids.
#[must_use = "futures do nothing unless awaited"]
pub struct RequestIdsFuture<F: Future> {
    inner: Pin<Box<TaskLocalFuture<Recorded, F>>>,
    ids: Recorded,
}

impl<F: Future> Future for RequestIdsFuture<F> {
    type Output = (F::Output, Vec<String>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.inner.as_mut().poll(cx) {
            Poll::Ready(output) => {
                let ids = match self.ids.lock() {
                    Ok(mut ids) => std::mem::take(&mut *ids),
                    Err(_) => Vec::new(),
                };
                Poll::Ready((output, ids))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: Future> std::fmt::Debug for RequestIdsFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestIdsFuture").finish_non_exhaustive()
    }
}
