//! Hostile input at the command line, part two (issue 15, items 4, 5, 7, 8 and 9; part one,
//! `hostile.rs`, covers crashes, hangs, budgets and torn logs), against the loopback test
//! server:
//!
//! - SIGTERM / SIGINT / SIGHUP while a shell tool runs: the command is killed with the run; a
//!   SIGHUP ignored from the start (`nohup`) stays ignored;
//! - secrets from the shared corpus (`tests/fixtures/secrets.json`), in tool arguments and
//!   echoed back by the server, reach neither stdout, nor stderr at `-vv`, nor the run log;
//! - escape sequences in model text, tool names and server error bodies never reach stderr;
//! - a bad `OPENAI_BASE_URL` or API key is reported as what it is, without the key;
//! - a closed stdout pipe ends the output quietly.

#![cfg(unix)]

#[path = "support/cli.rs"]
mod support;

use llm_do_testing::scripted::Reply;
use llm_do_testkit::{Fault, TestServer};
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");
const CONFIG: &str = "entry = \"main\"\nmodel = \"openai:test-model\"\n";

async fn server(replies: Vec<Reply>) -> TestServer {
    TestServer::builder().script(replies).start().await.expect("test server")
}

// ---------------------------------------------------------------------------------------
// Signals: the shell tool's command dies with the run.

/// `llm-do run --approve-all` on a project whose model runs `sleep SECONDS` with the shell
/// tool, started through `launcher` (a program and its arguments, before llm-do's path): the
/// child, and the pid of `sleep` once it runs. The server and the project must outlive it.
async fn run_sleeping(
    launcher: &[&str],
    seconds: &str,
) -> (std::process::Child, u32, TestServer, tempfile::TempDir) {
    let argv = ["sleep", seconds];
    let srv = server(vec![
        Reply::tool_call("shell", json!({"command": format!("sleep {seconds}")})),
        Reply::text("done"),
    ])
    .await;
    let main = "---\ndescription: Waits.\ntools:\n  - shell: { rules: [ { allow: \"sleep\" } ] }\n---\nWait for {input}.\n";
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", main)]);
    let mut child = command(launcher[0], Some(&srv.base_url()))
        .args(&launcher[1..])
        .arg(BIN)
        .args(["run", "--approve-all"])
        .arg(dir.path())
        .arg("a while")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start llm-do");
    let started = Instant::now();
    let sleeper = loop {
        if let Some(pid) = pids_of(&argv).first() {
            break *pid;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the shell tool never ran sleep");
        if let Ok(Some(status)) = child.try_wait() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "llm-do ended ({status}) before running sleep: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    (child, sleeper, srv, dir)
}

async fn signal_stops_the_shell_command(signal: rustix::process::Signal, seconds: &str, code: i32) {
    let (child, sleeper, _srv, _dir) = run_sleeping(DEFAULT_SIGNALS, seconds).await;
    let cli = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(cli, signal).unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(err.contains("interrupted by"), "{err}");
    // SIGKILL is asynchronous: give the kernel a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(sleeper) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!alive(sleeper), "`sleep {seconds}` (pid {sleeper}) outlived the CLI");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_kills_the_running_shell_command() {
    signal_stops_the_shell_command(rustix::process::Signal::TERM, "306.25", 143).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_kills_the_running_shell_command() {
    signal_stops_the_shell_command(rustix::process::Signal::INT, "307.75", 130).await;
}

/// The terminal was closed: before, SIGHUP ended llm-do on the spot, its run log unfinished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_kills_the_running_shell_command() {
    signal_stops_the_shell_command(rustix::process::Signal::HUP, "308.625", 129).await;
}

/// `nohup llm-do run …`: the SIGHUP of a closed terminal is ignored, and the run goes on to
/// its answer (llm-do does not catch a signal it was started ignoring).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sighup_ignored_from_the_start_stays_ignored() {
    let (child, sleeper, _srv, _dir) = run_sleeping(&["nohup"], "3.875").await;
    let cli = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(cli, rustix::process::Signal::HUP).unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "done", "{err}");
    assert!(!alive(sleeper), "`sleep` ran to its end");
}

// ---------------------------------------------------------------------------------------
// A reader that has gone: `llm-do run … | head -c 0`.

/// stdout (and then stderr too, as with `2>&1 | head`) is a pipe whose reader has gone: the
/// output ends quietly (before, `println!`/`eprintln!` panicked with "failed printing to
/// stdout", in the middle of a run for stderr's live display) and the command keeps its exit
/// code; `list` too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_pipe_ends_the_output_quietly() {
    let srv = server(vec![Reply::text("the answer"); 4]).await;
    let main = "---\ndescription: Answers.\n---\nAnswer {input}.\n";
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", main)]);
    let runs: [&[&str]; 3] = [&["run", "-vv"], &["run", "--json"], &["list"]];
    for closed_stderr in [false, true] {
        for args in runs {
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            let mut cmd = command(BIN, Some(&srv.base_url()));
            cmd.args(args).arg(dir.path());
            if args[0] == "run" {
                cmd.arg("now");
            }
            let stderr = match closed_stderr {
                true => Stdio::from(writer.try_clone().unwrap()),
                false => Stdio::piped(),
            };
            let out = cmd.stdout(writer).stderr(stderr).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            let case = format!("{args:?}, stderr closed: {closed_stderr}: {err}");
            assert!(!err.contains("panicked") && !err.contains("failed printing"), "{case}");
            assert_eq!(out.status.code(), Some(0), "{case}");
        }
    }
    assert_eq!(srv.request_count(), 4, "every run ran");
}

// ---------------------------------------------------------------------------------------
// Secrets: the shared corpus never leaves the process.

fn corpus() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/secrets.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_of_the_corpus_reaches_stdout_stderr_or_the_run_log() {
    let corpus = corpus();
    let entries = corpus["secrets"].as_array().unwrap();
    let texts: Vec<&str> = entries.iter().filter_map(|e| e["text"].as_str()).collect();
    let joined = texts.join("\n");
    // Tool arguments: every text in one string argument (its line breaks become `\n` in the
    // raw JSON text), plus every argument object of the corpus.
    let mut args = json!({"input": joined});
    for e in entries {
        if let Some(obj) = e["args"].as_object() {
            for (k, v) in obj {
                args[k] = v.clone();
            }
        }
    }
    let key = corpus["env"]["OPENAI_API_KEY"].as_str().unwrap();
    let srv = server(vec![
        Reply::tool_call("lookup", args),
        // The server echoes every secret, and the key it was sent, in the answer.
        Reply::text(format!("{joined}\nand your key: {key}")),
    ])
    .await;
    let main = "---\ndescription: Looks things up.\n---\nLook up {input}.\n";
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", main)]);
    let log = dir.path().join("run.jsonl");
    let mut cmd = command(BIN, Some(&srv.base_url()));
    for (name, value) in corpus["env"].as_object().unwrap() {
        cmd.env(name, value.as_str().unwrap());
    }
    let out = output(cmd.args(["run", "-vv", "--log"]).arg(&log).arg(dir.path()).arg("x"));
    assert_eq!(code(&out), 0);
    let (out_text, err_text) = (stdout(&out), stderr(&out));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(err_text.contains("lookup"), "-vv shows the tool call: {err_text}");
    assert!(out_text.contains("and your key: [redacted]"), "{out_text}");
    for e in entries {
        let secret = e["secret"].as_str().unwrap();
        let name = e["name"].as_str().unwrap();
        assert!(!out_text.contains(secret), "{name} on stdout:\n{out_text}");
        assert!(!err_text.contains(secret), "{name} on stderr:\n{err_text}");
        assert!(!logged.contains(secret), "{name} in the run log:\n{logged}");
    }
    // The server did receive the key (it is the request's credential), so the check above
    // is not vacuous.
    assert!(srv.requests()[0].headers.values().any(|v| v.contains("[redacted]")));
    // And --json prints the result redacted too.
    let srv = server(vec![Reply::text(format!("{joined}\nkey: {key}"))]).await;
    let mut cmd = command(BIN, Some(&srv.base_url()));
    for (name, value) in corpus["env"].as_object().unwrap() {
        cmd.env(name, value.as_str().unwrap());
    }
    let out = output(cmd.args(["run", "--json"]).arg(dir.path()).arg("x"));
    let stdout = stdout(&out);
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["ok"], true);
    for e in entries {
        assert!(!stdout.contains(e["secret"].as_str().unwrap()), "{stdout}");
    }
}

// ---------------------------------------------------------------------------------------
// Escape sequences from models and servers never reach the terminal.

/// Control characters that must not appear on stderr.
fn has_controls(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_in_model_text_and_tool_names_are_escaped_on_stderr() {
    let evil_text = "\x1b[2J\x1b[Hall good\r\x1b[32m✓ main ok\x1b[0m\x07";
    let srv = server(vec![
        Reply::tool_call("\x1b]0;pwned\x07lookup", json!({"q": "\x1b[31mred"})),
        Reply::text(evil_text),
    ])
    .await;
    let main = "---\ndescription: Answers.\n---\nAnswer {input}.\n";
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", main)]);
    let log = dir.path().join("run.jsonl");
    let out = output(
        command(BIN, Some(&srv.base_url()))
            .args(["run", "-vv", "--log"])
            .arg(&log)
            .arg(dir.path())
            .arg("x"),
    );
    assert_eq!(code(&out), 0);
    let err = stderr(&out);
    assert!(!has_controls(&err), "raw control characters on stderr: {err:?}");
    assert!(err.contains("\\x1b]0;pwned\\x07lookup"), "the tool name, escaped: {err}");
    assert!(err.contains("\\x1b[2J"), "the model's text, escaped: {err}");
    // stdout is not a terminal here: the result is data and stays as the model wrote it.
    assert_eq!(stdout(&out), format!("{evil_text}\n"));
    // The call tree of `log show` is for people: escaped.
    let shown = output(command(BIN, None).args(["log", "show"]).arg(&log));
    assert_eq!(code(&shown), 0);
    assert!(!has_controls(&stdout(&shown)), "{:?}", stdout(&shown));
}

/// A tool name is the model's choice, and `-v` shows it: its newline is shown as `\n`, so it
/// cannot forge a line of the display (a call that ended well, an approval). Before, only the
/// other control characters were escaped, and the name's newline started a line of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_name_cannot_forge_a_line_of_the_verbose_display() {
    let forged = "lookup\n\u{2713} 9 shell [tool] ok (1ms)";
    let srv = server(vec![Reply::tool_call(forged, json!({"q": "x"})), Reply::text("done")]).await;
    let main = "---\ndescription: Answers.\n---\nAnswer {input}.\n";
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", main)]);
    let out =
        output(command(BIN, Some(&srv.base_url())).args(["run", "-v"]).arg(dir.path()).arg("x"));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("9 shell [tool]")).collect();
    assert_eq!(lines, [r#"  → lookup\n✓ 9 shell [tool] ok (1ms)({"q":"x"})"#], "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_in_a_server_error_body_are_escaped_on_stderr() {
    let srv = TestServer::builder()
        .faults([Fault::Status {
            code: 400,
            retry_after: None,
            message: Some("\x1b[2J\x1b]0;title\x07bad request\r\x1b[32mok".into()),
        }])
        .start()
        .await
        .unwrap();
    let main = "---\ndescription: Answers.\n---\nAnswer {input}.\n";
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", main)]);
    let out = output(command(BIN, Some(&srv.base_url())).args(["run"]).arg(dir.path()).arg("x"));
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("bad request"), "{err}");
    assert!(!has_controls(&err), "raw control characters on stderr: {err:?}");
    assert!(err.contains("\\x1b]0;title\\x07"), "{err}");
    // --json: the error is a JSON string (control characters escaped by JSON itself).
    let out = output(
        command(BIN, Some(&srv.base_url())).args(["run", "--json"]).arg(dir.path()).arg("x"),
    );
    assert!(!has_controls(&stdout(&out)), "{:?}", stdout(&out));
}

// ---------------------------------------------------------------------------------------
// A bad provider configuration says what is wrong.

fn run_with_env(vars: &[(&str, &str)]) -> (i32, String) {
    let main = "---\ndescription: Answers.\n---\nAnswer {input}.\n";
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", main)]);
    let mut cmd = command(BIN, None);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = output(cmd.args(["run"]).arg(dir.path()).arg("x"));
    (code(&out), stderr(&out))
}

#[test]
fn a_bad_base_url_is_reported_as_such() {
    for url in ["not a url", "ftp://127.0.0.1:9/v1", "http://127.0.0.1:9/v1?x=1"] {
        let (code, err) = run_with_env(&[
            ("OPENAI_API_KEY", "sk-test-0123456789abcdefghij"),
            ("OPENAI_BASE_URL", url),
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("OPENAI_BASE_URL"), "{url}: {err}");
        assert!(!err.contains("unknown model provider"), "{url}: {err}");
        assert!(!err.contains("0123456789abcdefghij"), "{url}: {err}");
    }
}

#[test]
fn a_key_that_cannot_be_sent_is_reported_without_showing_it() {
    for key in ["sk-abc\nSECRETPART-0123456789", "sk-abc\rSECRETPART", "sk-\u{1b}SECRETPART"] {
        let (code, err) =
            run_with_env(&[("OPENAI_API_KEY", key), ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("OPENAI_API_KEY"), "{err}");
        assert!(!err.contains("SECRETPART"), "{err}");
        assert!(!err.contains("unknown model provider"), "{err}");
    }
}

/// A variable that is not UTF-8: an unrelated one (an `OLDPWD` left by a directory of such a
/// name) changes nothing — every output's redaction reads the environment, and
/// `std::env::vars()` would panic on it; an `OPENAI_BASE_URL` that is not is reported, not
/// read as unset (which would send the key to OpenAI's server).
#[cfg(unix)]
#[test]
fn a_variable_that_is_not_utf8_is_no_panic_and_a_base_url_that_is_not_is_reported() {
    use std::os::unix::ffi::OsStrExt as _;
    let not_utf8 = std::ffi::OsStr::from_bytes(b"/tmp/caf\xe9");
    let main = "---\ndescription: Answers.\n---\nAnswer {input}.\n";
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", main)]);
    let out = output(command(BIN, None).env("OLDPWD", not_utf8).args(["check"]).arg(dir.path()));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));

    let out = output(
        command(BIN, None)
            .env("OPENAI_API_KEY", "sk-test-0123456789abcdefghij")
            .env("OPENAI_BASE_URL", not_utf8)
            .args(["run"])
            .arg(dir.path())
            .arg("x"),
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    assert!(err.contains("OPENAI_BASE_URL is not UTF-8"), "{err}");
    assert!(!err.contains("0123456789abcdefghij") && !err.contains("panicked"), "{err}");
}

#[test]
fn no_key_at_all_says_which_variable_to_set() {
    let (code, err) = run_with_env(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("OPENAI_API_KEY is not set"), "{err}");
}

#[test]
fn escape_sequences_in_a_project_file_are_escaped_by_list_and_check() {
    // A double-quoted YAML string turns `\e` and `\r` into the control characters themselves.
    let main = "---\ndescription: \"\\e[2J\\e]0;pwned\\aok\\r fake\"\n---\nAnswer {input}.\n";
    let dir = project(&[("llm-do.toml", CONFIG), ("main.worker", main)]);
    let out = output(command(BIN, None).args(["list"]).arg(dir.path()));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let listed = stdout(&out);
    assert!(listed.contains("\\x1b[2J"), "{listed}");
    assert!(!has_controls(&listed), "{listed:?}");
    // --json is data: the description is a JSON string, escaped by JSON itself.
    let out = output(command(BIN, None).args(["list", "--json"]).arg(dir.path()));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let described = v["callables"][0]["description"].as_str().unwrap().to_owned();
    assert!(described.starts_with("\x1b[2J"), "{described:?}");
}

// ---------------------------------------------------------------------------------------
// Approval rules of llm-do.toml hold for every spelling of a path.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deny_rule_in_llm_do_toml_holds_for_every_spelling_of_the_path() {
    let config = format!(
        "{CONFIG}[approval]\nrules = [\n  {{ tool = \"write_file\", verdict = \"deny\", args = {{ \"/path\" = {{ glob = \"secret/**\" }} }} }},\n  {{ tool = \"write_file\", verdict = \"allow\" }},\n]\n"
    );
    let main = "---\ndescription: Writes.\ntools:\n  - filesystem: { root: ./files }\n---\nWrite {input}.\n";
    let dir = project(&[("llm-do.toml", &config), ("main.worker", main)]);
    std::fs::create_dir_all(dir.path().join("files/secret")).unwrap();
    let files = dir.path().join("files").canonicalize().unwrap();
    std::os::unix::fs::symlink("secret", files.join("s")).unwrap();
    let spellings = [
        "./secret/b.txt".to_owned(),
        "secret//b.txt".to_owned(),
        format!("{}/secret/b.txt", files.display()),
        "s/b.txt".to_owned(),
    ];
    let mut replies: Vec<Reply> = spellings
        .iter()
        .map(|p| Reply::tool_call("write_file", json!({"path": p, "content": "pwned"})))
        .collect();
    replies.push(Reply::tool_call("write_file", json!({"path": "./ok.txt", "content": "fine"})));
    replies.push(Reply::text("done"));
    let srv = server(replies).await;
    let log = dir.path().join("run.jsonl");
    let out = output(
        command(BIN, Some(&srv.base_url()))
            .args(["run", "--log"])
            .arg(&log)
            .arg(dir.path())
            .arg("x"),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!files.join("secret/b.txt").exists(), "a spelling got past the deny rule");
    assert_eq!(std::fs::read_to_string(files.join("ok.txt")).unwrap(), "fine");
    let denials = stderr(&out).matches("denied by rule").count();
    assert_eq!(denials, spellings.len(), "{}", stderr(&out));
}

/// A command the shell tool runs (or an MCP server) can read its parent's initial environment
/// in `/proc/PID/environ`: llm-do blanks every value there, not only those of variables named
/// like secrets — a database URL with its password is not — and still reads them itself.
#[cfg(target_os = "linux")]
#[test]
fn the_environment_in_proc_holds_no_value_of_llm_dos() {
    use std::io::BufRead as _;
    let password = "Pw0rdXYZ-proc-environ";
    let mut child = command(BIN, None)
        .env("DATABASE_URL", format!("postgres://app:{password}@db/prod"))
        .env("OPENAI_API_KEY", "sk-test-0123456789abcdefghij")
        .env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        .args(["serve", "--model", "openai:test-model", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("llm-do serve");
    // Serving: the environment was rewritten at the start of main.
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let environ = std::fs::read(format!("/proc/{}/environ", child.id()));
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("http://"), "{line}");
    let environ = environ.expect("readable by its parent's user");
    let environ = String::from_utf8_lossy(&environ);
    assert!(environ.contains("DATABASE_URL=") && environ.contains("OPENAI_API_KEY="), "{environ}");
    assert!(!environ.contains(password), "{environ}");
    assert!(!environ.contains("0123456789abcdefghij") && !environ.contains("127.0.0.1:9"));
}

/// A model string with control characters (a double-quoted YAML string turns `\e`, `\a` and
/// `\n` into them) is refused by `check` at its line, in a `.worker` file, an `.agent` file
/// and `llm-do.toml` alike, and shown on one line, escaped. Before, it was accepted, and `list`
/// printed its newline and escape sequence.
#[test]
fn a_model_string_with_control_characters_is_refused_by_check() {
    let model = "model: \"openai:\\e]0;pwned\\agpt\\n\"\n";
    let worker = format!("---\n{model}---\nAnswer {{input}}.\n");
    let workers = project(&[("llm-do.toml", CONFIG), ("main.worker", &worker)]);
    let agent = format!("---\nname: main\n{model}---\nAnswer.\n");
    let manifest = r#"{"version": 1, "runtime": {}, "entry": {"agent": "main"}, "agent_files": ["main.agent"]}"#;
    let agents = project(&[("project.json", manifest), ("main.agent", &agent)]);
    let toml = "entry = \"main\"\nmodel = \"openai:\\u001b]0;pwned\\u0007gpt\\n\"\n";
    let config = project(&[("llm-do.toml", toml), ("main.worker", "---\n---\nAnswer {input}.\n")]);
    let why = ": a model string must not contain a control character";
    for (dir, at, why) in [
        (&workers, "main.worker:2:", why),
        (&agents, "main.agent:3:", why),
        (&config, "llm-do.toml:2:", ""),
    ] {
        let out = output(command(BIN, None).args(["check"]).arg(dir.path()));
        assert_eq!(code(&out), 2, "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(at), "{err}");
        assert!(
            err.contains(&format!("invalid model string `openai:\\x1b]0;pwned\\x07gpt\\n`{why}")),
            "{err}"
        );
        assert_eq!(
            err.lines().nth(1),
            Some(&*format!("llm-do: 1 problem found in {}", dir.path().display()))
        );
        assert_eq!(err.lines().count(), 2, "{err}");
        assert!(!has_controls(&err), "{err:?}");
    }
}
