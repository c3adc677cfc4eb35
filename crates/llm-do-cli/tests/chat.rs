//! `llm-do chat` against the loopback test server: scripted (one answer per input line, with
//! and without `--json`, the run log, /save and /load) and on a real terminal in tmux
//! (streamed text, an approval inside a turn, Ctrl-C cancelling the turn in flight).
//!
//! The terminal test is skipped, with the reason printed, only when tmux is not installed.

#[path = "support/cli.rs"]
mod support;
#[path = "support/tmux.rs"]
mod tmux;

use llm_do_cli::run_log;
use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::{Value, json};
use std::io::Write as _;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");

/// A project: `main` (may call `helper`, which asks for approval) and `helper`.
fn project() -> tempfile::TempDir {
    support::project(&[
        (
            "llm-do.toml",
            "model = \"openai:m\"\nentry = \"main\"\n[approval]\nrules = [{ tool = \"helper\", verdict = \"ask\" }]\n",
        ),
        ("main.worker", "---\ndescription: Chats.\ntools: [helper]\n---\n{input}\n"),
        ("helper.worker", "---\ndescription: Helps.\n---\nHelp with {input}.\n"),
    ])
}

/// Runs `llm-do chat` with `lines` on stdin.
fn chat(
    server: &TestServer,
    dir: &std::path::Path,
    args: &[&str],
    lines: &str,
) -> std::process::Output {
    let mut cmd = support::command(BIN, Some(&server.base_url()));
    support::output_with_stdin(cmd.arg("chat").arg(dir).args(args), lines)
}

/// Writes `d/chat.sh`, the script a tmux pane runs: `llm-do chat ARGS d` against `server`;
/// once the chat has ended, `after` (shell lines) runs, then its exit code is in
/// `d/code.txt`, and the pane stays open a while.
fn chat_script(
    server: &TestServer,
    d: &std::path::Path,
    args: &str,
    after: &str,
) -> std::path::PathBuf {
    let script = d.join("chat.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntrap : INT\nunset LLM_DO_MODEL\nexport OPENAI_API_KEY=sk-test-0123456789abcdefghij OPENAI_BASE_URL='{url}' LLM_DO_CHAT_HISTORY='{d}/history'\n'{bin}' chat {args} '{d}'\necho $? > '{d}/code.tmp'\n{after}\nmv '{d}/code.tmp' '{d}/code.txt'\nsleep 30\n",
            url = server.base_url(),
            bin = BIN,
            d = d.display()
        ),
    )
    .expect("script");
    script
}

fn chat_messages(server: &TestServer) -> Vec<Value> {
    server.requests().iter().map(|r| r.body["messages"].clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_answer_per_line_and_the_second_turn_sees_the_first() {
    let server = TestServer::builder()
        .script([Reply::text("Hello, Ada."), Reply::text("Your name is Ada.")])
        .start()
        .await
        .expect("server");
    let dir = project();
    let d = dir.path();
    let out = tokio::task::block_in_place(|| {
        chat(
            &server,
            d,
            &["--log", &d.join("chat.jsonl").display().to_string()],
            "I am Ada.\n\nWhat is my name?\n",
        )
    });
    assert_eq!(support::code(&out), 0);
    assert_eq!(support::stdout(&out), "Hello, Ada.\nYour name is Ada.\n");
    let requests = chat_messages(&server);
    assert_eq!(
        requests[1],
        json!([
            {"role": "system", "content": "Chats."},
            {"role": "user", "content": "I am Ada."},
            {"role": "assistant", "content": "Hello, Ada."},
            {"role": "user", "content": "What is my name?"}
        ])
    );
    let records = run_log::read(d.join("chat.jsonl")).expect("the run log");
    assert_eq!(run_log::worker_calls(&records, "main").len(), 2, "one call per turn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_commands_and_a_bad_load_that_changes_nothing() {
    let server = TestServer::builder()
        .script([Reply::text("one"), Reply::text("two")])
        .start()
        .await
        .expect("server");
    let dir = project();
    let d = dir.path();
    std::fs::write(d.join("foreign.json"), "{\"format\": \"something-else\"}").expect("write");
    let saved = d.join("saved.json");
    let input = format!(
        "first\n/save {saved}\n/load {foreign}\n/usage\n/reset\n/load {saved}\nsecond\n/nonsense\n",
        saved = saved.display(),
        foreign = d.join("foreign.json").display()
    );
    let out = tokio::task::block_in_place(|| chat(&server, d, &["--json"], &input));
    let lines: Vec<Value> = support::stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(lines.len(), 8, "one object per input line: {lines:#?}");
    assert_eq!((lines[0]["turn"].clone(), lines[0]["output"].clone()), (json!(1), json!("one")));
    assert_eq!(lines[0]["usage"]["requests"], 1);
    assert_eq!(lines[1]["ok"], true);
    assert_eq!(lines[2]["ok"], false);
    assert!(
        lines[2]["error"]
            .as_str()
            .is_some_and(|e| e.contains("something-else") && e.contains("unchanged"))
    );
    assert!(
        lines[3]["message"].as_str().is_some_and(|m| m.starts_with("1 turn; history: 2 messages"))
    );
    assert_eq!(lines[6]["output"], "two");
    assert_eq!(lines[7]["ok"], false, "an unknown command");
    assert_eq!(support::code(&out), 1, "a command failed");
    // After /reset and /load, the second turn saw the first one again.
    assert_eq!(chat_messages(&server)[1].as_array().map(Vec::len), Some(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_projects_provider_settings_and_the_flags_apply() {
    // `[providers.openai]` used to reach `llm-do run` only.
    let long = "x".repeat(4096);
    let server = TestServer::builder()
        .script([Reply::text(&long), Reply::text(&long), Reply::text("short")])
        .start()
        .await
        .expect("server");
    let dir = support::project(&[
        ("llm-do.toml", "model = \"openai:m\"\n[providers.openai]\nmax_answer_bytes = 1000\n"),
        ("main.worker", "---\n---\n{input}\n"),
    ]);
    let d = dir.path();
    let turns = |args: &[&str], input: &str| -> Vec<Value> {
        let out = tokio::task::block_in_place(|| chat(&server, d, args, input));
        support::stdout(&out).lines().map(|l| serde_json::from_str(l).expect("JSON")).collect()
    };
    let lines = turns(&["--json"], "first\n");
    assert_eq!(lines[0]["ok"], false, "{lines:?}");
    let error = lines[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("larger than the limit of 1000 bytes"), "{error}");
    let lines = turns(&["--json", "--max-answer-bytes", "2000"], "second\n");
    let error = lines[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("larger than the limit of 2000 bytes"), "{error}");
    let lines = turns(&["--json", "--max-answer-bytes", "1000000"], "third\n");
    assert_eq!(lines[0]["output"], "short", "{lines:?}");
    assert_eq!(server.request_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_on_a_terminal_streams_asks_and_cancels() {
    if !tmux::available() {
        println!(
            "SKIPPED chat_on_a_terminal_streams_asks_and_cancels: tmux is not installed (apt-get install tmux)"
        );
        return;
    }
    let first: String =
        "The first answer streams in small pieces, one every little while, ".repeat(3) + "END1.";
    let endless = "An answer that takes far too long to arrive. ".repeat(40);
    let server = TestServer::builder()
        .script([
            Reply::text(first.clone()),
            Reply::tool_call("helper", json!({"input": "the plan"})),
            Reply::text("helped"),
            Reply::text("Done, with help."),
            Reply::text(endless),
            Reply::text("Back again."),
            Reply::text("Last words, one piece at a time. ".repeat(5) + "END2."),
        ])
        .stream_pause(Duration::from_millis(100))
        .start()
        .await
        .expect("test server");
    let dir = project();
    let d = dir.path();
    let script = chat_script(&server, d, &format!("--log '{}/chat.jsonl'", d.display()), "");
    let tmux = Tmux::new("chat");
    tmux.start(&script);
    let prompts = |pane: &str| pane.matches("you>").count();
    tokio::task::block_in_place(|| tmux.wait("the prompt", |p| prompts(p) >= 1));

    // 1. The answer appears piece by piece: its start is on the screen before its end.
    tmux.line("Tell me something long.");
    let partial = tokio::task::block_in_place(|| {
        tmux.wait("streamed text", |p| p.contains("The first answer"))
    });
    assert!(!partial.contains("END1."), "the beginning shows before the end arrives:\n{partial}");
    tokio::task::block_in_place(|| {
        tmux.wait("the end of the answer", |p| p.contains("END1.") && prompts(p) >= 2)
    });

    // 2. An approval inside a turn, answered at the terminal; the nested call shows.
    tmux.line("Use the helper.");
    let asked = tokio::task::block_in_place(|| {
        tmux.wait("the approval prompt", |p| p.contains("approval needed: `helper`"))
    });
    assert!(asked.contains("\"input\": \"the plan\""), "{asked}");
    tmux.line("y");
    let done = tokio::task::block_in_place(|| {
        tmux.wait("the helped answer", |p| p.contains("Done, with help.") && prompts(p) >= 3)
    });
    assert!(done.contains("helper [worker] ok"), "the nested call is shown:\n{done}");

    // 3. Ctrl-C while the answer streams: the turn is cancelled, its request dropped.
    tmux.line("Say something endless.");
    tokio::task::block_in_place(|| {
        tmux.wait("the endless answer", |p| p.contains("An answer that takes"))
    });
    tmux.keys(&["C-c"]);
    tokio::task::block_in_place(|| {
        tmux.wait("the cancel", |p| p.contains("(cancelled") && prompts(p) >= 4)
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.abandoned_streams() == 0 {
        assert!(Instant::now() < deadline, "the server never saw the connection close");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // 4. The session goes on, without the cancelled turn.
    tmux.line("Are you back?");
    tokio::task::block_in_place(|| {
        tmux.wait("the next answer", |p| p.contains("Back again.") && prompts(p) >= 5)
    });
    let last = server.last_request().expect("requests").body["messages"].clone();
    let users: Vec<&str> = last
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["role"] == "user")
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(users, ["Tell me something long.", "Use the helper.", "Are you back?"]);

    // 5. Ctrl-D while an answer streams: the answer ends, then the chat does (before, the
    // kernel turned the key into a NUL byte for the line editor and the chat stayed).
    tmux.line("Say goodbye.");
    tokio::task::block_in_place(|| tmux.wait("the last answer", |p| p.contains("Last words")));
    tmux.keys(&["C-d"]);
    let code_file = d.join("code.txt");
    tokio::task::block_in_place(|| tmux.wait("the end of the chat", |_| code_file.exists()));
    assert_eq!(std::fs::read_to_string(&code_file).expect("code").trim(), "0");
    let end = tmux.pane();
    assert!(end.contains("END2."), "the answer was not cut short:\n{end}");
    let history =
        std::fs::read_to_string(d.join("history")).expect("the line editor's history file");
    assert!(history.contains("Say goodbye."), "{history}");
    let records = run_log::read(d.join("chat.jsonl")).expect("the run log");
    assert_eq!(run_log::worker_calls(&records, "helper").len(), 1);
}

/// SIGTERM in the middle of a scripted session's turn: the turn is stopped with the command
/// its shell tool runs, the run log is left whole, and the exit code is 143 (before, the
/// process died on the spot).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_a_scripted_session_in_order() {
    let server = TestServer::builder()
        .script([
            Reply::tool_call("shell", json!({"command": "sleep 309.125"})),
            Reply::text("never shown"),
        ])
        .start()
        .await
        .expect("server");
    let dir = support::project(&[
        ("llm-do.toml", "model = \"openai:m\"\nentry = \"main\"\n"),
        (
            "main.worker",
            "---\ndescription: Waits.\ntools:\n  - shell: { rules: [ { allow: \"sleep\" } ] }\n---\n{input}\n",
        ),
    ]);
    let d = dir.path();
    let (launcher, env_args) = support::DEFAULT_SIGNALS.split_first().unwrap();
    let mut child = support::command(launcher, Some(&server.base_url()))
        .args(env_args)
        .arg(BIN)
        .args(["chat", "--approve-all", "--log"])
        .arg(d.join("chat.jsonl"))
        .arg(d)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("llm-do starts");
    // stdin stays open: the session would go on after the turn.
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"wait a while\n").expect("write stdin");
    let started = Instant::now();
    let sleeper = loop {
        if let Some(pid) = support::pids_of(&["sleep", "309.125"]).first() {
            break *pid;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the shell tool never ran sleep");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    let err = support::stderr(&out);
    assert_eq!(out.status.code(), Some(143), "{err}");
    assert!(err.contains("interrupted by SIGTERM"), "{err}");
    assert!(!support::stdout(&out).contains("never shown"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while support::alive(sleeper) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!support::alive(sleeper), "`sleep` outlived the session");
    let records = run_log::read(d.join("chat.jsonl")).expect("a whole run log");
    assert!(!records.is_empty());
    drop(stdin);
}

/// SIGTERM while the line editor waits at the prompt: the session ends with 143 and the
/// terminal is given back as it was (before, the process died with the terminal left in the
/// editor's raw mode: no echo, no line editing for the shell that follows).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_at_the_prompt_ends_the_chat_and_gives_the_terminal_back() {
    if !tmux::available() {
        println!(
            "SKIPPED sigterm_at_the_prompt_ends_the_chat_and_gives_the_terminal_back: tmux is not installed (apt-get install tmux)"
        );
        return;
    }
    let server = TestServer::builder().start().await.expect("test server");
    let dir = project();
    let d = dir.path();
    let script = chat_script(&server, d, "", &format!("stty -a > '{}/stty.txt'", d.display()));
    let tmux = Tmux::new("chat-sigterm");
    tmux.start(&script);
    tokio::task::block_in_place(|| tmux.wait("the prompt", |p| p.contains("you>")));
    let dir_arg = d.display().to_string();
    let pid = *support::pids_of(&[BIN, "chat", &dir_arg]).first().expect("the chat's pid");
    let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let code_file = d.join("code.txt");
    let pane =
        tokio::task::block_in_place(|| tmux.wait("the end of the chat", |_| code_file.exists()));
    assert_eq!(std::fs::read_to_string(&code_file).expect("code").trim(), "143", "{pane}");
    assert!(pane.contains("SIGTERM: the session ends"), "{pane}");
    let stty = std::fs::read_to_string(d.join("stty.txt")).expect("stty -a");
    let flags: Vec<&str> = stty.split(|c: char| c.is_whitespace() || c == ';').collect();
    for flag in ["icanon", "echo", "icrnl", "opost"] {
        assert!(flags.contains(&flag), "`{flag}` is back on:\n{stty}");
    }
}

/// A chat session is one run: its budgets — the worker's `budget:` or `--max-requests` — count
/// every turn, and a turn past them fails without ending the session's input loop (before,
/// `chat` took no budget flag and ignored the worker's `budget:`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budgets_count_the_whole_session() {
    let server = TestServer::builder()
        .script([Reply::text("one"), Reply::text("two"), Reply::text("three")])
        .start()
        .await
        .expect("server");
    let dir = support::project(&[
        ("llm-do.toml", "model = \"openai:m\"\nentry = \"main\"\n"),
        ("main.worker", "---\ndescription: Chats.\nbudget: { requests: 1 }\n---\n{input}\n"),
    ]);
    let d = dir.path();
    let out = tokio::task::block_in_place(|| chat(&server, d, &[], "a\nb\n"));
    assert_eq!(support::code(&out), 1);
    assert_eq!(support::stdout(&out), "one\n");
    assert!(
        support::stderr(&out).contains("run budget exceeded: model requests used 1, limit 1"),
        "{}",
        support::stderr(&out)
    );
    // The flag wins over the worker's `budget:`.
    let out =
        tokio::task::block_in_place(|| chat(&server, d, &["--max-requests", "2"], "c\nd\ne\n"));
    assert_eq!(support::code(&out), 1);
    assert_eq!(support::stdout(&out), "two\nthree\n");
    assert!(support::stderr(&out).contains("limit 2"), "{}", support::stderr(&out));
    assert_eq!(server.request_count(), 3, "no request past the budget");
}

/// On a terminal the nested calls of a turn are drawn as `llm-do run` draws them: a spinner
/// while a call runs, then its outcome line; the tree stays above the streamed answer, which
/// arrives whole, and the next prompt starts clean. A call still running when Ctrl-C cancels
/// the turn is left as a cancelled line, no spinner (before, chat printed plain `▸` start
/// lines and no spinner).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_on_a_terminal_draws_the_live_call_tree() {
    if !tmux::available() {
        println!(
            "SKIPPED chat_on_a_terminal_draws_the_live_call_tree: tmux is not installed (apt-get install tmux)"
        );
        return;
    }
    let answer = "The gate opened and the tool said so; this answer streams in small pieces.";
    let server = TestServer::builder()
        .script([
            Reply::tool_call("shell", json!({"command": "sh gate.sh go"})),
            Reply::text(answer),
            Reply::tool_call("shell", json!({"command": "sh gate.sh never"})),
            Reply::text("never shown"),
        ])
        .stream_pause(Duration::from_millis(20))
        .start()
        .await
        .expect("test server");
    let dir = support::project(&[
        ("llm-do.toml", "model = \"openai:m\"\nentry = \"main\"\n"),
        (
            "main.worker",
            "---\ndescription: Chats.\ntools:\n  - shell: { rules: [ { allow: \"sh\" } ] }\n---\n{input}\n",
        ),
        // Runs until the file named by its argument exists: the test decides when it ends.
        ("gate.sh", "while [ ! -f \"$1\" ]; do sleep 0.05; done\necho gated\n"),
    ]);
    let d = dir.path();
    let script = chat_script(&server, d, "--approve-all", "");
    let tmux = Tmux::new("chat-tree");
    tmux.start(&script);
    let prompts = |pane: &str| pane.matches("you>").count();
    tokio::task::block_in_place(|| tmux.wait("the prompt", |p| prompts(p) >= 1));

    // 1. While the tool runs: its line in the tree, with a spinner, not a plain start line.
    tmux.line("Open the gate.");
    let running = tokio::task::block_in_place(|| {
        tmux.wait("the running call", |p| p.contains("shell [tool]"))
    });
    let line = running.lines().find(|l| l.contains("shell [tool]")).expect("the call's line");
    assert!(
        !line.contains('▸') && !line.contains("ok"),
        "a spinner line, not a plain one:\n{running}"
    );
    std::fs::write(d.join("go"), "").expect("open the gate");

    // 2. The call's outcome line, then the answer whole, then a clean prompt.
    let done = tokio::task::block_in_place(|| {
        tmux.wait("the answer", |p| p.contains("so; this answer streams") && prompts(p) >= 2)
    });
    let lines: Vec<&str> = done.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
    let tree: Vec<usize> =
        (0..lines.len()).filter(|&i| lines[i].contains("shell [tool]")).collect();
    assert_eq!(tree.len(), 1, "one line for the call, nothing left of its spinner:\n{done}");
    let tree_line = lines[tree[0]];
    assert!(
        tree_line.starts_with("  ✓ ") && tree_line.contains(" shell [tool] ok ("),
        "the run tree's line of a finished call:\n{done}"
    );
    let at = lines
        .iter()
        .position(|l| *l == answer)
        .unwrap_or_else(|| panic!("the answer whole, on a line of its own:\n{done}"));
    assert!(tree[0] < at, "the tree stays above the answer:\n{done}");
    assert_eq!(lines[at + 1..], ["you>"], "a clean prompt after the answer:\n{done}");

    // 3. Ctrl-C while a tool runs: a cancelled line, no spinner left, a clean prompt.
    tmux.line("Wait for nothing.");
    tokio::task::block_in_place(|| {
        tmux.wait("the second call", |p| p.matches("shell [tool]").count() >= 2)
    });
    tmux.keys(&["C-c"]);
    let cancelled = tokio::task::block_in_place(|| {
        tmux.wait("the cancel", |p| p.contains("(cancelled") && prompts(p) >= 3)
    });
    let lines: Vec<&str> = cancelled.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
    let second: Vec<&&str> =
        lines.iter().skip(tree[0] + 1).filter(|l| l.contains("shell [tool]")).collect();
    assert_eq!(second.len(), 1, "{cancelled}");
    assert!(
        second[0].starts_with("  ∅ ") && second[0].ends_with("shell [tool] cancelled"),
        "{cancelled}"
    );
    assert_eq!(lines.last(), Some(&"you>"), "a clean prompt:\n{cancelled}");

    tmux.keys(&["C-d"]);
    let code_file = d.join("code.txt");
    tokio::task::block_in_place(|| tmux.wait("the end of the chat", |_| code_file.exists()));
    assert_eq!(std::fs::read_to_string(&code_file).expect("code").trim(), "0");
}

/// With `-vv`, a nested worker's answer is shown in chat as in `llm-do run` (a `✎` line in
/// the tree), and the chat worker's own answer only once, streamed (before, chat showed no
/// nested text at any verbosity).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_on_a_terminal_shows_nested_text_with_vv() {
    if !tmux::available() {
        println!(
            "SKIPPED chat_on_a_terminal_shows_nested_text_with_vv: tmux is not installed (apt-get install tmux)"
        );
        return;
    }
    let server = TestServer::builder()
        .script([
            Reply::tool_call("helper", json!({"input": "the plan"})),
            Reply::text("Nested words from the helper."),
            Reply::text("The chat worker's own answer."),
        ])
        .start()
        .await
        .expect("test server");
    let dir = project();
    let d = dir.path();
    let script = chat_script(&server, d, "-vv --approve-all", "");
    let tmux = Tmux::new("chat-vv");
    tmux.start(&script);
    let prompts = |pane: &str| pane.matches("you>").count();
    tokio::task::block_in_place(|| tmux.wait("the prompt", |p| prompts(p) >= 1));
    tmux.line("Use the helper.");
    let done = tokio::task::block_in_place(|| {
        tmux.wait("the answer", |p| p.contains("own answer.") && prompts(p) >= 2)
    });
    let nested: Vec<&str> =
        done.lines().filter(|l| l.contains("Nested words from the helper.")).collect();
    assert_eq!(nested.len(), 1, "the nested answer once:\n{done}");
    assert!(nested[0].contains("✎ turn 1: "), "as a -vv line of the tree:\n{done}");
    assert_eq!(done.matches("The chat worker's own answer.").count(), 1, "{done}");
    assert!(done.contains("helper [worker] ok"), "{done}");

    tmux.keys(&["C-d"]);
    let code_file = d.join("code.txt");
    tokio::task::block_in_place(|| tmux.wait("the end of the chat", |_| code_file.exists()));
    assert_eq!(std::fs::read_to_string(&code_file).expect("code").trim(), "0");
}
