//! One rule for secrets: a credential that passes through a run (in the caller's input, the
//! model's answer and a tool call's arguments) is redacted from the run log exactly as it is
//! from a cassette recorded of the same run — both go through `llm_do::secrets`.

use llm_do::prelude::*;
use llm_do::testing::cassette::RecordingModel;
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::{ToolSpecBuilder, WorkerSpecBuilder};
use llm_do_cli::run_log::{self, REDACTED, RunLogWriter};

const TOKEN: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";

#[tokio::test]
async fn a_github_token_is_redacted_from_the_run_log_as_from_the_cassette() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (log_path, cassette_path) = (dir.path().join("run.jsonl"), dir.path().join("c.json"));
    let echo = ToolSpecBuilder::new("echo").handler(|_, args| async move { Ok(args) }).build();
    let worker = WorkerSpecBuilder::new("deployer")
        .prompt("{input}")
        .tool_name("echo")
        .build()
        .expect("worker");
    let model = ScriptedModel::queue([
        Reply::tool_call("echo", json!({"text": format!("pushing with {TOKEN}")})),
        Reply::text(format!("done; the token was {TOKEN}")),
    ]);
    let recorder = RecordingModel::create(model, &cassette_path).expect("cassette");
    let writer = RunLogWriter::create(&log_path, [&worker]).expect("run log");
    let rt = Runtime::builder()
        .register(worker)
        .register(echo)
        .model_override(recorder)
        .subscribe(writer.clone())
        .build();
    let out: String = rt
        .ctx()
        .call("deployer", json!({"input": format!("deploy with {TOKEN}")}))
        .await
        .expect("run");
    writer.finish().expect("log written");
    // The caller gets the real answer: redaction is for what is written down.
    assert!(out.contains(TOKEN));

    let log = std::fs::read_to_string(&log_path).expect("log");
    let cassette = std::fs::read_to_string(&cassette_path).expect("cassette");
    for (what, text) in [("run log", &log), ("cassette", &cassette)] {
        assert!(!text.contains("ghp_"), "{what} leaks the token:\n{text}");
        assert!(text.contains(REDACTED), "{what} shows no redaction:\n{text}");
    }
    // The log still has every event, the input and the output among them, redacted.
    let records = run_log::read(&log_path).expect("log parses");
    let calls = run_log::worker_calls(&records, "deployer");
    assert_eq!(calls[0].input, json!({"input": format!("deploy with {REDACTED}")}));
    assert_eq!(calls[0].output, Some(json!(format!("done; the token was {REDACTED}"))));
    let tool = run_log::worker_calls(&records, "echo");
    assert_eq!(tool[0].input, json!({"text": format!("pushing with {REDACTED}")}));
}

/// Webhook URLs are credentials without a key's prefix: a Slack or Discord webhook passing
/// through a run reaches the run log with its host and fixed path visible and the rest
/// redacted (before, whole), as does a database URL's password.
#[tokio::test]
async fn webhook_urls_and_url_passwords_are_redacted_from_the_run_log() {
    const SLACK: &str =
        "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/XyZ0123456789abcdefghij";
    const DISCORD: &str =
        "https://discord.com/api/webhooks/112233445566778899/Tok-0123456789_abcdefXYZ";
    const DATABASE: &str = "postgres://app:pg-Pa55word-99@db.example:5432/prod";
    let dir = tempfile::tempdir().expect("temp dir");
    let log_path = dir.path().join("run.jsonl");
    let worker = WorkerSpecBuilder::new("notifier").prompt("{input}").build().expect("worker");
    let model = ScriptedModel::queue([Reply::text(format!("posted to {DISCORD}"))]);
    let writer = RunLogWriter::create(&log_path, [&worker]).expect("run log");
    let rt =
        Runtime::builder().register(worker).model_override(model).subscribe(writer.clone()).build();
    let input = format!("notify {SLACK} with {DATABASE}");
    let _: String = rt.ctx().call("notifier", json!({ "input": input })).await.expect("run");
    writer.finish().expect("log written");

    let log = std::fs::read_to_string(&log_path).expect("log");
    for secret in ["XyZ0123456789abcdefghij", "Tok-0123456789_abcdefXYZ", "pg-Pa55word-99"] {
        assert!(!log.contains(secret), "the run log leaks {secret}:\n{log}");
    }
    let records = run_log::read(&log_path).expect("log parses");
    let calls = run_log::worker_calls(&records, "notifier");
    let input = format!(
        "notify https://hooks.slack.com/services/{REDACTED} with postgres://app:{REDACTED}@db.example:5432/prod"
    );
    assert_eq!(calls[0].input, json!({ "input": input }));
    let output = format!("posted to https://discord.com/api/webhooks/{REDACTED}");
    assert_eq!(calls[0].output, Some(json!(output)));
}
