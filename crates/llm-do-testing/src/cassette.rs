//! Record / replay cassettes: run a test once against a real model, keep its answers in a
//! reviewable file, and replay them offline afterwards.
//!
//! - [`RecordingModel`] wraps any [`Model`](llm_do_core::Model), forwards every request and
//!   writes each (request, response) pair to a [`Cassette`] file.
//! - [`ReplayModel`] serves a cassette back without the real model. A request that matches no
//!   recording fails with a [`RequestMismatch`] naming what changed (prompt, output schema,
//!   tool list, settings).
//! - [`cassette`] switches between the two with the `LLM_DO_RECORD` environment variable, so
//!   one test records (`LLM_DO_RECORD=1 cargo test`) or replays (plain `cargo test`).
//!
//! Cassettes are pretty-printed JSON: a format serde round-trips exactly (YAML would need
//! one more dependency and quotes strings like `no` or `1.0` ambiguously), stable for git
//! diffs; [`Cassette::transcript`] renders the conversations readably, to snapshot with insta
//! and review with `cargo insta review` after a re-recording. Interactions are sorted by conversation, not by arrival, so
//! concurrent requests give the same file every time; replay matches requests by content,
//! never by position. Secrets are redacted before anything is written (see [`redact`]).
//!
//! ```
//! use llm_do_core::{Message, Model, ModelRequest};
//! use llm_do_testing::cassette::{RecordingModel, ReplayModel};
//! use llm_do_testing::scripted::{Reply, ScriptedModel};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("hello.json");
//! let req = ModelRequest::new("m", vec![Message::user("Say hi")]);
//!
//! let live = ScriptedModel::queue([Reply::text("hi!")]);
//! let recorder = RecordingModel::create(live, &path)?;
//! assert_eq!(recorder.request(&req).await?.text.as_deref(), Some("hi!"));
//!
//! let replay = ReplayModel::load(&path)?;   // offline from here on
//! assert_eq!(replay.request(&req).await?.text.as_deref(), Some("hi!"));
//! let changed = ModelRequest::new("m", vec![Message::user("Say hello")]);
//! let err = replay.request(&changed).await.unwrap_err();
//! assert!(err.to_string().contains("messages[0].content"));
//! # Ok(())
//! # }
//! ```

mod diff;
mod error;
mod file;
mod mode;
mod normalize;
mod record;
pub mod redact;
mod replay;
mod transcript;

pub use diff::{Difference, RequestMismatch};
pub use error::CassetteError;
pub use file::{CASSETTE_FORMAT, Cassette, Interaction, MAX_CASSETTE_BYTES};
pub use mode::{CassetteMode, CassetteModel, RECORD_ENV, cassette, cassette_with_mode};
pub use normalize::normalize_request;
pub use record::{CassetteWriter, RecordingModel};
pub use replay::ReplayModel;
