//! The CLI's input and output at their edges: a project path that is not UTF-8 in `list
//! --json`, a stderr closed before anything is written to it, the embedded model's notice said
//! only when the embedded model is the one in effect, and an endless input on stdin.

#[path = "support/cli.rs"]
mod support;

use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::Value;
use std::process::Stdio;
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");
const NOTICE: &str = "workers without a model run on the embedded local model";

/// `list --json` prints its object for a project whose path is not UTF-8 (serde refuses such a
/// path, and the command panicked), with the path made lossy.
#[cfg(unix)]
#[test]
fn list_json_takes_a_project_path_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt as _;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join(std::ffi::OsStr::from_bytes(b"bad\xffname"));
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("main.worker"), "---\n---\nHello {input}.\n").unwrap();
    let out = output(command(BIN, None).args(["list", "--json"]).arg(&dir));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let listed: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    let shown = listed["project"].as_str().unwrap();
    assert!(shown.ends_with("bad\u{FFFD}name"), "{shown}");
    assert_eq!(listed["callables"][0]["name"], "main");
}

/// A stderr whose reader has gone (`llm-do check DIR 2>&1 | true`) ends the notice quietly:
/// the command still ends with its own exit code, not a panic's 101.
#[test]
fn a_closed_stderr_is_no_panic() {
    let dir = project(&[("main.worker", "---\n---\nHello {input}.\n")]);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = command(BIN, None)
        .arg("check")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::from(writer))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0), "{status}");
}

/// The notice that workers run on the embedded model is said when they do, and not when the
/// project names a model itself (even the embedded one), nor when
/// `--model` or llm-do.toml's `model` chose another model (it claimed the embedded model would
/// be used), nor when every worker names its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_model_notice_is_said_only_when_true() {
    let worker = ("main.worker", "---\n---\nHello {input}.\n");
    let dir = project(&[worker]);
    let out = output(command(BIN, None).arg("check").arg(dir.path()));
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains(NOTICE), "{}", stderr(&out));

    let configured = project(&[worker, ("llm-do.toml", "model = \"openai:gpt-4o-mini\"\n")]);
    let out = output(command(BIN, None).arg("check").arg(configured.path()));
    assert_eq!(code(&out), 0);
    assert!(!stderr(&out).contains(NOTICE), "{}", stderr(&out));

    // The project names the embedded model itself: configured, so no "no model configured".
    let embedded = project(&[worker, ("llm-do.toml", "model = \"local:smollm2\"\n")]);
    let out = output(command(BIN, None).arg("check").arg(embedded.path()));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stderr(&out).contains(NOTICE), "{}", stderr(&out));

    let named =
        project(&[("main.worker", "---\nmodel: openai:gpt-4o-mini\n---\nHello {input}.\n")]);
    let out = output(command(BIN, None).arg("check").arg(named.path()));
    assert_eq!(code(&out), 0);
    assert!(!stderr(&out).contains(NOTICE), "{}", stderr(&out));

    // `--model` with no API key in the environment: the run is on the test server's model.
    let server = TestServer::builder().script(vec![Reply::text("hi")]).start().await.unwrap();
    let out = output(
        command(BIN, None)
            .args(["run", "--model", "openai:gpt-4o-mini"])
            .arg(dir.path())
            .arg("Ann")
            .env("OPENAI_BASE_URL", server.base_url()),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "hi\n");
    assert!(!stderr(&out).contains(NOTICE), "{}", stderr(&out));
}

/// `run PROJECT -` reads at most 8 MiB from stdin: an endless input (`/dev/zero`) is a usage
/// error once past it, not a process reading until memory runs out.
#[cfg(unix)]
#[test]
fn an_endless_stdin_input_is_refused_past_its_limit() {
    let dir = project(&[("main.worker", "---\n---\nHello {input}.\n")]);
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let started = std::time::Instant::now();
    let out = output(command(BIN, None).arg("run").arg(dir.path()).arg("-").stdin(zero));
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out)
            .contains("llm-do: the input on stdin is longer than 8 MiB, the most `-` reads"),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "{:?}", started.elapsed());
}
