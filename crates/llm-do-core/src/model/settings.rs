//! [`ModelSettings`]: the sampling settings a request forwards to its model.

pub use llm_do_syntax::stop::StopError;
use serde::{Deserialize, Serialize};

/// Sampling settings forwarded to the model. `None` means "the provider's default".
///
/// ```
/// use llm_do_core::ModelSettings;
/// let s = ModelSettings { temperature: Some(0.2), seed: Some(7), ..Default::default() };
/// assert_eq!(s.max_tokens, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelSettings {
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Maximum tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Seed for reproducible sampling, where the provider supports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Stop sequences: a text answer ends before the first of them it would contain (finish
    /// reason `stop`), the sequence itself left out. Empty: none. At most
    /// [`MAX_STOP`](Self::MAX_STOP), each non-empty and at most
    /// [`MAX_STOP_BYTES`](Self::MAX_STOP_BYTES) long ([`check_stop`](Self::check_stop)). The
    /// embedded model and OpenAI-compatible servers honour them; scripted test models do not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
}

impl ModelSettings {
    /// The most stop sequences a request may give (what OpenAI-compatible servers accept):
    /// `#[worker]`, worker builders, worker files and `llm-do serve` refuse more (the rule's
    /// home is [`llm_do_syntax::stop`]).
    pub const MAX_STOP: usize = llm_do_syntax::stop::MAX;

    /// The longest stop sequence, in bytes of UTF-8 (the same entry points refuse longer
    /// ones; the rule's home is [`llm_do_syntax::stop`], which says why there is a bound).
    pub const MAX_STOP_BYTES: usize = llm_do_syntax::stop::MAX_BYTES;

    /// Checks `stop` against the rule of every entry point: at most
    /// [`MAX_STOP`](Self::MAX_STOP) sequences, none empty, none longer than
    /// [`MAX_STOP_BYTES`](Self::MAX_STOP_BYTES). A provider that scans its answers for them
    /// checks a request with this (settings built in code reach it unchecked).
    ///
    /// ```
    /// use llm_do_core::{ModelSettings, StopError};
    /// let mut s = ModelSettings { stop: vec!["\n\n".into()], ..Default::default() };
    /// assert_eq!(s.check_stop(), Ok(()));
    /// s.stop.push("x".repeat(ModelSettings::MAX_STOP_BYTES + 1));
    /// assert_eq!(s.check_stop(), Err(StopError::TooLong { index: 1, bytes: 257 }));
    /// ```
    pub fn check_stop(&self) -> Result<(), StopError> {
        llm_do_syntax::stop::check(&self.stop)
    }

    /// These settings with every field that `over` sets replaced by its value (`stop` when
    /// `over` has any).
    ///
    /// ```
    /// # use llm_do_core::ModelSettings;
    /// let worker = ModelSettings { temperature: Some(0.0), max_tokens: Some(64), ..Default::default() };
    /// let over = ModelSettings { temperature: Some(0.8), seed: Some(1), ..Default::default() };
    /// let s = worker.overlaid_with(&over);
    /// assert_eq!((s.temperature, s.max_tokens, s.seed), (Some(0.8), Some(64), Some(1)));
    /// ```
    pub fn overlaid_with(&self, over: &ModelSettings) -> ModelSettings {
        ModelSettings {
            temperature: over.temperature.or(self.temperature),
            top_p: over.top_p.or(self.top_p),
            max_tokens: over.max_tokens.or(self.max_tokens),
            seed: over.seed.or(self.seed),
            stop: if over.stop.is_empty() { self.stop.clone() } else { over.stop.clone() },
        }
    }
}
