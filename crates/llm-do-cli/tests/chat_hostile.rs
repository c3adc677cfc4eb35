//! `llm-do chat` against hostile answers and input: secrets in answers (piped, on a terminal,
//! in the run log and in a saved conversation), escape sequences in what reaches stderr,
//! usage of failed turns, input that is not UTF-8 and structured answers on a terminal.
//!
//! The terminal tests are skipped, with the reason printed, only when tmux is not installed.

#[path = "support/cli.rs"]
mod support;
#[path = "support/tmux.rs"]
mod tmux;

use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");

/// The provider key of these tests, a secret by its `sk-` prefix and by its variable's name.
const KEY: &str = "sk-proj-abcdef1234567890abcdefXYZ";
/// A secret known only by its variable's name (`MYAPP_TOKEN`).
const TOKEN: &str = "hunter2hunter2";

/// The answer of a model that leaks both.
fn leaking_answer() -> String {
    format!("your key is {KEY} and token {TOKEN}")
}

/// A project whose entry worker `main` chats.
fn project(worker: &str) -> tempfile::TempDir {
    support::project(&[
        ("llm-do.toml", "model = \"openai:m\"\nentry = \"main\"\n"),
        ("main.worker", worker),
    ])
}

const CHATS: &str = "---\ndescription: Chats.\n---\n{input}\n";

/// `llm-do chat ARGS DIR` with `input` on stdin, the secrets in its environment.
fn chat(
    server: &TestServer,
    dir: &std::path::Path,
    args: &[&str],
    input: &str,
) -> std::process::Output {
    let mut cmd = support::command(BIN, Some(&server.base_url()));
    cmd.env("OPENAI_API_KEY", KEY).env("MYAPP_TOKEN", TOKEN);
    support::output_with_stdin(cmd.arg("chat").args(args).arg(dir), input)
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in [KEY, TOKEN, "abcdef1234567890", "hunter2"] {
        assert!(!text.contains(secret), "{what} shows `{secret}`:\n{text}");
    }
}

/// Piped chat redacts secrets on stdout, with and without `--json`, as `llm-do run` does, and
/// `/save` writes the conversation redacted (before, both held the key and the token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_chat_redacts_secrets_on_stdout_and_in_a_saved_conversation() {
    let server = TestServer::builder()
        .script([Reply::text(leaking_answer()), Reply::text(leaking_answer())])
        .start()
        .await
        .expect("server");
    let dir = project(CHATS);
    let d = dir.path();
    let out = tokio::task::block_in_place(|| chat(&server, d, &[], "k1\n"));
    assert_eq!(support::code(&out), 0);
    assert_eq!(support::stdout(&out), "your key is [redacted] and token [redacted]\n");
    let saved = d.join("saved.json");
    let input = format!("k2\n/save {}\n", saved.display());
    let out = tokio::task::block_in_place(|| chat(&server, d, &["--json"], &input));
    assert_eq!(support::code(&out), 0);
    let stdout = support::stdout(&out);
    assert_no_secret("stdout with --json", &stdout);
    let first: Value =
        serde_json::from_str(stdout.lines().next().unwrap_or_default()).expect("JSON");
    assert_eq!(first["output"], "your key is [redacted] and token [redacted]");
    let saved = std::fs::read_to_string(&saved).expect("the saved conversation");
    assert_no_secret("the saved conversation", &saved);
    assert!(saved.contains("your key is [redacted] and token [redacted]"), "{saved}");
    // The redacted conversation is still one that loads.
    let mut conversation = llm_do::Conversation::new();
    conversation.load_json(&saved).expect("it loads");
    assert_eq!(conversation.turns(), 1);
}

/// Writes `d/chat.sh`, the script a tmux pane runs: `llm-do chat ARGS d` against `server`
/// with the secrets in its environment; its exit code then goes to `d/code.txt`.
fn chat_script(server: &TestServer, d: &std::path::Path, args: &str) -> std::path::PathBuf {
    let script = d.join("chat.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntrap : INT\nunset LLM_DO_MODEL\nexport OPENAI_API_KEY='{KEY}' MYAPP_TOKEN='{TOKEN}' OPENAI_BASE_URL='{url}' LLM_DO_CHAT_HISTORY='{d}/history'\n'{BIN}' chat {args} '{d}'\necho $? > '{d}/code.tmp'\nmv '{d}/code.tmp' '{d}/code.txt'\nsleep 30\n",
            url = server.base_url(),
            d = d.display()
        ),
    )
    .expect("script");
    script
}

/// Ends the session in `tmux` with Ctrl-D and checks its exit code.
fn leave(tmux: &tmux::Tmux, d: &std::path::Path) {
    tmux.keys(&["C-d"]);
    let code_file = d.join("code.txt");
    tokio::task::block_in_place(|| tmux.wait("the end of the chat", |_| code_file.exists()));
    assert_eq!(std::fs::read_to_string(&code_file).expect("code").trim(), "0");
}

/// On a terminal, an answer streamed in pieces of a few characters shows its secrets
/// redacted, and the run log holds no piece of them (before, each piece passed redaction on
/// its own: the screen showed the key, and the `model_delta` records held it in pieces).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_answer_is_redacted_on_the_terminal_and_in_the_run_log() {
    if !tmux::available() {
        println!(
            "SKIPPED a_streamed_answer_is_redacted_on_the_terminal_and_in_the_run_log: tmux is not installed (apt-get install tmux)"
        );
        return;
    }
    let server = TestServer::builder()
        .script([Reply::text(leaking_answer())])
        .stream_pause(std::time::Duration::from_millis(5))
        .start()
        .await
        .expect("server");
    let dir = project(CHATS);
    let d = dir.path();
    let log = d.join("chat.jsonl");
    let script = chat_script(&server, d, &format!("--log '{}'", log.display()));
    let tmux = tmux::Tmux::new("chat-stream-secret");
    tmux.start(&script);
    let prompts = |pane: &str| pane.matches("you>").count();
    tokio::task::block_in_place(|| tmux.wait("the prompt", |p| prompts(p) >= 1));
    tmux.line("k1");
    let pane = tokio::task::block_in_place(|| {
        tmux.wait("the answer", |p| p.contains("and token") && prompts(p) >= 2)
    });
    assert!(pane.contains("your key is [redacted] and token [redacted]"), "{pane}");
    assert_no_secret("the terminal", &pane);
    leave(&tmux, d);
    let text = std::fs::read_to_string(&log).expect("the run log");
    assert_no_secret("the run log", &text);
    let records = llm_do_cli::run_log::read(&log).expect("the run log");
    let pieces: String = records
        .iter()
        .filter(|r| r.event == "model_delta")
        .filter_map(|r| r.data["delta"]["text"].as_str())
        .collect();
    assert_no_secret("the run log's pieces", &pieces);
    let deltas = records.iter().filter(|r| r.event == "model_delta").count();
    assert!(deltas > 5, "the answer was streamed in pieces: {deltas} model_delta records");
    let response = records.iter().find(|r| r.event == "model_response").expect("model_response");
    assert_eq!(response.data["text"], "your key is [redacted] and token [redacted]");
}

fn has_controls(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// Piped chat escapes what servers and files put in its errors on stderr: an HTTP 400's
/// message and the role of a message in a conversation file given to `/load` (before, their
/// escape sequences reached the terminal as they were).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_chat_escapes_server_and_file_text_on_stderr() {
    let saving =
        TestServer::builder().script([Reply::text("hello")]).start().await.expect("server");
    let dir = project(CHATS);
    let d = dir.path();
    let file = d.join("bogus.json");
    let out = tokio::task::block_in_place(|| {
        chat(&saving, d, &[], &format!("hi\n/save {}\n", file.display()))
    });
    assert_eq!(support::code(&out), 0);
    let saved = std::fs::read_to_string(&file).expect("saved");
    assert!(saved.contains("\"role\": \"user\""), "{saved}");
    std::fs::write(
        &file,
        saved.replace("\"role\": \"user\"", "\"role\": \"bogus\\u001b]0;t\\u0007\""),
    )
    .expect("write");
    let failing = TestServer::builder()
        .faults([llm_do_testkit::Fault::Status {
            code: 400,
            retry_after: None,
            message: Some("\x1b[31mred\x1b]0;title\x07".into()),
        }])
        .start()
        .await
        .expect("server");
    let out = tokio::task::block_in_place(|| {
        chat(&failing, d, &[], &format!("x\n/load {}\n", file.display()))
    });
    assert_eq!(support::code(&out), 1);
    let err = support::stderr(&out);
    assert!(!has_controls(&err), "raw control characters on stderr: {err:?}");
    assert!(err.contains("\\x1b[31mred\\x1b]0;title\\x07"), "the server's message, escaped: {err}");
    assert!(err.contains("bogus\\x1b]0;t\\x07"), "the file's role, escaped: {err}");
}

/// A turn that fails reports the requests it made, and `/usage` shows what the session's
/// budget counted, also after `/reset` (before: zero for the failed turn, and `/usage` counted
/// only the successful turns of the history it had).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_turns_count_and_usage_shows_the_sessions_budget() {
    let server = TestServer::builder()
        .script([
            Reply::tool_call("nowhere", serde_json::json!({})),
            Reply::tool_call("nowhere", serde_json::json!({})),
            Reply::text("one"),
        ])
        .start()
        .await
        .expect("server");
    let dir = project("---\ndescription: Chats.\nmax_turns: 2\n---\n{input}\n");
    let d = dir.path();
    let out = tokio::task::block_in_place(|| {
        chat(&server, d, &["--json"], "loop\n/usage\n/reset\nagain\n/usage\n")
    });
    let lines: Vec<Value> = support::stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(lines.len(), 5, "{lines:#?}");
    assert_eq!(lines[0]["ok"], false, "{lines:#?}");
    assert_eq!(lines[0]["usage"]["requests"], 2, "the failed turn's requests: {lines:#?}");
    let usage = |i: usize| lines[i]["message"].as_str().unwrap_or_default().to_owned();
    assert!(usage(1).ends_with("in 2 model requests"), "{}", usage(1));
    assert_eq!(lines[3]["usage"]["requests"], 1, "{lines:#?}");
    assert!(usage(4).starts_with("1 turn;"), "{}", usage(4));
    assert!(usage(4).ends_with("in 3 model requests"), "after /reset: {}", usage(4));
}

/// A piped input line that is not UTF-8 fails its turn, and the session goes on (before, it
/// ended the session: "cannot read stdin").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_that_is_not_utf8_fails_its_turn_only() {
    let server = TestServer::builder().script([Reply::text("fine")]).start().await.expect("server");
    let dir = project(CHATS);
    let mut cmd = support::command(BIN, Some(&server.base_url()));
    cmd.arg("chat").arg("--json").arg(dir.path());
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), b"bad \xff\xfe\nhello\n")
        .expect("write stdin");
    let out = tokio::task::block_in_place(|| child.wait_with_output()).expect("wait");
    let lines: Vec<Value> = support::stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(lines.len(), 2, "one object per line: {lines:#?}\n{}", support::stderr(&out));
    assert_eq!((lines[0]["turn"].clone(), lines[0]["ok"].clone()), (1.into(), false.into()));
    assert!(lines[0]["error"].as_str().is_some_and(|e| e.contains("not UTF-8")), "{lines:#?}");
    assert_eq!((lines[1]["turn"].clone(), lines[1]["output"].clone()), (2.into(), "fine".into()));
    assert_eq!(support::code(&out), 1, "a turn failed");
    assert_eq!(server.request_count(), 1);
}

/// On a terminal, a structured answer streamed as compact JSON is shown once (before, it was
/// printed again, pretty-printed, below the streamed text).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_structured_answer_is_shown_once_on_a_terminal() {
    if !tmux::available() {
        println!(
            "SKIPPED a_structured_answer_is_shown_once_on_a_terminal: tmux is not installed (apt-get install tmux)"
        );
        return;
    }
    let server = TestServer::builder()
        .script([Reply::text(r#"{"city":"Paris","people":2102650}"#)])
        .start()
        .await
        .expect("server");
    let dir = project(
        "---\ndescription: Answers.\noutput:\n  type: object\n  properties:\n    city: { type: string }\n    people: { type: integer }\n  required: [city, people]\n---\n{input}\n",
    );
    let d = dir.path();
    let script = chat_script(&server, d, "");
    let tmux = tmux::Tmux::new("chat-structured");
    tmux.start(&script);
    let prompts = |pane: &str| pane.matches("you>").count();
    tokio::task::block_in_place(|| tmux.wait("the prompt", |p| prompts(p) >= 1));
    tmux.line("France?");
    let pane = tokio::task::block_in_place(|| {
        tmux.wait("the answer", |p| p.contains("2102650") && prompts(p) >= 2)
    });
    assert_eq!(pane.matches("2102650").count(), 1, "the answer once:\n{pane}");
    leave(&tmux, d);
}

/// `/save` to something other than a regular file (a FIFO, which no one reads: the write
/// blocked the session, SIGTERM included, for good) is refused at once as `/load` refuses it,
/// and the session goes on.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_refuses_a_fifo_without_blocking() {
    use std::io::Write as _;
    let server = TestServer::builder().script([Reply::text("hello")]).start().await.unwrap();
    let dir = project(CHATS);
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut cmd = support::command(BIN, Some(&server.base_url()));
    cmd.arg("chat").arg("--json").arg(dir.path());
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let input = format!("/save {}\n/save {}\nhi\n", fifo.display(), dir.path().display());
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    // A deadline: before, the session never ended.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("chat still blocked on /save to a FIFO after 60 s");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(support::code(&out), 1, "a command failed");
    let lines: Vec<Value> = support::stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let refused = |line: &Value, path: &std::path::Path, kind: &str| {
        assert_eq!(line["ok"], false, "{line}");
        assert_eq!(
            line["error"],
            format!("cannot save to {}: the path is {kind}, not a regular file", path.display())
        );
    };
    refused(&lines[0], &fifo, "a FIFO");
    refused(&lines[1], dir.path(), "a directory");
    assert_eq!(lines[2]["output"], "hello", "the session went on");
}

/// A chat history that is not a regular file (here a FIFO no one writes; `/dev/zero` the same
/// way read for ever) is not used, with a warning, and the session starts (before, the chat
/// waited on it before its first prompt, for good).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_history_that_is_not_a_regular_file_is_not_used() {
    if !tmux::available() {
        println!(
            "SKIPPED a_chat_history_that_is_not_a_regular_file_is_not_used: tmux is not installed (apt-get install tmux)"
        );
        return;
    }
    let server = TestServer::builder().script([Reply::text("fine")]).start().await.expect("server");
    let dir = project(CHATS);
    let d = dir.path();
    let fifo = d.join("history");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    let script = chat_script(&server, d, "");
    let tmux = tmux::Tmux::new("chat-history-fifo");
    tmux.start(&script);
    let prompts = |pane: &str| pane.matches("you>").count();
    let pane = tokio::task::block_in_place(|| tmux.wait("the prompt", |p| prompts(p) >= 1));
    assert!(pane.contains("is not used: the path is a FIFO, not a regular file"), "{pane}");
    tmux.line("hi");
    tokio::task::block_in_place(|| {
        tmux.wait("the answer", |p| p.contains("fine") && prompts(p) >= 2)
    });
    leave(&tmux, d);
}

/// What is typed goes to the chat history redacted, as everything the CLI writes (before, a
/// key pasted into a question was kept in the history file as typed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_history_holds_no_secret_typed_in_a_line() {
    if !tmux::available() {
        println!(
            "SKIPPED the_chat_history_holds_no_secret_typed_in_a_line: tmux is not installed (apt-get install tmux)"
        );
        return;
    }
    let server =
        TestServer::builder().script([Reply::text("noted")]).start().await.expect("server");
    let dir = project(CHATS);
    let d = dir.path();
    let script = chat_script(&server, d, "");
    let tmux = tmux::Tmux::new("chat-history-secret");
    tmux.start(&script);
    let prompts = |pane: &str| pane.matches("you>").count();
    tokio::task::block_in_place(|| tmux.wait("the prompt", |p| prompts(p) >= 1));
    tmux.line(&format!("my key is {KEY} and token {TOKEN}"));
    tokio::task::block_in_place(|| {
        tmux.wait("the answer", |p| p.contains("noted") && prompts(p) >= 2)
    });
    leave(&tmux, d);
    let history = std::fs::read_to_string(d.join("history")).expect("the history file");
    assert_no_secret("the chat history", &history);
    assert!(history.contains("my key is [redacted] and token [redacted]"), "{history}");
}
