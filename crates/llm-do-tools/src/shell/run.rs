//! Running one argument vector: direct execution, fixed working directory, scrubbed
//! environment, time limit, capped output.

use super::reap::{MARKER_VAR, Tree};
use crate::error::ToolError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Result of the `shell` tool: how the program ended and what it wrote.
///
/// ```
/// # use llm_do_tools::shell::ShellOutput;
/// let out: ShellOutput = serde_json::from_value(serde_json::json!({
///     "exit_code": 0, "success": true, "stdout": "hi\n", "stderr": ""
/// })).unwrap();
/// assert!(out.success);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShellOutput {
    /// The exit code; `null` when the program was ended by a signal.
    pub exit_code: Option<i32>,
    /// Whether the program exited with code 0.
    pub success: bool,
    /// What it wrote to standard output (lossily decoded as UTF-8; cut after the configured
    /// maximum, with a `[… truncated N bytes]` note).
    pub stdout: String,
    /// What it wrote to standard error (likewise).
    pub stderr: String,
}

/// What to run and how.
pub(crate) struct Invocation<'a> {
    pub(crate) command: &'a str,
    pub(crate) argv: &'a [String],
    pub(crate) cwd: &'a Path,
    pub(crate) env: Vec<(OsString, OsString)>,
    pub(crate) timeout: Duration,
    pub(crate) max_output: usize,
}

/// Runs the program directly (no shell), with stdin closed.
pub(crate) async fn run(inv: Invocation<'_>) -> Result<ShellOutput, ToolError> {
    let Some((program, args)) = inv.argv.split_first() else {
        return Err(ToolError::EmptyCommand);
    };
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(ToolError::NoRuntime);
    }
    let marker = Tree::marker_value();
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(inv.cwd)
        .env_clear()
        .envs(inv.env)
        .env(MARKER_VAR, &marker)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Its own process group (so that a timeout ends its children too) and, on Linux, the
    // group's end when this process dies, even by SIGKILL (no destructor runs then).
    llm_do_process::guard_group(cmd.as_std_mut());
    let mut child =
        cmd.spawn().map_err(|source| ToolError::Spawn { program: program.clone(), source })?;
    // Declared after `child`, so dropped before it: when the call is dropped (cancelled), the
    // whole tree is killed while the leader is still unreaped.
    let mut tree = Tree::new(child.id(), &marker);
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let mut out = Capture::new(inv.max_output);
    let mut err = Capture::new(inv.max_output);
    let finished = tokio::time::timeout(inv.timeout, async {
        let (status, (), ()) = tokio::join!(child.wait(), out.drain(stdout), err.drain(stderr));
        status
    })
    .await;
    match finished {
        Ok(Ok(status)) => {
            // Whatever it left running in the background (a daemon, a `setsid` child) ends
            // with the call.
            tree.leader_reaped();
            tree.kill();
            Ok(ShellOutput {
                exit_code: status.code(),
                success: status.success(),
                stdout: out.text(),
                stderr: err.text(),
            })
        }
        Ok(Err(source)) => {
            Err(ToolError::Io { operation: "waiting for", path: program.clone(), source })
        }
        Err(_) => {
            tree.kill();
            let _ = child.kill().await;
            tree.leader_reaped();
            Err(ToolError::Timeout {
                command: inv.command.to_owned(),
                after: inv.timeout,
                stdout: out.text(),
                stderr: err.text(),
            })
        }
    }
}

/// One output stream, kept up to a limit; the rest is read and counted, so that the program
/// never blocks on a full pipe.
struct Capture {
    kept: Vec<u8>,
    dropped: u64,
    max: usize,
}

impl Capture {
    fn new(max: usize) -> Self {
        Self { kept: Vec::new(), dropped: 0, max }
    }

    async fn drain(&mut self, pipe: Option<impl AsyncRead + Unpin>) {
        let Some(mut pipe) = pipe else { return };
        let mut buf = vec![0u8; 8 * 1024];
        loop {
            match pipe.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => self.push(&buf[..n]),
            }
        }
    }

    fn push(&mut self, data: &[u8]) {
        let room = self.max.saturating_sub(self.kept.len());
        let take = room.min(data.len());
        self.kept.extend_from_slice(&data[..take]);
        self.dropped += (data.len() - take) as u64;
    }

    /// The kept bytes as text, with a note when some were dropped.
    fn text(&self) -> String {
        let mut kept = self.kept.as_slice();
        let mut dropped = self.dropped;
        if dropped > 0 {
            // Do not end on half a character.
            if let Err(e) = std::str::from_utf8(kept)
                && e.error_len().is_none()
            {
                dropped += (kept.len() - e.valid_up_to()) as u64;
                kept = &kept[..e.valid_up_to()];
            }
        }
        let mut text = String::from_utf8_lossy(kept).into_owned();
        if dropped > 0 {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!("[… truncated {dropped} bytes]"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::Capture;

    #[test]
    fn output_is_capped_with_a_note() {
        let mut c = Capture::new(5);
        c.push(b"hello world");
        assert_eq!(c.text(), "hello\n[… truncated 6 bytes]");
        let mut c = Capture::new(5);
        c.push(b"hi\n");
        assert_eq!(c.text(), "hi\n");
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        let mut c = Capture::new(4);
        c.push("abcé!".as_bytes()); // é is two bytes; the fourth byte is its first half
        assert_eq!(c.text(), "abc\n[… truncated 3 bytes]");
    }
}
