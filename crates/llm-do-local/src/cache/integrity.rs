//! Checking a model file against its pin, and remembering which files this process checked.

use super::{FetchError, ModelSource, wheel};
use llm_do_core::file::open_regular;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Checks that the file at `path` has the size and SHA-256 pinned by `source`.
///
/// ```
/// use llm_do_local::cache::{self, FetchError};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("fake.gguf");
/// std::fs::write(&path, b"not the model").unwrap();
/// assert!(matches!(cache::verify(&path, &cache::SMOLLM2), Err(FetchError::SizeMismatch { .. })));
/// let same_size = cache::ModelSource { size: 13, ..cache::SMOLLM2 };
/// assert!(matches!(cache::verify(&path, &same_size), Err(FetchError::ChecksumMismatch { .. })));
/// ```
pub fn verify(path: &Path, source: &ModelSource) -> Result<(), FetchError> {
    let size = fs::metadata(path).map_err(|e| FetchError::io(path, "read", e))?.len();
    if size != source.size {
        return Err(FetchError::SizeMismatch {
            path: path.to_owned(),
            from: None,
            expected: source.size,
            actual: size,
        });
    }
    let actual = sha256_file(path)?;
    if actual != source.sha256 {
        return Err(FetchError::ChecksumMismatch {
            path: path.to_owned(),
            from: None,
            expected: source.sha256.to_owned(),
            actual,
        });
    }
    Ok(())
}

/// The SHA-256 of a file, lower-case hex.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("abc"), b"abc").unwrap();
/// let sha = llm_do_local::cache::sha256_file(&dir.path().join("abc")).unwrap();
/// assert_eq!(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
/// ```
pub fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let (mut file, _) = open_regular(path).map_err(|e| FetchError::io(path, "read", e.into()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(FetchError::io(path, "read", e)),
        };
        hasher.update(&buf[..n]);
    }
    Ok(wheel::hex(&hasher.finalize()))
}

/// Files this process has verified, with the length and modification time they had then.
static VERIFIED: Mutex<Vec<(PathBuf, u64, SystemTime)>> = Mutex::new(Vec::new());

fn stamp(path: &Path) -> Option<(u64, SystemTime)> {
    fs::metadata(path).ok().and_then(|m| Some((m.len(), m.modified().ok()?)))
}

pub(super) fn was_verified(path: &Path) -> bool {
    let Some((len, modified)) = stamp(path) else { return false };
    let verified = VERIFIED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    verified.iter().any(|(p, l, m)| p == path && *l == len && *m == modified)
}

pub(super) fn remember_verified(path: &Path) {
    let Some((len, modified)) = stamp(path) else { return };
    let mut verified = VERIFIED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    verified.retain(|(p, ..)| p != path);
    verified.push((path.to_owned(), len, modified));
}
