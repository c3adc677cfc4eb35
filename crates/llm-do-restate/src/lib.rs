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
//! - [`Client`] submits runs (idempotent per run id), waits for their output, lists and
//!   answers approvals, and registers deployments; [`LocalServer`] starts a Restate server on
//!   loopback for development and tests.
//!
//! The workers and their call sites are the same as in-process: only where the run executes
//! changes. See `docs/durable.md`.
#![warn(missing_docs)]

mod client;
mod error;
mod journal;
mod local;
pub mod service;
mod wire;

pub use client::Client;
pub use error::DurableError;
pub use local::{LocalServer, SERVER_ENV};
pub use service::{DurableService, SERVICE_NAME};
pub use wire::{ApprovalAnswer, PendingApproval, RunFailure, RunOutput, RunRequest};
