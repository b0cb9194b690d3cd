//! The QCOW2 inspector (oslo's `QcowInspector`).

use super::{Broken, Inspector, Region};

/// QEMU copy-on-write v2/v3: a big-endian header with the virtual size at 24.
pub(super) struct Qcow2 {
    header: Region,
}

impl Default for Qcow2 {
    fn default() -> Self {
        Qcow2 {
            header: Region::new(0, 512),
        }
    }
}

impl Qcow2 {
    const FEATURES: usize = 0x48;

    fn features(&self) -> [u8; 8] {
        self.header.bytes(Self::FEATURES).unwrap_or([0; 8])
    }
}

impl Inspector for Qcow2 {
    fn name(&self) -> &'static str {
        "qcow2"
    }
    fn regions(&self) -> Vec<&Region> {
        vec![&self.header]
    }
    fn regions_mut(&mut self) -> Vec<&mut Region> {
        vec![&mut self.header]
    }
    fn format_match(&self) -> Result<bool, Broken> {
        Ok(self.header.complete() && self.header.data.starts_with(b"QFI\xfb"))
    }
    fn virtual_size(&self, _total: u64) -> Result<u64, Broken> {
        Ok(if self.format_match()? {
            self.header.u64_be(24).unwrap_or(0)
        } else {
            0
        })
    }
    fn safety_failures(&self) -> Vec<&'static str> {
        let mut failed = Vec::new();
        if self.header.u64_be(8).unwrap_or(0) != 0 {
            failed.push("backing_file");
        }
        let features = self.features();
        // Incompatible feature bit 3 (external data file), in the last byte.
        if features[7] & 0x04 != 0 {
            failed.push("data_file");
        }
        match self.header.u32_be(4) {
            Some(2) => {}
            Some(3) => {
                // Bits above 4 are unknown: the first seven bytes must be
                // zero, and only the low nibble of the last may be set.
                if features[..7].iter().any(|b| *b != 0) || features[7] & 0xF0 != 0 {
                    failed.push("unknown_features");
                }
            }
            _ => failed.push("unknown_features"),
        }
        failed
    }
}
