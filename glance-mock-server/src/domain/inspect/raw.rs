//! The Raw inspector (oslo's `RawFileInspector`).

use super::{Broken, Inspector, Region};

/// Unformatted data: always matches, its virtual size is its size.
pub(super) struct Raw;

impl Inspector for Raw {
    fn name(&self) -> &'static str {
        "raw"
    }
    fn regions(&self) -> Vec<&Region> {
        Vec::new()
    }
    fn regions_mut(&mut self) -> Vec<&mut Region> {
        Vec::new()
    }
    fn format_match(&self) -> Result<bool, Broken> {
        Ok(true)
    }
    fn safety_failures(&self) -> Vec<&'static str> {
        Vec::new()
    }
}
