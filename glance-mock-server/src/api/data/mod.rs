//! `/v2/images/{id}/file`: upload (`PUT`) and download (`GET`), in the
//! order Glance's deserializer and controller check things.

mod range;

use range::RangeError;

use std::io;

use crate::api::resources::Routes;
use crate::api::wsgi::Param;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt, stream};

use super::error::ApiError;
use super::identity::Caller;
use super::wsgi;
use crate::app::data::{self, UploadError};
use crate::domain::python;
use crate::state::SharedState;
use crate::store::{DataStream, StoreError};

/// Routes of this resource.
pub fn router() -> Routes {
    Routes::new().route("/v2/images/{id}/file", get(download).put(upload))
}

/// Glance reads request bodies in pieces of this size; every limit it
/// enforces while reading is checked per piece.
const PIECE: usize = 64 * 1024;

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// An upload's failure as Glance answers it; a 415 names the request's
/// `content_type`.
fn upload_failure(e: UploadError, content_type: &str) -> ApiError {
    match e {
        UploadError::Fault(f) => f.into(),
        UploadError::InvalidData(e) => ApiError::unsupported_media(content_type, e.0),
        // Glance crashes when new data disagrees with the size or checksum
        // the image already records; the conflict is the caller's.
        UploadError::Mismatch => ApiError::glance_crash(StatusCode::CONFLICT, e.to_string()),
        UploadError::Store(e) => store_failure(e),
    }
}

/// `request.get_content_type(('application/octet-stream',))`: the media
/// type (parameters dropped) must match exactly; the 415 names the header
/// as sent, or webob's unfilled template when there is none.
pub(super) fn octet_stream(headers: &HeaderMap) -> Result<&str, ApiError> {
    let Some(sent) = headers.get(header::CONTENT_TYPE) else {
        return Err(ApiError::unsupported_media(
            "${CONTENT_TYPE}",
            "Invalid content type None",
        ));
    };
    let sent = sent.to_str().unwrap_or("");
    let media = sent.split(';').next().unwrap_or("").trim();
    if media != "application/octet-stream" {
        return Err(ApiError::unsupported_media(
            sent,
            format!("Invalid content type {media}"),
        ));
    }
    Ok(sent)
}

/// `_get_image_size`: `x-openstack-image-size` (any integer, negative
/// ones included), else `Content-Length` (`None` for 0 or chunked uploads).
pub(super) fn upload_size(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(declared) = headers.get("x-openstack-image-size") else {
        return Ok(header_str(headers, "content-length")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|n| *n > 0));
    };
    let invalid = || ApiError::bad_request("Invalid or missing image size in request headers.");
    let n = declared
        .to_str()
        .ok()
        .and_then(python::int_of_str)
        .ok_or_else(invalid)?;
    Ok(Some(
        n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    ))
}

/// `X-Image-Meta-Store`, or the default store.
fn chosen_store(state: &SharedState, headers: &HeaderMap) -> Result<String, ApiError> {
    match headers.get("x-image-meta-store") {
        None => Ok(state.config.default_store.clone()),
        Some(v) => {
            let id = String::from_utf8_lossy(v.as_bytes()).into_owned();
            if state.config.has_store(&id) {
                Ok(id)
            } else {
                Err(ApiError::bad_request(format!(
                    "Store for identifier {id} not found"
                )))
            }
        }
    }
}

/// The request body in the 64 KiB pieces Glance reads it in. Chunks are
/// split without copying; only a piece that straddles two chunks is
/// assembled.
fn pieces<S>(body: S) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static
where
    S: Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static,
{
    stream::unfold(
        (body, Bytes::new(), false),
        |(mut body, mut rest, mut ended)| async move {
            loop {
                if rest.len() >= PIECE {
                    let piece = rest.split_to(PIECE);
                    return Some((Ok(piece), (body, rest, ended)));
                }
                if ended {
                    return (!rest.is_empty())
                        .then(|| (Ok(std::mem::take(&mut rest)), (body, Bytes::new(), true)));
                }
                match body.next().await {
                    None => ended = true,
                    Some(Err(e)) => return Some((Err(e), (body, Bytes::new(), true))),
                    Some(Ok(chunk)) if rest.is_empty() => rest = chunk,
                    Some(Ok(mut chunk)) => {
                        let need = (PIECE - rest.len()).min(chunk.len());
                        let mut piece = BytesMut::with_capacity(rest.len() + need);
                        piece.extend_from_slice(&rest);
                        piece.extend_from_slice(&chunk.split_to(need));
                        if piece.len() == PIECE {
                            return Some((Ok(piece.freeze()), (body, chunk, ended)));
                        }
                        rest = piece.freeze();
                    }
                }
            }
        },
    )
}

/// The request body as the data of an upload (or of a stage): in the
/// pieces Glance reads it in.
pub(super) fn upload_stream(body: Body) -> DataStream {
    pieces(body.into_data_stream().map(|r| r.map_err(io::Error::other))).boxed()
}

/// A store's refusal or failure (the storage quota already told apart).
fn store_failure(e: StoreError) -> ApiError {
    match e {
        StoreError::SizeExceeds { .. } | StoreError::SizeMismatch { .. } => {
            ApiError::bad_request(e.to_string())
        }
        StoreError::TooLarge => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The incoming image is too large: {e}"),
        ),
        StoreError::StorageFull => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Image storage media is full: {e}"),
        ),
        StoreError::Source(source) => {
            ApiError::bad_request(format!("Error reading the request body: {source}"))
        }
        StoreError::Duplicate(_) | StoreError::NotFound(_) | StoreError::Io(_) => {
            tracing::error!("upload failed in the store: {e}");
            ApiError::internal()
        }
    }
}

async fn upload(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Param([id]): Param<1>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    // RequestDeserializer.upload
    let content_type = octet_stream(&headers)?.to_owned();
    let size = upload_size(&headers)?;
    // ImageDataController.upload
    let store_id = chosen_store(&state, &headers)?;
    data::upload(&state, &who, &id, &store_id, upload_stream(body), size)
        .await
        .map_err(|e| upload_failure(e, &content_type))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?prefer=store1,store2`: the stores to try first (checked against the
/// configuration by [`data::download`]).
fn preferred_stores(query: Option<&str>) -> Vec<String> {
    let prefer = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == "prefer")
        .last()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    prefer
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn download(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Param([id]): Param<1>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    match serve(&state, &who, &id, query.as_deref(), &headers).await {
        Ok(resp) => resp,
        Err(DownloadError::Api(e)) => e.into_response(),
        Err(DownloadError::Range(RangeError::Refused(e))) => e.into_response(),
        Err(DownloadError::Range(RangeError::Crash)) if state.config.glance_server_errors => {
            wsgi::server_error()
        }
        // What Glance would have meant: the range cannot be served.
        Err(DownloadError::Range(RangeError::Crash)) => {
            range::not_satisfiable("Invalid Range header.").into_response()
        }
    }
}

/// Why a download is refused.
enum DownloadError {
    Api(ApiError),
    Range(RangeError),
}

impl<E: Into<ApiError>> From<E> for DownloadError {
    fn from(e: E) -> Self {
        DownloadError::Api(e.into())
    }
}

/// `ImageDataController.download` ([`data::download`]), then its response
/// serializer: the range, the data ([`data::Download::read`]), the headers.
async fn serve(
    state: &SharedState,
    who: &crate::domain::Identity,
    id: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, DownloadError> {
    let download = data::download(state, who, id, &preferred_stores(query))?;
    let img = &download.image;
    let span = range::requested(headers, img.size).map_err(DownloadError::Range)?;
    let data = download
        .read(state, span.as_ref().map(|s| (s.offset, s.len)))
        .await
        .map_err(|e| {
            tracing::warn!("{e}");
            ApiError::internal()
        })?;
    let Some(data) = data else {
        // `webob.Response(status=204)`: no content type.
        return Ok(wsgi::untyped_no_content());
    };

    let mut resp = Response::new(Body::from_stream(data.stream));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Some(span) = &span {
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(v) = HeaderValue::from_str(&span.content_range) {
            resp.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    let h = resp.headers_mut();
    if let Some(sum) = img
        .checksum
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
    {
        h.insert("content-md5", sum);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(data.len));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn upload_size_from_headers() {
        let size = |pairs| upload_size(&headers(pairs)).map_err(|e| e.status);
        assert_eq!(size(&[]), Ok(None));
        assert_eq!(size(&[("content-length", "0")]), Ok(None));
        assert_eq!(size(&[("content-length", "10")]), Ok(Some(10)));
        assert_eq!(
            size(&[("content-length", "10"), ("x-openstack-image-size", "3")]),
            Ok(Some(3))
        );
        assert_eq!(
            size(&[("x-openstack-image-size", "abc")]),
            Err(StatusCode::BAD_REQUEST)
        );
        assert_eq!(size(&[("x-openstack-image-size", "-1")]), Ok(Some(-1)));
    }

    #[test]
    fn content_type_must_be_octet_stream() {
        assert!(octet_stream(&headers(&[("content-type", "application/octet-stream")])).is_ok());
        assert!(
            octet_stream(&headers(&[(
                "content-type",
                "application/octet-stream; charset=utf-8"
            )]))
            .is_ok()
        );
        let e = octet_stream(&headers(&[("content-type", "text/plain; charset=utf-8")]))
            .expect_err("415");
        assert_eq!(e.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(
            e.message(),
            "The request media type text/plain; charset=utf-8 is not supported by this server.\n<br /><br />\nInvalid content type text/plain"
        );
        let e = octet_stream(&headers(&[("content-type", "APPLICATION/OCTET-STREAM")]))
            .expect_err("case matters");
        assert_eq!(e.detail, "Invalid content type APPLICATION/OCTET-STREAM");
        let e = octet_stream(&HeaderMap::new()).expect_err("none");
        assert_eq!(e.detail, "Invalid content type None");
        assert!(e.message().contains("media type ${CONTENT_TYPE} is"));
    }

    #[tokio::test]
    async fn bodies_are_read_in_glance_pieces() {
        let sizes = [10usize, 70_000, 200_000, 5, 65_536];
        let chunks: Vec<io::Result<Bytes>> = sizes
            .iter()
            .map(|n| Ok(Bytes::from(vec![7u8; *n])))
            .collect();
        let total: usize = sizes.iter().sum();
        let got: Vec<usize> = pieces(stream::iter(chunks))
            .map(|p| p.expect("piece").len())
            .collect()
            .await;
        assert!(got[..got.len() - 1].iter().all(|n| *n == PIECE));
        assert_eq!(got.iter().sum::<usize>(), total);
    }
}
