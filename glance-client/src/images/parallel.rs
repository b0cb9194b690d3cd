//! Downloading an image over several connections at once
//! ([`DownloadOptions::connections`](super::DownloadOptions::connections)),
//! as the AWS transfer manager does for S3: behind a store or proxy that
//! caps each connection, N connections go about N times as fast.
//!
//! The image is cut into ranges of [`RANGE_SIZE`]; at most N are fetched
//! at a time, each on its own connection into a bounded queue of its own,
//! and the queues are drained in order into one stream, so one hasher
//! ([`crate::verify::verified`]) sees the bytes as a single connection
//! would deliver them and every rule of the single connection holds:
//! the digest, the size, the stall and atomic writes. A range is taken
//! from the pool only once the range N places before it has been handed
//! on, so at most N × [`RANGE_SIZE`] bytes are held.
//!
//! Each range is retried and resumed on its own, as [`super::resume`]
//! resumes a single connection: `Range: bytes=P-{last}` once the record
//! read again and the ranged answer show the same image. The first range
//! to fail for good ends the stream with its error at once (not when its
//! turn comes), and dropping the stream aborts every range still running.
//!
//! The first request asks for the first range: a `206` with a
//! `Content-Range` naming the image's size starts the parallel path; a
//! `200` (a server that ignores `Range`) is used as a single connection's
//! answer, silently.
//!
//! `Content-MD5`: Glance sends the whole image's md5 on every ranged
//! answer (as on the full one), so a range alone can never be checked
//! against it. Every range's `Content-MD5` must equal the first answer's
//! (a change means the image changed); when no record digest exists and
//! `Content-MD5` would be the only check, the download uses one
//! connection, so that the check stays exactly the single connection's.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;

use super::Image;
use super::download::{Download, DownloadOptions};
use super::resume::{self, Body, Original};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::transport::request_id;
use crate::verify;

/// Bytes asked for in one ranged request.
pub(crate) const RANGE_SIZE: u64 = 8 << 20;

/// The most connections one download opens, whatever
/// [`DownloadOptions::connections`] says.
pub(crate) const MAX_CONNECTIONS: usize = 16;

/// Chunks a range may queue ahead of the reader; a range never queues more
/// than its own bytes ([`RANGE_SIZE`]) whatever the chunks' sizes.
const RANGE_QUEUE: usize = 2048;

/// Whether a download with `options` of an image whose record is `image`
/// (read when verifying) should try several connections.
pub(crate) fn worth_trying(options: &DownloadOptions, image: Option<&Image>) -> bool {
    if options.connections <= 1 {
        return false;
    }
    if !options.verify.enabled {
        return true;
    }
    // Verifying: a record that says the image fits in one range, or has no
    // digest of its own (Content-MD5 would be the only check, see above),
    // keeps one connection.
    image.is_some_and(|i| {
        i.size.is_some_and(|size| size > RANGE_SIZE)
            && (i.os_hash_value.is_some() || i.checksum.is_some())
    })
}

/// The ranges `[start, end)` of an image of `total` bytes, in order.
pub(crate) fn plan(total: u64, range: u64) -> Vec<(u64, u64)> {
    let range = range.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < total {
        let end = total.min(start.saturating_add(range));
        out.push((start, end));
        start = end;
    }
    out
}

/// The image's size from the answer to `Range: bytes=0-{RANGE_SIZE - 1}`:
/// `Some` for a `206` whose `Content-Range` is the first range of an image
/// of that size, `None` for anything else.
pub(crate) fn probed_size(status: StatusCode, headers: &HeaderMap) -> Option<u64> {
    if status != StatusCode::PARTIAL_CONTENT {
        return None;
    }
    let value = headers.get("content-range")?.to_str().ok()?;
    let (span, total) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    let (first, last, total) = (
        first.trim().parse::<u64>().ok()?,
        last.trim().parse::<u64>().ok()?,
        total.trim().parse::<u64>().ok()?,
    );
    (first == 0 && total > 0 && last == total.min(RANGE_SIZE) - 1).then_some(total)
}

/// What the first ranged request found.
pub(crate) enum Probe {
    /// The image has no data (`204`).
    NoContent,
    /// A `206` for the first range of an image of `size` bytes.
    Ranged {
        /// The answer, its body the first range.
        first: reqwest::Response,
        /// The image's size, from `Content-Range`.
        size: u64,
    },
    /// A `200`: the server ignored `Range`; its body is the whole image.
    Whole(reqwest::Response),
    /// Not usable (`416` on an empty image, a `206` for another range):
    /// ask again without `Range`.
    Refused,
}

/// Ask for the first range.
pub(crate) async fn probe(client: &Client, id: &str) -> Result<Probe> {
    let spec = resume::range_spec(id, 0, Some(RANGE_SIZE - 1))?;
    let resp = match client.send(spec).await {
        Ok(resp) => resp,
        Err(e) if e.is_range_not_satisfiable() => return Ok(Probe::Refused),
        Err(e) => return Err(e),
    };
    Ok(match resp.status() {
        StatusCode::NO_CONTENT => Probe::NoContent,
        StatusCode::OK => Probe::Whole(resp),
        status => match probed_size(status, resp.headers()) {
            Some(size) => Probe::Ranged { first: resp, size },
            None => Probe::Refused,
        },
    })
}

/// The download of an image of `size` bytes over `options.connections`
/// connections, the first range's answer being `first`.
pub(crate) fn download(
    client: &Client,
    id: &str,
    image: Option<Image>,
    first: reqwest::Response,
    size: u64,
    options: &DownloadOptions,
) -> Result<Download> {
    let headers = first.headers();
    let content_md5 = headers
        .get("content-md5")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let request_id = request_id(headers);
    let verification = verify::choose(image.as_ref(), content_md5.as_deref(), options.verify)?;
    let ranges = Arc::new(Ranges {
        client: client.clone(),
        id: id.to_owned(),
        original: Original {
            image: image.clone(),
            length: size,
            content_md5: content_md5.clone(),
        },
        attempts: options.resume_attempts,
        idle: client.read_timeout(),
    });
    let connections = options.connections.clamp(1, MAX_CONNECTIONS);
    let body = in_order(ranges, first, plan(size, RANGE_SIZE), connections);
    // As for one connection: the record's size is the truth.
    let expected_len = image.as_ref().and_then(|i| i.size).or(Some(size));
    let stream = verify::verified(body, verification.clone(), expected_len).boxed();
    Ok(Download::from_parts(
        image,
        Some(size),
        content_md5,
        verification,
        request_id,
        stream,
    ))
}

/// What every range of one download shares.
struct Ranges {
    client: Client,
    id: String,
    original: Original,
    attempts: u32,
    idle: Duration,
}

/// Aborts the task (and so every range it started) when the stream goes.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

type RangeQueue = mpsc::Receiver<Result<Bytes>>;

/// The bytes of `plan`'s ranges in order, fetched `connections` at a time;
/// the first range's answer is `first`.
fn in_order(
    ranges: Arc<Ranges>,
    first: reqwest::Response,
    plan: Vec<(u64, u64)>,
    connections: usize,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    let (order_tx, mut order_rx) = mpsc::channel::<(RangeQueue, OwnedSemaphorePermit)>(connections);
    // The first range to fail for good says so here; later ones need not.
    let (fail_tx, mut failures) = mpsc::channel::<Error>(1);
    let permits = Arc::new(Semaphore::new(connections));
    let scheduler = tokio::spawn(async move {
        // Dropped with this task: aborting it aborts every range.
        let mut workers = JoinSet::new();
        let mut first = Some(first);
        for (start, end) in plan {
            // A permit comes back when the reader has drained a range.
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let (tx, rx) = mpsc::channel(RANGE_QUEUE);
            if order_tx.send((rx, permit)).await.is_err() {
                return;
            }
            let failed = fail_tx.clone();
            workers.spawn(fetch(ranges.clone(), start, end, first.take(), tx, failed));
            while workers.try_join_next().is_some() {}
        }
        drop(order_tx);
        drop(fail_tx);
        while workers.join_next().await.is_some() {}
    });
    let guard = AbortOnDrop(scheduler);
    async_stream::stream! {
        let _guard = guard;
        let mut watching = true;
        while let Some((mut queue, permit)) = order_rx.recv().await {
            while let Some(item) = next_or_failure(&mut queue, &mut failures, &mut watching).await {
                match item {
                    Ok(chunk) => yield Ok(chunk),
                    Err(e) => {
                        yield Err(e);
                        return;
                    }
                }
            }
            // A range whose task ended early ends short: the length check
            // downstream says so.
            drop(permit);
        }
    }
}

/// The next item of the range being read, unless a range (this one or a
/// later one) failed for good first. `watching` goes false once every
/// range has ended and no failure can come any more.
async fn next_or_failure(
    queue: &mut RangeQueue,
    failures: &mut mpsc::Receiver<Error>,
    watching: &mut bool,
) -> Option<Result<Bytes>> {
    if *watching {
        tokio::select! {
            biased;
            failure = failures.recv() => match failure {
                Some(e) => return Some(Err(e)),
                None => *watching = false,
            },
            item = queue.recv() => return item,
        }
    }
    queue.recv().await
}

/// Fetch bytes `start..end` into `tx`, or report the error that ended it
/// to `failures` (only the first one is read).
async fn fetch(
    ranges: Arc<Ranges>,
    start: u64,
    end: u64,
    first: Option<reqwest::Response>,
    tx: mpsc::Sender<Result<Bytes>>,
    failures: mpsc::Sender<Error>,
) {
    if let Err(e) = fill(&ranges, start, end, first, &tx).await {
        // Reported before `tx` goes, so the reader never takes the
        // range's early end for its end.
        let _ = failures.try_send(e);
    }
}

/// The first request for a range (not a resume): the ranged answer must
/// show the same image as the first one, as for a resume.
async fn open(ranges: &Ranges, start: u64, last: u64) -> Result<Body> {
    let resp = ranges
        .client
        .send(resume::range_spec(&ranges.id, start, Some(last))?)
        .await?;
    resume::check_range(
        resp.status(),
        resp.headers(),
        start,
        Some(last),
        &ranges.original,
    )
    .map_err(|reason| Error::ResumeFailed {
        offset: start,
        reason,
        cause: None,
    })?;
    Ok(resume::body_of(resp))
}

/// One range, resumed after up to `ranges.attempts` breaks (stalls
/// included), as [`resume::resumable`] does for a whole body.
async fn fill(
    ranges: &Ranges,
    start: u64,
    end: u64,
    first: Option<reqwest::Response>,
    tx: &mpsc::Sender<Result<Bytes>>,
) -> Result<()> {
    let last = end - 1;
    let idle = ranges.idle;
    let mut left = ranges.attempts;
    let mut stalls: u32 = 0;
    let mut body = match first {
        Some(resp) => resume::body_of(resp),
        None => loop {
            match open(ranges, start, last).await {
                Ok(body) => break body,
                // An answer that does not come is a stall, retried as one.
                Err(Error::Stalled { .. }) if left > 0 => {
                    stalls += 1;
                    left -= 1;
                }
                Err(Error::Stalled { .. }) => {
                    return Err(resume::stalled(start, idle, stalls + 1));
                }
                Err(e) => return Err(e),
            }
        },
    };
    let mut pos = start;
    loop {
        let next = match tokio::time::timeout(idle, body.next()).await {
            Ok(next) => next,
            Err(_) => {
                stalls += 1;
                Some(Err(resume::stalled(pos, idle, stalls)))
            }
        };
        let error = match next {
            Some(Ok(chunk)) => {
                let len = chunk.len() as u64;
                if len > end - pos {
                    return Err(Error::ResumeFailed {
                        offset: pos,
                        reason: format!(
                            "the answer for bytes {start}-{last} went on past byte {last}"
                        ),
                        cause: None,
                    });
                }
                pos += len;
                if tx.send(Ok(chunk)).await.is_err() {
                    // The reader is gone: nothing more to do.
                    return Ok(());
                }
                continue;
            }
            None if pos == end => return Ok(()),
            None => Error::Incomplete {
                expected: end - start,
                received: pos - start,
            },
            Some(Err(e)) => e,
        };
        if pos == end {
            // Every byte arrived; only the end of the answer did not.
            return Ok(());
        }
        if left == 0 {
            return Err(resume::give_up(error, pos, ranges.attempts));
        }
        left -= 1;
        tracing::warn!(
            "range {start}-{last} of image {} broke at byte {pos}: {error}; resuming",
            ranges.id
        );
        let mut error = error;
        body = loop {
            match resume::reopen_range(
                &ranges.client,
                &ranges.id,
                pos,
                Some(last),
                &ranges.original,
            )
            .await
            {
                Ok(rest) => break rest,
                Err(Error::Stalled { .. }) if left > 0 => {
                    stalls += 1;
                    left -= 1;
                    error = resume::stalled(pos, idle, stalls);
                }
                Err(Error::Stalled { .. }) => {
                    return Err(resume::stalled(pos, idle, stalls + 1));
                }
                Err(Error::ResumeFailed { offset, reason, .. }) => {
                    return Err(Error::ResumeFailed {
                        offset,
                        reason,
                        cause: Some(Box::new(error)),
                    });
                }
                Err(e) => {
                    return Err(Error::ResumeFailed {
                        offset: pos,
                        reason: format!("the ranged request failed: {e}"),
                        cause: Some(Box::new(error)),
                    });
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn range_header(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "content-range",
            HeaderValue::from_str(value).expect("header"),
        );
        h
    }

    #[test]
    fn ranges_cover_the_image_once_in_order() {
        assert_eq!(plan(0, 8), vec![]);
        assert_eq!(plan(5, 8), vec![(0, 5)]);
        assert_eq!(plan(16, 8), vec![(0, 8), (8, 16)]);
        assert_eq!(plan(17, 8), vec![(0, 8), (8, 16), (16, 17)]);
        let p = plan((256 << 20) + 3, RANGE_SIZE);
        assert_eq!(p.len(), 33);
        assert!(p.windows(2).all(|w| w[0].1 == w[1].0));
        assert_eq!(p.last(), Some(&(256 << 20, (256 << 20) + 3)));
    }

    #[test]
    fn the_first_range_names_the_size() {
        let partial = StatusCode::PARTIAL_CONTENT;
        let big = 100 << 20;
        let first = format!("bytes 0-{}/{big}", RANGE_SIZE - 1);
        assert_eq!(probed_size(partial, &range_header(&first)), Some(big));
        // Glance clamps a range past the end to the image.
        assert_eq!(
            probed_size(partial, &range_header("bytes 0-999/1000")),
            Some(1000)
        );
        for bad in [
            "bytes 1-999/1000",
            "bytes 0-998/1000",
            "bytes 0-99/*",
            "bytes */1000",
            "items 0-999/1000",
        ] {
            assert_eq!(probed_size(partial, &range_header(bad)), None, "{bad}");
        }
        assert_eq!(
            probed_size(StatusCode::OK, &range_header("bytes 0-999/1000")),
            None
        );
        assert_eq!(probed_size(partial, &HeaderMap::new()), None);
    }

    #[test]
    fn one_connection_unless_asked_and_worth_it() {
        let image = |size: u64, hash: Option<&str>, checksum: Option<&str>| -> Image {
            serde_json::from_value(serde_json::json!({
                "id": "i", "status": "active", "size": size,
                "os_hash_algo": hash.map(|_| "sha512"), "os_hash_value": hash,
                "checksum": checksum,
            }))
            .expect("image")
        };
        let big = image(64 << 20, Some("aa"), None);
        let four = DownloadOptions::default().connections(4);
        assert!(!worth_trying(&DownloadOptions::default(), Some(&big)));
        assert!(worth_trying(&four, Some(&big)));
        assert!(worth_trying(
            &four,
            Some(&image(64 << 20, None, Some("bb")))
        ));
        assert!(!worth_trying(
            &four,
            Some(&image(RANGE_SIZE, Some("aa"), None))
        ));
        assert!(!worth_trying(&four, Some(&image(64 << 20, None, None))));
        assert!(!worth_trying(&four, None));
        let unverified = DownloadOptions::unverified().connections(4);
        assert!(worth_trying(&unverified, None));
    }
}
