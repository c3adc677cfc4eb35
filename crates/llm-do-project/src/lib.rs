//! Worker files and projects for [llm-do](https://crates.io/crates/llm-do).
//!
//! A *worker file* `NAME.worker` defines an LLM worker without Rust: YAML frontmatter (model,
//! settings, tools, JSON Schemas, approvals) and a markdown body, the prompt. A *project* is a
//! directory of worker files with an optional `llm-do.toml`. File workers join the runtime's
//! name space like macro-made ones: they call Rust tools and workers by name, and Rust code
//! calls them by name.
//!
//! ```text
//! ---
//! name: summarizer                     # default: the file's stem
//! description: Summarize a document in three bullet points.   # seen by callers; default system prompt
//! system: You are terse.               # optional system prompt (default: the description)
//! model: openai:gpt-4o-mini            # default: llm-do.toml `model`, then the runtime's
//! temperature: 0.2
//! max_turns: 8
//! tools:
//!   - summarize_chunk                  # another worker or a Rust tool, by name
//!   - filesystem: { root: ./docs, read_only: true }   # or `only: [read_file]`
//!   - shell: { rules: [ { allow: "git log" }, { ask: "find", args: ["-delete"] } ] }
//!   - orders.*                         # every tool of the MCP server `[mcp.orders]` (llm-do.toml)
//!   - search.web_search                # or one of them (named `search__web_search`)
//! input:                               # JSON Schema of the arguments; default {input: string}
//!   type: object
//!   properties: { path: { type: string } }
//!   required: [path]
//! output:                              # JSON Schema of the result; default text
//!   type: object
//!   properties: { bullets: { type: array, items: { type: string } } }
//!   required: [bullets]
//! approval:                            # rules (added to the project's policy), or one verdict
//!   - { tool: "write_*", verdict: ask }   #   (`approval: ask`) for calls *to* this worker
//! ---
//! Summarize the file at {path}. Read it with the tools first.
//! ```
//!
//! The body is the prompt template: the user message of each call, `{param}` placeholders
//! replaced by arguments (each must be a property of the input schema; `{input}` with the
//! default one). The system prompt is `system`, else `description` (core's convention).
//!
//! Projects written for the Python llm-do — a `project.json` manifest and `NAME.agent` files —
//! load the same way ([`manifest`], [`agent_file`]), alone or mixed with `.worker` files; what
//! needs Python is refused with its location. See `docs/migrating-from-python.md`.
//!
//! - [`Project::load`] reads and validates every file, collecting **all** problems as
//!   [`Diagnostics`], each `path:line:col: error: message (expected ...)`.
//! - [`Project::check`] also resolves tool names against the host program's
//!   [`Registry`](llm_do_core::Registry) — what `llm-do check` runs, without calling a model.
//! - [`Project::register`] puts workers, built-in toolsets and the approval settings into a
//!   [`RuntimeBuilder`](llm_do_core::RuntimeBuilder).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use llm_do_core::{Registry, Runtime, ToolSpecBuilder};
//! use llm_do_project::Project;
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("main.worker"), "---\ndescription: Greets.\ntools: [shout]\n---\nGreet {input}.\n")?;
//!
//! // A Rust tool of the host program, known to the check and to the runtime by name.
//! let shout = ToolSpecBuilder::new("shout")
//!     .handler(|_, args| async move { Ok(serde_json::json!(args["text"].as_str().unwrap_or("").to_uppercase())) })
//!     .build();
//! let mut host = Registry::default();
//! host.insert(shout.clone());
//!
//! let project = Project::check(dir.path(), &host)?;
//! let rt = project.register(Runtime::builder().register(shout)).build();
//! assert!(rt.registry().contains("main") && rt.registry().contains("shout"));
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod agent_file;
mod check;
pub mod config;
pub mod diagnostic;
pub mod env_refs;
/// Reading a file named by a project or a user (moved to `llm_do_core::file`, where saved
/// conversations use it too).
pub use llm_do_core::file;
mod frontmatter;
mod json;
pub mod manifest;
pub mod project;
mod python;
mod rules;
mod source;
pub mod toolset;
pub mod worker_file;
mod yaml;

pub use agent_file::AGENT_EXTENSION;
pub use config::{
    ApprovalMode, Budget, CONFIG_FILE, McpServerConfig, McpServerSettings, ProjectConfig,
    ProviderSettings,
};
pub use diagnostic::{Diagnostic, Diagnostics};
pub use manifest::MANIFEST_FILE;
pub use project::Project;
pub use source::listing_project;
pub use toolset::{FilesystemOptions, ShellOptions, ToolEntry};
pub use worker_file::WorkerFile;
