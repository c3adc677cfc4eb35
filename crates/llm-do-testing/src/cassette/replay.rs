//! [`ReplayModel`]: serves a cassette back, offline.

use super::diff::{Difference, RequestMismatch};
use super::error::CassetteError;
use super::file::{Cassette, Interaction};
use super::normalize::normalize_request;
use futures::future::BoxFuture;
use llm_do_core::attachment::InputCapabilities;
use llm_do_core::{
    DeltaSink, Model, ModelError, ModelErrorKind, ModelRequest, ModelResponse, StreamDelta,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// A model that answers from a [`Cassette`].
///
/// A request is matched by content: its [normalized form](super::normalize_request) must
/// equal a recorded one (object key order aside), so concurrent requests may arrive in any
/// order. A request recorded several times is answered in recorded order, once per
/// recording. A request that matches nothing fails with [`CassetteError::Mismatch`] (the
/// source of a [`ModelError`] of kind [`ModelErrorKind::Other`]) listing what changed.
///
/// Clones share the cassette and what has been served: each recording is served once,
/// whichever clone is asked, and [`unused`](Self::unused) is the same for all of them.
///
/// ```
/// use llm_do_core::{Message, Model, ModelRequest, ModelResponse};
/// use llm_do_testing::cassette::{Cassette, Interaction, ReplayModel};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let req = ModelRequest::new("m", vec![Message::user("2+2?")]);
/// let mut c = Cassette::default();
/// c.push(Interaction::new(&req, ModelResponse::text("4")));
/// let replay = ReplayModel::new(c);
/// assert_eq!(replay.request(&req).await.unwrap().text.as_deref(), Some("4"));
/// assert!(replay.unused().is_empty());
/// assert!(replay.request(&req).await.is_err());   // recorded once, served once
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ReplayModel {
    path: Option<PathBuf>,
    interactions: Arc<[Interaction]>,
    input_capabilities: Option<InputCapabilities>,
    /// Which interactions have been served, shared by the clones.
    used: Arc<Mutex<Vec<bool>>>,
}

impl ReplayModel {
    /// Replays a cassette held in memory.
    ///
    /// ```
    /// # use llm_do_testing::cassette::{Cassette, ReplayModel};
    /// assert_eq!(ReplayModel::new(Cassette::default()).len(), 0);
    /// ```
    pub fn new(cassette: Cassette) -> Self {
        let used = Arc::new(Mutex::new(vec![false; cassette.interactions.len()]));
        Self {
            path: None,
            interactions: cassette.interactions.into(),
            input_capabilities: cassette.input_capabilities,
            used,
        }
    }

    /// Replays a cassette file.
    ///
    /// ```
    /// # use llm_do_testing::cassette::{Cassette, ReplayModel};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("c.json");
    /// Cassette::default().save(&path).unwrap();
    /// assert!(ReplayModel::load(&path).unwrap().is_empty());
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CassetteError> {
        let cassette = Cassette::load(path.as_ref())?;
        Ok(Self { path: Some(path.as_ref().to_owned()), ..Self::new(cassette) })
    }

    /// Number of recorded interactions.
    ///
    /// ```
    /// # use llm_do_testing::cassette::{Cassette, ReplayModel};
    /// assert_eq!(ReplayModel::new(Cassette::default()).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.interactions.len()
    }

    /// `true` when the cassette holds no interaction.
    ///
    /// ```
    /// # use llm_do_testing::cassette::{Cassette, ReplayModel};
    /// assert!(ReplayModel::new(Cassette::default()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.interactions.is_empty()
    }

    /// The cassette being replayed.
    ///
    /// ```
    /// # use llm_do_testing::cassette::{Cassette, ReplayModel};
    /// assert_eq!(ReplayModel::new(Cassette::default()).cassette(), Cassette::default());
    /// ```
    pub fn cassette(&self) -> Cassette {
        Cassette {
            interactions: self.interactions.to_vec(),
            input_capabilities: self.input_capabilities,
            ..Cassette::default()
        }
    }

    /// Indexes of the interactions not served yet: after a test, a non-empty list means the
    /// test made fewer requests than when it was recorded.
    ///
    /// ```
    /// # use llm_do_core::{Message, ModelRequest, ModelResponse};
    /// # use llm_do_testing::cassette::{Cassette, Interaction, ReplayModel};
    /// let mut c = Cassette::default();
    /// c.push(Interaction::new(&ModelRequest::new("m", vec![Message::user("q")]), ModelResponse::text("a")));
    /// assert_eq!(ReplayModel::new(c).unused(), [0]);
    /// ```
    pub fn unused(&self) -> Vec<usize> {
        let used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        used.iter().enumerate().filter(|(_, u)| !**u).map(|(i, _)| i).collect()
    }

    /// Finds the answer to `request` and marks it served. See the type's documentation for
    /// the matching rules.
    ///
    /// ```
    /// # use llm_do_core::{Message, ModelRequest};
    /// # use llm_do_testing::cassette::{Cassette, CassetteError, ReplayModel};
    /// let replay = ReplayModel::new(Cassette::default());
    /// let err = replay.find(&ModelRequest::new("m", vec![Message::user("q")])).unwrap_err();
    /// assert!(matches!(err, CassetteError::Mismatch(_)));
    /// ```
    pub fn find(&self, request: &ModelRequest) -> Result<ModelResponse, CassetteError> {
        let wanted = normalize_request(request);
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        let mut recorded = 0;
        for (i, interaction) in self.interactions.iter().enumerate() {
            if interaction.request == wanted {
                recorded += 1;
                if !used[i] {
                    used[i] = true;
                    return Ok(interaction.response.clone());
                }
            }
        }
        if recorded > 0 {
            return Err(CassetteError::Exhausted {
                path: self.path.clone().unwrap_or_default(),
                recorded,
            });
        }
        // The closest recording: fewest differences, unused ones first.
        let closest = self
            .interactions
            .iter()
            .enumerate()
            .map(|(i, it)| (i, Difference::between(&it.request, &wanted)))
            .min_by_key(|(i, d)| (used[*i], d.len()));
        Err(CassetteError::Mismatch(Box::new(RequestMismatch {
            path: self.path.clone(),
            recorded: self.interactions.len(),
            closest: closest.as_ref().map(|(i, _)| *i),
            differences: closest.map(|(_, d)| d).unwrap_or_default(),
        })))
    }

    fn answer(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        self.find(request)
            .map_err(|e| ModelError::new(ModelErrorKind::Other, e.to_string()).with_source(e))
    }
}

impl Model for ReplayModel {
    fn request<'a>(
        &'a self,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move { self.answer(request) })
    }

    /// Replays the answer as one text piece and one piece per tool call.
    fn request_streaming<'a>(
        &'a self,
        request: &'a ModelRequest,
        sink: &'a dyn DeltaSink,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let response = self.answer(request)?;
            if let Some(text) = response.text.as_ref().filter(|t| !t.is_empty()) {
                sink.delta(StreamDelta::Text { text: text.clone() });
            }
            for (index, call) in response.tool_calls.iter().enumerate() {
                sink.delta(StreamDelta::ToolCall {
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                    id: Some(call.id.clone()),
                    name: Some(call.name.clone()),
                    arguments: call.arguments.clone(),
                });
            }
            Ok(response)
        })
    }

    /// What the recorded model took (the cassette's `input_capabilities`), text only when
    /// the cassette does not say.
    fn input_capabilities(&self) -> InputCapabilities {
        self.input_capabilities.unwrap_or(InputCapabilities::TEXT_ONLY)
    }
}
