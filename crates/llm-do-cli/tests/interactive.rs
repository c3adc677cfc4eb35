//! `llm-do run` on a real terminal, inside a tmux pane, against the loopback test server: the
//! approval prompt (the test reads the pane and types the answers — approve the first call,
//! deny the second), an MCP server's question answered field by field, and a live call tree
//! taller than the pane.
//!
//! Skipped, with the reason printed, only when tmux is not installed.

#[path = "support/mcp_demo.rs"]
mod mcp_demo;
#[path = "support/cli.rs"]
mod support;
#[path = "support/tmux.rs"]
mod tmux;

use llm_do_cli::run_log;
use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use serde_json::json;
use tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_llm-do");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_one_call_and_deny_another_at_the_terminal() {
    if !tmux::available() {
        println!(
            "SKIPPED approve_one_call_and_deny_another_at_the_terminal: tmux is not installed (apt-get install tmux)"
        );
        return;
    }
    let server = TestServer::builder()
        .script([
            Reply::tool_call("helper", json!({"input": "first"})),
            Reply::text("helped"),
            Reply::tool_call("helper", json!({"input": "second"})),
            Reply::text("done: one approved, one denied"),
        ])
        .start()
        .await
        .expect("test server");
    let dir = support::project(&[
        (
            "llm-do.toml",
            "model = \"openai:m\"\nentry = \"main\"\n[approval]\nrules = [{ tool = \"helper\", verdict = \"ask\" }]\n",
        ),
        ("main.worker", "---\ndescription: Uses the helper.\ntools: [helper]\n---\nDo {input}.\n"),
        ("helper.worker", "---\ndescription: Helps.\n---\nHelp with {input}.\n"),
    ]);
    let d = dir.path();
    let script = d.join("run.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nunset LLM_DO_MODEL\nexport OPENAI_API_KEY=sk-test-0123456789abcdefghij OPENAI_BASE_URL='{url}'\n'{bin}' run --log '{d}/run.jsonl' '{d}' 'the job' > '{d}/out.txt'\necho $? > '{d}/code.tmp' && mv '{d}/code.tmp' '{d}/code.txt'\nsleep 30\n",
            url = server.base_url(),
            bin = BIN,
            d = d.display()
        ),
    )
    .expect("script");
    let tmux = Tmux::new("approve");
    tmux.start(&script);

    let count = |pane: &str| pane.matches("approval needed: `helper`").count();
    let first = tokio::task::block_in_place(|| {
        tmux.wait("the first prompt", |p| count(p) >= 1 && p.contains("[q] deny and abort"))
    });
    assert!(first.contains("at depth 2, asked by `main`"), "{first}");
    assert!(first.contains("\"input\": \"first\""), "arguments are pretty-printed:\n{first}");
    tmux.keys(&["y", "Enter"]);
    let second = tokio::task::block_in_place(|| tmux.wait("the second prompt", |p| count(p) >= 2));
    assert!(second.contains("\"input\": \"second\""), "{second}");
    tmux.keys(&["n", "Enter"]);
    let code_file = d.join("code.txt");
    tokio::task::block_in_place(|| tmux.wait("the end of the run", |_| code_file.exists()));

    assert_eq!(std::fs::read_to_string(&code_file).expect("code").trim(), "0");
    assert_eq!(
        std::fs::read_to_string(d.join("out.txt")).expect("out"),
        "done: one approved, one denied\n"
    );
    let records = run_log::read(d.join("run.jsonl")).expect("log");
    let decisions: Vec<(bool, String)> = records
        .iter()
        .filter(|r| r.event == "approval_decided")
        .map(|r| (r.data["approved"] == true, r.data["decision"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(
        decisions,
        [
            (true, "approved once".to_owned()),
            (false, "denied by the approver: denied at the terminal".to_owned())
        ]
    );
    let helper_calls = run_log::worker_calls(&records, "helper");
    assert_eq!(helper_calls.len(), 1, "only the approved call ran");
    assert!(server.requests()[3].body["messages"].to_string().contains("permission denied"));
}

/// The demo MCP server's `refund` asks to confirm (elicitation) while the run waits: the
/// person at the terminal approves the call, then answers the question's form field by field —
/// a value that does not fit is asked again — and the server acts on the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_servers_question_is_answered_at_the_terminal() {
    if !tmux::available() {
        println!(
            "SKIPPED an_mcp_servers_question_is_answered_at_the_terminal: tmux is not installed (apt-get install tmux)"
        );
        return;
    }
    let server = TestServer::builder()
        .script([
            Reply::tool_call("orders__refund", json!({"id": "A-1"})),
            Reply::text("refund handled"),
        ])
        .start()
        .await
        .expect("test server");
    let dir = mcp_demo::orders_project(&[]);
    let d = dir.path();
    std::fs::write(
        d.join("main.worker"),
        "---\ndescription: Refunds orders.\ntools: [orders.refund]\n---\nHandle {input}.\n",
    )
    .expect("worker");
    let script = d.join("run.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nunset LLM_DO_MODEL\nexport OPENAI_API_KEY=sk-test-0123456789abcdefghij OPENAI_BASE_URL='{url}'\ncd '{d}'\n'{bin}' run -v --log '{d}/run.jsonl' '{d}' 'a refund' > '{d}/out.txt'\necho $? > '{d}/code.tmp' && mv '{d}/code.tmp' '{d}/code.txt'\nsleep 30\n",
            url = server.base_url(),
            bin = BIN,
            d = d.display()
        ),
    )
    .expect("script");
    let tmux = Tmux::new("question");
    tmux.start(&script);

    let wait = |what: &str, text: &'static str| {
        tokio::task::block_in_place(|| tmux.wait(what, |p| p.contains(text)))
    };
    wait("the approval prompt", "approval needed: `orders__refund`");
    tmux.keys(&["y", "Enter"]);
    let asked = wait("the question", "[a] answer  [d] decline  [c] dismiss");
    assert!(asked.contains("question from `orders__refund` at depth 2"), "{asked}");
    assert!(asked.contains("Refund order A-1?"), "{asked}");
    tmux.keys(&["a", "Enter"]);
    // The form's fields come in its order (`confirm`, then `reason`).
    wait("the first field", "Confirm — Refund it (y or n):");
    tmux.keys(&["maybe", "Enter"]);
    wait("the field asked again", "answer y or n");
    tmux.keys(&["y", "Enter"]);
    let reason = wait("the second field", "1) damaged  2) late  3) other");
    assert!(reason.contains("may be left empty"), "{reason}");
    tmux.keys(&["2", "Enter"]);
    let code_file = d.join("code.txt");
    tokio::task::block_in_place(|| tmux.wait("the end of the run", |_| code_file.exists()));

    assert_eq!(std::fs::read_to_string(&code_file).expect("code").trim(), "0");
    assert_eq!(std::fs::read_to_string(d.join("out.txt")).expect("out"), "refund handled\n");
    let sent = server.requests()[1].body["messages"].to_string();
    assert!(sent.contains("refunded A-1 (late)"), "{sent}");
    let records = run_log::read(d.join("run.jsonl")).expect("log");
    let answered: Vec<_> = records.iter().filter(|r| r.event == "question_answered").collect();
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].data["action"], "accept");
}

/// A run whose call tree is taller than the terminal (and wider: its finished lines wrap): while
/// it runs, the calls running now are on the screen (not pushed below its bottom edge by the
/// finished ones), and when it ends every call's line is in the terminal's scrollback, none lost
/// past the screen's height.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_tree_taller_than_the_terminal_shows_the_running_call_and_keeps_every_line() {
    if !tmux::available() {
        println!(
            "SKIPPED a_call_tree_taller_than_the_terminal_shows_the_running_call_and_keeps_every_line: tmux is not installed (apt-get install tmux)"
        );
        return;
    }
    const CALLS: usize = 30;
    let mut script = Vec::new();
    for i in 1..=CALLS {
        script.push(Reply::tool_call("helper", json!({ "input": format!("part {i}") })));
        script.push(Reply::text(format!("helped with part {i}")));
    }
    script.push(Reply::text("all parts done"));
    let server = TestServer::builder()
        .script(script)
        .latency(std::time::Duration::from_millis(150))
        .start()
        .await
        .expect("test server");
    let dir = support::project(&[
        ("llm-do.toml", "model = \"openai:m\"\nentry = \"main\"\n"),
        (
            "main.worker",
            "---\ndescription: Uses the helper.\ntools: [helper]\nmax_turns: 40\n---\nDo {input}.\n",
        ),
        ("helper.worker", "---\ndescription: Helps.\n---\nHelp with {input}.\n"),
    ]);
    let d = dir.path();
    let run = d.join("run.sh");
    std::fs::write(
        &run,
        format!(
            "#!/bin/sh\nunset LLM_DO_MODEL\nexport OPENAI_API_KEY=sk-test-0123456789abcdefghij OPENAI_BASE_URL='{url}'\n'{bin}' run '{d}' 'the job' > '{d}/out.txt'\necho $? > '{d}/code.tmp' && mv '{d}/code.tmp' '{d}/code.txt'\nsleep 30\n",
            url = server.base_url(),
            bin = BIN,
            d = d.display()
        ),
    )
    .expect("script");
    let tmux = Tmux::new("tall");
    // 40 columns: a finished call's line wraps onto two rows.
    tmux.start_sized(&run, 40, 12);

    // From the 20th call on (the screen holds 12 lines), the screen shows the root and the
    // helper call running now, each with its spinner (a running call's line has no outcome).
    let running = |line: &str, name: &str| line.contains(name) && !line.contains(" ok (");
    let seen = tokio::task::block_in_place(|| {
        let start = std::time::Instant::now();
        loop {
            let requests = server.requests().len();
            let screen = tmux.screen();
            assert!(
                requests < 2 * CALLS,
                "the run ended before a running call was seen:\n{screen}"
            );
            assert!(
                start.elapsed() < std::time::Duration::from_secs(120),
                "timed out after {requests} requests; screen:\n{screen}"
            );
            if requests >= 40
                && screen.lines().any(|l| running(l, "main [worker]"))
                && screen.lines().any(|l| running(l, "helper [worker]"))
            {
                return screen;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
    assert!(seen.lines().next().is_some_and(|l| l.contains("finished calls not shown")), "{seen}");
    let code_file = d.join("code.txt");
    tokio::task::block_in_place(|| tmux.wait("the end of the run", |_| code_file.exists()));
    assert_eq!(std::fs::read_to_string(&code_file).expect("code").trim(), "0");
    assert_eq!(std::fs::read_to_string(d.join("out.txt")).expect("out"), "all parts done\n");
    let pane = tmux.pane();
    let done = pane.lines().filter(|l| l.contains("helper [worker] ok")).count();
    assert_eq!(done, CALLS, "every call's line is kept:\n{pane}");
}
