//! The end-to-end tests' one harness: fixtures for the client against the
//! in-process mock, the conformance runner, python-glanceclient in a
//! virtualenv, and visible skips. glance-cli's tests use it too.

pub mod conformance;
pub mod fixture;
pub mod output;
pub mod python;
pub mod shared;
