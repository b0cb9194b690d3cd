//! Shared helpers for the end-to-end tests.

pub mod bin;
pub mod conformance;
pub mod fixture;
pub mod shared;
