//! Following `next` links: the one paging loop every listing uses.

use std::collections::HashSet;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use serde::de::DeserializeOwned;
use url::Url;

use reqwest::header::HeaderValue;

use crate::client::Client;
use crate::error::Result;
use crate::transport::{REQUEST_ID_HEADER, RequestSpec};

/// A page of a listing: its items and the link to the next page.
pub(crate) trait Page: DeserializeOwned + Send + 'static {
    /// What the listing lists.
    type Item: Send + 'static;

    /// The items, and the server-relative `next` link if there is one.
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

/// A listing, page after page, as a stream of its items: what
/// [`Images::list`](crate::Images::list), [`Tasks::list`](crate::Tasks::list)
/// and [`Metadefs::list_namespaces`](crate::metadefs::Metadefs::list_namespaces)
/// return.
///
/// A named, `Unpin`, `Send + 'static` type: it can be kept in a struct,
/// and `.next().await` needs no `pin!`. Pages are fetched as it is polled.
///
/// ```no_run
/// use futures::StreamExt;
/// use glance_client::{Client, ImageStream, ListImages};
///
/// /// Walks the images a page at a time, between other work.
/// struct Walker {
///     images: ImageStream,
/// }
///
/// impl Walker {
///     async fn next_name(&mut self) -> glance_client::Result<Option<String>> {
///         match self.images.next().await {
///             Some(image) => Ok(Some(image?.name.unwrap_or_default())),
///             None => Ok(None),
///         }
///     }
/// }
///
/// # async fn demo(client: Client) -> glance_client::Result<()> {
/// let mut walker = Walker { images: client.images().list(ListImages::new()) };
/// while let Some(name) = walker.next_name().await? {
///     println!("{name}");
/// }
/// // Without a struct, no pin! either:
/// let mut tasks = client.tasks().list(Default::default());
/// while let Some(task) = tasks.next().await {
///     println!("{}", task?.id);
/// }
/// # Ok(()) }
/// ```
#[must_use = "a listing fetches nothing until it is polled"]
pub struct ListStream<T> {
    inner: Pin<Box<dyn Stream<Item = Result<T>> + Send + 'static>>,
}

impl<T> ListStream<T> {
    pub(crate) fn new(stream: impl Stream<Item = Result<T>> + Send + 'static) -> Self {
        ListStream {
            inner: Box::pin(stream),
        }
    }
}

impl<T> Stream for ListStream<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        self.inner.as_mut().poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T> fmt::Debug for ListStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListStream").finish_non_exhaustive()
    }
}

/// [`Images::list`](crate::Images::list)'s stream.
pub type ImageStream = ListStream<crate::images::Image>;
/// [`Tasks::list`](crate::Tasks::list)'s stream.
pub type TaskStream = ListStream<crate::tasks::Task>;
/// [`Metadefs::list_namespaces`](crate::metadefs::Metadefs::list_namespaces)'s stream.
pub type NamespaceStream = ListStream<crate::metadefs::Namespace>;

/// Fetch page after page, lazily, starting with `first`.
///
/// The stream ends at the last page, after `limit` items (the `limit` of
/// the next link is lowered when fewer than `page_size` remain), at an
/// empty page, or when the server repeats a link (a paging loop). An error
/// building the first request is the stream's first item.
///
/// Like glanceclient, each page after the first carries the previous
/// page's `x-openstack-request-id`, so the server's log ties the pages of
/// one listing together (a client-wide global request id takes precedence).
pub(crate) fn paginate<P: Page>(
    client: Client,
    first: Result<RequestSpec>,
    limit: Option<u64>,
    page_size: u64,
) -> ListStream<P::Item> {
    ListStream::new(async_stream::try_stream! {
        let mut remaining = limit;
        let mut spec = first?;
        let mut seen = HashSet::new();
        loop {
            let (page, request_id) = client.send_json_with_id::<P>(spec).await?;
            let (items, next) = page.into_parts();
            let empty = items.is_empty();
            for item in items {
                yield item;
                if let Some(r) = remaining.as_mut() {
                    *r = r.saturating_sub(1);
                    if *r == 0 {
                        return;
                    }
                }
            }
            let Some(next) = next else { break };
            if empty || !seen.insert(next.clone()) {
                break;
            }
            let link = match remaining {
                Some(r) if r < page_size => with_limit(&next, r),
                _ => next,
            };
            spec = RequestSpec::link(&link);
            if let Some(value) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                spec.headers.insert(REQUEST_ID_HEADER, value);
            }
        }
    })
}

/// Replace the `limit` of a server link with a smaller one.
pub(crate) fn with_limit(link: &str, limit: u64) -> String {
    let Ok(url) = Url::parse(&format!("http://x{link}")) else {
        return link.to_owned();
    };
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            if k == "limit" {
                (k.into_owned(), limit.to_string())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut().clear().extend_pairs(&pairs);
    format!("{}?{}", out.path(), out.query().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_streams_can_be_kept_and_polled_without_pinning() {
        fn storable<T: Unpin + Send + 'static>() {}
        storable::<ImageStream>();
        storable::<TaskStream>();
        storable::<NamespaceStream>();
    }

    #[test]
    fn next_link_limit_is_rewritten() {
        assert_eq!(
            with_limit("/v2/images?limit=2&marker=abc", 1),
            "/v2/images?limit=1&marker=abc"
        );
    }
}
