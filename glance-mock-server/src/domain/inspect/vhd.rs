//! The VHD inspector (oslo's `VHDInspector`).

use super::{Broken, Inspector, Region};

/// Connectix/Microsoft VHD: footer copy at the start, size at 40.
pub(super) struct Vhd {
    header: Region,
}

impl Default for Vhd {
    fn default() -> Self {
        Vhd {
            header: Region::new(0, 512),
        }
    }
}

impl Inspector for Vhd {
    fn name(&self) -> &'static str {
        "vhd"
    }
    fn regions(&self) -> Vec<&Region> {
        vec![&self.header]
    }
    fn regions_mut(&mut self) -> Vec<&mut Region> {
        vec![&mut self.header]
    }
    fn format_match(&self) -> Result<bool, Broken> {
        Ok(self.header.data.starts_with(b"conectix"))
    }
    fn virtual_size(&self, _total: u64) -> Result<u64, Broken> {
        if !self.header.complete() || !self.format_match()? {
            return Ok(0);
        }
        Ok(self.header.u64_be(40).unwrap_or(0))
    }
    fn safety_failures(&self) -> Vec<&'static str> {
        Vec::new()
    }
}
