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
//! # Options
//!
//! One convention: a call that has options has a plain form with the
//! defaults and a `…_with` form taking a reference to its options struct
//! last (`upload`/`upload_with(&UploadOptions)`,
//! `stage`/`stage_with(&StageOptions)`,
//! `download`, `download_to_path` and `download_to_writer` with
//! `…_with(&DownloadOptions)`, `wait_for_status`, `wait_for_import` and
//! `create_with_data` with `…_with(&WaitOptions)`).
//!
//! ```no_run
//! # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
//! use glance_client::images::{StageOptions, WaitOptions};
//! use glance_client::{DownloadOptions, UploadOptions};
//! let images = client.images();
//! images.upload(id, vec![0u8; 10]).await?;
//! images.upload_with(id, vec![0u8; 10], &UploadOptions::default().store("fast")).await?;
//! images.stage(id, vec![0u8; 10]).await?;
//! images.stage_with(id, vec![0u8; 10], &StageOptions::default().progress(|_, _| {})).await?;
//! images.wait_for_import(id).await?;
//! images.wait_for_import_with(id, &WaitOptions::default()).await?;
//! images.download_to_path(id, "disk.raw").await?;
//! images.download_to_path_with(id, "disk.raw", &DownloadOptions::unverified()).await?;
//! # Ok(()) }
//! ```
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
mod paginate;
pub mod schemas;
pub mod tasks;
mod transport;
pub mod verify;
pub mod versions;

pub use client::{Client, ClientBuilder, DEFAULT_READ_TIMEOUT};
pub use config::CloudConfig;
pub use error::{
    Error, ImportFailure, ParseEnumError, ResponseSummary, Result, Transfer, TransportError, report,
};
pub use images::{
    ContainerFormat, CreateImage, DiskFormat, Download, DownloadOptions, Image, ImagePatch,
    ImageSignature, ImageStatus, Images, ImportMethod, ImportRequest, ListImages, PatchOp, Saved,
    StageOptions, UploadBody, UploadOptions, Visibility, WaitOptions,
};
pub use info::{ImportInfo, Info, QuotaUsage, Store, StoreId};
pub use members::{Member, MemberStatus, Members};
pub use paginate::{ImageStream, ListStream, NamespaceStream, TaskStream};
pub use schemas::{Schema, SchemaProperty, Schemas};
pub use tasks::{CreateTask, ListTasks, Task, TaskStatus, Tasks};
pub use transport::request_ids::{RequestIdsFuture, WithRequestIds};
pub use transport::retry::{self, RetryConfig};
pub use transport::{UPLOAD_TOKEN_MARGIN, UPLOAD_TOKEN_RATE};
pub use verify::{Verification, VerifyOptions};
pub use versions::{ApiVersion, VersionStatus};

/// The `reqwest` crate this client sends through, for
/// [`ClientBuilder::http_client`]: that method ties its callers to this
/// reqwest's major version.
pub use reqwest;

/// The `time` crate of [`Image::created_at`] and
/// [`ListImages::created_at`], for callers without a dependency of their own.
pub use time;

/// The README's code samples, compiled as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
