//! Approvals asked of a client on MCP protocol 2026-07-28, which forbids requests from the
//! server: the call is answered with an `InputRequiredResult` carrying the question, its run
//! parked until the client repeats the call with the answer (`McpService::elicit_approvals`).

#[path = "support/served.rs"]
mod served;

use llm_do_core::approval::{ApprovalPolicy, Rule, Verdict};
use llm_do_core::{Runtime, WorkerSpecBuilder};
use llm_do_mcp::serve::{MAX_PARKED, McpService};
use llm_do_testing::scripted::{Reply, ScriptedModel};
use rmcp::ServiceError;
use rmcp::model::{CallToolResponse, ElicitResult, ElicitationAction, ErrorCode};
use serde_json::json;
use served::{
    Sdk, User, answer, approve, call, complete, connect, connect_2026, greeter, input_required,
    python_user_approves_one_call, remove_tool, runtime, runtime_and_model, text_of,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_client_is_asked_in_the_answer_and_only_approve_true_runs_the_call() {
    let removed = Arc::new(AtomicUsize::new(0));
    let user = User::answering([approve(true), ElicitResult::new(ElicitationAction::Decline)]);
    let service = McpService::new(runtime(&removed)).elicit_approvals(true);
    let client = connect_2026(service, user.clone()).await;

    // rmcp's `call_tool` answers each `InputRequiredResult` with its handler and repeats the call.
    let r = client.call_tool(call("remove", json!({"path": "a.txt"}))).await.unwrap();
    assert_eq!((r.is_error, text_of(&r).as_str()), (Some(false), "removed"));
    let (message, form) = &user.asked()[0];
    assert!(message.starts_with("`remove` needs approval (its declared approval"), "{message}");
    assert!(message.contains("The MCP client asks"), "{message}");
    assert!(message.contains("\"path\": \"a.txt\""), "{message}");
    assert_eq!(form["required"], json!(["approve"]));

    let r = client.call_tool(call("remove", json!({"path": "b.txt"}))).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert_eq!(
        text_of(&r),
        "permission denied: the call to `remove` was not approved (declined by the MCP client's \
         user); it did not run"
    );
    assert_eq!(user.asked().len(), 2);
    assert_eq!(removed.load(Ordering::SeqCst), 1, "only the approved call ran");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_worker_and_the_call_inside_it_are_asked_in_two_rounds() {
    let removed = Arc::new(AtomicUsize::new(0));
    let user = User::answering([approve(true), approve(true)]);
    let policy = ApprovalPolicy::new().rule(Rule::new("cleaner", Verdict::Ask).unwrap());
    let service = McpService::new(runtime(&removed)).policy(policy).elicit_approvals(true);
    let client = connect_2026(service, user.clone()).await;

    let r = client.call_tool(call("cleaner", json!({"input": "tmp"}))).await.unwrap();
    assert_eq!(text_of(&r), "the tool said: removed");
    let asked: Vec<String> = user.asked().into_iter().map(|(message, _)| message).collect();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(asked[0].starts_with("`cleaner` needs approval"), "{asked:?}");
    assert!(asked[0].contains("The MCP client asks"), "{asked:?}");
    assert!(asked[1].starts_with("`remove` needs approval"), "{asked:?}");
    assert!(asked[1].contains("The worker `cleaner` (depth 1) asks"), "{asked:?}");
    assert_eq!(removed.load(Ordering::SeqCst), 1);
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tools_question_in_a_served_run_is_asked_in_a_round() {
    let user = User::answering([
        ElicitResult::new(ElicitationAction::Accept).with_content(json!({"name": "Ada"})),
        ElicitResult::new(ElicitationAction::Cancel),
    ]);
    let client =
        connect_2026(McpService::new(greeter()).elicit_approvals(true), user.clone()).await;
    let r = client.call_tool(call("greet", json!({}))).await.unwrap();
    assert_eq!((r.is_error, text_of(&r).as_str()), (Some(false), "Hello, Ada!"));
    let (message, form) = &user.asked()[0];
    assert!(message.starts_with("`greet` asks: Who are you?"), "{message}");
    assert_eq!(form["required"], json!(["name"]));
    let r = client.call_tool(call("greet", json!({}))).await.unwrap();
    assert_eq!(text_of(&r), "Hello, stranger!");
    assert_eq!(user.asked().len(), 2);

    // On the wire: the question's key; a retry without its answer, or with one that is not an
    // elicitation result, dismisses it.
    let (keys, _) = input_required(client.call_tool_once(call("greet", json!({}))).await.unwrap());
    assert_eq!(keys, ["question-1"]);
    for answers in [json!({}), json!({"question-1": "Ada"})] {
        let (_, handle) =
            input_required(client.call_tool_once(call("greet", json!({}))).await.unwrap());
        let mut retry = call("greet", json!({}));
        retry.input_responses = serde_json::from_value(answers).unwrap();
        retry.request_state = Some(handle);
        let r = complete(client.call_tool_once(retry).await.unwrap());
        assert_eq!(text_of(&r), "Hello, stranger!");
    }
    client.cancel().await.unwrap();
}

/// A model that asks for two calls at once: both wait for approval together, and each runs
/// only once its own question is answered (in one round or two, as the questions arrive).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_calls_asked_at_once_are_each_answered() {
    let removed = Arc::new(AtomicUsize::new(0));
    let sweeper = WorkerSpecBuilder::new("sweeper")
        .prompt("Sweep {input}")
        .tool_name("remove")
        .model("scripted:any")
        .build()
        .unwrap();
    let model = ScriptedModel::queue([
        Reply::tool_calls([
            ("remove", json!({"path": "/tmp/a"})),
            ("remove", json!({"path": "/tmp/b"})),
        ]),
        Reply::text("swept"),
    ]);
    let rt = Runtime::builder()
        .model_override(model)
        .register(remove_tool(&removed))
        .register(sweeper)
        .build();
    // The user approves the call on /tmp/a and declines the other, whichever is asked first.
    let user = User::deciding(|message| message.contains("/tmp/a"));
    let client = connect_2026(McpService::new(rt).elicit_approvals(true), user.clone()).await;
    let r = client.call_tool(call("sweeper", json!({"input": "tmp"}))).await.unwrap();
    assert_eq!(text_of(&r), "swept");
    let asked = user.asked();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(
        asked.iter().any(|(m, _)| m.contains("/tmp/a"))
            && asked.iter().any(|(m, _)| m.contains("/tmp/b"))
    );
    assert_eq!(removed.load(Ordering::SeqCst), 1, "only the approved one of the two ran");
    client.cancel().await.unwrap();
}

/// One round on the wire: the question's key and form, the handle, and what a retry may do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_must_repeat_the_call_and_answer_with_its_handle_once() {
    let removed = Arc::new(AtomicUsize::new(0));
    let service = McpService::new(runtime(&removed)).elicit_approvals(true);
    let client = connect_2026(service, User::default()).await;
    let a = || call("remove", json!({"path": "a.txt"}));

    let (keys, handle) = input_required(client.call_tool_once(a()).await.unwrap());
    assert_eq!(keys, ["approval-1"]);

    // Other arguments under the handle: refused, and the parked call stays as it was.
    let mut other = call("remove", json!({"path": "b.txt"}));
    other.request_state = Some(handle.clone());
    let e = invalid_params(client.call_tool_once(other).await);
    assert!(e.contains("other arguments"), "{e}");
    let mut unknown = a();
    unknown.request_state = Some("not-a-handle".into());
    let e = invalid_params(client.call_tool_once(unknown).await);
    assert!(e.contains("no call is waiting for answers"), "{e}");

    let mut retry =
        a().with_input_responses([("approval-1".to_owned(), answer(approve(true)))].into());
    retry.request_state = Some(handle);
    let done = complete(client.call_tool_once(retry.clone()).await.unwrap());
    assert_eq!(text_of(&done), "removed");
    // A handle answers once.
    let e = invalid_params(client.call_tool_once(retry).await);
    assert!(e.contains("already answered"), "{e}");

    // No answer to the question, or an answer that is not an elicitation result: denied.
    for (answers, why) in [
        (json!({}), "not answered by the MCP client"),
        (json!({"approval-1": "yes"}), "the MCP client's answer was not an elicitation result"),
    ] {
        let (_, handle) = input_required(client.call_tool_once(a()).await.unwrap());
        let mut retry = a();
        retry.input_responses = serde_json::from_value(answers).unwrap();
        retry.request_state = Some(handle);
        let r = complete(client.call_tool_once(retry).await.unwrap());
        assert_eq!(r.is_error, Some(true));
        assert!(text_of(&r).contains(why), "{}", text_of(&r));
    }
    assert_eq!(removed.load(Ordering::SeqCst), 1);
    client.cancel().await.unwrap();

    // A client asked by requests (before 2026-07-28) has no handles to give.
    let client =
        connect(McpService::new(runtime(&removed)).elicit_approvals(true), User::default()).await;
    let mut stray = a();
    stray.request_state = Some("anything".into());
    let e = invalid_params(client.peer().call_tool_once(stray).await);
    assert!(e.contains("asks this client nothing across rounds"), "{e}");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_question_is_not_answered_in_time_is_cancelled() {
    let removed = Arc::new(AtomicUsize::new(0));
    let (rt, model) = runtime_and_model(&removed);
    let service =
        McpService::new(rt).elicit_approvals(true).answer_timeout(Duration::from_millis(100));
    let client = connect_2026(service, User::default()).await;
    let cleaner = || call("cleaner", json!({"input": "tmp"}));
    let (_, handle) = input_required(client.call_tool_once(cleaner()).await.unwrap());
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut late =
        cleaner().with_input_responses([("approval-1".to_owned(), answer(approve(true)))].into());
    late.request_state = Some(handle);
    let e = invalid_params(client.call_tool_once(late).await);
    assert!(e.contains("or expired (questions wait 100ms)"), "{e}");
    assert_eq!(removed.load(Ordering::SeqCst), 0, "the late approval ran nothing");
    // Cancelled, not denied: a denial would have been told to the model in a second request.
    assert_eq!(model.request_count(), 1);
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_max_parked_calls_wait_for_answers() {
    let removed = Arc::new(AtomicUsize::new(0));
    let service = McpService::new(runtime(&removed)).elicit_approvals(true);
    let client = connect_2026(service, User::default()).await;
    for n in 0..MAX_PARKED {
        let r = client.call_tool_once(call("remove", json!({ "path": n.to_string() }))).await;
        input_required(r.unwrap());
    }
    let r =
        complete(client.call_tool_once(call("remove", json!({"path": "one more"}))).await.unwrap());
    assert_eq!(r.is_error, Some(true));
    assert!(
        text_of(&r).contains("calls are already waiting for their approval answers"),
        "{}",
        text_of(&r)
    );
    assert_eq!(removed.load(Ordering::SeqCst), 0);
    client.cancel().await.unwrap();
}

/// A third-party client on 2026-07-28: the official Python `mcp.Client` over streamable HTTP,
/// its elicitation callback approving one call and declining the other (tests/python/elicit.py).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_mcp_client_on_2026_07_28_answers_in_rounds() {
    let test = "the_python_mcp_client_on_2026_07_28_answers_in_rounds";
    python_user_approves_one_call(test, Sdk::Current, &["2026-07-28"]).await;
}

/// The message of a JSON-RPC "invalid params" error.
fn invalid_params(response: Result<CallToolResponse, ServiceError>) -> String {
    match response {
        Err(ServiceError::McpError(e)) if e.code == ErrorCode::INVALID_PARAMS => {
            e.message.to_string()
        }
        other => panic!("expected -32602, got {other:?}"),
    }
}

/// An answer timeout of `Duration::MAX` ("wait as long as the user takes") parks the call like
/// any other: before, the parked call's expiry overflowed the clock, the handler panicked and
/// the client was never answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_timeout_of_duration_max_parks_the_call_without_a_panic() {
    let removed = Arc::new(AtomicUsize::new(0));
    let user = User::answering([approve(true)]);
    let service =
        McpService::new(runtime(&removed)).elicit_approvals(true).answer_timeout(Duration::MAX);
    let client = connect_2026(service, user.clone()).await;
    // A guard against the hang the panic caused, not a timing assertion.
    let called = tokio::time::timeout(
        Duration::from_secs(120),
        client.call_tool(call("remove", json!({"path": "a.txt"}))),
    )
    .await;
    let r = called.expect("the call was never answered").unwrap();
    assert_eq!((r.is_error, text_of(&r).as_str()), (Some(false), "removed"));
    assert_eq!(removed.load(Ordering::SeqCst), 1);
    client.cancel().await.unwrap();
}
