//! `/v2/images/{id}/file`: upload (`PUT`) and download (`GET`).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::BytesMut;
use futures::StreamExt;
use md5::{Digest, Md5};
use sha2::Sha512;

use super::SharedState;
use super::error::ApiError;
use super::identity::Caller;
use crate::domain::policy::Rule;
use crate::domain::{Fault, ImageStatus, policy, time};

/// Routes of this resource.
pub fn router() -> Router<SharedState> {
    Router::new().route("/v2/images/{id}/file", get(download).put(upload))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Put the image back to `queued` after a failed upload, as Glance does.
fn restore_queued(state: &SharedState, id: &str) {
    let _ = state.db.update(id, &mut |img| {
        if img.status == ImageStatus::Saving {
            img.status = ImageStatus::Queued;
            img.size = None;
            img.virtual_size = None;
        }
        Ok(())
    });
}

async fn upload(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let current = state.db.get(&id, false);
    let current = policy::lookup(&who, current.as_deref(), &id)?;
    policy::enforce(&who, Rule::UploadImage, current)?;
    let ctype = header_str(&headers, "content-type").unwrap_or("");
    if ctype.split(';').next().unwrap_or("").trim() != "application/octet-stream" {
        return Err(ApiError::unsupported_media(
            ctype,
            format!("Invalid content type {ctype}"),
        ));
    }
    let store_id = match header_str(&headers, "x-image-meta-store") {
        Some(s) if !state.config.has_store(s) => {
            return Err(ApiError::bad_request(format!(
                "Store for identifier {s} not found"
            )));
        }
        Some(s) => s.to_owned(),
        None => state.config.default_store.clone(),
    };
    let not_found = || Fault::NotFound(format!("No image found with ID {id}"));
    state
        .db
        .update(&id, &mut |img| {
            if !img.status.can_become(ImageStatus::Saving) {
                return Err(Fault::Conflict(format!(
                    "Image status transition from {} to saving is not allowed",
                    img.status.as_str()
                )));
            }
            match (&img.disk_format, &img.container_format) {
                (None, None) => {
                    return Err(Fault::BadRequest(
                        "Properties disk_format, container_format must be set prior to saving data.".into(),
                    ));
                }
                (None, _) => {
                    return Err(Fault::BadRequest(
                        "Property disk_format must be set prior to saving data.".into(),
                    ));
                }
                (_, None) => {
                    return Err(Fault::BadRequest(
                        "Property container_format must be set prior to saving data.".into(),
                    ));
                }
                _ => {}
            }
            img.status = ImageStatus::Saving;
            img.updated_at = time::now();
            Ok(())
        })
        .ok_or_else(not_found)??;

    let received = receive(&state, &headers, body).await;
    let (data, md5, sha512) = match received {
        Ok(r) => r,
        Err(e) => {
            restore_queued(&state, &id);
            return Err(e);
        }
    };

    let size = data.len() as u64;
    // Data first, then the record: nobody sees `active` without bytes.
    state.store.put(&store_id, &id, data);
    let gone =
        || Fault::Gone("Image deleted during the upload, cleaning up the chunks uploaded.".into());
    state
        .db
        .update(&id, &mut |img| {
            if img.status != ImageStatus::Saving {
                return Err(gone());
            }
            img.size = Some(size);
            img.checksum = Some(md5.clone());
            img.os_hash_algo = Some("sha512".into());
            img.os_hash_value = Some(sha512.clone());
            img.virtual_size = (img.container_format.as_deref() == Some("bare")
                && img.disk_format.as_deref() == Some("raw"))
            .then_some(size);
            img.stores = vec![store_id.clone()];
            img.status = ImageStatus::Active;
            img.updated_at = time::now();
            Ok(())
        })
        .ok_or_else(gone)
        .and_then(|r| r)
        .inspect_err(|_| state.store.delete(&store_id, &id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Read the request body, hashing as it arrives, enforcing the declared
/// size and the size cap. Returns the data, md5 hex and sha512 hex.
async fn receive(
    state: &SharedState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Bytes, String, String), ApiError> {
    let declared = match header_str(headers, "x-openstack-image-size") {
        None => None,
        Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
            ApiError::bad_request("Invalid or missing image size in request headers.")
        })?),
    };
    let cap = state.config.image_size_cap;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The incoming image is too large: The provided image is too large.",
        )
    };
    let hint = declared
        .or_else(|| header_str(headers, "content-length").and_then(|v| v.parse().ok()))
        .unwrap_or(0)
        .min(cap)
        .min(1 << 30);
    let mut buf = BytesMut::with_capacity(hint as usize);
    let mut md5 = Md5::new();
    let mut sha = Sha512::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("Error reading body: {e}")))?;
        if buf.len() as u64 + chunk.len() as u64 > cap {
            return Err(too_large());
        }
        md5.update(&chunk);
        sha.update(&chunk);
        buf.extend_from_slice(&chunk);
    }
    let got = buf.len() as u64;
    if let Some(expected) = declared {
        if got > expected {
            return Err(ApiError::bad_request(format!(
                "Size exceeds: expected {expected} bytes, got {got} bytes"
            )));
        }
        if got < expected {
            return Err(ApiError::bad_request(format!(
                "Size mismatch: expected {expected} bytes, got {got} bytes"
            )));
        }
    }
    Ok((
        buf.freeze(),
        hex::encode(md5.finalize()),
        hex::encode(sha.finalize()),
    ))
}

async fn download(
    State(state): State<SharedState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (data, checksum) = {
        let img = state.db.get(&id, false);
        let img = policy::lookup(&who, img.as_deref(), &id)?;
        if img.status == ImageStatus::Deactivated && !who.is_admin() {
            return Err(Fault::Forbidden(
                "The requested image has been deactivated. Image data download is forbidden."
                    .into(),
            )
            .into());
        }
        policy::enforce(&who, Rule::DownloadImage, img)?;
        let data = img.stores.iter().find_map(|s| state.store.get(s, &id));
        (data, img.checksum.clone())
    };
    let Some(data) = data else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let size = data.len() as u64;
    let range = header_str(&headers, "range")
        .map(|r| parse_range(r, size))
        .transpose()?;
    let (status, body) = match range {
        None => (StatusCode::OK, data),
        Some((start, end)) => (
            StatusCode::PARTIAL_CONTENT,
            data.slice(start as usize..=end as usize),
        ),
    };
    let mut resp = Response::new(Body::from(body.clone()));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len() as u64));
    if let Some(sum) = checksum.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert("content-md5", sum);
    }
    if let Some((start, end)) = range {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{size}")) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(resp)
}

/// Parse a single `Range: bytes=...` into an inclusive, clamped span.
fn parse_range(spec: &str, size: u64) -> Result<(u64, u64), ApiError> {
    let invalid =
        || ApiError::with_detail(StatusCode::RANGE_NOT_SATISFIABLE, "Invalid Range header.");
    let set = spec.trim().strip_prefix("bytes=").ok_or_else(invalid)?;
    if set.contains(',') {
        return Err(ApiError::bad_request(
            "Requests with multiple ranges are not supported in Glance. You may make multiple single-range requests instead.",
        ));
    }
    let (a, b) = set.split_once('-').ok_or_else(invalid)?;
    let (a, b) = (a.trim(), b.trim());
    if size == 0 {
        return Err(invalid());
    }
    let last = size - 1;
    if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| invalid())?;
        if n == 0 {
            return Err(invalid());
        }
        return Ok((size.saturating_sub(n), last));
    }
    let start: u64 = a.parse().map_err(|_| invalid())?;
    let end: u64 = if b.is_empty() {
        last
    } else {
        b.parse::<u64>().map_err(|_| invalid())?.min(last)
    };
    if start > last {
        return Err(ApiError::with_detail(
            StatusCode::RANGE_NOT_SATISFIABLE,
            format!(
                "Invalid start position in Range header. Start position MUST be in the inclusive range [0, {last}]."
            ),
        ));
    }
    if end < start {
        return Err(invalid());
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_as_glance_answers_them() {
        let r = |s| parse_range(s, 11).ok();
        assert_eq!(r("bytes=0-4"), Some((0, 4)));
        assert_eq!(r("bytes=6-"), Some((6, 10)));
        assert_eq!(r("bytes=-3"), Some((8, 10)));
        assert_eq!(r("bytes=3-100"), Some((3, 10)));
        assert_eq!(r("bytes=-30"), Some((0, 10)));
        assert_eq!(r("bytes=11-"), None);
        assert_eq!(r("bytes=0-1,3-4"), None);
        assert_eq!(r("nonsense"), None);
    }
}
