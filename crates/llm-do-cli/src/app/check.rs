//! `llm-do check PROJECT`: a project validated without calling a model.

use super::{load, reported, usage_error};
use crate::exit::Exit;
use llm_do::Registry;
use llm_do_project::Project;
use std::path::Path;

/// Checks the project in `dir` and prints a one-line summary (problems go to stderr).
pub(super) fn check(dir: &Path, host: &Registry) -> Exit {
    match load(dir, host) {
        Ok(project) => summary(dir, &project),
        Err(code) => code,
    }
}

/// `check --no-servers`: the project checked without starting its MCP servers (programs of
/// the project, which may be a stranger's); each is said not to have been started.
pub(super) fn check_without_servers(dir: &Path, host: &Registry) -> Exit {
    let project = match reported(Project::check_without_servers(dir, host), dir) {
        Ok(project) => project,
        Err(summary) => return usage_error(summary),
    };
    let code = summary(dir, &project);
    for name in project.config().mcp.keys() {
        crate::output::outln!(
            "mcp server `{name}`: not started (--no-servers), the tools it lists not checked"
        );
    }
    code
}

fn summary(dir: &Path, project: &Project) -> Exit {
    let tools = project.specs().count() - project.workers().len();
    crate::output::outln!(
        "ok: {} worker{} and {} built-in tool{} in {}{}",
        project.workers().len(),
        if project.workers().len() == 1 { "" } else { "s" },
        tools,
        if tools == 1 { "" } else { "s" },
        dir.display(),
        project.entry().map(|e| format!(" (entry: {e})")).unwrap_or_default()
    );
    Exit::Ok
}
