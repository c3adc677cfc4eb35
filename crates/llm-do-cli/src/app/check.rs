//! `llm-do check PROJECT`: a project validated without calling a model.

use super::load;
use crate::exit::Exit;
use llm_do::Registry;
use std::path::Path;

/// Checks the project in `dir` and prints a one-line summary (problems go to stderr).
pub(super) fn check(dir: &Path, host: &Registry) -> Exit {
    match load(dir, host) {
        Ok(project) => {
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
        Err(code) => code,
    }
}
