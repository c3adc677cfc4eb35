//! Helpers for tests that run a built `llm-do` binary (or a host program embedding it) against
//! the loopback test server.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Writes `files` (name, text) into a new temporary project directory.
pub fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write project file");
    }
    dir
}

/// A command for `bin` with a clean model environment: no `LLM_DO_MODEL`, and the OpenAI
/// provider pointed at `base_url` (the test server) when given.
pub fn command(bin: impl AsRef<Path>, base_url: Option<&str>) -> Command {
    let mut cmd = Command::new(bin.as_ref());
    for var in ["LLM_DO_MODEL", "LLM_DO_LOCAL_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"] {
        cmd.env_remove(var);
    }
    if let Some(url) = base_url {
        cmd.env("OPENAI_API_KEY", "sk-test-0123456789abcdefghij").env("OPENAI_BASE_URL", url);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs and returns the output, printing stderr for failing-test diagnosis.
pub fn output(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run the binary");
    eprintln!("--- stderr of {cmd:?}:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// The exit code (panics on death by signal).
pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exited with a code")
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
