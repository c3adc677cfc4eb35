//! Writing a run log: [`RunLogWriter`], an event subscriber that appends one record per event.

use super::record::{SpecInfo, record};
use llm_do::secrets::Redactor;
use llm_do::{CallableSpec, Event, EventSubscriber};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Writes a run log: an [`EventSubscriber`] that appends one [`LogRecord`](super::record::LogRecord) per event to a file,
/// flushed line by line (a crashed run leaves a readable log).
///
/// The file is the run's own while it is written: on Unix the writer holds an exclusive lock
/// on it (`flock`), so a second run given the same `--log` FILE fails at its start instead of
/// truncating the first run's log and writing over it (two writers at their own offsets left
/// neither log readable).
#[derive(Clone)]
pub struct RunLogWriter {
    inner: Arc<Mutex<WriterState>>,
    specs: Arc<HashMap<String, SpecInfo>>,
    redactor: Arc<Redactor>,
}

struct WriterState {
    out: std::io::BufWriter<std::fs::File>,
    error: Option<std::io::Error>,
}

impl std::fmt::Debug for RunLogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunLogWriter").finish_non_exhaustive()
    }
}

impl RunLogWriter {
    /// Creates (truncates) `path`; `specs` are the callables of the run, described in the
    /// records of their calls. A file another writer holds (another run writing its log
    /// there) is left as it is: an error of kind [`WouldBlock`](std::io::ErrorKind::WouldBlock).
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let dir = tempfile::tempdir()?;
    /// let writer = llm_do_cli::run_log::RunLogWriter::create(dir.path().join("run.jsonl"), [])?;
    /// let rt = llm_do::Runtime::builder().subscribe(writer.clone()).build();
    /// # let _ = rt;
    /// writer.finish()?;
    /// # #[cfg(unix)] {
    /// let busy = llm_do_cli::run_log::RunLogWriter::create(dir.path().join("run.jsonl"), []);
    /// assert_eq!(busy.unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
    /// # }
    /// # Ok(())
    /// # }
    /// ```
    pub fn create<'a>(
        path: impl AsRef<Path>,
        specs: impl IntoIterator<Item = &'a Arc<CallableSpec>>,
    ) -> std::io::Result<Self> {
        // Opened without truncating: the file is emptied once it is this writer's own.
        let file =
            std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(path)?;
        lock(&file)?;
        file.set_len(0)?;
        let specs = specs.into_iter().map(|s| (s.name().to_owned(), SpecInfo::of(s))).collect();
        Ok(Self {
            inner: Arc::new(Mutex::new(WriterState {
                out: std::io::BufWriter::new(file),
                error: None,
            })),
            specs: Arc::new(specs),
            redactor: Arc::new(crate::terminal::redactor().clone()),
        })
    }

    /// Flushes, and returns the first write error of the run, if any.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let dir = tempfile::tempdir()?;
    /// llm_do_cli::run_log::RunLogWriter::create(dir.path().join("l.jsonl"), [])?.finish()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn finish(&self) -> std::io::Result<()> {
        let mut state = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = state.error.take() {
            return Err(e);
        }
        state.out.flush()
    }
}

/// Takes the exclusive lock of the log file, held until the file is closed (the last clone of
/// the writer dropped).
#[cfg(unix)]
fn lock(file: &std::fs::File) -> std::io::Result<()> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(std::io::Error::new(
            std::io::ErrorKind::WouldBlock,
            "another run is writing its log to this file (give each run its own --log file)",
        )),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(unix))]
fn lock(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

impl EventSubscriber for RunLogWriter {
    fn on_event(&self, event: &Event) {
        let record = record(event, &self.specs, &self.redactor);
        let mut state = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if state.error.is_some() {
            return;
        }
        let result = serde_json::to_writer(&mut state.out, &record)
            .map_err(std::io::Error::other)
            .and_then(|()| state.out.write_all(b"\n"))
            .and_then(|()| state.out.flush());
        if let Err(e) = result {
            state.error = Some(e);
        }
    }
}
