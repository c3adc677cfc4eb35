//! In-process models for tests: no network, no API key.
//!
//! - [`ScriptedModel`]: answers from a queue of [`Reply`]s or from a function of the request
//!   (like pydantic-ai's `FunctionModel`).
//! - [`TestModel`]: calls every offered tool once with schema-valid arguments, then returns
//!   schema-valid output (like pydantic-ai's `TestModel`).
//! - [`example_value`]: the JSON-Schema-to-example generator behind [`TestModel`].
//! - [`EventLog`](crate::EventLog): collects events for assertions and snapshots.
//! - [`cassette`]: record a real model's answers to a reviewable file and replay them offline
//!   ([`cassette()`](cassette::cassette), `LLM_DO_RECORD=1` to re-record).
//! - [`Sampler`]: run a worker N times and assert invariants on a minimum share of samples.
//! - [`hardening`]: measure a Rust candidate against a worker's recorded behaviour.
//!
//! See `docs/testing.md` in the repository for the workflow.

pub use llm_do_providers::example::{ExampleError, example_value};
pub use llm_do_providers::scripted::{Reply, ScriptedModel};
pub use llm_do_providers::test_model::TestModel;

/// Record / replay cassettes (see [`llm_do_providers::cassette`]).
pub mod cassette {
    pub use llm_do_providers::cassette::*;
}

pub mod hardening;
mod sample_report;
mod sampler;

pub use sample_report::{Sample, SampleReport, SamplingError};
pub use sampler::{SampleTarget, Sampler};
