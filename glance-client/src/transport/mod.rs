//! Building requests and sending them, for Glance and Keystone alike.
//!
//! * [`request`]: a request described without sending it (pure,
//!   unit-testable): [`RequestSpec`], its [`Payload`].
//! * [`send`]: the one send loop: credentials per attempt, timeouts,
//!   retries with backoff, the 401 re-authentication, request ids.
//! * [`error_body`]: the one reader of error answers.
//! * [`retry`]: when and after how long a request is sent again
//!   ([`RetryConfig`](retry::RetryConfig), public as `glance_client::retry`).
//! * [`request_ids`]: the ids of Glance's answers, for
//!   [`WithRequestIds`](crate::WithRequestIds).
//!
//! Nothing here knows the client handle above it: the handle gives the
//! loop a URL and a [`Credential`]; the Keystone session below the handle
//! sends through the same [`Transport`].

mod error_body;
mod request;
pub(crate) mod request_ids;
pub mod retry;
mod send;

use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

use error_body::error_from;
pub(crate) use request::{Activity, BodyFactory, Payload, RequestSpec, check_param};
pub(crate) use send::{Answer, Call, Credential, Received, Service, TokenSource, Transport};
pub use send::{UPLOAD_TOKEN_MARGIN, UPLOAD_TOKEN_RATE};

/// The header carrying request ids: the server's own in each response; in
/// a request, a global id the server logs beside its own.
pub(crate) const REQUEST_ID_HEADER: &str = "x-openstack-request-id";

/// The request id of a response.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Decode a JSON body, naming the JSON path of any mismatch.
///
/// Plain serde_json first: tracking the path costs as much again as the
/// decoding and about 48 allocations per image of a list page (bench/,
/// section 4). Only a body that fails is decoded a second time, through
/// `serde_path_to_error`, for the path; the two passes see the same bytes
/// and neither checks for trailing data, so they fail alike.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let fast = &mut serde_json::Deserializer::from_slice(bytes);
    if let Ok(value) = <T as serde::Deserialize>::deserialize(fast) {
        return Ok(value);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
        path: e.path().to_string(),
        message: e.inner().to_string(),
        response: None,
    })
}
