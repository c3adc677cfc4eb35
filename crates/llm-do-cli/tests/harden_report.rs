//! `llm-do harden-report` end to end: a project's file worker `classify` runs (under a scripted
//! loopback model) with `--log`, then a host program with a Rust candidate `classify_rules`
//! replays the logged inputs against it and prints the agreement table.
//!
//! This test has its own `main` (harness = false): started with `LLM_DO_TEST_HOST=1` it *is*
//! the host program; otherwise it starts itself as one, as a real process.

use llm_do::prelude::*;
use llm_do_testing::scripted::Reply;
use llm_do_testkit::TestServer;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Keyword rules for support tickets: the hardened candidate for the `classify` worker.
#[tool]
async fn classify_rules(
    /** the ticket text */
    input: String,
) -> Result<String> {
    let text = input.to_lowercase();
    Ok(if text.contains("charge") {
        "billing"
    } else if text.contains("crash") {
        "bug"
    } else {
        "feature"
    }
    .to_owned())
}

fn main() -> std::process::ExitCode {
    if std::env::var_os("LLM_DO_TEST_HOST").is_some() {
        let mut host = llm_do::Registry::default();
        host.insert(classify_rules::spec());
        let args = std::iter::once(std::ffi::OsString::from("host"))
            .chain(std::env::args_os().skip_while(|a| a != "--").skip(1));
        return llm_do_cli::run_with(args, host);
    }
    if std::env::args().any(|a| a == "--list") {
        println!("harden_report_replays_logged_calls_against_a_rust_candidate: test");
        return std::process::ExitCode::SUCCESS;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(harden_report_replays_logged_calls_against_a_rust_candidate());
    println!("test harden_report_replays_logged_calls_against_a_rust_candidate ... ok");
    std::process::ExitCode::SUCCESS
}

/// Runs the host program (this test binary) with `args`.
fn host(args: &[&std::ffi::OsStr], base_url: &str) -> Output {
    Command::new(std::env::current_exe().expect("current exe"))
        .env("LLM_DO_TEST_HOST", "1")
        .env_remove("LLM_DO_MODEL")
        .env("OPENAI_API_KEY", "sk-test-0123456789abcdefghij")
        .env("OPENAI_BASE_URL", base_url)
        .arg("--")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the host")
}

fn os(s: &str) -> &std::ffi::OsStr {
    s.as_ref()
}

fn p(path: &Path) -> &std::ffi::OsStr {
    path.as_os_str()
}

async fn harden_report_replays_logged_calls_against_a_rust_candidate() {
    let server = TestServer::builder()
        .script([
            // Run 1: main asks classify three times, then answers.
            Reply::tool_call("classify", json!({"input": "I was charged twice"})),
            Reply::text("billing"),
            Reply::tool_call("classify", json!({"input": "The app crashes on start"})),
            Reply::text("bug"),
            Reply::tool_call("classify", json!({"input": "Please add a dark mode"})),
            Reply::text("billing"), // the worker's mistake: the rules say `feature`
            Reply::text("3 tickets classified"),
            // Run 2: classify directly.
            Reply::text("billing"),
        ])
        .start()
        .await
        .expect("test server");
    let dir = tempfile::tempdir().expect("temp dir");
    let files = [
        ("llm-do.toml", "model = \"openai:m\"\nentry = \"main\"\n"),
        (
            "main.worker",
            "---\ndescription: Classifies a batch of tickets.\ntools: [classify]\n---\nClassify each ticket of {input}.\n",
        ),
        (
            "classify.worker",
            "---\ndescription: Classifies one support ticket as billing, bug or feature.\n---\nClassify: {input}\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let project = dir.path().to_owned();
    let (run1, run2) = (project.join("run1.jsonl"), project.join("run2.jsonl"));
    let base_url = server.base_url();

    let (project2, run1b, run2b, url) = (project.clone(), run1.clone(), run2, base_url);
    let outputs = tokio::task::spawn_blocking(move || {
        let first =
            host(&[os("run"), os("--log"), p(&run1b), p(&project2), os("three tickets")], &url);
        let second = host(
            &[
                os("run"),
                os("--worker"),
                os("classify"),
                os("--log"),
                p(&run2b),
                p(&project2),
                os("Refund the double charge"),
            ],
            &url,
        );
        let report = host(
            &[
                os("harden-report"),
                p(&run1b),
                p(&run2b),
                os("--worker"),
                os("classify"),
                os("--candidate"),
                os("classify_rules"),
            ],
            &url,
        );
        let strict = host(
            &[
                os("harden-report"),
                p(&run1b),
                os("--worker"),
                os("classify"),
                os("--candidate"),
                os("classify_rules"),
                os("--project"),
                p(&project2),
                os("--min-rate"),
                os("0.9"),
            ],
            &url,
        );
        let unknown = host(
            &[
                os("harden-report"),
                p(&run1b),
                os("--worker"),
                os("classify"),
                os("--candidate"),
                os("no_such_tool"),
            ],
            &url,
        );
        let unobserved = host(
            &[
                os("harden-report"),
                p(&run2b),
                os("--worker"),
                os("main"),
                os("--candidate"),
                os("classify_rules"),
            ],
            &url,
        );
        [first, second, report, strict, unknown, unobserved]
    })
    .await
    .expect("join");
    let [first, second, report, strict, unknown, unobserved] = outputs;
    let err = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(first.status.code(), Some(0), "{}", err(&first));
    assert_eq!(String::from_utf8_lossy(&first.stdout).trim(), "3 tickets classified");
    assert_eq!(second.status.code(), Some(0), "{}", err(&second));
    assert_eq!(String::from_utf8_lossy(&second.stdout).trim(), "billing");

    // Both logs: 4 calls of classify, the rules agree on 3.
    assert_eq!(report.status.code(), Some(0), "{}", err(&report));
    let table = String::from_utf8_lossy(&report.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0], "`classify_rules` agrees with worker `classify` on 3 of 4 observed calls (75.0%)",
        "{table}"
    );
    let rows: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with("| ")).collect();
    // The header and the one disagreeing case; `classify` was the run's call #4 (after main
    // #1 and classify #2 and #3).
    assert_eq!(
        rows,
        [
            "| # | input | worker | classify_rules | observed in |",
            "| 3 | \"Please add a dark mode\" | \"billing\" | \"feature\" | run1.jsonl: log call #4 |",
        ],
        "{table}"
    );

    // One log, with the project's name space and a threshold the candidate misses: exit 1.
    assert_eq!(strict.status.code(), Some(1), "{}", err(&strict));
    assert!(
        String::from_utf8_lossy(&strict.stdout).contains("on 2 of 3 observed calls (66.7%)"),
        "{}",
        String::from_utf8_lossy(&strict.stdout)
    );
    assert!(err(&strict).contains("below --min-rate 90.0%"), "{}", err(&strict));

    assert_eq!(unknown.status.code(), Some(2));
    assert!(err(&unknown).contains("no candidate named `no_such_tool` (known: classify_rules)"));
    assert_eq!(unobserved.status.code(), Some(2));
    assert!(err(&unobserved).contains("no successful call of `main`"), "{}", err(&unobserved));

    // The plain binary has no Rust candidate, and says how to get one.
    let plain = Command::new(env!("CARGO_BIN_EXE_llm-do"))
        .args(["harden-report", "--worker", "classify", "--candidate", "classify_rules"])
        .arg(&run1)
        .output()
        .expect("plain llm-do");
    assert_eq!(plain.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&plain.stderr).contains("llm_do_cli::main_with"));

    // A cassette is evidence too: its requests are matched to the worker's prompt, which
    // --project provides. (A cassette recorded by a test, as the examples' are.)
    use llm_do::testing::cassette::{Cassette, Interaction};
    use llm_do::{Message, ModelRequest, ModelResponse};
    let mut cassette = Cassette::default();
    let system = "Classifies one support ticket as billing, bug or feature.";
    for (ticket, answer) in [
        ("I was charged twice", "billing"),
        ("The app crashes on start", "bug"),
        ("Please add a dark mode", "billing"),
    ] {
        let messages = vec![Message::system(system), Message::user(format!("Classify: {ticket}"))];
        cassette
            .push(Interaction::new(&ModelRequest::new("m", messages), ModelResponse::text(answer)));
    }
    // Another worker's request in the same cassette is not an observation of `classify`.
    let other = vec![Message::system("Classifies a batch of tickets."), Message::user("x")];
    cassette.push(Interaction::new(&ModelRequest::new("m", other), ModelResponse::text("done")));
    let recorded = project.join("recorded.json");
    cassette.save(&recorded).expect("save the cassette");
    let (project3, recorded2) = (project.clone(), recorded.clone());
    let [with_project, without] = tokio::task::spawn_blocking(move || {
        let args = |extra: &[&std::ffi::OsStr]| {
            let mut v = vec![
                os("harden-report"),
                p(&recorded2),
                os("--worker"),
                os("classify"),
                os("--candidate"),
                os("classify_rules"),
            ];
            v.extend_from_slice(extra);
            v.into_iter().map(ToOwned::to_owned).collect::<Vec<std::ffi::OsString>>()
        };
        let run = |a: Vec<std::ffi::OsString>| {
            let refs: Vec<&std::ffi::OsStr> = a.iter().map(|s| s.as_os_str()).collect();
            host(&refs, "http://127.0.0.1:9")
        };
        [run(args(&[os("--project"), p(&project3)])), run(args(&[]))]
    })
    .await
    .expect("join");
    assert_eq!(with_project.status.code(), Some(0), "{}", err(&with_project));
    let table = String::from_utf8_lossy(&with_project.stdout);
    assert!(
        table
            .starts_with("`classify_rules` agrees with worker `classify` on 2 of 3 observed calls"),
        "{table}"
    );
    assert!(
        table.contains("| \"Please add a dark mode\" | \"billing\" | \"feature\" | cassette #"),
        "{table}"
    );
    assert_eq!(without.status.code(), Some(2));
    assert!(
        err(&without).contains("needs the definition of the worker `classify`"),
        "{}",
        err(&without)
    );

    // An interaction whose prompt reads as two sets of arguments is not replayed on a guess:
    // it is skipped and the report says so.
    std::fs::write(
        project.join("compare.worker"),
        "---\ndescription: Compares two things.\ninput:\n  type: object\n  properties: { a: { type: string }, b: { type: string } }\n---\nCompare {a} with {b}.\n",
    )
    .expect("write");
    let mut cassette = Cassette::default();
    for prompt in ["Compare cats with dogs.", "Compare cats with hats with dogs."] {
        let messages = vec![Message::system("Compares two things."), Message::user(prompt)];
        cassette
            .push(Interaction::new(&ModelRequest::new("m", messages), ModelResponse::text("x")));
    }
    let compared = project.join("compared.json");
    cassette.save(&compared).expect("save the cassette");
    let ambiguous = tokio::task::spawn_blocking(move || {
        let args = [os("harden-report"), p(&compared), os("--worker"), os("compare")];
        let more = [os("--candidate"), os("classify_rules"), os("--project"), p(&project)];
        host(&[&args[..], &more[..]].concat(), "http://127.0.0.1:9")
    })
    .await
    .expect("join");
    assert_eq!(ambiguous.status.code(), Some(0), "{}", err(&ambiguous));
    let report = String::from_utf8_lossy(&ambiguous.stdout);
    assert!(report.contains("on 0 of 1 observed calls"), "{report}");
    assert!(
        err(&ambiguous).contains("skipped 1 ambiguous interaction(s) of `compare` (cassette #2)"),
        "{}",
        err(&ambiguous)
    );
}
