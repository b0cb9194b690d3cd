//! The GPT inspector (oslo's `GPTInspector`).

use super::{Broken, Inspector, Region};

/// A GPT (or legacy MBR) partitioned disk.
pub(super) struct Gpt {
    mbr: Region,
}

impl Default for Gpt {
    fn default() -> Self {
        Gpt {
            mbr: Region::new(0, 512),
        }
    }
}

impl Gpt {
    fn mbr_ok(&self) -> bool {
        let mut valid = Vec::new();
        let mut found_gpt = false;
        for i in 0..4 {
            let at = 446 + 16 * i;
            let Some(pte) = self.mbr.bytes::<16>(at) else {
                return false;
            };
            if !matches!(pte[0], 0x00 | 0x80) {
                return false;
            }
            let os_type = pte[4];
            if os_type != 0 {
                valid.push(i);
            }
            if os_type == 0xEE {
                found_gpt = true;
                let start_lba = u32::from_le_bytes([pte[8], pte[9], pte[10], pte[11]]);
                if pte[1..4] != [0x00, 0x02, 0x00] || start_lba != 1 {
                    return false;
                }
            }
        }
        let extra_partitions = found_gpt && valid != [0];
        !valid.is_empty() && !extra_partitions
    }
}

impl Inspector for Gpt {
    fn name(&self) -> &'static str {
        "gpt"
    }
    fn regions(&self) -> Vec<&Region> {
        vec![&self.mbr]
    }
    fn regions_mut(&mut self) -> Vec<&mut Region> {
        vec![&mut self.mbr]
    }
    fn format_match(&self) -> Result<bool, Broken> {
        if !self.mbr.complete() {
            return Ok(false);
        }
        let d = &self.mbr.data;
        let is_fat = d[0x10] == 2 && d[0x15] == 0xF8;
        Ok(self.mbr.u16_le(510) == Some(0xAA55) && !is_fat)
    }
    fn safety_failures(&self) -> Vec<&'static str> {
        if self.mbr_ok() {
            Vec::new()
        } else {
            vec!["mbr"]
        }
    }
}
