//! Listing images as a lazy stream that follows `next` links.

use futures::Stream;
use serde::Deserialize;
use url::Url;

use super::{Image, Images};
use crate::error::Result;
use crate::transport::RequestSpec;

/// What to list. Filters are passed to the server as they are, so Glance's
/// operators work (`name=in:"a,b",c`, `created_at=gt:2024-01-01T00:00:00Z`).
///
/// ```
/// use glance_client::ListImages;
/// let query = ListImages::new()
///     .filter("status", "active")
///     .tag("golden")
///     .sort("name", true)
///     .page_size(100)
///     .limit(250);
/// # let _ = query;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListImages {
    page_size: Option<u32>,
    limit: Option<u64>,
    filters: Vec<(String, String)>,
    tags: Vec<String>,
    sort: Vec<(String, bool)>,
    marker: Option<String>,
}

impl ListImages {
    /// All images the server shows by default.
    pub fn new() -> Self {
        ListImages::default()
    }

    /// Images per request (Glance's default is 25 and its maximum usually 1000).
    /// Unset, the client asks for 200 per page, as python-glanceclient does.
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n);
        self
    }

    /// Stop after this many images in total.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// A filter such as `("visibility", "public")`, `("os_distro", "ubuntu")`.
    pub fn filter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.filters.push((key.into(), value.into()));
        self
    }

    /// Only images with this tag (several tags: all of them).
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Sort by `key` (`name`, `status`, `size`, `created_at`, …), ascending or not.
    pub fn sort(mut self, key: impl Into<String>, ascending: bool) -> Self {
        self.sort.push((key.into(), ascending));
        self
    }

    /// Start after the image with this id.
    pub fn marker(mut self, id: impl Into<String>) -> Self {
        self.marker = Some(id.into());
        self
    }

    fn effective_page_size(&self) -> u64 {
        let page = u64::from(self.page_size.filter(|n| *n > 0).unwrap_or(200));
        match self.limit {
            Some(l) if l < page => l,
            _ => page,
        }
    }

    /// The first request of the listing.
    pub(crate) fn first_request(&self) -> RequestSpec {
        let mut spec = RequestSpec::new(reqwest::Method::GET, ["v2", "images"]);
        spec.query.extend(self.filters.iter().cloned());
        spec.query
            .push(("limit".into(), self.effective_page_size().to_string()));
        for t in &self.tags {
            spec.query.push(("tag".into(), t.clone()));
        }
        if !self.sort.is_empty() {
            let sort = self
                .sort
                .iter()
                .map(|(k, asc)| format!("{k}:{}", if *asc { "asc" } else { "desc" }))
                .collect::<Vec<_>>()
                .join(",");
            spec.query.push(("sort".into(), sort));
        }
        if let Some(m) = &self.marker {
            spec.query.push(("marker".into(), m.clone()));
        }
        spec
    }
}

#[derive(Deserialize)]
struct Page {
    images: Vec<Image>,
    next: Option<String>,
}

/// Replace the `limit` of a server link with a smaller one.
fn with_limit(link: &str, limit: u64) -> String {
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

impl Images<'_> {
    /// `GET /v2/images`, page after page, as a stream of images.
    ///
    /// Pages are fetched lazily as the stream is polled. The stream ends at
    /// the last page, at the `limit`, or if the server ever repeats a page
    /// link (a guard against paging loops).
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client) -> glance_client::Result<()> {
    /// use futures::TryStreamExt;
    /// let active: Vec<_> = client
    ///     .images()
    ///     .list(glance_client::ListImages::new().filter("status", "active"))
    ///     .try_collect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self, query: ListImages) -> impl Stream<Item = Result<Image>> + Send + 'static {
        let client = self.client.clone();
        async_stream::try_stream! {
            let mut remaining = query.limit;
            let page_size = query.effective_page_size();
            let mut spec = query.first_request();
            let mut seen_links = std::collections::HashSet::new();
            loop {
                let page: Page = client.send_json(spec).await?;
                let empty = page.images.is_empty();
                for image in page.images {
                    yield image;
                    if let Some(r) = remaining.as_mut() {
                        *r -= 1;
                        if *r == 0 {
                            return;
                        }
                    }
                }
                let Some(next) = page.next else { break };
                if empty || !seen_links.insert(next.clone()) {
                    break;
                }
                let link = match remaining {
                    Some(r) if r < page_size => with_limit(&next, r),
                    _ => next,
                };
                spec = RequestSpec::link(&link);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_request_shape() {
        let endpoint = Url::parse("http://h/").expect("url");
        let q = ListImages::new()
            .filter("visibility", "public")
            .tag("t 1")
            .sort("name", true)
            .page_size(5)
            .limit(3);
        assert_eq!(
            q.first_request().url(&endpoint).expect("url").as_str(),
            "http://h/v2/images?visibility=public&limit=3&tag=t+1&sort=name%3Aasc"
        );
        assert_eq!(
            ListImages::new()
                .first_request()
                .url(&endpoint)
                .expect("url")
                .as_str(),
            "http://h/v2/images?limit=200"
        );
    }

    #[test]
    fn next_link_limit_is_rewritten() {
        assert_eq!(
            with_limit("/v2/images?limit=2&marker=abc", 1),
            "/v2/images?limit=1&marker=abc"
        );
    }
}
