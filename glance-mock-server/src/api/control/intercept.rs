//! The middleware around everything but `/_mock`: fault rules act here
//! (answers, delays, the body changes of `drop_after`, `truncate`,
//! `flip_byte`, `stall`, `endless` and `throttle`, and the request body stall of
//! `stall_upload`), before the request reaches Glance's pipeline or the Keystone shim, and
//! every request is journaled on its way out. Requests under `/identity`
//! pass untouched by rules unless [`crate::Config::allow_identity_faults`]
//! is set ([`crate::control::faults::Faults::fire`] decides). Without
//! [`crate::Config::control_plane`] the layer is not there at all.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use crate::api::error::{ApiError, Format};
use crate::api::identity::{Caller, resolve};
use crate::api::keystone::guard::{TokenLookup, request_token};
use crate::control::journal::JournalEntry;
use crate::control::{Control, FaultAction};
use crate::domain::Identity;
use crate::keystone::Lookup;
use crate::state::IdentityState;

/// What the layer uses: the fault rules and journal, and the shim's
/// tokens (to tell who a request acts as).
#[derive(Debug, Clone)]
pub struct InterceptState {
    /// Fault rules and the journal.
    pub control: Arc<Control>,
    /// The shim's tokens and whether only they are accepted.
    pub identity: IdentityState,
}

/// The identity a request will act as, as far as it can be told before
/// the API sees it: a token the shim issued acts as its user and project;
/// otherwise the identity headers, unless authentication is required.
pub fn identity_of(state: &IdentityState, headers: &HeaderMap) -> Option<Identity> {
    let lookup = request_token(headers).map(|t| state.keystone.lookup(t));
    resolve_for_faults(state, headers, lookup.as_ref())
        .0
        .map(Arc::unwrap_or_clone)
}

/// [`identity_of`], shared, and whether it is what the identity headers
/// say (`true`), which the API's identity context then reuses (see
/// [`Caller`]). The keystone guard changes those headers only for a token
/// the shim issued (`Lookup::Valid`), never in the cases that read them
/// here. `lookup` is the shim's answer for the request's token, if it has
/// one.
fn resolve_for_faults(
    state: &IdentityState,
    headers: &HeaderMap,
    lookup: Option<&Lookup>,
) -> (Option<Arc<Identity>>, bool) {
    match lookup {
        Some(Lookup::Valid(token)) => (Some(Arc::new(token.data.identity())), false),
        Some(Lookup::Invalid(_)) => (None, false),
        _ if state.require_auth => (None, false),
        _ => (resolve(headers), true),
    }
}

/// A Glance-shaped error body for `status`, by the request's `Accept`.
pub fn glance_error(headers: &HeaderMap, err: &ApiError) -> Response {
    let format = Format::from_accept(headers.get(header::ACCEPT).map(HeaderValue::as_bytes));
    err.body(format)
}

/// The answer of a `respond` action.
fn respond(
    headers: &HeaderMap,
    status: u16,
    extra: &std::collections::BTreeMap<String, String>,
    body: Option<&str>,
) -> Response {
    // Rules were validated when installed.
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match body {
        Some(body) => {
            let mut r = Response::new(Body::from(body.to_owned()));
            *r.status_mut() = status;
            r
        }
        None => glance_error(headers, &ApiError::default_for(status)),
    };
    // Every Glance answer carries a request id; a rule's headers may
    // replace it.
    if let Ok(id) = HeaderValue::from_str(&format!("req-{}", uuid::Uuid::new_v4())) {
        resp.headers_mut().insert("x-openstack-request-id", id);
    }
    for (name, value) in extra {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            resp.headers_mut().insert(n, v);
        }
    }
    resp
}

/// The response with `action`'s change to its body, for the actions that
/// change bodies (others return it untouched).
fn alter_body(action: &FaultAction, resp: Response) -> Response {
    if matches!(
        action,
        FaultAction::Respond { .. } | FaultAction::Delay { .. } | FaultAction::StallUpload { .. }
    ) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let stream = body.into_data_stream();
    let body = match *action {
        FaultAction::DropAfter { bytes } => {
            let dropped = || io::Error::other("fault: connection dropped");
            Body::from_stream(futures::stream::unfold(
                (stream, bytes, false),
                move |(mut stream, left, spent)| async move {
                    if spent {
                        // Let the server flush what was allowed before the
                        // failure makes it abort the connection.
                        tokio::task::yield_now().await;
                        return Some((Err(dropped()), (stream, 0, true)));
                    }
                    let out = match stream.next().await? {
                        Err(e) => return Some((Err(io::Error::other(e)), (stream, 0, true))),
                        Ok(chunk) if chunk.len() as u64 <= left => {
                            let left = left - chunk.len() as u64;
                            (Ok(chunk), (stream, left, false))
                        }
                        // `left` is below this chunk's length, so it fits.
                        Ok(chunk) => (Ok(chunk.slice(..left as usize)), (stream, 0, true)),
                    };
                    Some(out)
                },
            ))
        }
        FaultAction::Truncate { bytes } => {
            let declared = parts
                .headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if let Some(len) = declared {
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(len.min(bytes)));
            }
            // Stops reading the source once the allowance is spent.
            Body::from_stream(stream.scan(bytes, |left, chunk| {
                let out = match chunk {
                    _ if *left == 0 => None,
                    Err(e) => Some(Err(io::Error::other(e))),
                    Ok(chunk) => {
                        let keep = chunk
                            .len()
                            .min(usize::try_from(*left).unwrap_or(usize::MAX));
                        *left -= keep as u64;
                        Some(Ok(chunk.slice(..keep)))
                    }
                };
                std::future::ready(out)
            }))
        }
        FaultAction::FlipByte { offset } => {
            let mut at = 0u64;
            Body::from_stream(stream.map(move |chunk| {
                let chunk = chunk.map_err(io::Error::other)?;
                let start = at;
                at += chunk.len() as u64;
                if (start..at).contains(&offset) {
                    let mut owned = BytesMut::from(&chunk[..]);
                    owned[(offset - start) as usize] ^= 0xff;
                    return Ok::<Bytes, io::Error>(owned.freeze());
                }
                Ok(chunk)
            }))
        }
        FaultAction::Stall { bytes } => Body::from_stream(stalled(stream, bytes)),
        FaultAction::Endless => {
            parts.headers.remove(header::CONTENT_LENGTH);
            let filler = Bytes::from(vec![0x5a; 64 * 1024]);
            let more = futures::stream::repeat_with(move || Ok::<Bytes, io::Error>(filler.clone()));
            Body::from_stream(stream.map(|c| c.map_err(io::Error::other)).chain(more))
        }
        FaultAction::Throttle { bytes_per_second } => {
            Body::from_stream(throttled(stream, bytes_per_second))
        }
        FaultAction::Respond { .. }
        | FaultAction::Delay { .. }
        | FaultAction::StallUpload { .. } => Body::from_stream(stream),
    };
    Response::from_parts(parts, body)
}

/// The first `bytes` bytes of `stream`, then nothing, ever: the stream
/// stays pending (dropped with the connection when the client goes).
fn stalled<S, E>(stream: S, bytes: u64) -> impl futures::Stream<Item = Result<Bytes, io::Error>>
where
    S: futures::Stream<Item = Result<Bytes, E>> + Send + Unpin,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    futures::stream::unfold((stream, bytes), |(mut stream, left)| async move {
        if left == 0 {
            std::future::pending::<()>().await;
        }
        let chunk = match stream.next().await {
            Some(Ok(chunk)) => chunk,
            Some(Err(e)) => return Some((Err(io::Error::other(e)), (stream, 0))),
            None => {
                std::future::pending::<()>().await;
                return None;
            }
        };
        // `left` is positive here; what passes is at most `left` bytes.
        let keep = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        Some((Ok(chunk.slice(..keep)), (stream, left - keep as u64)))
    })
}

/// The longest a `throttle` slice may stand for: the body goes out in
/// slices of at most this much time's worth, so it flows evenly.
const THROTTLE_TICK: Duration = Duration::from_millis(50);
/// The largest slice a `throttle` sends at once, whatever the rate.
const THROTTLE_SLICE_MAX: u64 = 256 * 1024;

/// `stream` sent no faster than `rate` bytes per second (at least 1),
/// counted from when the first body chunk was ready, so a reader that
/// falls behind catches up by at most what the rate allowed meanwhile.
fn throttled<S, E>(stream: S, rate: u64) -> impl futures::Stream<Item = Result<Bytes, io::Error>>
where
    S: futures::Stream<Item = Result<Bytes, E>> + Send + Unpin,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let rate = rate.max(1);
    let per_tick = rate.saturating_mul(THROTTLE_TICK.as_millis() as u64) / 1000;
    let slice = usize::try_from(per_tick.clamp(1, THROTTLE_SLICE_MAX)).unwrap_or(1);
    let start: Option<tokio::time::Instant> = None;
    futures::stream::unfold(
        (stream, Bytes::new(), start, 0u64),
        move |(mut stream, mut pending, mut start, sent)| async move {
            if pending.is_empty() {
                match stream.next().await? {
                    Ok(chunk) => pending = chunk,
                    Err(e) => {
                        return Some((Err(io::Error::other(e)), (stream, pending, start, sent)));
                    }
                }
            }
            let began = *start.get_or_insert_with(tokio::time::Instant::now);
            let piece = pending.split_to(slice.min(pending.len()));
            // A slice leaves once the time its bytes take at the rate is
            // up: a whole body takes its size over the rate, from the
            // first byte on.
            let sent = sent + piece.len() as u64;
            let due = began + Duration::from_secs_f64(sent as f64 / rate as f64);
            tokio::time::sleep_until(due).await;
            Some((Ok(piece), (stream, pending, start, sent)))
        },
    )
}

/// Fire a matching fault rule, pass the request on to `next` (unless the
/// rule answers it), and journal it.
pub async fn intercept<F: std::future::Future<Output = Response>>(
    state: &InterceptState,
    mut req: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let lookup = request_token(req.headers()).map(|t| state.identity.keystone.lookup(t));
    let (who, from_headers) = resolve_for_faults(&state.identity, req.headers(), lookup.as_ref());
    if let Some(who) = who.as_ref().filter(|_| from_headers) {
        req.extensions_mut().insert(Caller(who.clone()));
    }
    // The keystone guard takes this answer rather than asking again (with
    // a registry, each lookup is a call to it).
    if let Some(lookup) = lookup {
        req.extensions_mut().insert(TokenLookup(lookup));
    }
    let fired = state.control.faults.fire(&method, &path, who.as_deref());
    let resp = match fired.as_ref().map(|f| &f.action) {
        Some(FaultAction::Respond {
            status,
            headers,
            body,
        }) => respond(req.headers(), *status, headers, body.as_deref()),
        action => {
            let req = match action {
                Some(FaultAction::Delay { ms }) => {
                    tokio::time::sleep(Duration::from_millis(*ms)).await;
                    req
                }
                Some(FaultAction::StallUpload { bytes }) => {
                    let (parts, body) = req.into_parts();
                    let body = Body::from_stream(stalled(body.into_data_stream(), *bytes));
                    Request::from_parts(parts, body)
                }
                _ => req,
            };
            let resp = next(req).await;
            match action {
                Some(action) => alter_body(action, resp),
                None => resp,
            }
        }
    };
    state.control.journal.record(JournalEntry {
        seq: 0,
        method,
        path,
        query,
        project_id: who.as_ref().and_then(|w| w.project_id.clone()),
        user_id: who.as_ref().and_then(|w| w.user_id.clone()),
        status: resp.status().as_u16(),
        // Microsecond precision is all a journal reader can use.
        duration_ms: started.elapsed().as_micros() as f64 / 1000.0,
        fault: fired.map(|f| f.id),
    });
    resp
}
