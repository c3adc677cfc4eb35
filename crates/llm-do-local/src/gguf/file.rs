//! Opening a model file: only a regular file, never waiting on a FIFO.

use crate::error::LocalError;
use llm_do_core::file::{ReadError, open_regular};
use std::fs::File;
use std::path::Path;

/// Opens the model file at `path` for reading, with its length: the one way the engine opens
/// a model, through core's [`open_regular`] (the rule every file llm-do is pointed at
/// follows). A directory, FIFO, socket or device is a [`LocalError::ModelNotFound`] saying
/// what it is; nothing waits on a FIFO.
pub(crate) fn open(path: &Path) -> Result<(File, u64), LocalError> {
    let (file, meta) = open_regular(path).map_err(|e| LocalError::ModelNotFound {
        path: path.to_owned(),
        reason: match e {
            ReadError::NotRegular { kind } => format!("it is {kind}, not a regular file"),
            other => std::io::Error::from(other).to_string(),
        },
    })?;
    Ok((file, meta.len()))
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
        let (sha_tx, sha_rx) = std::sync::mpsc::channel();
        let fifo_link = link.clone();
        std::thread::spawn(move || {
            for p in paths {
                let _ = tx.send(inspect(&p));
            }
            // The cache's checksum of a file opens it the same way.
            let _ = sha_tx.send(crate::cache::sha256_file(&fifo_link));
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
        let sha = sha_rx.recv_timeout(std::time::Duration::from_secs(10)).expect("no answer");
        match sha {
            Err(crate::cache::FetchError::Io { source, .. }) => {
                assert!(source.to_string().contains("a FIFO, not a regular file"), "{source}");
            }
            other => panic!("{other:?}"),
        }
    }
}
