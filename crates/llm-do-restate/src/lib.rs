//! Durable llm-do runs on [Restate](https://restate.dev): runs that survive crashes, deploys
//! and days-long approvals, without repeating the model calls they already paid for.
//!
//! - [`DurableService`] serves a [`Runtime`](llm_do_core::Runtime)'s workers as the Restate
//!   workflow service [`SERVICE_NAME`]: one generic `run` handler (worker name + JSON input),
//!   keyed by the run id (see [`service`] for why).
//! - Each run performs its effects through a journal (the core's
//!   [`Effects`](llm_do_core::effects::Effects) seam): every model request and every tool
//!   execution is a Restate `run` step whose result is journaled; after a crash, Restate
//!   replays the run and completed steps return their journaled results without being
//!   executed again. A call the approval policy marks `Ask` becomes a durable wait (an
//!   awakeable) that a person answers with `llm-do restate approve ID [--deny]` or
//!   [`Client::approve`], across restarts.
//! - Each run's events and usage are kept with its journal, in the workflow's state (and in
//!   a run log file with [`DurableService::log_dir`]): [`Client::record`] reads them, after
//!   crashes and restarts of the service too.
//! - [`Client`] submits runs (one run per run id: the same worker and input again is the same
//!   run, another worker or input is [`DurableError::RunIdReused`]), waits for their output, reads their
//!   record, lists and answers approvals, cancels runs ([`Client::cancel`]), and registers
//!   deployments; [`LocalServer`] starts a Restate server on
//!   loopback for development and tests.
//!
//! The workers and their call sites are the same as in-process: only where the run executes
//! changes. See `docs/durable.md`.
#![warn(missing_docs)]

pub mod cancel;
mod client;
mod error;
mod journal;
mod local;
mod record;
mod reuse;
pub mod service;
mod wire;

pub use cancel::CancelRequest;
pub use client::Client;
pub use error::{Difference, DurableError};
pub use local::{LocalServer, SERVER_ENV};
pub use record::{Recorder, RunRecord, event_json};
pub use service::{DurableService, SERVICE_NAME};
pub use wire::{ApprovalAnswer, PendingApproval, RunFailure, RunOutput, RunRequest};
