//! The VMDK inspector (oslo's `VMDKInspector`).

use super::{Broken, Inspector, Mismatch, Region};
use crate::domain::python::is_py_space;

/// VMware VMDK (monolithicSparse and streamOptimized), or a bare text
/// descriptor.
pub(super) struct Vmdk {
    header: Option<Region>,
    descriptor: Region,
    footer: Option<Region>,
    /// The lower-cased descriptor text, once parsed.
    desc_text: Option<String>,
    /// `createType`, once parsed (`None` if the descriptor was not ASCII:
    /// Python's `AttributeError`).
    vmdk_type: Option<String>,
}

impl Default for Vmdk {
    fn default() -> Self {
        Vmdk {
            header: Some(Region::at_least(0, 512, 64)),
            descriptor: Region::at_least(0, Self::DESC_MAX, 4),
            footer: None,
            desc_text: None,
            vmdk_type: None,
        }
    }
}

/// Python's `str.isspace()` on a byte of ASCII text.
fn py_space(c: u8) -> bool {
    c.is_ascii() && is_py_space(char::from(c))
}

/// Python's `str.strip()` on ASCII text.
fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii() && is_py_space(c))
}

impl Vmdk {
    const DESC_OFFSET: u64 = 0x200;
    const DESC_MAX: u64 = (1 << 20) - 1;
    const GD_AT_END: u64 = u64::MAX;
    const SUPPORTED: [&'static str; 2] = ["monolithicsparse", "streamoptimized"];

    /// (signature, version, descriptor sector, descriptor sectors, gd offset)
    fn sparse_header(r: &Region, at: usize) -> Option<([u8; 4], u32, u64, u64, u64)> {
        Some((
            r.bytes(at)?,
            r.u32_le(at + 4)?,
            r.u64_le(at + 28)?,
            r.u64_le(at + 36)?,
            r.u64_le(at + 56)?,
        ))
    }

    fn parse_descriptor(&mut self) {
        let data = &self.descriptor.data;
        let data = match data.iter().position(|b| *b == 0) {
            Some(nul) => &data[..nul],
            None => &data[..],
        };
        if !data.is_ascii() {
            // Glance logs "VMDK descriptor failed to decode as ASCII".
            return;
        }
        let text = String::from_utf8_lossy(data).to_ascii_lowercase();
        const KEY: &str = "createtype=\"";
        let kind = match text.find(KEY).map(|i| i + KEY.len()) {
            None => "formatnotfound".to_owned(),
            Some(start) => match text[start..].find('"') {
                Some(len) if len < 64 => text[start..start + len].to_owned(),
                Some(_) => "formatnotfound".to_owned(),
                // Python's find() gives -1 here, and [start:-1] drops the last byte.
                None => text
                    .get(start..text.len().saturating_sub(1))
                    .unwrap_or("")
                    .to_owned(),
            },
        };
        self.desc_text = Some(text);
        self.vmdk_type = Some(kind);
    }

    fn check_descriptor(&self) -> Result<(), ()> {
        let text = self
            .desc_text
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or(())?;
        let kind = self.vmdk_type.as_deref().ok_or(())?;
        if !Self::SUPPORTED.contains(&kind) {
            return Err(());
        }
        let mut extents = Vec::new();
        for line in text.split('\n').map(py_strip) {
            if line.is_empty() || line.starts_with('#') || line.starts_with("ddb") {
                continue;
            }
            let key = line.split('=').next().unwrap_or("");
            if line.contains('=') && !key.contains(' ') {
                continue;
            }
            if matches!(line.split(' ').next(), Some("rw" | "rdonly" | "noaccess")) {
                extents.push(line);
                continue;
            }
            return Err(());
        }
        if extents.is_empty() || extents.iter().any(|e| e.contains('/')) {
            return Err(());
        }
        Ok(())
    }

    fn check_footer(&self) -> Result<(), ()> {
        let (Some(header), Some(footer)) = (&self.header, &self.footer) else {
            return Err(());
        };
        let h = Self::sparse_header(header, 0).ok_or(())?;
        let f = Self::sparse_header(footer, 512).ok_or(())?;
        if h.0 != f.0 || h.1 != f.1 || h.2 != f.2 || h.3 != f.3 || f.4 == Self::GD_AT_END {
            return Err(());
        }
        let marker_ok = |at: usize, kind: u32, zero_val: bool| -> bool {
            let val = footer.u64_le(at);
            let size = footer.u32_le(at + 8);
            let typ = footer.u32_le(at + 12);
            let pad = footer.data.get(at + 16..at + 512);
            size == Some(0)
                && typ == Some(kind)
                && pad.is_some_and(|p| p.iter().all(|b| *b == 0))
                && (!zero_val || val == Some(0))
        };
        let last = footer.data.len().saturating_sub(512);
        if footer.data.len() < 1536 || !marker_ok(0, 3, false) || !marker_ok(last, 0, true) {
            return Err(());
        }
        Ok(())
    }
}

impl Inspector for Vmdk {
    fn name(&self) -> &'static str {
        "vmdk"
    }
    fn regions(&self) -> Vec<&Region> {
        let mut r: Vec<&Region> = self.header.iter().collect();
        r.push(&self.descriptor);
        r.extend(self.footer.as_ref());
        r
    }
    fn regions_mut(&mut self) -> Vec<&mut Region> {
        let mut r: Vec<&mut Region> = self.header.iter_mut().collect();
        r.push(&mut self.descriptor);
        r.extend(self.footer.as_mut());
        r
    }
    fn post_process(&mut self) -> Result<(), Mismatch> {
        let Some(header) = self.header.as_ref().filter(|h| h.complete()) else {
            return Ok(());
        };
        let (sig, version, desc_sec, desc_num, gd_offset) =
            Self::sparse_header(header, 0).ok_or(Mismatch)?;
        if &sig != b"KDMV" {
            let is_text = header
                .data
                .iter()
                .all(|b| (0x20..0x7f).contains(b) || py_space(*b));
            if is_text {
                // Maybe a text-only descriptor file: parse it as such.
                self.header = None;
                return Ok(());
            }
            return Err(Mismatch);
        }
        if !(1..=3).contains(&version) {
            return Err(Mismatch);
        }
        if gd_offset == Self::GD_AT_END && self.footer.is_none() {
            self.footer = Some(Region::end(1536));
        }
        let desc_offset = desc_sec.saturating_mul(512);
        if desc_offset != Self::DESC_OFFSET {
            return Err(Mismatch);
        }
        if self.descriptor.offset == 0 {
            let size = desc_num.saturating_mul(512).min(Self::DESC_MAX);
            self.descriptor = Region::new(desc_offset, size);
        }
        Ok(())
    }
    fn region_complete(&mut self, region: u64) {
        if region == self.descriptor.id {
            self.parse_descriptor();
        }
    }
    fn format_match(&self) -> Result<bool, Broken> {
        match &self.header {
            Some(h) => Ok(h.data.starts_with(b"KDMV")),
            None => match &self.vmdk_type {
                Some(kind) => Ok(kind != "formatnotfound"),
                None => Err(Broken::Attribute),
            },
        }
    }
    fn virtual_size(&self, _total: u64) -> Result<u64, Broken> {
        if self.desc_text.as_deref().is_none_or(str::is_empty) {
            return Ok(0);
        }
        let kind = self.vmdk_type.as_deref().ok_or(Broken::Attribute)?;
        if !Self::SUPPORTED.contains(&kind) {
            return Ok(0);
        }
        let header = self.header.as_ref().ok_or(Broken::Other)?;
        let sectors = header.u64_le(12).ok_or(Broken::Other)?;
        Ok(sectors.saturating_mul(512))
    }
    fn safety_failures(&self) -> Vec<&'static str> {
        let mut failed = Vec::new();
        if self.check_descriptor().is_err() {
            failed.push("descriptor");
        }
        if self.footer.is_some() && self.check_footer().is_err() {
            failed.push("footer");
        }
        failed
    }
}
