//! The mock's integration tests that need no binary: one module per area,
//! over the shared harness (`tests/harness`). The tests that run the
//! binary are the other test binary, `tests/binary`.

#[path = "../harness/mod.rs"]
mod harness;

mod bodiless;
mod concurrency;
mod control;
mod control_access;
mod crashes;
mod data_path;
mod deployment;
mod fresh_state;
mod full_disk;
mod fuzz;
mod http_pipeline;
mod import;
mod keystone;
mod keystone_admin;
mod layers;
mod limits;
mod list_pages;
mod metadefs;
mod sharing;
mod tokens;
mod visibility_matrix;
