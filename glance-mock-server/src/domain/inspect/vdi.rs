//! The VDI inspector (oslo's `VDIInspector`).

use super::{Broken, Inspector, Region};

/// VirtualBox VDI: little-endian header, signature at 0x40, size at 0x170.
pub(super) struct Vdi {
    header: Region,
}

impl Default for Vdi {
    fn default() -> Self {
        Vdi {
            header: Region::new(0, 512),
        }
    }
}

impl Inspector for Vdi {
    fn name(&self) -> &'static str {
        "vdi"
    }
    fn regions(&self) -> Vec<&Region> {
        vec![&self.header]
    }
    fn regions_mut(&mut self) -> Vec<&mut Region> {
        vec![&mut self.header]
    }
    fn format_match(&self) -> Result<bool, Broken> {
        Ok(self.header.complete() && self.header.u32_le(0x40) == Some(0xBEDA_107F))
    }
    fn virtual_size(&self, _total: u64) -> Result<u64, Broken> {
        Ok(if self.format_match()? {
            self.header.u64_le(0x170).unwrap_or(0)
        } else {
            0
        })
    }
    fn safety_failures(&self) -> Vec<&'static str> {
        Vec::new()
    }
}
