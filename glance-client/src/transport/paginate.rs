//! Following `next` links: the one paging loop every listing uses.

use std::collections::HashSet;

use futures::Stream;
use serde::de::DeserializeOwned;
use url::Url;

use reqwest::header::HeaderValue;

use super::{REQUEST_ID_HEADER, RequestSpec};
use crate::client::Client;
use crate::error::Result;

/// A page of a listing: its items and the link to the next page.
pub(crate) trait Page: DeserializeOwned + Send + 'static {
    /// What the listing lists.
    type Item: Send + 'static;

    /// The items, and the server-relative `next` link if there is one.
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

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
) -> impl Stream<Item = Result<P::Item>> + Send + 'static {
    async_stream::try_stream! {
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
    }
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
    fn next_link_limit_is_rewritten() {
        assert_eq!(
            with_limit("/v2/images?limit=2&marker=abc", 1),
            "/v2/images?limit=1&marker=abc"
        );
    }
}
