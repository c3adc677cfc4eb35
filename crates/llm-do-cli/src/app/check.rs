//! `llm-do check PROJECT`: a project validated without calling a model.

use super::{host_builder, load, reported, usage_error};
use crate::exit::Exit;
use llm_do::{Error, ModelRef, Registry};
use llm_do_project::Project;
use std::path::Path;

/// Checks the project in `dir` and prints a one-line summary (problems go to stderr).
pub(super) fn check(dir: &Path, host: &Registry) -> Exit {
    match load(dir, host) {
        Ok(project) => summary(dir, &project, host),
        Err(code) => code,
    }
}

/// The workers' `model:` strings, and llm-do.toml's `model`, against the providers a run would have: one the runtime
/// does not know (`anthropic:…`) is a located problem now rather than the first call's error.
/// A provider it knows but cannot set up here (no API key) is fine: `check` needs no keys.
fn check_models(dir: &Path, project: &Project, host: &Registry) -> Result<(), String> {
    let builder = project.register(crate::models::default_providers(host_builder(host)));
    crate::models::announce_embedded_model(&builder, project, host);
    let rt = builder.build();
    let unknown = |model: &str| match rt.resolve_model(&ModelRef::parse(model).ok()?) {
        Err(e @ Error::UnknownProvider { .. }) => Some(e.to_string()),
        _ => None,
    };
    reported(project.check_worker_models(unknown), dir)
}

/// `check --no-servers`: the project checked without starting its MCP servers (programs of
/// the project, which may be a stranger's); each is said not to have been started.
pub(super) fn check_without_servers(dir: &Path, host: &Registry) -> Exit {
    let project = match reported(Project::check_without_servers(dir, host), dir) {
        Ok(project) => project,
        Err(summary) => return usage_error(summary),
    };
    let code = summary(dir, &project, host);
    for name in project.config().mcp.keys() {
        crate::output::outln!(
            "mcp server `{name}`: not started (--no-servers), the tools it lists not checked"
        );
    }
    code
}

fn summary(dir: &Path, project: &Project, host: &Registry) -> Exit {
    if let Err(summary) = check_models(dir, project, host) {
        return usage_error(summary);
    }
    let tools = project.specs().count() - project.workers().len();
    crate::output::outln!(
        "ok: {} and {} in {}{}",
        crate::plural::counted(project.workers().len(), "worker"),
        crate::plural::counted(tools, "built-in tool"),
        dir.display(),
        project.entry().map(|e| format!(" (entry: {e})")).unwrap_or_default()
    );
    Exit::Ok
}
