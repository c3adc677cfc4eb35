//! The exit codes of `llm-do`.

use std::process::ExitCode;

/// What a command's exit status means.
///
/// | code | meaning |
/// |---|---|
/// | 0 | success |
/// | 1 | the run failed (a model or tool error, invalid output, a limit or budget exceeded) |
/// | 2 | usage or configuration error: bad arguments, project diagnostics, bad input, no model |
/// | 3 | a call was denied and the run aborted: `q` at the approval prompt, or a call that needs approval in a run without a terminal (and without `--approve-all`) |
/// | 129 | `run` was stopped by SIGHUP (its terminal was closed); the commands it was running were killed |
/// | 130 | `run` was interrupted by SIGINT (Ctrl-C); likewise |
/// | 143 | `run` was terminated by SIGTERM; likewise |
///
/// ```
/// use llm_do_cli::exit::Exit;
/// assert_eq!(Exit::Denied.code(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0.
    Ok,
    /// 1.
    RunFailed,
    /// 2.
    Usage,
    /// 3.
    Denied,
    /// 129 (128 + SIGHUP).
    HungUp,
    /// 130 (128 + SIGINT).
    Interrupted,
    /// 143 (128 + SIGTERM).
    Terminated,
}

impl Exit {
    /// The numeric code.
    ///
    /// ```
    /// assert_eq!(llm_do_cli::exit::Exit::Usage.code(), 2);
    /// ```
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::RunFailed => 1,
            Exit::Usage => 2,
            Exit::Denied => 3,
            Exit::HungUp => 129,
            Exit::Interrupted => 130,
            Exit::Terminated => 143,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// The exit-code table shown at the end of `llm-do --help`.
pub const HELP: &str = "\
Exit codes:
  0  success
  1  the run failed (model or tool error, invalid output, a limit or budget exceeded)
  2  usage or configuration error (bad arguments, project diagnostics, bad input, no model)
  3  a call was denied and the run aborted (`q` at the approval prompt, or a call that needs
     approval in a run without a terminal and without --approve-all)
  129/130/143  `run` was stopped by SIGHUP / SIGINT / SIGTERM (the commands it ran were
     killed; a signal llm-do was started ignoring, as under nohup, stays ignored)";
