//! Built-in tools for [llm-do](https://crates.io/crates/llm-do): a filesystem confined to a
//! root directory, and a shell that runs one program per call without a shell.
//!
//! - [`fs::Filesystem`]: `read_file` (a window of a text file, with its total size),
//!   `write_file` (atomic, parents created) and `list_files` (glob, sorted, capped), all
//!   confined to a root directory at the operating-system level; `.read_only()` leaves
//!   `write_file` out.
//! - [`shell::Shell`]: `shell` runs one command, split with shell quoting rules and executed
//!   directly, in the root directory, checked against ordered [`shell::ShellRule`]s, with a
//!   time limit, capped output and an environment scrubbed of secrets.
//!
//! Both build ordinary [`CallableSpec`](llm_do_core::CallableSpec)s: register them with a
//! runtime, or list them by name in a worker's tools.
//!
//! ```
//! use llm_do_core::Runtime;
//! use llm_do_core::approval::ApprovalPolicy;
//! use llm_do_tools::fs::Filesystem;
//! use llm_do_tools::shell::{Shell, ShellRule};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let root = dir.path();
//! let files = Filesystem::new(root)?;
//! let shell = Shell::new(root)?
//!     .rule(ShellRule::ask("find").with_arg("-delete"))
//!     .rule(ShellRule::allow("find"))
//!     .rule(ShellRule::allow("grep"));
//!
//! let policy = shell.approval_policy(ApprovalPolicy::new())?;
//! let builder = Runtime::builder().approval_policy(policy).register(shell.spec());
//! let rt = files.specs().into_iter().fold(builder, |b, spec| b.register(spec)).build();
//!
//! // Code calling a tool is trusted (not gated); a model's calls pass the approval gate.
//! let ctx = rt.ctx();
//! let _: serde_json::Value =
//!     ctx.call("write_file", serde_json::json!({"path": "a.md", "content": "TODO\n"})).await?;
//! let out: serde_json::Value = ctx.call("shell", serde_json::json!({"command": "grep -c TODO a.md"})).await?;
//! assert_eq!(out["stdout"], "1\n");
//! # Ok(())
//! # }
//! ```
//!
//! # Approvals
//!
//! The runtime's approval gate (see [`llm_do_core::approval`]) decides every call a model
//! requests, before the tool runs, from the policy's rules and the tool's declared default.
//! The built-in tools declare:
//!
//! | tool | declared verdict |
//! |---|---|
//! | `read_file`, `list_files` | none (allowed unless a policy rule says otherwise) |
//! | `write_file` | `Ask` |
//! | `shell` | `Ask` |
//!
//! The shell's own rules have verdicts too, and both places enforce them:
//!
//! - **In the gate**: [`Shell::approval_rules`](shell::Shell::approval_rules) turns the shell
//!   rules into policy rules for the tool `shell` that match the `/command` argument, in the
//!   same order, ending with `shell → deny`; [`Shell::approval_policy`](shell::Shell::approval_policy)
//!   appends them to a policy. For commands without quotes, backslashes or `#` the policy
//!   decides exactly as the shell rules do, so an `Ask` rule makes the gate ask the approver
//!   and an `Allow` rule lets the command through silently. Commands with quotes, backslashes
//!   or `#` cannot be matched exactly on their text (`find . '-delete'` is `find . -delete`),
//!   so the policy asks about them whenever some rule could run them.
//! - **In the tool**: the handler parses the command and applies the same rules to the
//!   argument vector. It refuses (an error result; nothing runs) every command its rules deny
//!   — unmatched commands included — even when a misconfigured policy let the call through.
//!   It runs `Allow` and `Ask` commands: for `Ask`, being called means the gate approved.
//!
//! Without the policy rules, every shell call is asked about (the declared `Ask`), and the
//! tool still refuses what its rules deny. A policy rule placed before the shell's (for
//! example `shell → allow`) overrides their `Ask`s; that is the one thing the tool cannot
//! catch, since it cannot ask by itself.
//!
//! Code that calls a tool directly (a typed call, or [`Ctx::call`](llm_do_core::Ctx::call)) is
//! not gated: the shell then runs `Ask` commands and still refuses denied ones.
//!
//! # What these tools do not protect against
//!
//! Confinement covers paths given to the filesystem tools. An allowed shell program can do
//! whatever its arguments and the process's permissions let it do: allow read-only programs
//! (see [`shell::read_only_rules`]) and put write or exec programs behind `Ask`. For untrusted
//! input, run the whole program in a container or VM as well.
#![warn(missing_docs)]

mod blocking;
mod error;
pub mod fs;
pub mod shell;

pub use error::ToolError;
