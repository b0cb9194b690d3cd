//! A typed async client for the OpenStack Image service (Glance) API v2.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use glance_client::{Client, ContainerFormat, CreateImage, DiskFormat, ListImages};
//!
//! # async fn demo() -> glance_client::Result<()> {
//! let client = Client::builder()
//!     .endpoint("http://127.0.0.1:9292")
//!     .token("a-keystone-token")
//!     .build()?;
//! let images = client.images();
//!
//! let image = images
//!     .create(&CreateImage::new("demo")
//!         .disk_format(DiskFormat::Raw)
//!         .container_format(ContainerFormat::Bare))
//!     .await?;
//! images.upload(&image.id, vec![0u8; 4096]).await?;
//!
//! let all: Vec<_> = images.list(ListImages::new()).try_collect().await?;
//! println!("{} images", all.len());
//!
//! // Verified against os_hash_value: a corrupt download is an error.
//! let data = images.download(&image.id).await?.expect("has data").bytes().await?;
//! assert_eq!(data.len(), 4096);
//!
//! images.delete(&image.id).await?;
//! # Ok(()) }
//! ```
//!
//! # What is where
//!
//! | area | entry point |
//! |---|---|
//! | images: create, get, list (typed filters), update (minimal JSON patch), upload, download (verified), delete, deactivate/reactivate, tags, locations, image tasks | [`Client::images`] |
//! | members of shared images | [`Client::members`] |
//! | import methods, stores, quota usage | [`Client::info`] |
//! | JSON schemas | [`Client::schemas`] |
//! | API versions, feature checks | [`Client::versions`], [`Client::has_version`] |
//! | tasks API (admins) | [`Client::tasks`] |
//! | image cache of a node (v2.14) | [`Client::cache`] |
//! | metadata definitions | [`Client::metadefs`] |
//! | Keystone v3: password, application credential, token; service catalog; re-authentication | [`auth`], [`ClientBuilder::auth_url`] |
//! | `clouds.yaml`, `secure.yaml`, `OS_CLOUD` and the `OS_*` variables | [`config`], [`ClientBuilder::from_env`], [`ClientBuilder::from_cloud`] |
//!
//! # Connections, errors and retries
//!
//! [`ClientBuilder`] sets the endpoint, token, extra headers, TLS (CA
//! bundle, client certificate, insecure), timeouts, the `User-Agent` and
//! the [`RetryConfig`]. Idempotent requests (`GET`, `HEAD`, `PUT`, `DELETE`)
//! with replayable bodies are retried on connection errors, 5xx and 429,
//! with jittered exponential backoff that honours `Retry-After`; `POST`,
//! `PATCH` and one-shot upload streams never are. Every failure is an
//! [`Error`] with predicates (`is_not_found`, `is_conflict`, …), the status
//! and the `x-openstack-request-id` of the last response.

pub mod auth;
pub mod cache;
mod client;
pub mod config;
mod digest;
mod error;
pub mod images;
pub mod info;
mod macros;
pub mod members;
pub mod metadefs;
pub mod retry;
pub mod schemas;
pub mod tasks;
mod transport;
pub mod verify;
pub mod versions;

pub use client::{
    Client, ClientBuilder, DEFAULT_READ_TIMEOUT, UPLOAD_TOKEN_MARGIN, UPLOAD_TOKEN_RATE,
};
pub use config::CloudConfig;
pub use error::{Error, ImportFailure, ResponseSummary, Result, Transfer, report};
pub use images::{
    ContainerFormat, CreateImage, DiskFormat, Download, DownloadOptions, Image, ImagePatch,
    ImageSignature, ImageStatus, Images, ImportMethod, ImportRequest, ListImages, PatchOp, Saved,
    UploadBody, UploadOptions, Visibility,
};
pub use info::{ImportInfo, Info, QuotaUsage, Store};
pub use members::{Member, MemberStatus, Members};
pub use retry::RetryConfig;
pub use schemas::{Schema, SchemaProperty, Schemas};
pub use tasks::{ListTasks, Task, TaskStatus, Tasks};
pub use verify::{Verification, VerifyOptions};
pub use versions::{ApiVersion, VersionStatus};

/// The README's code samples, compiled as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
