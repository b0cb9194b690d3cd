//! The client's integration tests: one module per area, over one harness
//! ([`common`]). Against wiremock stubs, the mock server in-process, a TLS
//! test server, and (`real_glance`) a real Glance when `GLANCE_TEST_URL`
//! is set (CI: `cargo test -p glance-client --test it -- real_glance::
//! --test-threads=1`).

mod common;

mod cache;
mod client_options;
mod data_plane;
mod download_faults;
mod download_verification;
mod info_schemas;
mod keystone_auth;
mod list_filters;
mod locations;
mod members;
mod metadefs;
mod real_glance;
mod request_ids;
mod retries;
mod tags_actions;
mod tasks;
mod tls;
mod update;
