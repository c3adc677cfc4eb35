//! [`RecordingModel`]: forwards to a real model and writes what it answered to a cassette
//! (an [`ObservedModel`] whose observer is a [`CassetteWriter`]).

use super::error::CassetteError;
use super::file::{Cassette, Interaction};
use crate::observed::{ObservedModel, Observer};
use llm_do_core::attachment::InputCapabilities;
use llm_do_core::{Model, ModelError, ModelErrorKind, ModelRequest, ModelResponse};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// Wraps a model and records every successful request/answer pair.
///
/// The cassette file is (re)written empty by [`create`](Self::create) and rewritten after
/// each answer, in the stable order of [`Cassette::sort`], so an interrupted test still
/// leaves a valid cassette. Failed requests are not recorded. Streaming requests are
/// forwarded piece by piece and recorded as their complete answer. Clones (when the wrapped
/// model is `Clone`) record into the same cassette.
///
/// ```
/// use llm_do_core::{Message, Model, ModelRequest};
/// use llm_do_testing::cassette::{Cassette, RecordingModel};
/// use llm_do_testing::scripted::{Reply, ScriptedModel};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("c.json");
/// let rec = RecordingModel::create(ScriptedModel::queue([Reply::text("pong")]), &path)?;
/// rec.request(&ModelRequest::new("m", vec![Message::user("ping")])).await?;
/// assert_eq!(Cassette::load(&path)?.interactions[0].response.text.as_deref(), Some("pong"));
/// # Ok(())
/// # }
/// ```
pub type RecordingModel<M> = ObservedModel<M, CassetteWriter>;

/// The observer of a [`RecordingModel`]: adds each successful request/answer pair to the
/// cassette and rewrites its file. Clones share the cassette (and so write one file).
#[derive(Clone)]
pub struct CassetteWriter {
    path: PathBuf,
    cassette: Arc<Mutex<Cassette>>,
}

impl std::fmt::Debug for CassetteWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CassetteWriter").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Observer for CassetteWriter {
    fn observe(
        &self,
        request: &ModelRequest,
        result: &Result<ModelResponse, ModelError>,
    ) -> Result<(), ModelError> {
        let Ok(response) = result else { return Ok(()) };
        let mut cassette = self.cassette.lock().unwrap_or_else(PoisonError::into_inner);
        cassette.push(Interaction::new(request, response.clone()));
        cassette
            .save(&self.path)
            .map_err(|e| ModelError::new(ModelErrorKind::Other, e.to_string()).with_source(e))
    }
}

impl<M: Model> ObservedModel<M, CassetteWriter> {
    /// Records `inner` into the cassette at `path`, replacing any previous recording.
    ///
    /// ```
    /// # use llm_do_testing::cassette::{Cassette, RecordingModel};
    /// # use llm_do_testing::scripted::ScriptedModel;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("c.json");
    /// let _rec = RecordingModel::create(ScriptedModel::queue([]), &path).unwrap();
    /// assert!(Cassette::load(&path).unwrap().interactions.is_empty());
    /// ```
    pub fn create(inner: M, path: impl AsRef<Path>) -> Result<Self, CassetteError> {
        let path = path.as_ref().to_owned();
        let capabilities = inner.input_capabilities();
        let cassette = Cassette {
            input_capabilities: (capabilities != InputCapabilities::TEXT_ONLY)
                .then_some(capabilities),
            ..Cassette::default()
        };
        cassette.save(&path)?;
        Ok(Self::new(inner, CassetteWriter { path, cassette: Arc::new(Mutex::new(cassette)) }))
    }

    /// The cassette recorded so far.
    ///
    /// ```
    /// # use llm_do_testing::cassette::RecordingModel;
    /// # use llm_do_testing::scripted::ScriptedModel;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let rec = RecordingModel::create(ScriptedModel::queue([]), dir.path().join("c.json")).unwrap();
    /// assert!(rec.cassette().interactions.is_empty());
    /// ```
    pub fn cassette(&self) -> Cassette {
        self.observer().cassette.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The cassette file.
    ///
    /// ```
    /// # use llm_do_testing::cassette::RecordingModel;
    /// # use llm_do_testing::scripted::ScriptedModel;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let rec = RecordingModel::create(ScriptedModel::queue([]), dir.path().join("c.json")).unwrap();
    /// assert!(rec.path().ends_with("c.json"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.observer().path
    }
}
