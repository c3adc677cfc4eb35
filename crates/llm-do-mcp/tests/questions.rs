//! An MCP server's questions (elicitation) during a call reach the person behind the run: the
//! demo server's `refund` asks to confirm by `elicitation/create`, run as a child process over
//! stdio; the run's approver answers it (`Approver::answer`), and the server acts on the answer.

use futures::future::BoxFuture;
use llm_do_core::approval::{Answer, ApprovalRequest, ApproveAll, Approver, Decision, Question};
use llm_do_core::{EventLog, Message, Runtime};
use llm_do_mcp::{McpBuilderExt as _, McpServer, McpToolset};
use llm_do_testing::scripted::{Reply, ScriptedModel};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DEMO: &str = env!("CARGO_BIN_EXE_llm-do-mcp-demo-server");

fn demo() -> McpServer {
    McpServer::stdio(DEMO, Vec::<String>::new()).start_timeout(Duration::from_secs(30))
}

/// Approves every call and answers every question with `answer`, keeping the questions.
#[derive(Clone)]
struct Person {
    answer: Answer,
    asked: Arc<Mutex<Vec<Question>>>,
}

impl Approver for Person {
    fn decide<'a>(&'a self, _: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        Box::pin(async { Decision::ApproveOnce })
    }
    fn answer<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Answer> {
        self.asked.lock().unwrap().push(question.clone());
        let answer = self.answer.clone();
        Box::pin(async move { answer })
    }
}

/// Runs a worker whose model calls `orders__refund` for order A-1, with `approver`; returns
/// the tool result the model was sent (content, is_error) and the run's events.
async fn refund_with(approver: impl Approver) -> ((String, bool), EventLog) {
    let orders = McpToolset::connect("orders", demo()).await.unwrap();
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
    (result, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_question_is_answered_by_the_runs_approver() {
    let person = Person {
        answer: Answer::accept(json!({"confirm": true, "reason": "late"})),
        asked: Arc::default(),
    };
    let (result, log) = refund_with(person.clone()).await;
    assert_eq!(result, ("refunded A-1 (late)".to_owned(), false));
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
    let (result, _) = refund_with(ApproveAll).await;
    assert_eq!(result, ("the user declined".to_owned(), false), "ApproveAll answers no question");
    let person = Person { answer: Answer::Cancel, asked: Arc::default() };
    let (result, _) = refund_with(person).await;
    assert_eq!(result, ("the user dismissed the question".to_owned(), false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_does_not_fit_the_form_is_an_error_for_the_server_not_sent() {
    let person =
        Person { answer: Answer::accept(json!({"confirm": "yes"})), asked: Arc::default() };
    let (result, _) = refund_with(person).await;
    let (content, is_error) = result;
    assert!(is_error, "{content}");
    assert!(content.contains("the tool reported an error: could not ask"), "{content}");
    assert!(content.contains("does not fit its form"), "{content}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_outside_a_run_is_declined() {
    let orders = McpToolset::connect("orders", demo()).await.unwrap();
    let answer: Value = orders.call("refund", json!({"id": "B-2"})).await.unwrap().unwrap();
    assert_eq!(answer, json!("the user declined"));
}
