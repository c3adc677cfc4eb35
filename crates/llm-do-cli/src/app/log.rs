//! `llm-do log show FILE`: a run log rendered as a call tree.

use super::report;
use crate::exit::Exit;
use crate::run_log;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(super) enum LogCommand {
    /// Render a run log as a call tree: each call with its model, time, tokens, input and
    /// output, approvals and nested calls.
    Show {
        /// The log file (JSON lines).
        file: PathBuf,
    },
}

/// Runs a `log` subcommand.
pub(super) fn log(command: LogCommand) -> Exit {
    let LogCommand::Show { file } = command;
    match run_log::read_log(&file) {
        Ok(log) => {
            // The tree quotes models and tools: made safe for a terminal.
            crate::output::out!("{}", crate::terminal::safe(&run_log::render_tree(&log.records)));
            if let Some(line) = log.torn_line {
                warn_torn(&file, line, "shown");
            }
            Exit::Ok
        }
        Err(e) => {
            report(&e.to_string());
            Exit::Usage
        }
    }
}

/// The warning about a run log whose last line `line` was cut off; every complete record is
/// `used` (`shown`, `replayed`). The file's name is shown safe, as in every other message (a
/// name may hold escape sequences).
pub(super) fn warn_torn(file: &std::path::Path, line: usize, used: &str) {
    crate::output::errln!(
        "llm-do: warning: {}:{line}: the last record was cut off (the run was killed while \
         writing it); every complete record is {used}",
        crate::terminal::safe(&file.display().to_string())
    );
}
