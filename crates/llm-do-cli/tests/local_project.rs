//! The example project `examples/projects/hello` on the embedded model (`local:smollm2`),
//! offline and without an API key: the run completes, and its answer greets the person named
//! in the input (the project gives the 135M-parameter model a copying task under a grammar,
//! at temperature 0, which it does right).

#[path = "support/cli.rs"]
mod support;

use llm_do_cli::run_log;
use serde_json::Value;
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");

#[test]
fn the_hello_project_runs_on_the_embedded_model() {
    let hello = repo_root().join("examples/projects/hello");
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("run.jsonl");
    let out = output(
        command(BIN, None)
            .args(["run", "--json", "--approve-all", "--log"])
            .arg(&log)
            .arg(&hello)
            .arg("Ada"),
    );
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains("embedded local model local:smollm2"), "the default is said");
    let result: Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
    assert_eq!(result["ok"], true);
    let answer = result["output"].as_str().unwrap_or_else(|| panic!("text output: {result}"));
    assert!(answer.contains("Ada"), "the answer names Ada: {answer:?}");
    assert!(result["usage"]["requests"].as_u64().unwrap_or(0) >= 1, "{result}");
    assert!(result["usage"]["output_tokens"].as_u64().unwrap_or(0) >= 1, "{result}");

    let records = run_log::read(&log).expect("log");
    let main = run_log::worker_calls(&records, "main");
    assert_eq!(main.len(), 1);
    assert_eq!(main[0].model.as_deref(), Some("local:smollm2"));
    assert_eq!(main[0].output.as_ref(), Some(&result["output"]));
    // The greeting worker was called, and its answers match its output schema's pattern.
    let greetings = run_log::worker_calls(&records, "greeting");
    assert!(!greetings.is_empty(), "main called the greeting worker");
    for call in greetings {
        if let Some(out) = call.output {
            let greeting = out["greeting"].as_str().unwrap_or_default();
            assert!(greeting.ends_with('!') && greeting.contains(", "), "{out}");
        }
    }

    // `check` and `list` on the example project.
    let out = output(command(BIN, None).args(["check"]).arg(&hello));
    assert_eq!(code(&out), 0);
    let shown = output(command(BIN, None).args(["log", "show"]).arg(&log));
    assert!(stdout(&shown).starts_with("#1 main [worker local:smollm2] ok"), "{}", stdout(&shown));
}
