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
    /// records of their calls.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let dir = tempfile::tempdir()?;
    /// let writer = llm_do_cli::run_log::RunLogWriter::create(dir.path().join("run.jsonl"), [])?;
    /// let rt = llm_do::Runtime::builder().subscribe(writer.clone()).build();
    /// # let _ = rt;
    /// writer.finish()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn create<'a>(
        path: impl AsRef<Path>,
        specs: impl IntoIterator<Item = &'a Arc<CallableSpec>>,
    ) -> std::io::Result<Self> {
        let file = std::fs::File::create(path)?;
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
