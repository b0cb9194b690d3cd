//! Resuming a download whose connection broke: the rest is asked for with
//! `Range: bytes=N-`, after checking that the image is still the one whose
//! first bytes were received.
//!
//! Glance answers a ranged `GET /file` with `206 Partial Content`,
//! `Content-Range: bytes N-{size-1}/{size}` and the `Content-MD5` of the
//! whole image (the same header as the full response).

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

use super::{Image, get_spec};
use crate::client::Client;
use std::time::Duration;

use crate::error::{Error, Result, Transfer};
use crate::transport::RequestSpec;

/// What the first response said about the data, to compare later ones with.
#[derive(Debug, Clone)]
pub(crate) struct Original {
    /// The image record read before the download, if any.
    pub image: Option<Image>,
    /// `Content-Length` of the full response: the image size.
    pub length: u64,
    /// `Content-MD5` of the full response.
    pub content_md5: Option<String>,
}

/// The request for the bytes from `offset` to `last` (inclusive), or to
/// the end without `last`.
pub(crate) fn range_spec(id: &str, offset: u64, last: Option<u64>) -> Result<RequestSpec> {
    let range = match last {
        Some(last) => format!("bytes={offset}-{last}"),
        None => format!("bytes={offset}-"),
    };
    let mut spec =
        RequestSpec::new(Method::GET, ["v2", "images", id, "file"]).header("range", &range)?;
    spec.streams_data = true;
    Ok(spec)
}

/// Whether a ranged response carries bytes `offset..=last` (to the end
/// without `last`) of the same image: `206`, the `Content-Range` asked
/// for with the image's size, the same `Content-MD5` as the first answer.
pub(crate) fn check_range(
    status: StatusCode,
    headers: &HeaderMap,
    offset: u64,
    last: Option<u64>,
    original: &Original,
) -> std::result::Result<(), String> {
    if status != StatusCode::PARTIAL_CONTENT {
        return Err(format!("the server answered {status} instead of 206"));
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let range = header("content-range").ok_or("the 206 has no Content-Range")?;
    let last = last.unwrap_or(original.length.saturating_sub(1));
    let expected = format!("bytes {offset}-{last}/{}", original.length);
    if range.trim() != expected {
        return Err(format!(
            "Content-Range is {range:?}, expected {expected:?} (the image's size or the range differ)"
        ));
    }
    if let (Some(first), Some(now)) = (original.content_md5.as_deref(), header("content-md5")) {
        if !first.eq_ignore_ascii_case(now.trim()) {
            return Err(format!(
                "the image changed: Content-MD5 was {first}, now {now}"
            ));
        }
    }
    Ok(())
}

/// Whether the record read again still describes the same data.
pub(crate) fn check_record(before: &Image, now: &Image) -> std::result::Result<(), String> {
    let same = before.os_hash_value == now.os_hash_value
        && before.checksum == now.checksum
        && before.size == now.size;
    if !same {
        return Err(format!(
            "the image changed (os_hash_value {:?} → {:?}, size {:?} → {:?})",
            before.os_hash_value, now.os_hash_value, before.size, now.size
        ));
    }
    Ok(())
}

pub(crate) type Body = BoxStream<'static, Result<Bytes>>;

pub(crate) fn body_of(resp: reqwest::Response) -> Body {
    resp.bytes_stream().map_err(Error::transport).boxed()
}

async fn reopen(client: &Client, id: &str, offset: u64, original: &Original) -> Result<Body> {
    reopen_range(client, id, offset, None, original).await
}

/// Ask again for bytes `offset..=last` (to the end without `last`), once
/// the record read again and the ranged answer show the same image;
/// otherwise [`Error::ResumeFailed`] saying what changed.
pub(crate) async fn reopen_range(
    client: &Client,
    id: &str,
    offset: u64,
    last: Option<u64>,
    original: &Original,
) -> Result<Body> {
    if let Some(before) = &original.image {
        let now: Image = client.send_json(get_spec(id)).await?;
        check_record(before, &now).map_err(|reason| Error::ResumeFailed {
            offset,
            reason,
            cause: None,
        })?;
    }
    let resp = client.send(range_spec(id, offset, last)?).await?;
    check_range(resp.status(), resp.headers(), offset, last, original).map_err(|reason| {
        Error::ResumeFailed {
            offset,
            reason,
            cause: None,
        }
    })?;
    Ok(body_of(resp))
}

/// The body of `first`, continued with ranged requests after up to
/// `attempts` breaks. A body that brings no byte for `idle` counts as a
/// break (a stall); when the attempts are spent on stalls, the stream ends
/// in [`Error::Stalled`]. Without a known length nothing is resumed.
pub(crate) fn resumable(
    client: Client,
    id: String,
    first: reqwest::Response,
    original: Option<Original>,
    attempts: u32,
    idle: Duration,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    async_stream::stream! {
        let mut body = body_of(first);
        let mut offset: u64 = 0;
        let mut left = attempts;
        let mut stalls: u32 = 0;
        loop {
            let next = match tokio::time::timeout(idle, body.next()).await {
                Ok(next) => next,
                Err(_) => {
                    stalls += 1;
                    Some(Err(stalled(offset, idle, stalls)))
                }
            };
            let error = match next {
                Some(Ok(chunk)) => {
                    offset += chunk.len() as u64;
                    yield Ok(chunk);
                    continue;
                }
                None => match &original {
                    // A server that closes early without the transport
                    // noticing (no Content-Length framing) is caught by
                    // the length check downstream.
                    Some(o) if offset < o.length => Error::Incomplete {
                        expected: o.length,
                        received: offset,
                    },
                    _ => return,
                },
                Some(Err(e)) => e,
            };
            let Some(o) = original.as_ref() else {
                yield Err(error);
                return;
            };
            if left == 0 {
                yield Err(give_up(error, offset, attempts));
                return;
            }
            left -= 1;
            tracing::warn!(
                "download of image {id} broke at byte {offset} of {}: {error}; resuming",
                o.length
            );
            // A ranged request that stalls before its answer is one more
            // stall, not the end.
            let mut error = error;
            loop {
                match reopen(&client, &id, offset, o).await {
                    Ok(rest) => {
                        body = rest;
                        break;
                    }
                    Err(Error::Stalled { .. }) if left > 0 => {
                        stalls += 1;
                        left -= 1;
                        error = stalled(offset, idle, stalls);
                    }
                    Err(Error::Stalled { .. }) => {
                        stalls += 1;
                        yield Err(stalled(offset, idle, stalls));
                        return;
                    }
                    Err(Error::ResumeFailed { offset, reason, .. }) => {
                        yield Err(Error::ResumeFailed { offset, reason, cause: Some(Box::new(error)) });
                        return;
                    }
                    Err(e) => {
                        yield Err(Error::ResumeFailed {
                            offset,
                            reason: format!("the ranged request failed: {e}"),
                            cause: Some(Box::new(error)),
                        });
                        return;
                    }
                }
            }
        }
    }
}

pub(crate) fn stalled(offset: u64, idle: Duration, attempts: u32) -> Error {
    Error::Stalled {
        transfer: Transfer::Download,
        offset,
        idle,
        attempts,
    }
}

/// The error once the resume attempts are spent: a stall says so itself.
pub(crate) fn give_up(last: Error, offset: u64, attempts: u32) -> Error {
    match last {
        stall @ Error::Stalled { .. } => stall,
        other => Error::ResumeFailed {
            offset,
            reason: format!("the transfer broke more than {attempts} times"),
            cause: Some(Box::new(other)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn check_ranged(
        status: StatusCode,
        headers: &HeaderMap,
        offset: u64,
        original: &Original,
    ) -> std::result::Result<(), String> {
        check_range(status, headers, offset, None, original)
    }

    fn original() -> Original {
        Original {
            image: None,
            length: 100_000,
            content_md5: Some("eec65c213ad2e61ef1f58f1a3107eba4".into()),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn ranged_request_shape() {
        let spec = range_spec("i", 99_990, None).expect("spec");
        assert_eq!(spec.segments, ["v2", "images", "i", "file"]);
        assert_eq!(
            spec.headers.get("range").and_then(|v| v.to_str().ok()),
            Some("bytes=99990-")
        );
        assert!(spec.is_replayable());
        let spec = range_spec("i", 8, Some(15)).expect("spec");
        assert_eq!(
            spec.headers.get("range").and_then(|v| v.to_str().ok()),
            Some("bytes=8-15")
        );
    }

    #[test]
    fn what_real_glance_answers_is_accepted() {
        // Probed from Glance 33: `Range: bytes=99990-` on a 100000-byte image.
        let h = headers(&[
            ("content-range", "bytes 99990-99999/100000"),
            ("content-md5", "eec65c213ad2e61ef1f58f1a3107eba4"),
        ]);
        assert_eq!(
            check_ranged(StatusCode::PARTIAL_CONTENT, &h, 99_990, &original()),
            Ok(())
        );
    }

    #[test]
    fn another_image_or_an_ignored_range_is_refused() {
        let o = original();
        let good = headers(&[("content-range", "bytes 10-99999/100000")]);
        assert!(check_ranged(StatusCode::OK, &good, 10, &o).is_err());
        let resized = headers(&[("content-range", "bytes 10-99998/99999")]);
        assert!(check_ranged(StatusCode::PARTIAL_CONTENT, &resized, 10, &o).is_err());
        let shifted = headers(&[("content-range", "bytes 0-99999/100000")]);
        assert!(check_ranged(StatusCode::PARTIAL_CONTENT, &shifted, 10, &o).is_err());
        let other = headers(&[
            ("content-range", "bytes 10-99999/100000"),
            ("content-md5", "00000000000000000000000000000000"),
        ]);
        assert!(check_ranged(StatusCode::PARTIAL_CONTENT, &other, 10, &o).is_err());
        assert!(check_ranged(StatusCode::PARTIAL_CONTENT, &HeaderMap::new(), 10, &o).is_err());
    }

    #[test]
    fn a_bounded_range_must_be_the_one_asked_for() {
        let o = original();
        let partial = StatusCode::PARTIAL_CONTENT;
        let h = headers(&[("content-range", "bytes 8-15/100000")]);
        assert_eq!(check_range(partial, &h, 8, Some(15), &o), Ok(()));
        assert!(check_range(partial, &h, 8, Some(16), &o).is_err());
        assert!(check_range(partial, &h, 8, None, &o).is_err());
    }

    #[test]
    fn a_replaced_record_is_refused() {
        let img = |hash: &str| -> Image {
            serde_json::from_value(serde_json::json!({
                "id": "i", "status": "active", "os_hash_value": hash, "size": 5
            }))
            .expect("image")
        };
        assert!(check_record(&img("aa"), &img("aa")).is_ok());
        assert!(check_record(&img("aa"), &img("bb")).is_err());
    }
}
