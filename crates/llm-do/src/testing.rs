//! In-process models for tests: no network, no API key.
//!
//! - [`ScriptedModel`]: answers from a queue of [`Reply`]s or from a function of the request
//!   (like pydantic-ai's `FunctionModel`).
//! - [`TestModel`]: calls every offered tool once with schema-valid arguments, then returns
//!   schema-valid output (like pydantic-ai's `TestModel`).
//! - [`example_value`]: the JSON-Schema-to-example generator behind [`TestModel`].
//! - [`EventLog`](crate::EventLog): collects events for assertions and snapshots.

pub use llm_do_providers::example::{ExampleError, example_value};
pub use llm_do_providers::scripted::{Reply, ScriptedModel};
pub use llm_do_providers::test_model::TestModel;
