//! Disk image format inspection on upload, as Glance 33 does it: the
//! stream is shown to an inspector per known format (a port of
//! `oslo_utils.imageutils.format_inspector`), and
//! [`Inspection::verdict`] applies `glance.location.ImageProxy.set_data`'s
//! rules: the detected format must match `disk_format` (with the raw and
//! non-inspectable exceptions), the virtual size comes from the format's
//! header, and the format's safety checks must pass.
//!
//! Like the original, inspectors keep only the few regions of the stream
//! they need (the first 512 bytes for most formats) and see the data in
//! the 64 KiB pieces Glance reads, so the outcome does not depend on how
//! the client chunked its upload.

use std::sync::atomic::{AtomicU64, Ordering};

/// Glance reads uploads in pieces of this size; inspectors see them so.
const PIECE: usize = 64 * 1024;

/// Regions are told apart by identity, as oslo does with objects: a
/// region deleted and re-created under the same name is a new one.
static NEXT_REGION: AtomicU64 = AtomicU64::new(0);

/// Formats oslo knows (`ALL_FORMATS`); a `disk_format` outside this list
/// (ami, ari, aki, ploop) is "not inspectable" and accepts unrecognised data.
pub const INSPECTABLE: &[&str] = &[
    "raw", "qcow2", "vhd", "vhdx", "vmdk", "vdi", "qed", "iso", "gpt", "luks",
];

/// Why an upload's data is refused (`InvalidImageData`, a 415 whose
/// detail is this message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidImageData(pub String);

/// A byte range of the stream an inspector wants to see (`CaptureRegion`),
/// or the last `length` bytes of it (`EndCaptureRegion`).
#[derive(Debug, Clone)]
struct Region {
    id: u64,
    offset: u64,
    length: u64,
    min_length: Option<u64>,
    data: Vec<u8>,
    at_end: bool,
    finished: bool,
}

impl Region {
    fn new(offset: u64, length: u64) -> Self {
        Region {
            id: NEXT_REGION.fetch_add(1, Ordering::Relaxed),
            offset,
            length,
            min_length: None,
            data: Vec::new(),
            at_end: false,
            finished: false,
        }
    }

    fn at_least(offset: u64, length: u64, min_length: u64) -> Self {
        Region {
            min_length: Some(min_length),
            ..Region::new(offset, length)
        }
    }

    fn end(length: u64) -> Self {
        Region {
            at_end: true,
            ..Region::new(0, length)
        }
    }

    fn complete(&self) -> bool {
        let len = self.data.len() as u64;
        let full = match self.min_length {
            Some(min) => min <= len,
            None => self.length == len,
        };
        full && (!self.at_end || self.finished)
    }

    /// Offer a chunk that ends at stream position `pos`.
    fn capture(&mut self, chunk: &[u8], pos: u64) {
        if self.at_end {
            self.data.extend_from_slice(chunk);
            let excess = self.data.len().saturating_sub(self.length as usize);
            self.data.drain(..excess);
            self.offset = pos - self.data.len() as u64;
            return;
        }
        if self.complete() {
            return;
        }
        let start = pos - chunk.len() as u64;
        let end = self.offset.saturating_add(self.length);
        if (start <= self.offset && self.offset <= pos) || (self.offset <= start && start <= end) {
            let lead = self.offset.saturating_sub(start) as usize;
            self.data.extend_from_slice(&chunk[lead.min(chunk.len())..]);
            self.data.truncate(self.length as usize);
        }
    }

    fn bytes<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.data.get(at..at + N)?.try_into().ok()
    }

    fn u16_le(&self, at: usize) -> Option<u16> {
        self.bytes(at).map(u16::from_le_bytes)
    }

    fn u32_le(&self, at: usize) -> Option<u32> {
        self.bytes(at).map(u32::from_le_bytes)
    }

    fn u64_le(&self, at: usize) -> Option<u64> {
        self.bytes(at).map(u64::from_le_bytes)
    }

    fn u32_be(&self, at: usize) -> Option<u32> {
        self.bytes(at).map(u32::from_be_bytes)
    }

    fn u64_be(&self, at: usize) -> Option<u64> {
        self.bytes(at).map(u64::from_be_bytes)
    }
}

/// An inspector's view of a property it cannot compute, mirroring the
/// Python exception classes Glance treats differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Broken {
    /// An `AttributeError`: Glance takes it for "not inspected" and moves on.
    Attribute,
    /// Any other exception: "Image format inspection failed".
    Other,
}

/// A parse failure while eating data (`ImageFormatError`): the wrapper
/// stops feeding that inspector.
#[derive(Debug)]
struct Mismatch;

/// One format's inspector (`FileInspector`).
trait Inspector: Send {
    fn name(&self) -> &'static str;
    fn regions(&self) -> Vec<&Region>;
    fn regions_mut(&mut self) -> Vec<&mut Region>;
    fn format_match(&self) -> Result<bool, Broken>;
    fn virtual_size(&self, total: u64) -> Result<u64, Broken> {
        Ok(total)
    }
    /// Post-read hook; may add regions (which then see the same chunk).
    fn post_process(&mut self) -> Result<(), Mismatch> {
        Ok(())
    }
    /// Called once when the region with this id becomes complete.
    fn region_complete(&mut self, _region: u64) {}
    /// Failed safety checks, by name.
    fn safety_failures(&self) -> Vec<&'static str>;
    /// Whether more data could still change anything.
    fn wants_data(&self) -> bool {
        self.regions().iter().any(|r| r.at_end || !r.complete())
    }
}

/// An inspector with the bookkeeping `FileInspector` does for all formats.
struct Slot {
    inspector: Box<dyn Inspector>,
    total: u64,
    errored: bool,
}

impl Slot {
    fn new(inspector: Box<dyn Inspector>) -> Self {
        Slot {
            inspector,
            total: 0,
            errored: false,
        }
    }

    /// `FileInspector.eat_chunk`.
    fn eat(&mut self, chunk: &[u8]) {
        if self.errored {
            return;
        }
        self.total += chunk.len() as u64;
        if !self.inspector.wants_data() {
            return;
        }
        let pos = self.total;
        let regions = self.inspector.regions();
        let known: Vec<u64> = regions.iter().map(|r| r.id).collect();
        let complete_before: Vec<u64> = regions
            .iter()
            .filter(|r| r.complete())
            .map(|r| r.id)
            .collect();
        for r in self.inspector.regions_mut() {
            r.capture(chunk, pos);
        }
        if self.inspector.post_process().is_err() {
            self.errored = true;
            return;
        }
        // Regions added (or re-created) by post_process see this chunk too.
        for r in self.inspector.regions_mut() {
            if !known.contains(&r.id) {
                r.capture(chunk, pos);
            }
        }
        let newly_complete: Vec<u64> = self
            .inspector
            .regions()
            .iter()
            .filter(|r| r.complete() && !complete_before.contains(&r.id))
            .map(|r| r.id)
            .collect();
        for id in newly_complete {
            self.inspector.region_complete(id);
        }
    }

    fn finish(&mut self) {
        for r in self.inspector.regions_mut() {
            if r.at_end {
                r.finished = true;
            }
        }
    }

    fn complete(&self) -> bool {
        self.inspector.regions().iter().all(|r| r.complete())
    }

    /// `FileInspector.safety_check`, as Glance reports it.
    fn safety_check(&self, disk_format: &str) -> Result<(), InvalidImageData> {
        if !self.complete() {
            return Err(InvalidImageData(
                "Incomplete file cannot be safety checked".into(),
            ));
        }
        if !self.inspector.format_match().unwrap_or(false) {
            return Err(InvalidImageData(format!(
                "Unable to safety check format {} because content does not match",
                self.inspector.name()
            )));
        }
        let failures = self.inspector.safety_failures();
        let mut fatal = failures.clone();
        if matches!(disk_format, "aki" | "ari") {
            // Kernel images may carry a deliberately invalid MBR.
            fatal.retain(|f| *f != "mbr");
        }
        // Only GPT failures can be non-fatal (`gpt_safety_checks_nonfatal`).
        if failures.is_empty() || (self.inspector.name() == "gpt" && fatal.is_empty()) {
            Ok(())
        } else {
            Err(InvalidImageData("Image failed safety checks".into()))
        }
    }
}

/// Format inspection of one upload (`InspectWrapper`): feed it the data
/// with [`FormatInspector::eat`], then ask [`FormatInspector::finish`].
pub struct FormatInspector {
    slots: Vec<Slot>,
    pending: Vec<u8>,
    done: bool,
}

impl std::fmt::Debug for FormatInspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormatInspector")
            .field("pending", &self.pending.len())
            .field("done", &self.done)
            .finish()
    }
}

impl Default for FormatInspector {
    fn default() -> Self {
        FormatInspector::new()
    }
}

impl FormatInspector {
    /// Inspectors for every format oslo knows.
    pub fn new() -> Self {
        let all: Vec<Box<dyn Inspector>> = vec![
            Box::new(Raw),
            Box::new(Qcow2::default()),
            Box::new(Vhd::default()),
            Box::new(Vhdx::default()),
            Box::new(Vmdk::default()),
            Box::new(Vdi::default()),
            Box::new(Qed::default()),
            Box::new(Iso::default()),
            Box::new(Gpt::default()),
            Box::new(Luks::default()),
        ];
        FormatInspector {
            slots: all.into_iter().map(Slot::new).collect(),
            pending: Vec::with_capacity(PIECE),
            done: false,
        }
    }

    /// Show the inspectors the next bytes of the stream.
    pub fn eat(&mut self, mut data: &[u8]) {
        if self.done {
            // Nobody needs more bytes: count them (raw's size) and move on.
            for s in self.slots.iter_mut().filter(|s| !s.errored) {
                s.total += data.len() as u64;
            }
            return;
        }
        while !data.is_empty() {
            if self.pending.is_empty() && data.len() >= PIECE {
                // Already a whole piece: no need to copy it.
                let (piece, rest) = data.split_at(PIECE);
                self.feed(piece);
                data = rest;
            } else {
                let take = (PIECE - self.pending.len()).min(data.len());
                self.pending.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.pending.len() == PIECE {
                    let piece = std::mem::take(&mut self.pending);
                    self.feed(&piece);
                    self.pending = piece;
                    self.pending.clear();
                }
            }
            if self.done {
                self.eat(data);
                return;
            }
        }
    }

    fn feed(&mut self, piece: &[u8]) {
        for s in &mut self.slots {
            s.eat(piece);
        }
        self.done = self
            .slots
            .iter()
            .all(|s| s.errored || !s.inspector.wants_data());
    }

    /// The end of the stream: what was found.
    pub fn finish(mut self) -> Inspection {
        if !self.pending.is_empty() {
            let piece = std::mem::take(&mut self.pending);
            self.feed(&piece);
        }
        for s in &mut self.slots {
            s.finish();
        }
        Inspection { slots: self.slots }
    }
}

/// What inspection found, ready for [`Inspection::verdict`].
pub struct Inspection {
    slots: Vec<Slot>,
}

impl std::fmt::Debug for Inspection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspection")
            .field("detected", &self.detected())
            .finish()
    }
}

impl Inspection {
    /// `InspectWrapper.formats`: the non-raw formats that matched, or raw.
    fn formats(&self) -> Result<Vec<&Slot>, Broken> {
        let mut matches = Vec::new();
        let mut broken = None;
        for s in self.slots.iter().filter(|s| s.inspector.name() != "raw") {
            match s.inspector.format_match() {
                Ok(true) => matches.push(s),
                Ok(false) => {}
                Err(b) => broken = Some(b),
            }
        }
        if let Some(b) = broken {
            return Err(b);
        }
        if matches.is_empty() {
            matches.extend(self.slots.iter().filter(|s| s.inspector.name() == "raw"));
        }
        Ok(matches)
    }

    /// The name of the detected format, as Glance would name it in a
    /// mismatch (`None` when detection itself failed).
    pub fn detected(&self) -> Option<&'static str> {
        let formats = self.formats().ok()?;
        match formats.as_slice() {
            [one] => Some(one.inspector.name()),
            _ => None,
        }
    }

    /// Glance's decision for an upload to an image with `disk_format` and
    /// container format `bare`: the virtual size to record (`None` leaves
    /// it unset), or why the data is refused.
    pub fn verdict(&self, disk_format: &str) -> Result<Option<u64>, InvalidImageData> {
        let failed = || InvalidImageData("Image format inspection failed".into());
        let formats = match self.formats() {
            Ok(f) => f,
            // Glance mistakes this for "data was not wrapped" and skips it all.
            Err(Broken::Attribute) => return Ok(None),
            Err(Broken::Other) => return Err(failed()),
        };
        let names: Vec<&str> = formats.iter().map(|s| s.inspector.name()).collect();
        let slot = if names.len() == 2 && names.contains(&"iso") && names.contains(&"gpt") {
            // A bootable ISO may legitimately carry a GPT in front.
            formats.iter().find(|s| s.inspector.name() == "iso")
        } else if names.len() > 1 {
            return Err(InvalidImageData(format!(
                "Multiple formats detected: {}",
                names.join(",")
            )));
        } else {
            formats.first()
        };
        let Some(slot) = slot else {
            return Err(InvalidImageData(
                "Content does not match any allowed format".into(),
            ));
        };
        let format = slot.inspector.name();
        let virtual_size = if format == disk_format {
            match slot.inspector.virtual_size(slot.total) {
                Ok(n) => n,
                Err(Broken::Attribute) => return Ok(None),
                Err(Broken::Other) => return Err(failed()),
            }
        } else if format == "raw" && !INSPECTABLE.contains(&disk_format) {
            0
        } else if disk_format == "raw" {
            slot.total
        } else {
            return Err(InvalidImageData(format!(
                "Image disk_format {disk_format} does not match stream data {format}"
            )));
        };
        slot.safety_check(disk_format)?;
        Ok((virtual_size != 0).then_some(virtual_size))
    }
}

// ---------------------------------------------------------------- formats

/// Unformatted data: always matches, its virtual size is its size.
struct Raw;

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

/// QEMU copy-on-write v2/v3: a big-endian header with the virtual size at 24.
struct Qcow2 {
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

/// QEMU enhanced disk: recognised, never allowed.
struct Qed {
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

/// Connectix/Microsoft VHD: footer copy at the start, size at 40.
struct Vhd {
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

/// Microsoft VHDX: the virtual size sits in a metadata item found through
/// the region table at 192 KiB.
struct Vhdx {
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

/// VMware VMDK (monolithicSparse and streamOptimized), or a bare text
/// descriptor.
struct Vmdk {
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

/// Python's `str.isspace()` on ASCII.
fn py_space(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f | b' ')
}

/// Python's `str.strip()` on ASCII text.
fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii() && py_space(c as u8))
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

/// VirtualBox VDI: little-endian header, signature at 0x40, size at 0x170.
struct Vdi {
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

/// ISO 9660 / UDF: a volume descriptor after a 32 KiB system area.
struct Iso {
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

/// A GPT (or legacy MBR) partitioned disk.
struct Gpt {
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

/// LUKS v1 encrypted volume.
struct Luks {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn inspect(data: &[u8], chunk: usize) -> Inspection {
        let mut i = FormatInspector::new();
        for c in data.chunks(chunk.max(1)) {
            i.eat(c);
        }
        i.finish()
    }

    fn qcow2(version: u32, virtual_size: u64, len: usize) -> Vec<u8> {
        let mut d = vec![0u8; len];
        d[..4].copy_from_slice(b"QFI\xfb");
        d[4..8].copy_from_slice(&version.to_be_bytes());
        d[20..24].copy_from_slice(&16u32.to_be_bytes());
        d[24..32].copy_from_slice(&virtual_size.to_be_bytes());
        d
    }

    fn pseudo_random(len: usize) -> Vec<u8> {
        let mut x: u32 = 0x1234_5678;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn raw_data_is_raw_whatever_the_chunking() {
        let data = pseudo_random(200_000);
        for chunk in [1, 7, 4096, 65_536, 1 << 20] {
            let found = inspect(&data, chunk);
            assert_eq!(found.detected(), Some("raw"));
            assert_eq!(found.verdict("raw"), Ok(Some(200_000)));
            assert_eq!(found.verdict("ami"), Ok(None));
            assert_eq!(
                found.verdict("qcow2"),
                Err(InvalidImageData(
                    "Image disk_format qcow2 does not match stream data raw".into()
                ))
            );
        }
    }

    #[test]
    fn empty_data_matches_raw_without_a_virtual_size() {
        let found = inspect(b"", 1);
        assert_eq!(found.verdict("raw"), Ok(None));
        assert!(found.verdict("iso").is_err());
    }

    #[test]
    fn qcow2_virtual_size_comes_from_the_header() {
        let data = qcow2(3, 1 << 30, 196_624);
        let found = inspect(&data, 10_000);
        assert_eq!(found.detected(), Some("qcow2"));
        assert_eq!(found.verdict("qcow2"), Ok(Some(1 << 30)));
        // Claimed raw: allowed, with the byte count as virtual size.
        assert_eq!(found.verdict("raw"), Ok(Some(196_624)));
        assert_eq!(
            found.verdict("vmdk"),
            Err(InvalidImageData(
                "Image disk_format vmdk does not match stream data qcow2".into()
            ))
        );
        assert_eq!(
            found.verdict("ami"),
            Err(InvalidImageData(
                "Image disk_format ami does not match stream data qcow2".into()
            ))
        );
    }

    #[test]
    fn qcow2_safety_checks() {
        let failed = Err(InvalidImageData("Image failed safety checks".into()));
        let mut backed = qcow2(3, 1 << 20, 4096);
        backed[8..16].copy_from_slice(&0x200u64.to_be_bytes());
        assert_eq!(inspect(&backed, 512).verdict("qcow2"), failed);
        assert_eq!(inspect(&backed, 512).verdict("raw"), failed);
        let mut data_file = qcow2(3, 1 << 20, 4096);
        data_file[0x4f] = 0x04;
        assert_eq!(inspect(&data_file, 512).verdict("qcow2"), failed);
        let mut unknown = qcow2(3, 1 << 20, 4096);
        unknown[0x4f] = 0x10;
        assert_eq!(inspect(&unknown, 512).verdict("qcow2"), failed);
        let mut known = qcow2(3, 1 << 20, 4096);
        known[0x4f] = 0x01; // dirty bit
        assert_eq!(inspect(&known, 512).verdict("qcow2"), Ok(Some(1 << 20)));
        assert_eq!(
            inspect(&qcow2(2, 5, 4096), 512).verdict("qcow2"),
            Ok(Some(5))
        );
        assert_eq!(inspect(&qcow2(1, 5, 4096), 512).verdict("qcow2"), failed);
    }

    #[test]
    fn a_qcow2_magic_without_a_full_header_is_raw() {
        let found = inspect(b"QFI\xfb\0\0\0\x03", 8);
        assert_eq!(found.detected(), Some("raw"));
    }

    #[test]
    fn vhd_needs_its_whole_footer_copy() {
        let mut short = b"conectix".to_vec();
        short.extend([0u8; 100]);
        assert_eq!(
            inspect(&short, 64).verdict("vhd"),
            Err(InvalidImageData(
                "Incomplete file cannot be safety checked".into()
            ))
        );
        let mut full = vec![0u8; 2560];
        full[..8].copy_from_slice(b"conectix");
        full[40..48].copy_from_slice(&10_514_432u64.to_be_bytes());
        assert_eq!(inspect(&full, 1000).verdict("vhd"), Ok(Some(10_514_432)));
    }

    #[test]
    fn vdi_and_iso_sizes() {
        let mut vdi = vec![0u8; 1024];
        vdi[0x40..0x44].copy_from_slice(&0xBEDA_107Fu32.to_le_bytes());
        vdi[0x170..0x178].copy_from_slice(&10_485_760u64.to_le_bytes());
        assert_eq!(inspect(&vdi, 100).verdict("vdi"), Ok(Some(10_485_760)));

        let mut iso = vec![0u8; 40 * 1024];
        let pvd = 32 * 1024;
        iso[pvd] = 1;
        iso[pvd + 1..pvd + 6].copy_from_slice(b"CD001");
        iso[pvd + 80..pvd + 84].copy_from_slice(&20u32.to_le_bytes());
        iso[pvd + 128..pvd + 130].copy_from_slice(&2048u16.to_le_bytes());
        assert_eq!(inspect(&iso, 3000).verdict("iso"), Ok(Some(40_960)));
    }

    #[test]
    fn gpt_and_qed_have_safety_checks() {
        let mut mbr = vec![0u8; 4096];
        mbr[510] = 0x55;
        mbr[511] = 0xAA;
        // No partitions: detected as gpt, refused as unsafe.
        assert_eq!(inspect(&mbr, 4096).detected(), Some("gpt"));
        assert_eq!(
            inspect(&mbr, 4096).verdict("raw"),
            Err(InvalidImageData("Image failed safety checks".into()))
        );
        mbr[446 + 4] = 0x83;
        assert_eq!(inspect(&mbr, 4096).verdict("raw"), Ok(Some(4096)));
        let mut qed = vec![0u8; 1024];
        qed[..4].copy_from_slice(b"QED\0");
        assert_eq!(
            inspect(&qed, 1024).verdict("raw"),
            Err(InvalidImageData("Image failed safety checks".into()))
        );
    }

    #[test]
    fn several_formats_are_refused() {
        let mut both = qcow2(3, 1, 1024);
        both[510] = 0x55;
        both[511] = 0xAA;
        assert_eq!(
            inspect(&both, 1024).verdict("qcow2"),
            Err(InvalidImageData(
                "Multiple formats detected: qcow2,gpt".into()
            ))
        );
    }

    #[test]
    fn text_is_raw_and_non_ascii_text_goes_uninspected() {
        let ascii = "hello world, this is a plain text file.\n".repeat(30);
        assert_eq!(
            inspect(ascii.as_bytes(), 100).verdict("raw"),
            Ok(Some(1200))
        );
        let utf8 = format!("{ascii}caf\u{e9}\n");
        // Glance's VMDK inspector trips over it and Glance gives up silently.
        assert_eq!(inspect(utf8.as_bytes(), 100).verdict("raw"), Ok(None));
        assert_eq!(inspect(utf8.as_bytes(), 100).verdict("qcow2"), Ok(None));
    }

    #[test]
    fn vmdk_sparse_header_and_descriptor() {
        let mut d = vec![0u8; 65_536];
        d[..4].copy_from_slice(b"KDMV");
        d[4..8].copy_from_slice(&1u32.to_le_bytes());
        d[12..20].copy_from_slice(&20_480u64.to_le_bytes());
        d[28..36].copy_from_slice(&1u64.to_le_bytes());
        d[36..44].copy_from_slice(&20u64.to_le_bytes());
        let desc = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\ncreateType=\"monolithicSparse\"\n\nRW 20480 SPARSE \"x.vmdk\"\n\nddb.adapterType = \"ide\"\n";
        d[512..512 + desc.len()].copy_from_slice(desc.as_bytes());
        assert_eq!(inspect(&d, 700).verdict("vmdk"), Ok(Some(10_485_760)));
        let evil = desc.replace("\"x.vmdk\"", "\"/etc/passwd\"");
        d[512..512 + evil.len()].copy_from_slice(evil.as_bytes());
        assert_eq!(
            inspect(&d, 700).verdict("vmdk"),
            Err(InvalidImageData("Image failed safety checks".into()))
        );
    }
}
