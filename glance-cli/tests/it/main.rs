//! The `glance` binary's tests, one binary: the binary cargo built for this
//! run (`CARGO_BIN_EXE_glance`) against the in-process mock, and its tables
//! against python-glanceclient's where that is installed.

mod arguments;
mod auth;
mod basics;
mod commands;
mod golden;
mod harness;
mod never_hang;
mod parallel_download;
mod python_tables;
