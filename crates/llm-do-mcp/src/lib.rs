//! MCP both ways for [llm-do](https://crates.io/crates/llm-do), on the official Rust SDK
//! ([`rmcp`]).
//!
//! **Client side** — the tools of any MCP server join a runtime's name space:
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use llm_do_core::Runtime;
//! use llm_do_mcp::{McpBuilderExt, McpServer, McpToolset};
//!
//! let orders = McpToolset::connect("orders", McpServer::stdio("orders-server", ["--stdio"])).await?;
//! let rt = Runtime::builder().mcp(&orders).build();
//! // The server's `lookup_order` is `orders__lookup_order` here (see `names`).
//! # Ok(()) }
//! ```
//!
//! - [`McpServer`]: a command run as a child process (MCP over stdio; `env`, `cwd`) or a
//!   streamable HTTP endpoint (`headers`), with a start timeout and a per-call timeout.
//! - [`McpToolset`]: the connection and the tools it lists, as [`CallableSpec`]s whose input
//!   schemas are the server's, unchanged but for over-long descriptions (a tool's, and those
//!   of its top-level properties, are cut to [`MAX_DESCRIPTION_CHARS`] characters). Results
//!   become tool results: structured content as JSON, else the text of the content blocks
//!   (images as a short note); `isError` becomes an error result the model can act on. Every
//!   call a model makes passes the approval gate (default verdict `Ask`): a denied call never
//!   reaches the server.
//! - A server's questions during a call (elicitation: forms, and pages to open by URL) go to
//!   the person behind the run: the run's approver answers them ([`llm_do_core::Ctx::ask`],
//!   [`Approver::answer`](llm_do_core::approval::Approver::answer)); by default they are
//!   declined. On protocol 2026-07-28 (spoken when the server does; [`McpServer::protocol`]
//!   pins a revision) a question comes back in a round of the very call that asks.
//! - [`names`]: the prefix scheme, `server__tool`.
//!
//! **Server side** — [`serve`]: a runtime's workers and tools as MCP tools, over stdio or
//! streamable HTTP (`llm-do mcp PROJECT`).
//!
//! [`CallableSpec`]: llm_do_core::CallableSpec
#![warn(missing_docs)]

mod builder;
mod child;
mod child_env;
mod connection;
mod error;
mod listener;
mod listing;
pub mod names;
mod result;
pub mod serve;
mod server;
mod stderr_tail;
mod toolset;

pub use builder::McpBuilderExt;
pub use error::McpError;
pub use result::MAX_RESULT_CHARS;
pub use server::{
    DEFAULT_CALL_TIMEOUT, DEFAULT_START_TIMEOUT, McpServer, Transport, protocol_versions,
};
pub use toolset::{MAX_DESCRIPTION_CHARS, McpTool, McpToolset, SkippedTool};
