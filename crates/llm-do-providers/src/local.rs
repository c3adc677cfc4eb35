//! The embedded local model: crate [`llm-do-local`](https://docs.rs/llm-do-local), re-exported
//! here when the `local` feature is on (GGUF models run in-process in pure Rust;
//! `local:smollm2`, `local:/path/to/model.gguf`). Without the feature, only [`AVAILABLE`] and
//! [`default_provider`] exist, so that code which must compile either way (the `llm-do`
//! facade's default setup) can register the provider whenever anything in the build enabled it.
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
pub use llm_do_local::*;

/// Whether this build includes the embedded local model (the `local` feature of this crate,
/// enabled directly or through `llm-do`'s `local` feature).
///
/// ```
/// let _ = llm_do_providers::local::AVAILABLE;
/// ```
pub const AVAILABLE: bool = cfg!(feature = "local");

/// A `LocalModel` with default settings and `avoid_repeated_calls(true)` when this build
/// includes the embedded local model, `None` otherwise.
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
        // Small models loop on calls they already made: the default provider steers them
        // away (an explicit setting of the provider, not hidden in it).
        Some(std::sync::Arc::new(LocalModel::new().avoid_repeated_calls(true)))
    }
    #[cfg(not(feature = "local"))]
    {
        None
    }
}
