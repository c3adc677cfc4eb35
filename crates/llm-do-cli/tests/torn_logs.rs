//! Run logs cut off by a kill in the middle of a multi-byte character: `log show` and
//! `harden-report` read every complete record and warn about the cut line; bytes that are not
//! UTF-8 anywhere else are still an error.

#[path = "support/cli.rs"]
mod support;

use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");

/// A run log whose last line was cut in the middle of a `✓` (and `bad.jsonl`, where that cut
/// line is followed by a complete one). Returns the directory, the torn log and its number of
/// lines.
async fn torn_log() -> (tempfile::TempDir, std::path::PathBuf, usize) {
    let server =
        TestServer::builder().script([Reply::text("done ✓✓✓")]).start().await.expect("server");
    let dir = support::project(&[
        ("llm-do.toml", "model = \"openai:m\"\n"),
        ("main.worker", "---\n---\nDo {input}.\n"),
    ]);
    let log = dir.path().join("run.jsonl");
    let out = tokio::task::block_in_place(|| {
        support::output(
            support::command(BIN, Some(&server.base_url()))
                .args(["run", "--log"])
                .arg(&log)
                .arg(dir.path())
                .arg("it"),
        )
    });
    assert_eq!(support::code(&out), 0);
    let bytes = std::fs::read(&log).expect("log");
    // The whole run, then a copy of its last record cut in the middle of its last `✓`.
    let lines = bytes.iter().filter(|b| **b == b'\n').count() + 1;
    let last = bytes[..bytes.len() - 1].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let at = bytes.windows(3).rposition(|w| w == "✓".as_bytes()).expect("a ✓");
    assert!(at > last, "the ✓ is in the last record");
    let mut torn = bytes.clone();
    torn.extend_from_slice(&bytes[last..at + 1]);
    std::fs::write(&log, &torn).expect("write");
    // The same cut line, followed by a complete one.
    torn.extend_from_slice(b"\n");
    torn.extend_from_slice(&bytes[last..]);
    std::fs::write(dir.path().join("bad.jsonl"), torn).expect("write");
    (dir, log, lines)
}

/// `log show` of a log cut in the middle of a character shows the complete records and warns
/// (before: "not UTF-8 text", exit 2); such bytes elsewhere are still an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_show_reads_a_log_cut_in_the_middle_of_a_character() {
    let (dir, log, lines) = torn_log().await;
    let out = support::output(support::command(BIN, None).args(["log", "show"]).arg(&log));
    assert_eq!(support::code(&out), 0, "{}", support::stderr(&out));
    assert!(support::stdout(&out).contains("#1 main"), "{}", support::stdout(&out));
    let err = support::stderr(&out);
    assert!(err.contains(&format!("run.jsonl:{lines}: the last record was cut off")), "{err}");
    let bad = dir.path().join("bad.jsonl");
    let out = support::output(support::command(BIN, None).args(["log", "show"]).arg(&bad));
    assert_eq!(support::code(&out), 2);
    assert!(support::stderr(&out).contains("not UTF-8"), "{}", support::stderr(&out));
}

/// `harden-report` reads such a log too (before: "not UTF-8 text").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harden_report_reads_a_log_cut_in_the_middle_of_a_character() {
    let (_dir, log, _) = torn_log().await;
    let out = support::output(
        support::command(BIN, None)
            .args(["harden-report", "--worker", "main", "--candidate", "rules"])
            .arg(&log),
    );
    let err = support::stderr(&out);
    assert!(!err.contains("not UTF-8"), "{err}");
    assert!(err.contains("no candidate named `rules`"), "the log was read: {err}");
}

/// `harden-report` says that a log's last record was cut off, as `log show` does (before, the
/// record was dropped silently).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harden_report_warns_about_a_torn_last_record() {
    let (_dir, log, lines) = torn_log().await;
    let out = support::output(
        support::command(BIN, None)
            .args(["harden-report", "--worker", "main", "--candidate", "rules"])
            .arg(&log),
    );
    let err = support::stderr(&out);
    assert!(err.contains(&format!("run.jsonl:{lines}: the last record was cut off")), "{err}");
}

/// Two runs given one `--log` FILE: the second is refused at its start, and the first run's
/// log is left as it was. Before, the second truncated the file and both wrote at their own
/// offsets, over each other, leaving neither log readable. Once the first has closed its log,
/// the file is written again.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_on_a_log_being_written_is_refused_and_the_log_left_whole() {
    use llm_do::{Runtime, ToolSpecBuilder};
    use llm_do_cli::run_log::{self, RunLogWriter};
    let server =
        TestServer::builder().script([Reply::text("second")]).start().await.expect("server");
    let dir = support::project(&[
        ("llm-do.toml", "model = \"openai:m\"\n"),
        ("main.worker", "---\n---\nDo {input}.\n"),
    ]);
    let log = dir.path().join("run.jsonl");
    // The first run, in this process: one call of a tool, its log still open.
    let writer = RunLogWriter::create(&log, []).expect("writer");
    let echo = ToolSpecBuilder::new("echo").handler(|_, args| async move { Ok(args) }).build();
    let rt = Runtime::builder().register(echo).subscribe(writer.clone()).build();
    let _: serde_json::Value = rt.ctx().call("echo", serde_json::json!({"a": 1})).await.unwrap();
    writer.finish().expect("flushed");
    let first = std::fs::read(&log).expect("log");
    let second_run = || {
        tokio::task::block_in_place(|| {
            support::output(
                support::command(BIN, Some(&server.base_url()))
                    .args(["run", "--log"])
                    .arg(&log)
                    .arg(dir.path())
                    .arg("it"),
            )
        })
    };
    let out = second_run();
    let err = support::stderr(&out);
    assert_eq!(support::code(&out), 2, "{err}");
    assert!(err.contains("cannot create the run log"), "{err}");
    assert!(err.contains("another run is writing its log to this file"), "{err}");
    assert_eq!(std::fs::read(&log).expect("log"), first, "the first run's log was changed");
    let names: Vec<String> = run_log::read(&log).unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["echo", "echo"]);

    drop((rt, writer));
    let out = second_run();
    assert_eq!(support::code(&out), 0, "{}", support::stderr(&out));
    let records = run_log::read(&log).unwrap();
    assert!(records.iter().all(|r| r.name == "main"), "{records:?}");
}
