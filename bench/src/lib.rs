//! Benchmarks of the Glance toolkit: the pieces shared by the criterion
//! micro-benchmarks (`benches/micro.rs`) and the whole-process harness
//! (`glance-bench`, run by `bench/run`), whose figures go into
//! `BENCHMARKS.md`.

pub mod alloc;
pub mod harness;
pub mod pages;
pub mod procfs;
