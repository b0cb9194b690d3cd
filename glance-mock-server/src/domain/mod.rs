//! The rules of the Image API, free of HTTP: image records, identity and
//! policy, validation, listing. The `api` layer translates requests into
//! calls here and [`Fault`]s into Glance-shaped error responses.

pub mod activation;
pub mod cache;
pub mod create;
pub mod fields;
pub mod identity;
pub mod image;
pub mod import;
pub mod inspect;
pub mod list;
pub mod locations;
pub mod members;
pub mod metadefs;
pub mod patch;
pub mod policy;
pub mod python;
pub mod revision;
pub mod stored;
pub mod tags;
pub mod tasks;
pub mod time;
pub mod upload;
pub mod usage;

pub use identity::Identity;
pub use image::{Image, ImageStatus, Visibility};
pub use python::jsonschema;
pub use revision::Revision;
pub use stored::Stored;

/// `repr()` and `pprint.pformat`, which live in [`crate::domain::python`]
/// with the rest of Python's text; this path stays for code that used it.
pub mod pyrepr {
    pub use super::python::{Py, is_py_space, pformat, repr, str_repr};
}

/// Why an operation was refused, in the categories Glance maps to HTTP
/// statuses. The message is Glance's own text: webob shows it alone when
/// Glance passes it as `explanation=`, and after its default explanation for
/// the status when Glance passes it positionally (the `*Detail` variants).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    /// 400
    #[error("{0}")]
    BadRequest(String),
    /// 403
    #[error("{0}")]
    Forbidden(String),
    /// 403 after webob's "Access was denied to this resource."
    #[error("{0}")]
    ForbiddenDetail(String),
    /// 404
    #[error("{0}")]
    NotFound(String),
    /// 409
    #[error("{0}")]
    Conflict(String),
    /// 409 after webob's "There was a conflict when trying to complete your request."
    #[error("{0}")]
    ConflictDetail(String),
    /// 410
    #[error("{0}")]
    Gone(String),
    /// 413
    #[error("{0}")]
    TooLarge(String),
    /// 500, where Glance itself fails on an input it does not check.
    #[error("{0}")]
    Internal(String),
    /// 503: a service this node needs (the registry) cannot be reached.
    #[error("{0}")]
    Unavailable(String),
}

impl Fault {
    /// The 503 of a node whose registry cannot be reached.
    pub fn unavailable() -> Fault {
        Fault::Unavailable("The image registry could not be reached; try again later.".into())
    }

    /// Glance's unhandled-error 500, with webob's default text.
    pub fn internal() -> Fault {
        Fault::Internal(
            "The server has either erred or is incapable of performing the requested operation."
                .into(),
        )
    }
}
