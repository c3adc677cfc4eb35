//! The `llm-do` command line, as a library.
//!
//! - `llm-do run <project-dir | file.worker> [INPUT]` runs a project of `.worker` files with
//!   a live call tree on stderr ([`display`]), terminal approvals ([`approve`]) and an optional
//!   JSONL run log ([`run_log`]);
//! - `llm-do chat PROJECT [--worker W]` holds a conversation with a worker: a line editor with
//!   streamed answers on a terminal, one answer per input line otherwise (see `docs/chat.md`);
//! - `llm-do check` / `llm-do list` validate and describe a project without calling a model;
//! - `llm-do log show FILE` renders a run log as a call tree;
//! - `llm-do mcp PROJECT` serves a project's workers and tools as MCP tools (stdio, or
//!   `--http ADDR`); MCP servers declared in `llm-do.toml` join every project's name space
//!   (see `docs/mcp.md`);
//! - `llm-do restate serve PROJECT --port P` serves a project's workers as a durable Restate
//!   service; `llm-do restate approve ID [--deny]` answers the approvals its runs wait for
//!   (see `docs/durable.md`);
//! - `llm-do serve --model local:smollm2 --port 8080` puts any configured model behind an
//!   OpenAI-compatible HTTP API ([`serve`]); `llm-do fetch-model` caches the embedded model.
//!
//! A host program embeds the whole command line, with its own Rust workers and tools in every
//! project's name space, through [`main_with`]. Exit codes: [`exit::Exit`]. The `local`
//! feature (on by default) builds in the embedded local model. See `docs/cli.md`.
#![warn(missing_docs)]

mod app;
pub mod approve;
mod attach;
mod chat;
pub mod display;
pub mod exit;
mod mcp;
pub mod models;
mod output;
mod plural;
mod restate;
pub mod run_log;
pub mod serve;
mod signals;
pub mod terminal;

pub use app::{main_with, run_with};
