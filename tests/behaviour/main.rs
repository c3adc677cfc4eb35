//! Behaviour tests of llm-do across crates, as one test binary with a module per concern
//! (agent loop, approvals, conversation, depth, events, budgets, hardening, the built-in
//! tools, …); `cargo test -p llm-do-tests --test behaviour MODULE::` runs one module. Tests
//! that need a process of their own (`tests/model_env.rs` and `tests/tools_shell_env.rs`: an
//! environment; `tests/telemetry.rs`: tracing's process-wide callsite state) are binaries of
//! their own.

mod agent_loop;
mod approvals;
mod conversation;
mod depth;
mod events;
mod hardening;
mod model_resolution;
mod name_space;
mod test_models;
mod tools_approval_paths;
mod tools_approvals;
mod tools_fs;
mod tools_shell;
mod tools_shell_reap;
mod usage_budget;
