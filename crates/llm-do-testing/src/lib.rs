//! In-process models and test tools for llm-do: no network, no API key.
//!
//! - [`ScriptedModel`]: answers from a queue of [`Reply`]s or from a function of the request
//!   (like pydantic-ai's `FunctionModel`); [`ScriptError`] when the script runs out.
//! - [`TestModel`]: calls every offered tool once with schema-valid arguments, then returns
//!   schema-valid output (like pydantic-ai's `TestModel`).
//! - [`example_value`]: the JSON-Schema-to-example generator behind [`TestModel`].
//! - [`cassette`]: record a real model's answers to a reviewable file and replay them offline
//!   ([`cassette()`](cassette::cassette), `LLM_DO_RECORD=1` to re-record), diff a changed
//!   request, render a transcript.
//! - [`ObservedModel`]: wraps a model and shows each of its results to an [`Observer`] (what
//!   the cassette recorder is made of; a test's own log of what a provider answered).
//! - [`Sampler`]: run a worker N times and assert invariants on a minimum share of samples.
//! - [`hardening`]: measure a Rust candidate against a worker's recorded behaviour.
//!
//! Users reach all of it as `llm_do::testing` (feature `testing` of `llm-do`). This crate
//! depends on `llm-do-core` only: no HTTP client, no inference engine, so a test server
//! (`llm-do-testkit`) or a user's tests can use the scripted vocabulary without either. See
//! `docs/testing.md` in the repository for the workflow.
//!
//! ```
//! use llm_do_core::{Message, Model, ModelRequest};
//! use llm_do_testing::{Reply, ScriptedModel};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let model = ScriptedModel::queue([Reply::text("hi!")]);
//! let answer = model.request(&ModelRequest::new("m", vec![Message::user("Say hi")])).await;
//! assert_eq!(answer.unwrap().text.as_deref(), Some("hi!"));
//! # }
//! ```
#![warn(missing_docs)]

pub mod cassette;
pub mod example;
pub mod hardening;
pub mod scripted;
pub mod test_model;

mod observed;
mod recorder;
mod sample_report;
mod sampler;
mod script_error;

pub use example::{ExampleError, example_value};
pub use observed::{ObservedModel, Observer};
pub use sample_report::{Sample, SampleReport, SamplingError};
pub use sampler::{SampleTarget, Sampler};
pub use script_error::ScriptError;
pub use scripted::{Reply, ScriptedModel};
pub use test_model::TestModel;
