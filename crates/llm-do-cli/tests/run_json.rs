//! `run --json` prints exactly one JSON object on stdout, whatever happens: also when the
//! project's MCP servers do not start (a server that cannot be started, a `${VAR}` that is not
//! set), and the message of a run that could not start has its secrets redacted there as on
//! stderr. The JSON the CLI prints (`run --json`, `list --json`, a structured result) carries
//! no character a terminal acts on: DEL, C1 controls and bidirectional overrides, which
//! serde_json writes as they are, are JSON escapes there.

#[path = "support/cli.rs"]
mod support;

use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::{Value, json};
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

/// The characters a terminal acts on that serde_json leaves as they are: DEL, CSI (C1), a
/// right-to-left override.
const HOSTILE: &str = "red\u{7f}\u{9b}31m \u{202e}txt.exe";

/// No raw terminal-active character in `text`, and every one of [`HOSTILE`]'s as a JSON escape.
fn assert_escaped(text: &str) {
    assert!(!text.contains(['\u{7f}', '\u{9b}', '\u{202e}']), "{text:?}");
    for escape in ["\\u007f", "\\u009b", "\\u202e"] {
        assert!(text.contains(escape), "{escape} in {text:?}");
    }
}

/// The JSON a command that succeeded printed: no terminal-active character raw, and, read back,
/// the same value (the escapes are JSON's own).
fn escaped_json(out: &std::process::Output) -> Value {
    assert_eq!(code(out), 0, "{}", stderr(out));
    let text = stdout(out);
    assert_escaped(&text);
    serde_json::from_str(text.trim()).expect("one JSON value")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_printed_escapes_what_a_terminal_would_act_on() {
    let server = TestServer::builder()
        .script(vec![Reply::text(HOSTILE), Reply::text(json!({"name": HOSTILE}).to_string())])
        .start()
        .await
        .expect("test server");
    let config = ("llm-do.toml", "model = \"openai:test-model\"\n");
    let dir = project(&[config, WORKER]);
    let out = output(
        command(BIN, Some(&server.base_url())).args(["run", "--json"]).arg(dir.path()).arg("x"),
    );
    let value = escaped_json(&out);
    assert_eq!(value["output"], HOSTILE);

    // A structured result, pretty-printed on stdout.
    let shaped = "---\noutput:\n  type: object\n  properties: {name: {type: string}}\n  required: [name]\n---\nName {input}.\n";
    let dir = project(&[config, ("main.worker", shaped)]);
    let out = output(command(BIN, Some(&server.base_url())).arg("run").arg(dir.path()).arg("x"));
    let value = escaped_json(&out);
    assert_eq!(value["name"], HOSTILE);

    // A worker file's description, as `list --json` shows it.
    // YAML's own escapes, so the file holds no raw control character.
    let described = "---\ndescription: \"red\\x7f\\u009b31m \\u202etxt.exe\"\n---\nHi {input}.\n";
    let dir = project(&[config, ("main.worker", described)]);
    let out = output(command(BIN, None).args(["list", "--json"]).arg(dir.path()));
    let value = escaped_json(&out);
    assert_eq!(value["callables"][0]["description"], HOSTILE);
}
