//! The VHDX inspector (oslo's `VHDXInspector`).

use super::{Broken, Inspector, Mismatch, Region};

/// Microsoft VHDX: the virtual size sits in a metadata item found through
/// the region table at 192 KiB.
pub(super) struct Vhdx {
    ident: Region,
    header: Region,
    metadata: Option<Region>,
    vds: Option<Region>,
}

impl Default for Vhdx {
    fn default() -> Self {
        Vhdx {
            ident: Region::new(0, 32),
            header: Region::new(192 * 1024, 64 * 1024),
            metadata: None,
            vds: None,
        }
    }
}

impl Vhdx {
    /// GUID `8B7CA206-4790-4B9A-B8FE-575F050F886E` as stored (mixed endian).
    const METAREGION: [u8; 16] = [
        0x06, 0xA2, 0x7C, 0x8B, 0x90, 0x47, 0x9A, 0x4B, 0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88,
        0x6E,
    ];
    /// GUID `2FA54224-CD1B-4876-B211-5DBED83BF4B8` as stored.
    const VIRTUAL_DISK_SIZE: [u8; 16] = [
        0x24, 0x42, 0xA5, 0x2F, 0x1B, 0xCD, 0x76, 0x48, 0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4,
        0xB8,
    ];

    fn find_meta_region(&self) -> Result<Option<Region>, Mismatch> {
        let h = &self.header;
        if h.u32_le(0) != Some(0x6967_6572) {
            return Err(Mismatch);
        }
        let count = h.u32_le(8).ok_or(Mismatch)?;
        if count >= 2048 {
            return Err(Mismatch);
        }
        for i in 0..count as usize {
            let entry = 16 + i * 32;
            if h.bytes::<16>(entry) == Some(Self::METAREGION) {
                let offset = h.u64_le(entry + 16).ok_or(Mismatch)?;
                return Ok(Some(Region::new(offset, 2048 * 32)));
            }
        }
        Ok(None)
    }

    fn find_meta_entry(&mut self) -> Result<Option<Region>, Mismatch> {
        let Some(meta) = self.metadata.as_mut() else {
            return Ok(None);
        };
        if meta.data.len() < 32 {
            return Ok(None);
        }
        if !meta.data.starts_with(b"metadata") {
            return Err(Mismatch);
        }
        let count = meta.u16_le(10).ok_or(Mismatch)? as usize;
        if meta.data.len() < 32 + count * 32 {
            return Ok(None);
        }
        if count >= 2048 {
            return Err(Mismatch);
        }
        for i in 0..count {
            let entry = 32 + i * 32;
            if meta.bytes::<16>(entry) == Some(Self::VIRTUAL_DISK_SIZE) {
                let item_offset = meta.u32_le(entry + 16).ok_or(Mismatch)?;
                let item_length = meta.u32_le(entry + 20).ok_or(Mismatch)?;
                // Stop capturing the table: the item is found.
                meta.length = meta.data.len() as u64;
                return Ok(Some(Region::new(
                    meta.offset + u64::from(item_offset),
                    u64::from(item_length).min(32 * 2048),
                )));
            }
        }
        Ok(None)
    }
}

impl Inspector for Vhdx {
    fn name(&self) -> &'static str {
        "vhdx"
    }
    fn regions(&self) -> Vec<&Region> {
        let mut r = vec![&self.ident, &self.header];
        r.extend(self.metadata.as_ref());
        r.extend(self.vds.as_ref());
        r
    }
    fn regions_mut(&mut self) -> Vec<&mut Region> {
        let mut r = vec![&mut self.ident, &mut self.header];
        r.extend(self.metadata.as_mut());
        r.extend(self.vds.as_mut());
        r
    }
    fn post_process(&mut self) -> Result<(), Mismatch> {
        if self.header.complete() && self.metadata.is_none() {
            self.metadata = self.find_meta_region()?;
        } else if self.metadata.is_some() && self.vds.is_none() {
            self.vds = self.find_meta_entry()?;
        }
        Ok(())
    }
    fn wants_data(&self) -> bool {
        // Until the size item is found, a later piece may add a region.
        self.vds.as_ref().is_none_or(|r| !r.complete())
    }
    fn format_match(&self) -> Result<bool, Broken> {
        Ok(self.ident.data.starts_with(b"vhdxfile"))
    }
    fn virtual_size(&self, _total: u64) -> Result<u64, Broken> {
        match &self.vds {
            Some(r) if r.complete() => r
                .data
                .as_slice()
                .try_into()
                .map(u64::from_le_bytes)
                .map_err(|_| Broken::Other),
            _ => Ok(0),
        }
    }
    fn safety_failures(&self) -> Vec<&'static str> {
        Vec::new()
    }
}
