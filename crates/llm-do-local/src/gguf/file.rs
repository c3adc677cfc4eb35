//! Opening a model file: only a regular file, never waiting on a FIFO.

use crate::error::LocalError;
use std::fs::File;
use std::path::Path;

/// Opens the model file at `path` for reading, with its length: the one way the engine opens
/// a model. Only a regular file (or a symbolic link to one) is opened; a directory, FIFO,
/// socket or device is a [`LocalError::ModelNotFound`] saying what it is. The type is checked
/// before opening (opening a FIFO waits for a writer), the file is opened without blocking on
/// Unix (in case the path was swapped for a FIFO meanwhile) and the open file is checked again.
/// (The same rule as `llm_do_project::file` for the text files of a project, which this crate
/// does not depend on.)
pub(crate) fn open(path: &Path) -> Result<(File, u64), LocalError> {
    let not_found = |reason: String| LocalError::ModelNotFound { path: path.to_owned(), reason };
    let meta = std::fs::metadata(path).map_err(|e| not_found(e.to_string()))?;
    regular(&meta).map_err(not_found)?;
    let file = open_nonblocking(path).map_err(|e| not_found(e.to_string()))?;
    let meta = file.metadata().map_err(|e| not_found(e.to_string()))?;
    regular(&meta).map_err(not_found)?;
    Ok((file, meta.len()))
}

fn regular(meta: &std::fs::Metadata) -> Result<(), String> {
    let t = meta.file_type();
    if t.is_file() {
        return Ok(());
    }
    let kind = if t.is_dir() { "a directory" } else { special_kind(t) };
    Err(format!("it is {kind}, not a regular file"))
}

#[cfg(unix)]
fn special_kind(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: std::fs::FileType) -> &'static str {
    "a special file"
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    // Opening a FIFO for reading would otherwise wait for a writer; on a regular file the
    // flag changes nothing.
    let nonblock = rustix::fs::OFlags::NONBLOCK.bits();
    std::fs::OpenOptions::new().read(true).custom_flags(nonblock as i32).open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::gguf::inspect;

    #[test]
    fn a_fifo_or_a_directory_is_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("m.fifo.gguf");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let link = dir.path().join("link.gguf");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        // On a thread, so that a regression fails the test instead of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        let paths = [fifo.clone(), link.clone(), dir.path().to_owned()];
        std::thread::spawn(move || {
            for p in paths {
                let _ = tx.send(inspect(&p));
            }
        });
        let wait = || rx.recv_timeout(std::time::Duration::from_secs(10)).expect("no answer");
        for (path, kind) in
            [(&fifo, "a FIFO"), (&link, "a FIFO"), (&dir.path().to_owned(), "a directory")]
        {
            match wait() {
                Err(LocalError::ModelNotFound { path: p, reason }) => {
                    assert_eq!(&p, path);
                    assert_eq!(reason, format!("it is {kind}, not a regular file"));
                }
                other => panic!("{}: {other:?}", path.display()),
            }
        }
        // Opened directly (a path swapped for a FIFO after the check): no wait either.
        let file = open_nonblocking(&fifo).unwrap();
        assert!(regular(&file.metadata().unwrap()).is_err());
    }
}
