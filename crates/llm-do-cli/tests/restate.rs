//! `llm-do restate serve PROJECT` against a real Restate server (`LLM_DO_TEST_RESTATE_SERVER`,
//! installed by `.ci/run`) and the loopback test server: an approval wait survives a restart
//! of the service and resumes through `llm-do restate approve ID`; `--deny` ends the run with
//! the denial error; `llm-do restate cancel` ends a waiting run; `submit` and `output` start
//! runs and print their results; errors of the command are clear; `--log DIR` and `llm-do restate events`
//! give each run's records in the `llm-do run --log` schema. Every wait is bounded.

#[path = "support/cli.rs"]
mod support;

use llm_do_restate::{Client, DurableError, LocalServer, PendingApproval};
use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::json;
use std::time::{Duration, Instant};
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");
const WAIT: Duration = Duration::from_secs(60);
const CONFIG: &str = "entry = \"main\"\nmodel = \"openai:test-model\"\n[approval]\nrules = [{ tool = \"helper\", verdict = \"ask\" }]\n";
/// The file's `model:` is overridden by `serve --model` (as `run --model` does).
const MAIN: &str = "---\ndescription: Answers, asking the helper first.\nmodel: openai:file-model\ntools: [helper]\n---\nAnswer {input}.\n";
const HELPER: &str = "---\ndescription: Helps with one question.\n---\nHelp with {input}.\n";
/// A worker whose `budget:` holds for each of its durable runs.
const CAPPED: &str =
    "---\ndescription: Answers briefly.\nbudget: {tokens: 50}\n---\nAnswer {input}.\n";

fn serve(dir: &std::path::Path, port: u16, model_url: &str, admin: &str) -> tokio::process::Child {
    let mut cmd = command(BIN, Some(model_url));
    cmd.args(["restate", "serve"]).arg(dir).args([
        "--port",
        &port.to_string(),
        "--register",
        admin,
        "--retention-days",
        "3",
        "--model",
        "openai:flag-model",
        "--log",
    ]);
    cmd.arg(dir.join("runs"));
    // Its stderr, kept across restarts (SERVE_ERR in the project directory).
    let err = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(SERVE_ERR));
    cmd.stderr(err.expect("the service's stderr file"));
    tokio::process::Command::from(cmd).kill_on_drop(true).spawn().expect("llm-do restate serve")
}

/// The file in the project directory that holds the stderr of `serve`'s services.
const SERVE_ERR: &str = "serve.err";

/// A secret a model wrote into a call's arguments.
const KEY: &str = "sk-abcdefghijklmnopqrstuvwxyz0123";

async fn wait_pending(client: &Client, run_id: &str) -> Vec<PendingApproval> {
    let started = Instant::now();
    loop {
        match client.pending(run_id).await {
            Ok(p) if !p.is_empty() => return p,
            Ok(_) | Err(DurableError::NotRegistered { .. }) => {}
            Err(e) => panic!("{e}"),
        }
        assert!(started.elapsed() < WAIT, "timed out waiting for an approval of {run_id}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn submit(client: &Client, run_id: &str) {
    let started = Instant::now();
    loop {
        match client.submit(run_id, "main", json!({"input": "the sky"})).await {
            Ok(()) => return,
            // `serve` registers itself once listening.
            Err(DurableError::NotRegistered { .. }) if started.elapsed() < WAIT => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("{e}"),
        }
    }
}

fn approve(ingress: &str, args: &[&str]) -> std::process::Output {
    output(command(BIN, None).args(["restate", "approve"]).args(args).args(["--ingress", ingress]))
}

/// `--model` is `llm-do run`'s flag: same help, same check, before anything is served.
#[test]
fn serve_takes_run_s_model_flag() {
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", MAIN), ("helper.worker", HELPER)]);
    let help = output(command(BIN, None).args(["restate", "serve", "--help"]));
    let run_help = output(command(BIN, None).args(["run", "--help"]));
    // The flag's lines, up to the next flag, in one line.
    let model_help = |out: &std::process::Output| {
        let text = stdout(out);
        let mut lines = text.lines().skip_while(|l| !l.trim_start().starts_with("--model"));
        let first = lines.next().expect("--model in the help").to_owned();
        let rest = lines.take_while(|l| !l.trim_start().starts_with('-'));
        let all: Vec<&str> =
            std::iter::once(first.as_str()).chain(rest).flat_map(str::split_whitespace).collect();
        all.join(" ")
    };
    assert!(model_help(&help).contains("The model of every file worker"), "{}", stdout(&help));
    assert_eq!(model_help(&help), model_help(&run_help));
    let out = output(
        command(BIN, None)
            .args(["restate", "serve"])
            .arg(dir.path())
            .args(["--port", "0", "--model", "nocolon"]),
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--model:"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_of_a_served_project_wait_across_restarts_and_are_answered_by_the_command() {
    let Some(binary) = LocalServer::find_binary() else {
        assert!(std::env::var_os("CI").is_none(), "{} is not set", llm_do_restate::SERVER_ENV);
        eprintln!("note: skipped: no Restate server ({} unset)", llm_do_restate::SERVER_ENV);
        return;
    };
    let dir = project(&[
        ("llm-do.toml", CONFIG),
        ("main.worker", MAIN),
        ("helper.worker", HELPER),
        ("capped.worker", CAPPED),
    ]);
    let data = tempfile::tempdir().unwrap();
    let restate = LocalServer::start(&binary, data.path()).await.unwrap();
    let models = TestServer::builder()
        .script([
            Reply::tool_call("helper", json!({"input": "the sky"})),
            Reply::text("it is blue"),
            Reply::text("The sky is blue."),
            // A model's hostile words in the arguments `restate pending` shows.
            Reply::tool_call("helper", json!({"input": format!("the sea\u{9b}2J {KEY}")})),
            Reply::tool_call("helper", json!({"input": "the sky"})),
            Reply::text("A long answer.").with_tokens(100, 20),
        ])
        .start()
        .await
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = restate.client();
    let service = serve(dir.path(), port, &models.base_url(), restate.admin_url());
    submit(&client, "cli-run").await;
    let pending = wait_pending(&client, "cli-run").await;
    assert_eq!(pending[0].tool, "helper");
    // --retention-days: finished runs and their records are kept 3 days.
    let services = format!("{}/services/LlmDo", restate.admin_url());
    let info: serde_json::Value =
        llm_do_openai::http::client().get(&services).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["workflow_completion_retention"], "3d", "{info}");

    // The service dies and comes back: the run still waits, then goes on when approved.
    let mut service = service;
    service.start_kill().unwrap();
    tokio::time::timeout(WAIT, service.wait()).await.unwrap().unwrap();
    let mut service = serve(dir.path(), port, &models.base_url(), restate.admin_url());
    let out = approve(restate.ingress_url(), &[&pending[0].id]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // `output` waits for it and prints the result as `llm-do run` does.
    let out = output(command(BIN, None).args([
        "restate",
        "output",
        "cli-run",
        "--timeout",
        "60",
        "--ingress",
        restate.ingress_url(),
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "The sky is blue.\n");
    assert!(stderr(&out).contains("3 requests"), "{}", stderr(&out));
    assert_eq!(models.request_count(), 3);
    // --model is the model of every file worker, the one that names its own included.
    let asked: Vec<_> = models.requests().into_iter().map(|r| r.body["model"].clone()).collect();
    assert_eq!(asked, vec![json!("flag-model"); 3]);

    // The run's records: run-log records, on stdout of `events` and in DIR/RUN_ID.jsonl.
    let out = output(command(BIN, None).args([
        "restate",
        "events",
        "cli-run",
        "--ingress",
        restate.ingress_url(),
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("run cli-run succeeded"), "{}", stderr(&out));
    assert!(stderr(&out).contains("3 requests"), "{}", stderr(&out));
    let printed = String::from_utf8(out.stdout).unwrap();
    let records: Vec<llm_do_cli::run_log::LogRecord> =
        printed.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let events: Vec<(&str, &str)> =
        records.iter().map(|r| (r.name.as_str(), r.event.as_str())).collect();
    assert_eq!(events.first(), Some(&("main", "call_started")));
    assert_eq!(events.last(), Some(&("main", "call_finished")));
    assert_eq!(events.iter().filter(|e| e.1 == "model_request").count(), 3);
    assert_eq!(events.iter().filter(|e| **e == ("helper", "call_started")).count(), 1);
    assert_eq!(events.iter().filter(|e| e.1 == "approval_requested").count(), 1);
    assert!(records.iter().enumerate().all(|(i, r)| r.seq == i as u64 + 1));
    assert!(records[0].spec.as_ref().is_some_and(|s| s.hash.starts_with("sha256:")));
    let logged = llm_do_cli::run_log::read(dir.path().join("runs/cli-run.jsonl")).unwrap();
    assert_eq!(logged, records);
    let tree =
        output(command(BIN, None).args(["log", "show"]).arg(dir.path().join("runs/cli-run.jsonl")));
    assert_eq!(code(&tree), 0, "{}", stderr(&tree));

    // --deny: the run ends with the denial error.
    submit(&client, "cli-deny").await;
    let pending = wait_pending(&client, "cli-deny").await;
    // `pending` shows them as JSON data: the secret redacted, the CSI a JSON escape.
    let out = output(command(BIN, None).args([
        "restate",
        "pending",
        "cli-deny",
        "--ingress",
        restate.ingress_url(),
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(!shown.contains(KEY) && !shown.contains('\u{9b}'), "{shown}");
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown[0]["id"], pending[0].id.as_str());
    assert_eq!(shown[0]["args"]["input"], "the sea\u{9b}2J [redacted]", "{shown}");
    // The service's own line about the wait names the call, without the secret.
    let logged = std::fs::read_to_string(dir.path().join(SERVE_ERR)).unwrap();
    let waits =
        logged.lines().filter(|l| l.contains("cli-deny") && l.contains("waits for approval"));
    let waits: Vec<&str> = waits.collect();
    assert!(waits.len() == 1 && waits[0].contains("[redacted]"), "{logged}");
    assert!(!logged.contains(KEY), "{logged}");
    let out = approve(restate.ingress_url(), &[&pending[0].id, "--deny", "--reason", "not now"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    match client.output("cli-deny", WAIT).await.unwrap_err() {
        DurableError::Run { kind, message } => {
            assert_eq!(kind, llm_do::error::ErrorKind::Denied);
            assert!(message.contains("not now"), "{message}");
        }
        other => panic!("unexpected {other}"),
    }
    assert_eq!(models.request_count(), 4, "the helper never ran");
    let out = output(command(BIN, None).args([
        "restate",
        "events",
        "cli-deny",
        "--json",
        "--ingress",
        restate.ingress_url(),
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&record["status"], &record["failure"]["kind"]),
        (&json!("failed"), &json!("denied"))
    );
    assert_eq!(record["usage"]["requests"], 1);
    // `cancel`: the run waiting for an approval ends, cancelled, with the reason given.
    submit(&client, "cli-cancel").await;
    wait_pending(&client, "cli-cancel").await;
    let cancel = |args: &[&str]| {
        output(
            command(BIN, None)
                .args(["restate", "cancel"])
                .args(args)
                .args(["--ingress", restate.ingress_url()]),
        )
    };
    let out = cancel(&["cli-cancel", "--reason", "changed my mind"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("cancelled run cli-cancel"), "{}", stderr(&out));
    match client.output("cli-cancel", WAIT).await.unwrap_err() {
        DurableError::Run { kind, message } => {
            assert_eq!(kind, llm_do::error::ErrorKind::Cancelled);
            assert!(message.contains("changed my mind"), "{message}");
        }
        other => panic!("unexpected {other}"),
    }
    assert_eq!(models.request_count(), 5, "the helper never ran");
    let out = cancel(&["cli-cancel"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("had already ended"), "{}", stderr(&out));
    let out = cancel(&["nope"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("no run `nope`"), "{}", stderr(&out));
    // A worker file's `budget:` holds for its durable runs (before, only llm-do.toml's did).
    // Submitted and waited for by `submit --wait`: the run's failure, exit 1.
    let submit_cmd = |args: &[&str]| {
        output(
            command(BIN, None)
                .args(["restate", "submit"])
                .args(args)
                .args(["--ingress", restate.ingress_url()]),
        )
    };
    let out = submit_cmd(&["cli-capped", "capped", "the sun", "--wait", "60"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("run budget exceeded: total tokens used 120, limit 50"),
        "{}",
        stderr(&out)
    );
    assert_eq!(models.request_count(), 6);
    match client.output("cli-capped", WAIT).await.unwrap_err() {
        DurableError::Run { kind, .. } => {
            assert_eq!(kind, llm_do::error::ErrorKind::BudgetExceeded)
        }
        other => panic!("unexpected {other}"),
    }
    // The same id with the same worker and input is the same run (its failure again, no new
    // model request); with another input or worker it is refused (exit 2), not answered with
    // that run's outcome.
    let out = submit_cmd(&["cli-capped", "capped", "the sun", "--wait", "60"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("run budget exceeded"), "{}", stderr(&out));
    assert_eq!(models.request_count(), 6);
    let out = submit_cmd(&["cli-capped", "capped", "the moon", "--wait", "60"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("`cli-capped` is taken by an earlier run of `capped` with another input"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("the moon"), "{}", stderr(&out));
    let out = submit_cmd(&["cli-capped", "main", "the sun"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("of another worker (`capped`, not `main`)"), "{}", stderr(&out));
    assert_eq!(models.request_count(), 6);
    // Input that is not JSON, and an id that cannot be one: usage errors, nothing submitted.
    let out = submit_cmd(&["cli-bad", "capped", "--input-json", "{nope"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--input-json is not valid JSON"), "{}", stderr(&out));
    let out = submit_cmd(&["../x", "capped", "hi"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    // A worker the service does not have: submitted, then a usage error when waited for.
    let out = submit_cmd(&["cli-unknown", "nobody", "--input-json", "{}"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("submitted run cli-unknown"), "{}", stderr(&out));
    let out = output(command(BIN, None).args([
        "restate",
        "output",
        "cli-unknown",
        "--ingress",
        restate.ingress_url(),
    ]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("nobody"), "{}", stderr(&out));
    // A run never submitted: a clear error, exit 1.
    let out = output(command(BIN, None).args([
        "restate",
        "events",
        "nope",
        "--ingress",
        restate.ingress_url(),
    ]));
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("no run `nope`"), "{}", stderr(&out));

    // A server that is not there: a clear error, exit 1.
    let out = approve("http://127.0.0.1:9", &["sign_1abc"]);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("unreachable"), "{}", stderr(&out));

    // SIGTERM, as a service manager stops it: the service drains and exits with 0.
    #[cfg(unix)]
    {
        let pid = rustix::process::Pid::from_raw(service.id().unwrap() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let status = tokio::time::timeout(WAIT, service.wait()).await.unwrap().unwrap();
        assert_eq!(status.code(), Some(0), "{status}");
    }
    #[cfg(not(unix))]
    {
        service.start_kill().unwrap();
        let _ = tokio::time::timeout(WAIT, service.wait()).await;
    }
    restate.stop().await;
}
