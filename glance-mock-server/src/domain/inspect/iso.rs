//! The ISO 9660 / UDF inspector (oslo's `ISOInspector`).

use super::{Broken, Inspector, Region};

/// ISO 9660 / UDF: a volume descriptor after a 32 KiB system area.
pub(super) struct Iso {
    system_area: Region,
    header: Region,
}

impl Default for Iso {
    fn default() -> Self {
        Iso {
            system_area: Region::new(0, 32 * 1024),
            header: Region::new(32 * 1024, 2 * 1024),
        }
    }
}

impl Inspector for Iso {
    fn name(&self) -> &'static str {
        "iso"
    }
    fn regions(&self) -> Vec<&Region> {
        vec![&self.system_area, &self.header]
    }
    fn regions_mut(&mut self) -> Vec<&mut Region> {
        vec![&mut self.system_area, &mut self.header]
    }
    fn format_match(&self) -> Result<bool, Broken> {
        let complete = self.system_area.complete() && self.header.complete();
        let sig = self.header.data.get(1..6);
        Ok(complete && matches!(sig, Some(b"CD001" | b"NSR02" | b"NSR03")))
    }
    fn virtual_size(&self, _total: u64) -> Result<u64, Broken> {
        if !self.format_match()? || self.header.data.first() != Some(&1) {
            return Ok(0);
        }
        let block = u64::from(self.header.u16_le(128).unwrap_or(0));
        let blocks = u64::from(self.header.u32_le(80).unwrap_or(0));
        Ok(block * blocks)
    }
    fn safety_failures(&self) -> Vec<&'static str> {
        Vec::new()
    }
}
