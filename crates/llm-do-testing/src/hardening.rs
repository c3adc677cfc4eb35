//! Hardening with evidence: before replacing a worker by Rust code, measure how often the
//! code agrees with what the worker actually did.
//!
//! 1. Collect the worker's observed (input → output) pairs with [`observations`] from any
//!    [`ObservationSource`]: the events of a run ([`EventLog`](llm_do_core::EventLog), a slice of
//!    [`Event`](llm_do_core::Event)s) or a [`Cassette`](crate::cassette::Cassette).
//! 2. Replay the inputs against a candidate — a Rust function ([`AgreementReport::of_fn`]) or
//!    a registered tool ([`AgreementReport::of_tool`]) — and read the agreement rate and the
//!    disagreeing cases (`Display` renders a Markdown table).
//!
//! ```
//! use llm_do::prelude::*;
//! use llm_do::EventLog;
//! use llm_do::testing::hardening::{observations, AgreementReport};
//! use llm_do::testing::{Reply, ScriptedModel};
//!
//! /// Classify a support ticket.
//! #[worker(model = "openai:gpt-4o-mini", prompt = "Classify: {ticket}")]
//! async fn classify(ctx: &Ctx, ticket: String) -> Result<String>;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
//! let model = ScriptedModel::queue([Reply::text("billing"), Reply::text("bug")]);
//! let log = EventLog::new();
//! let rt = Runtime::builder().register(classify::spec()).model_override(model).subscribe(log.clone()).build();
//! classify(&rt.ctx(), "I was charged twice".into()).await?;
//! classify(&rt.ctx(), "The app crashes".into()).await?;
//!
//! let seen = observations(&log, &classify::spec())?;
//! let rules = |ticket: String| if ticket.contains("charged") { "billing" } else { "feature" };
//! let report = AgreementReport::of_fn("rules", "classify", &seen, rules);
//! assert_eq!((report.agreed(), report.cases.len()), (1, 2));
//! assert!(report.to_string().contains("The app crashes"));
//! # Ok(())
//! # }
//! ```

mod agreement;
mod source;
mod template_match;

pub use agreement::{AgreementReport, Case};
pub use source::{
    CassetteObservations, HardeningError, Observation, ObservationSource, observations,
    read_cassette,
};
pub use template_match::{TemplateMatch, match_template};
