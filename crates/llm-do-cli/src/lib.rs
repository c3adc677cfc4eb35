//! The `llm-do` command line.
//!
//! - `llm-do serve --model local:smollm2 --port 8080` — an OpenAI-compatible
//!   `/v1/chat/completions` (JSON and server-sent events) and `/v1/models` server on
//!   `127.0.0.1` over any configured model ([`serve`]).
//! - `llm-do fetch-model` — puts the embedded model in the cache (once) and prints its path.
//!
//! The `local` feature (on by default) builds in the embedded local model.

pub mod models;
pub mod serve;
