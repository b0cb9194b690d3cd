//! The QED inspector (oslo's `QEDInspector`).

use super::{Broken, Inspector, Region};

/// QEMU enhanced disk: recognised, never allowed.
pub(super) struct Qed {
    header: Region,
}

impl Default for Qed {
    fn default() -> Self {
        Qed {
            header: Region::new(0, 512),
        }
    }
}

impl Inspector for Qed {
    fn name(&self) -> &'static str {
        "qed"
    }
    fn regions(&self) -> Vec<&Region> {
        vec![&self.header]
    }
    fn regions_mut(&mut self) -> Vec<&mut Region> {
        vec![&mut self.header]
    }
    fn format_match(&self) -> Result<bool, Broken> {
        Ok(self.header.complete() && self.header.data.starts_with(b"QED\0"))
    }
    fn safety_failures(&self) -> Vec<&'static str> {
        vec!["banned"]
    }
}
