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

mod gpt;
mod iso;
mod luks;
mod qcow2;
mod qed;
mod raw;
mod vdi;
mod vhd;
mod vhdx;
mod vmdk;

use std::sync::atomic::{AtomicU64, Ordering};

use gpt::Gpt;
use iso::Iso;
use luks::Luks;
use qcow2::Qcow2;
use qed::Qed;
use raw::Raw;
use vdi::Vdi;
use vhd::Vhd;
use vhdx::Vhdx;
use vmdk::Vmdk;

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
