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

/// Runs `cmd` with `input` on its stdin (closed after it) and returns the output.
pub fn output_with_stdin(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait for the binary");
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

/// Whether `pid` is a live process (not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().next());
        !matches!(state, Some("Z" | "X"))
    })
}

/// Live processes whose command line is exactly `argv`.
pub fn pids_of(argv: &[&str]) -> Vec<u32> {
    let want: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter(|p| std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c == want))
                .filter(|p| alive(*p))
                .collect()
        })
        .unwrap_or_default()
}

/// The launcher of tests that signal llm-do: `env` with SIGINT, SIGTERM and SIGHUP set back to
/// their default, since llm-do leaves a signal it was started ignoring ignored, and the test
/// itself may have been started so (a background job of a script ignores SIGINT, `nohup`
/// SIGHUP).
pub const DEFAULT_SIGNALS: &[&str] = &["env", "--default-signal=INT,TERM,HUP"];

/// The first `http://…` address in the lines of `output` (what `llm-do serve` prints on its
/// stdout, `llm-do mcp --http` on its stderr), waited for at most 120 s; a panic when the
/// output ends without one (the server exited).
pub async fn served_address(output: impl tokio::io::AsyncRead + Unpin) -> String {
    use tokio::io::AsyncBufReadExt as _;
    let mut lines = tokio::io::BufReader::new(output).lines();
    let found = async {
        while let Some(line) = lines.next_line().await.expect("read the server's output") {
            if let Some(at) = line.find("http://") {
                return line[at..].trim().to_owned();
            }
        }
        panic!("the server exited without serving");
    };
    tokio::time::timeout(std::time::Duration::from_secs(120), found).await.expect("timed out")
}
