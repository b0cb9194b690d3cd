//! The end-to-end tests, one binary: the client against the in-process
//! mock (plain, under faults, with Keystone), the conformance runner, and
//! python-glanceclient against the mock. The soak is its own binary
//! (`--test soak`); the `glance` binary's tests are in glance-cli.
//!
//! CI runs parts on their own by filter, e.g. `--test it conformance::`.

mod auth;
mod client;
mod client_metadata;
mod client_under_faults;
mod conformance;
mod faults;
mod never_hang;
mod parallel_download;
mod python_glanceclient;
mod shared_data;
