//! Switching a test between recording and replaying: [`cassette`] and `LLM_DO_RECORD`.

use super::error::CassetteError;
use super::file::Cassette;
use super::record::RecordingModel;
use super::replay::ReplayModel;
use futures::future::BoxFuture;
use llm_do_core::{DeltaSink, Model, ModelError, ModelRequest, ModelResponse};
use std::path::Path;
use std::sync::Arc;

/// The environment variable that switches [`cassette`] to recording: `1`, `true`, `yes` or
/// `record`. Unset (or anything else) means replay.
pub const RECORD_ENV: &str = "LLM_DO_RECORD";

/// Whether [`cassette`] records or replays.
///
/// ```
/// use llm_do_testing::cassette::CassetteMode;
/// assert_eq!(CassetteMode::parse(Some("1")), CassetteMode::Record);
/// assert_eq!(CassetteMode::parse(None), CassetteMode::Replay);
/// assert_eq!(CassetteMode::parse(Some("0")), CassetteMode::Replay);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CassetteMode {
    /// Serve the cassette, offline; the live model is never built.
    Replay,
    /// Call the live model and rewrite the cassette.
    Record,
}

impl CassetteMode {
    /// The mode `LLM_DO_RECORD` asks for.
    ///
    /// ```
    /// # use llm_do_testing::cassette::{CassetteMode, RECORD_ENV};
    /// let value = std::env::var(RECORD_ENV).ok();
    /// assert_eq!(CassetteMode::from_env(), CassetteMode::parse(value.as_deref()));
    /// ```
    pub fn from_env() -> Self {
        Self::parse(std::env::var(RECORD_ENV).ok().as_deref())
    }

    /// The mode a value of `LLM_DO_RECORD` asks for.
    ///
    /// ```
    /// # use llm_do_testing::cassette::CassetteMode;
    /// assert_eq!(CassetteMode::parse(Some("record")), CassetteMode::Record);
    /// ```
    pub fn parse(value: Option<&str>) -> Self {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            Some("1" | "true" | "yes" | "record") => CassetteMode::Record,
            _ => CassetteMode::Replay,
        }
    }
}

/// What [`cassette`] returns: the recording or the replaying model.
///
/// Clones share one cassette, as clones of the other test models share their state: replaying,
/// each recording is served once whichever clone is asked, and [`unused`](Self::unused) is the
/// same for all; recording, every clone adds to the one cassette file.
#[derive(Debug, Clone)]
pub enum CassetteModel {
    /// Recording the live model.
    Recording(RecordingModel<Arc<dyn Model>>),
    /// Replaying the cassette.
    Replaying(ReplayModel),
}

impl CassetteModel {
    /// The mode in force.
    ///
    /// ```
    /// # use llm_do_testing::cassette::{cassette_with_mode, CassetteMode};
    /// # use llm_do_testing::scripted::ScriptedModel;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let m = cassette_with_mode(CassetteMode::Record, dir.path().join("c.json"), || ScriptedModel::queue([])).unwrap();
    /// assert_eq!(m.mode(), CassetteMode::Record);
    /// ```
    pub fn mode(&self) -> CassetteMode {
        match self {
            CassetteModel::Recording(_) => CassetteMode::Record,
            CassetteModel::Replaying(_) => CassetteMode::Replay,
        }
    }

    /// The cassette: the one replayed, or what was recorded so far.
    ///
    /// ```
    /// # use llm_do_testing::cassette::{cassette_with_mode, CassetteMode};
    /// # use llm_do_testing::scripted::ScriptedModel;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let m = cassette_with_mode(CassetteMode::Record, dir.path().join("c.json"), || ScriptedModel::queue([])).unwrap();
    /// assert!(m.cassette().interactions.is_empty());
    /// ```
    pub fn cassette(&self) -> Cassette {
        match self {
            CassetteModel::Recording(m) => m.cassette(),
            CassetteModel::Replaying(m) => m.cassette(),
        }
    }

    /// [`Cassette::transcript`] of [`cassette`](Self::cassette): snapshot it with insta in the
    /// test (`insta::assert_snapshot!(model.transcript())`), and after a re-recording
    /// `cargo insta review` shows how the conversation changed.
    ///
    /// ```
    /// # use llm_do_testing::cassette::{cassette_with_mode, CassetteMode};
    /// # use llm_do_testing::scripted::ScriptedModel;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let m = cassette_with_mode(CassetteMode::Record, dir.path().join("c.json"), || ScriptedModel::queue([])).unwrap();
    /// assert_eq!(m.transcript(), "");
    /// ```
    pub fn transcript(&self) -> String {
        self.cassette().transcript()
    }

    /// Interactions of the cassette not served (always empty while recording).
    ///
    /// ```
    /// # use llm_do_testing::cassette::{cassette_with_mode, CassetteMode};
    /// # use llm_do_testing::scripted::ScriptedModel;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let m = cassette_with_mode(CassetteMode::Record, dir.path().join("c.json"), || ScriptedModel::queue([])).unwrap();
    /// assert!(m.unused().is_empty());
    /// ```
    pub fn unused(&self) -> Vec<usize> {
        match self {
            CassetteModel::Recording(_) => Vec::new(),
            CassetteModel::Replaying(r) => r.unused(),
        }
    }
}

impl Model for CassetteModel {
    fn request<'a>(
        &'a self,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        match self {
            CassetteModel::Recording(m) => m.request(request),
            CassetteModel::Replaying(m) => m.request(request),
        }
    }

    fn request_streaming<'a>(
        &'a self,
        request: &'a ModelRequest,
        sink: &'a dyn DeltaSink,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        match self {
            CassetteModel::Recording(m) => m.request_streaming(request, sink),
            CassetteModel::Replaying(m) => m.request_streaming(request, sink),
        }
    }

    fn input_capabilities(&self) -> llm_do_core::attachment::InputCapabilities {
        match self {
            CassetteModel::Recording(m) => m.input_capabilities(),
            CassetteModel::Replaying(m) => m.input_capabilities(),
        }
    }
}

/// A model for a test: replays the cassette at `path`, or, when `LLM_DO_RECORD=1`, calls the
/// model `live` builds and records it there. The live model is only built when recording, so
/// replaying needs neither network, nor weights, nor keys.
///
/// ```no_run
/// use llm_do_testing::cassette::cassette;
/// use llm_do::providers::openai::{OpenAiConfig, OpenAiProvider};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // tests/cassettes/classify.json; re-record: LLM_DO_RECORD=1 cargo test -p my-crate
/// // (with the embedded model: `|| LocalModel::new()`, feature `local`)
/// let model = cassette("tests/cassettes/classify.json", || {
///     OpenAiProvider::new(OpenAiConfig::new().base_url("http://127.0.0.1:11434/v1"))
/// })?;
/// # let _ = model;
/// # Ok(())
/// # }
/// ```
pub fn cassette<M: Model>(
    path: impl AsRef<Path>,
    live: impl FnOnce() -> M,
) -> Result<CassetteModel, CassetteError> {
    cassette_with_mode(CassetteMode::from_env(), path, live)
}

/// [`cassette`] with an explicit mode instead of `LLM_DO_RECORD`.
///
/// ```
/// use llm_do_testing::cassette::{cassette_with_mode, CassetteError, CassetteMode};
/// use llm_do_testing::scripted::ScriptedModel;
/// let err = cassette_with_mode(CassetteMode::Replay, "no/such.json", || ScriptedModel::queue([])).unwrap_err();
/// assert!(matches!(err, CassetteError::Missing { .. }));
/// ```
pub fn cassette_with_mode<M: Model>(
    mode: CassetteMode,
    path: impl AsRef<Path>,
    live: impl FnOnce() -> M,
) -> Result<CassetteModel, CassetteError> {
    Ok(match mode {
        CassetteMode::Replay => CassetteModel::Replaying(ReplayModel::load(path)?),
        CassetteMode::Record => {
            let live: Arc<dyn Model> = Arc::new(live());
            CassetteModel::Recording(RecordingModel::create(live, path)?)
        }
    })
}
