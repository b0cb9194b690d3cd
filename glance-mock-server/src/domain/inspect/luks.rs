//! The LUKS inspector (oslo's `LUKSInspector`).

use super::{Broken, Inspector, Region};

/// LUKS v1 encrypted volume.
pub(super) struct Luks {
    header: Region,
}

impl Default for Luks {
    fn default() -> Self {
        Luks {
            header: Region::new(0, 592),
        }
    }
}

impl Inspector for Luks {
    fn name(&self) -> &'static str {
        "luks"
    }
    fn regions(&self) -> Vec<&Region> {
        vec![&self.header]
    }
    fn regions_mut(&mut self) -> Vec<&mut Region> {
        vec![&mut self.header]
    }
    fn format_match(&self) -> Result<bool, Broken> {
        Ok(self.header.data.get(..6) == Some(b"LUKS\xba\xbe"))
    }
    fn virtual_size(&self, total: u64) -> Result<u64, Broken> {
        let payload = self.header.u32_be(104).ok_or(Broken::Other)?;
        Ok(total.saturating_sub(u64::from(payload) * 512))
    }
    fn safety_failures(&self) -> Vec<&'static str> {
        // Checked only once the 592-byte header is complete.
        let version = self.header.bytes::<2>(6).map(u16::from_be_bytes);
        if version == Some(1) {
            Vec::new()
        } else {
            vec!["version"]
        }
    }
}
