//! The environment a stdio MCP server starts with: llm-do's own, minus every variable whose
//! name looks like a secret (the providers' API keys first of all), plus the ones the server's
//! configuration names in `pass_env`. Its `env` table is set on top. The same rule as the
//! shell tool's (`llm_do_core::secrets::is_secret_name`); a server is a program of a project,
//! which may be a stranger's. Tested in `crates/llm-do-cli/tests/mcp.rs`
//! (`a_server_gets_no_secret_variables_it_was_not_given`).

use llm_do_core::secrets::is_secret_name;
use std::ffi::OsString;

/// The variables of this process a child server inherits.
pub(crate) fn inherited(pass_env: &[String]) -> Vec<(OsString, OsString)> {
    std::env::vars_os()
        .filter(|(name, _)| {
            let name = name.to_string_lossy();
            !is_secret_name(&name) || pass_env.iter().any(|p| *p == name)
        })
        .collect()
}
