//! `run --json` prints exactly one JSON object on stdout, whatever happens: also when the
//! project's MCP servers do not start (a server that cannot be started, a `${VAR}` that is not
//! set), and the message of a run that could not start has its secrets redacted there as on
//! stderr.

#[path = "support/cli.rs"]
mod support;

use serde_json::Value;
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");

/// The one JSON object of `run --json` on the project of `files`, with its exit code.
fn run_json(files: &[(&str, &str)], extra: &[&str]) -> (i32, Value, String) {
    let dir = project(files);
    let out = output(command(BIN, None).args(["run", "--json"]).args(extra).arg(dir.path()));
    let text = stdout(&out);
    let value: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {text:?}"));
    (code(&out), value, stderr(&out))
}

const WORKER: (&str, &str) = ("main.worker", "---\n---\nHello {input}.\n");

#[test]
fn servers_that_do_not_start_still_give_the_json_object() {
    let (code, value, err) = run_json(
        &[WORKER, ("llm-do.toml", "[mcp.s]\ncommand = \"/nonexistent/llm-do-no-such-server\"\n")],
        &[],
    );
    assert_eq!(code, 2);
    assert_eq!(value["ok"], false);
    assert_eq!(value["usage"]["requests"], 0);
    let error = value["error"].as_str().unwrap();
    assert!(error.contains("MCP server `s` could not be started"), "{error}");
    assert!(err.contains("MCP server `s` could not be started"), "{err}");

    let (code, value, _) = run_json(
        &[
            WORKER,
            ("llm-do.toml", "[mcp.s]\ncommand = \"srv\"\nargs = [\"${LLM_DO_TEST_UNSET_VAR}\"]\n"),
        ],
        &[],
    );
    assert_eq!(code, 2);
    let error = value["error"].as_str().unwrap();
    assert!(
        error.ends_with(
            "llm-do.toml: error: MCP server `s`: `args[0]`: the environment variable \
             `LLM_DO_TEST_UNSET_VAR` is not set"
        ),
        "{error}"
    );
}

#[test]
fn the_message_of_a_run_that_did_not_start_is_redacted() {
    let key = "sk-abcdefghijklmnopqrstuvwxyz0123";
    let input = format!("{{\"input\": [\"{key}\"]}}");
    let (code, value, err) = run_json(&[WORKER], &["--input-json", &input]);
    assert_eq!(code, 2);
    let error = value["error"].as_str().unwrap();
    assert!(error.starts_with("--input-json does not fit the input schema of `main`"), "{error}");
    assert!(error.contains("[redacted]") && !error.contains(key), "{error}");
    assert!(!err.contains(key), "{err}");
}
