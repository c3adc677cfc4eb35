//! Model implementations for llm-do.
//!
//! - [`scripted`]: [`ScriptedModel`](scripted::ScriptedModel), replies from a queue or a function.
//! - [`test_model`]: [`TestModel`](test_model::TestModel), schema-driven automatic replies.
//! - [`cassette`]: record any model's answers to a reviewable file and replay them offline.
//! - [`example`]: schema-valid example values for a JSON Schema.
//! - [`estimate`]: the token estimate these models report when no usage is scripted.
//! - [`http`]: the HTTP client every crate here uses (rustls with `ring`).
//! - [`openai`]: [`OpenAiProvider`](openai::OpenAiProvider), any OpenAI-compatible server over HTTP.
//! - [`local`] (feature `local`): crate `llm-do-local` re-exported: `LocalModel`, GGUF models
//!   run in-process in pure Rust, including the embedded default `local:smollm2`.
#![warn(missing_docs)]

pub mod cassette;
pub mod estimate;
pub mod example;
pub mod http;
pub mod local;
pub mod openai;
pub mod scripted;
pub mod test_model;

mod recorder;
mod truncate;
