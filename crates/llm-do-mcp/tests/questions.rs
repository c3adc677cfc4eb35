//! An MCP server's questions (elicitation) during a call reach the person behind the run: the
//! demo server's `refund`, run as a child process over stdio, asks to confirm — in a round of
//! the call (protocol 2026-07-28, the default) or by `elicitation/create` (before it); the
//! run's approver answers it (`Approver::answer`), and the server acts on the answer.

use futures::future::BoxFuture;
use llm_do_core::approval::{Answer, ApprovalRequest, ApproveAll, Approver, Decision, Question};
use llm_do_core::{EventLog, Message, Runtime};
use llm_do_mcp::{McpBuilderExt as _, McpServer, McpToolset};
use llm_do_testing::scripted::{Reply, ScriptedModel};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[path = "support/person.rs"]
mod person;

use person::Person;

const DEMO: &str = env!("CARGO_BIN_EXE_llm-do-mcp-demo-server");

/// The revisions each test runs on: the default, 2026-07-28 (a question comes back in a round
/// of its call), and one before it (a question is a request of its own during the call).
const PROTOCOLS: [Option<&str>; 2] = [None, Some("2025-11-25")];

/// The demo server on `protocol`, recording what reaches it in `record`.
fn demo(protocol: Option<&str>, record: &Path) -> McpServer {
    let server = McpServer::stdio(DEMO, Vec::<String>::new())
        .env("LLM_DO_MCP_DEMO_RECORD", record.display().to_string())
        .start_timeout(Duration::from_secs(30));
    match protocol {
        Some(version) => server.protocol(version),
        None => server,
    }
}

/// The rounds of `refund` that reached the server: (answered, protocol).
fn rounds(record: &Path) -> Vec<(bool, String)> {
    std::fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["tool"] == "refund")
        .map(|r| {
            let args = &r["arguments"];
            (args["answered"] == true, args["protocol"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// The rounds a refund whose question was answered takes on `protocol`.
fn answered_rounds(protocol: Option<&str>) -> Vec<(bool, String)> {
    match protocol {
        None => vec![(false, "2026-07-28".into()), (true, "2026-07-28".into())],
        Some(v) => vec![(false, v.to_owned())],
    }
}

/// Runs a worker whose model calls `orders__refund` for order A-1, with `approver`, on
/// `protocol`; returns the tool result the model was sent (content, is_error), the run's events
/// and the rounds of the call that reached the server.
async fn refund_with(
    approver: impl Approver,
    protocol: Option<&str>,
) -> ((String, bool), EventLog, Vec<(bool, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("calls.jsonl");
    let orders = McpToolset::connect("orders", demo(protocol, &record)).await.unwrap();
    let model = ScriptedModel::queue([
        Reply::tool_call("orders__refund", json!({"id": "A-1"})),
        Reply::text("done"),
    ]);
    let desk = llm_do_core::WorkerSpecBuilder::new("desk")
        .prompt("Help with {input}.")
        .tool_name("orders__refund")
        .build()
        .unwrap();
    let log = EventLog::new();
    let rt = Runtime::builder()
        .model_override(model.clone())
        .approver(approver)
        .register(desk)
        .mcp(&orders)
        .subscribe(log.clone())
        .build();
    let answer: String = rt.ctx().call("desk", json!({"input": "a refund"})).await.unwrap();
    assert_eq!(answer, "done");
    let last = model.last_request().unwrap();
    let result = last
        .messages
        .iter()
        .find_map(|m| match m {
            Message::Tool(r) => Some((r.content.clone(), r.is_error)),
            _ => None,
        })
        .unwrap();
    (result, log, rounds(&record))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_question_is_answered_by_the_runs_approver() {
    let person = Person {
        answer: Answer::accept(json!({"confirm": true, "reason": "late"})),
        asked: Arc::default(),
    };
    for protocol in PROTOCOLS {
        person.asked.lock().unwrap().clear();
        let (result, log, rounds) = refund_with(person.clone(), protocol).await;
        assert_eq!(result, ("refunded A-1 (late)".to_owned(), false), "{protocol:?}");
        assert_eq!(rounds, answered_rounds(protocol));
        asked_once_with_events(&person, &log);
    }
}

/// `person` was asked the refund's question once, and the run's events show it.
fn asked_once_with_events(person: &Person, log: &EventLog) {
    let asked = person.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].asker, "orders__refund");
    assert_eq!(asked[0].message, "Refund order A-1?");
    assert_eq!(asked[0].call_path, ["desk", "orders__refund"]);
    let mut fields = asked[0].fields();
    fields.sort_unstable();
    assert_eq!(fields, ["confirm", "reason"]);
    assert_eq!(
        asked[0].schema["properties"]["reason"]["enum"],
        json!(["damaged", "late", "other"])
    );
    let transcript = log.transcript();
    assert!(
        transcript.contains("orders__refund question_asked \"Refund order A-1?\""),
        "{transcript}"
    );
    assert!(transcript.contains("question_answered accept"), "{transcript}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_and_dismissed_questions_reach_the_server_as_such() {
    for protocol in PROTOCOLS {
        let (result, _, rounds) = refund_with(ApproveAll, protocol).await;
        assert_eq!(result, ("the user declined".to_owned(), false), "ApproveAll answers none");
        assert_eq!(rounds, answered_rounds(protocol));
        let person = Person { answer: Answer::Cancel, asked: Arc::default() };
        let (result, _, _) = refund_with(person, protocol).await;
        assert_eq!(result, ("the user dismissed the question".to_owned(), false));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_does_not_fit_the_form_is_an_error_for_the_server_not_sent() {
    let person =
        Person { answer: Answer::accept(json!({"confirm": "yes"})), asked: Arc::default() };
    // Before 2026-07-28 the question is the server's request, answered with an error, which
    // the tool reports.
    let (result, _, rounds) = refund_with(person.clone(), Some("2025-11-25")).await;
    let (content, is_error) = result;
    assert!(is_error, "{content}");
    assert!(content.contains("the tool reported an error: could not ask"), "{content}");
    assert!(content.contains("does not fit its form"), "{content}");
    assert_eq!(rounds.len(), 1);
    // In rounds the call fails here with the answer's error (`InvalidConfig`), and the server
    // never sees the call again.
    let (result, _, rounds) = refund_with(person, None).await;
    let (content, is_error) = result;
    assert!(is_error, "{content}");
    assert!(!content.contains("the tool reported an error"), "{content}");
    assert!(content.contains("does not fit its form"), "{content}");
    assert_eq!(rounds, [(false, "2026-07-28".to_owned())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_outside_a_run_is_declined() {
    for protocol in PROTOCOLS {
        let dir = tempfile::tempdir().unwrap();
        let demo = demo(protocol, &dir.path().join("calls.jsonl"));
        let orders = McpToolset::connect("orders", demo).await.unwrap();
        let answer: Value = orders.call("refund", json!({"id": "B-2"})).await.unwrap().unwrap();
        assert_eq!(answer, json!("the user declined"), "{protocol:?}");
    }
}

/// Answers every question with `answer`, once every `barrier` party has been asked.
struct AfterAll {
    answer: Answer,
    barrier: Arc<tokio::sync::Barrier>,
}

impl Approver for AfterAll {
    fn decide<'a>(&'a self, _: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        Box::pin(async { Decision::ApproveOnce })
    }
    fn answer<'a>(&'a self, _: &'a Question) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            self.barrier.wait().await;
            self.answer.clone()
        })
    }
}

/// In rounds (2026-07-28) a question belongs to its call: two calls in flight at once on one
/// server, from two runs whose people answer differently, each get their own run's answer
/// (before 2026-07-28 both would be put to the call in flight longest).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_rounds_each_question_reaches_the_person_behind_its_own_call() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("calls.jsonl");
    let orders = McpToolset::connect("orders", demo(Some("2026-07-28"), &record)).await.unwrap();
    // Neither answers before both have been asked: both calls are in flight together.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let run = |answer: Answer| {
        Runtime::builder()
            .approver(AfterAll { answer, barrier: barrier.clone() })
            .mcp(&orders)
            .build()
    };
    let yes = run(Answer::accept(json!({"confirm": true, "reason": "damaged"})));
    let no = run(Answer::Decline);
    let (yes, no) = (yes.ctx(), no.ctx());
    let (a, b) = tokio::join!(
        yes.call::<String>("orders__refund", json!({"id": "A-1"})),
        no.call::<String>("orders__refund", json!({"id": "B-2"})),
    );
    assert_eq!(a.unwrap(), "refunded A-1 (damaged)");
    assert_eq!(b.unwrap(), "the user declined");
    assert_eq!(rounds(&record).len(), 4, "two rounds per call");
}

/// A question by URL (a card's details must not pass through the run): the person behind the
/// call is shown the page and its site, and the server hears that they went on there; on both
/// revisions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_to_open_reaches_the_person_with_its_site() {
    for protocol in PROTOCOLS {
        let dir = tempfile::tempdir().unwrap();
        let orders = McpToolset::connect("orders", demo(protocol, &dir.path().join("calls.jsonl")))
            .await
            .unwrap();
        let person = Person::answering(Answer::accept(json!({})));
        let rt = Runtime::builder().approver(person.clone()).mcp(&orders).build();
        let said: String = rt.ctx().call("orders__refund", json!({"id": "card-7"})).await.unwrap();
        assert_eq!(said, "the refund of card-7 goes on at the payment page", "{protocol:?}");
        let asked = person.asked();
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].message, "Enter the card for the refund of card-7");
        let page = asked[0].page.clone().expect("a page");
        assert_eq!(page.url, "https://pay.example.com/refund/card-7");
        assert_eq!(page.site, "pay.example.com");
        // Declined, the server hears it; no one is sent anywhere.
        let rt =
            Runtime::builder().approver(Person::answering(Answer::Decline)).mcp(&orders).build();
        let said: String = rt.ctx().call("orders__refund", json!({"id": "card-7"})).await.unwrap();
        assert_eq!(said, "the user declined");
    }
}
