//! The mock's integration tests that run its binary
//! (`CARGO_BIN_EXE_glance-mock-server`, built for them: the `bin`
//! feature), over the shared harness (`tests/harness`).

#[path = "../harness/mod.rs"]
mod harness;

mod connections;
mod control;
mod dump_memory;
mod durable;
mod nodes;
