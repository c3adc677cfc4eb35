//! Reading a file named by a project or a user: opened once, checked to be a regular file
//! (after following symbolic links), read up to a size cap, decoded as UTF-8. The one helper
//! for every file llm-do reads from a project directory (`llm-do.toml`, `*.worker`; re-exported
//! as `llm_do_project::file`), for the files the CLI is pointed at (run logs, cassettes) and
//! for saved conversations ([`Conversation::load`](crate::Conversation::load)).
//!
//! A FIFO would block `open` or `read` forever, a device such as `/dev/zero` would be read
//! until memory runs out, and a dangling or looping symbolic link is easily mistaken for "no
//! file": each of these is a [`ReadError`] instead. On Unix the file is opened with
//! `O_NONBLOCK`, so a file swapped for a FIFO between the check and the open cannot hang
//! either; the check is then repeated on the open file.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use llm_do_core::file::{ReadError, read_text};
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("a.txt"), "hello")?;
//! assert_eq!(read_text(&dir.path().join("a.txt"), 1024)?, "hello");
//! assert!(matches!(read_text(&dir.path().join("a.txt"), 3), Err(ReadError::TooLarge { .. })));
//! assert!(matches!(read_text(dir.path(), 1024), Err(ReadError::NotRegular { kind: "a directory" })));
//! # Ok(())
//! # }
//! ```

use std::fs::{File, FileType, Metadata, OpenOptions};
use std::io::{self, Read as _};
use std::path::Path;

/// Why a file could not be read as text.
///
/// ```
/// use llm_do_core::file::ReadError;
/// let e = ReadError::NotRegular { kind: "a FIFO" };
/// assert_eq!(e.to_string(), "the path is a FIFO, not a regular file");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Nothing exists at the path.
    #[error("the file does not exist")]
    NotFound,
    /// A symbolic link whose target does not exist, or a loop of links.
    #[error("the path is a symbolic link that leads nowhere ({reason})")]
    BrokenLink {
        /// What following it gave.
        reason: String,
    },
    /// The path (after following links) is a directory, FIFO, socket or device.
    #[error("the path is {kind}, not a regular file")]
    NotRegular {
        /// What it is: `a directory`, `a FIFO`, `a socket`, `a device`.
        kind: &'static str,
    },
    /// Larger than the cap.
    #[error("the file is larger than {max} bytes{}", size.map(|s| format!(" ({s} bytes)")).unwrap_or_default())]
    TooLarge {
        /// Its size, when known before reading.
        size: Option<u64>,
        /// The cap.
        max: u64,
    },
    /// Not UTF-8 text.
    #[error("the file is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 {
        /// The offset of the first invalid byte.
        offset: usize,
    },
    /// Any other I/O error (permissions, ...).
    #[error("the file cannot be read: {0}")]
    Io(#[from] io::Error),
}

/// As an I/O error, for callers that report I/O errors: its kind kept where it has one
/// (`NotFound`, or the underlying error itself), `Other` with the message otherwise.
///
/// ```
/// use llm_do_core::file::ReadError;
/// let e = std::io::Error::from(ReadError::NotRegular { kind: "a FIFO" });
/// assert_eq!(e.to_string(), "the path is a FIFO, not a regular file");
/// assert_eq!(std::io::Error::from(ReadError::NotFound).kind(), std::io::ErrorKind::NotFound);
/// ```
impl From<ReadError> for io::Error {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Io(e) => e,
            ReadError::NotFound => io::Error::new(io::ErrorKind::NotFound, e),
            other => io::Error::other(other),
        }
    }
}

/// Reads the regular file at `path` (a symbolic link to one is followed) as UTF-8 text of at
/// most `max_bytes` bytes.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # #[cfg(unix)] {
/// use llm_do_core::file::{ReadError, read_text};
/// let dir = tempfile::tempdir()?;
/// let link = dir.path().join("llm-do.toml");
/// std::os::unix::fs::symlink("/dev/zero", &link)?;
/// assert!(matches!(read_text(&link, 1 << 20), Err(ReadError::NotRegular { kind: "a device" })));
/// std::fs::remove_file(&link)?;
/// std::os::unix::fs::symlink("missing.toml", &link)?;
/// assert!(matches!(read_text(&link, 1 << 20), Err(ReadError::BrokenLink { .. })));
/// # }
/// # Ok(())
/// # }
/// ```
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, ReadError> {
    String::from_utf8(read_bytes(path, max_bytes)?)
        .map_err(|e| ReadError::NotUtf8 { offset: e.utf8_error().valid_up_to() })
}

/// Reads the regular file at `path` as [`read_text`] does, without requiring UTF-8: for a
/// reader that decides itself what to do with bytes that are not (a run log cut off in the
/// middle of a character).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("cut.txt");
/// std::fs::write(&path, b"ok \xe2\x9c")?;
/// assert_eq!(llm_do_core::file::read_bytes(&path, 1 << 20)?, b"ok \xe2\x9c");
/// assert!(llm_do_core::file::read_bytes(&path, 3).is_err());
/// # Ok(())
/// # }
/// ```
pub fn read_bytes(path: &Path, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    let (mut file, meta) = open_regular(path)?;
    if meta.len() > max_bytes {
        return Err(ReadError::TooLarge { size: Some(meta.len()), max: max_bytes });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    (&mut file).take(max_bytes.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge { size: None, max: max_bytes });
    }
    Ok(bytes)
}

/// Opens the regular file at `path` (a symbolic link to one is followed) for reading, with the
/// metadata of the file actually opened: the one way llm-do opens a file it is pointed at
/// (project files, saved conversations, attachments, model weights). What [`read_text`] uses
/// before it reads; for files that are not text or are read in pieces.
///
/// The type is checked before opening (opening a FIFO waits for a writer); on Unix the file
/// is opened with `O_NONBLOCK` (the path may have been swapped for a FIFO meanwhile), and the
/// open file is checked again.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use llm_do_core::file::{ReadError, open_regular};
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("w.bin"), [0u8, 1, 2])?;
/// let (_file, meta) = open_regular(&dir.path().join("w.bin"))?;
/// assert_eq!(meta.len(), 3);
/// assert!(matches!(open_regular(dir.path()), Err(ReadError::NotRegular { kind: "a directory" })));
/// assert!(matches!(open_regular(&dir.path().join("none")), Err(ReadError::NotFound)));
/// # Ok(())
/// # }
/// ```
pub fn open_regular(path: &Path) -> Result<(File, Metadata), ReadError> {
    let meta = std::fs::metadata(path).map_err(|e| not_found_or_broken(path, e))?;
    regular(meta.file_type())?;
    let file = open(path).map_err(|e| not_found_or_broken(path, e))?;
    // The file actually opened (the path may have changed since it was looked at).
    let meta = file.metadata()?;
    regular(meta.file_type())?;
    Ok((file, meta))
}

/// Whether anything at all is at `path`, a broken symbolic link included (where
/// [`Path::exists`] says no).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// assert!(!llm_do_core::file::is_present(&dir.path().join("none")));
/// # #[cfg(unix)] {
/// std::os::unix::fs::symlink("none", dir.path().join("link"))?;
/// assert!(llm_do_core::file::is_present(&dir.path().join("link")));
/// # }
/// # Ok(())
/// # }
/// ```
pub fn is_present(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

fn not_found_or_broken(path: &Path, e: io::Error) -> ReadError {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    match e.kind() {
        _ if is_link => ReadError::BrokenLink { reason: e.to_string() },
        io::ErrorKind::NotFound => ReadError::NotFound,
        _ => ReadError::Io(e),
    }
}

fn regular(file_type: FileType) -> Result<(), ReadError> {
    if file_type.is_file() {
        return Ok(());
    }
    let kind = if file_type.is_dir() { "a directory" } else { special_kind(file_type) };
    Err(ReadError::NotRegular { kind })
}

#[cfg(unix)]
fn special_kind(file_type: FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: FileType) -> &'static str {
    "a special file"
}

#[cfg(unix)]
fn open(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    // Non-blocking: opening a FIFO for reading would otherwise wait for a writer.
    let nonblock = rustix::fs::OFlags::NONBLOCK.bits();
    OpenOptions::new().read(true).custom_flags(nonblock as i32).open(path)
}

#[cfg(not(unix))]
fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn special_files_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("llm-do.toml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        assert!(matches!(read_text(&fifo, 100), Err(ReadError::NotRegular { kind: "a FIFO" })));
        // Also when opened directly (the race the second check is for): no hang.
        let file = open(&fifo).unwrap();
        assert!(!file.metadata().unwrap().is_file());
        // An attachment named by path goes through the same open.
        let limits = crate::attachment::AttachmentLimits::default();
        let e = crate::attachment::Attachment::from_path(&fifo, &limits).unwrap_err();
        assert_eq!(e.kind(), crate::attachment::AttachmentErrorKind::Io);
        assert!(e.to_string().contains("a FIFO, not a regular file"), "{e}");
        let looped = dir.path().join("a.worker");
        std::os::unix::fs::symlink("a.worker", &looped).unwrap();
        let e = read_text(&looped, 100).unwrap_err();
        assert!(matches!(e, ReadError::BrokenLink { .. }), "{e}");
        assert!(matches!(read_text(&dir.path().join("none"), 9), Err(ReadError::NotFound)));
        std::fs::write(dir.path().join("bin"), b"ok\xff").unwrap();
        let e = read_text(&dir.path().join("bin"), 9).unwrap_err();
        assert!(matches!(e, ReadError::NotUtf8 { offset: 2 }), "{e}");
    }

    /// `/load FIFO` in `llm-do chat` blocked until someone wrote to the FIFO (signals
    /// included); a saved conversation is read through this module now.
    #[test]
    fn a_conversation_is_not_loaded_from_a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("saved.json");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let err = crate::Conversation::new().load(&fifo).unwrap_err();
        assert!(matches!(err, crate::ConversationError::Io { .. }), "{err}");
        assert!(err.to_string().contains("a FIFO, not a regular file"), "{err}");
    }
}
