//! Approvals asked of the MCP client's user by elicitation (`McpService::elicit_approvals`):
//! a served call that needs approval, and a call inside a served worker's run that does, are
//! asked of an rmcp client that declared form elicitation; only `approve: true` runs them.

#[path = "support/served.rs"]
mod served;

use llm_do_mcp::serve::McpService;
use rmcp::model::{ElicitResult, ElicitationAction};
use serde_json::json;
use served::{
    Sdk, User, approve, call, connect, greeter, python_user_approves_one_call, runtime, text_of,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_call_needing_approval_runs_only_when_the_user_approves_it() {
    let removed = Arc::new(AtomicUsize::new(0));
    let user = User::answering([
        approve(true),
        ElicitResult::new(ElicitationAction::Decline),
        ElicitResult::new(ElicitationAction::Cancel),
        approve(false),
    ]);
    let service = McpService::new(runtime(&removed)).elicit_approvals(true);
    let client = connect(service, user.clone()).await;

    let r = client.peer().call_tool(call("remove", json!({"path": "a.txt"}))).await.unwrap();
    assert_eq!((r.is_error, text_of(&r).as_str()), (Some(false), "removed"));
    let (message, form) = &user.asked()[0];
    assert!(message.starts_with("`remove` needs approval (its declared approval"), "{message}");
    assert!(message.contains("The MCP client asks"), "{message}");
    assert!(message.contains("\"path\": \"a.txt\""), "{message}");
    assert_eq!(form["properties"]["approve"]["type"], "boolean");
    assert_eq!(form["required"], json!(["approve"]));

    let mut refusals = Vec::new();
    for path in ["b.txt", "c.txt", "d.txt"] {
        let r = client.peer().call_tool(call("remove", json!({ "path": path }))).await.unwrap();
        assert_eq!(r.is_error, Some(true));
        refusals.push(text_of(&r));
    }
    assert_eq!(
        refusals,
        [
            "permission denied: the call to `remove` was not approved (declined by the MCP \
             client's user); it did not run",
            "permission denied: the call to `remove` was not approved (dismissed by the MCP \
             client's user); it did not run",
            "permission denied: the call to `remove` was not approved (declined by the MCP \
             client's user); it did not run",
        ]
    );
    assert_eq!(user.asked().len(), 4, "each call was asked about");
    assert_eq!(removed.load(Ordering::SeqCst), 1, "only the approved call ran");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_inside_a_served_worker_is_asked_of_the_user_too() {
    let removed = Arc::new(AtomicUsize::new(0));
    let user = User::answering([approve(true), ElicitResult::new(ElicitationAction::Decline)]);
    let service = McpService::new(runtime(&removed)).elicit_approvals(true);
    let client = connect(service, user.clone()).await;

    // The worker itself needs no approval; the call its model asks for does.
    let r = client.peer().call_tool(call("cleaner", json!({"input": "tmp"}))).await.unwrap();
    assert_eq!(text_of(&r), "the tool said: removed");
    let (message, _) = &user.asked()[0];
    assert!(message.contains("The worker `cleaner` (depth 1) asks"), "{message}");
    assert!(message.contains("\"path\": \"/tmp/old\""), "{message}");
    assert_eq!(removed.load(Ordering::SeqCst), 1);

    // Declined: the model is told, as for any denial, and the tool never runs.
    let r = client.peer().call_tool(call("cleaner", json!({"input": "tmp"}))).await.unwrap();
    let text = text_of(&r);
    assert!(
        text.contains("permission denied")
            && text.contains("denied by the approver: declined by the MCP client's user"),
        "{text}"
    );
    assert_eq!(removed.load(Ordering::SeqCst), 1);
    assert_eq!(user.asked().len(), 2);
    client.cancel().await.unwrap();
}

/// A user who never answers.
#[derive(Clone)]
struct Away;

impl rmcp::ClientHandler for Away {
    fn get_info(&self) -> rmcp::model::ClientConfig {
        rmcp::ClientHandler::get_info(&User::default())
    }

    async fn create_elicitation(
        &self,
        _request: rmcp::model::ElicitRequestParams,
        _context: rmcp::service::RequestContext<rmcp::RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        std::future::pending().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_not_answered_within_the_answer_timeout_denies_the_call() {
    let removed = Arc::new(AtomicUsize::new(0));
    let service = McpService::new(runtime(&removed))
        .elicit_approvals(true)
        .answer_timeout(std::time::Duration::from_millis(200));
    let client = connect(service, Away).await;
    let r = client.peer().call_tool(call("remove", json!({"path": "a"}))).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    let text = text_of(&r);
    assert!(
        text.starts_with("permission denied: the call to `remove` was not approved (the MCP client could not be asked for approval:"),
        "{text}"
    );
    assert_eq!(removed.load(Ordering::SeqCst), 0);
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_in_arguments_are_redacted_from_the_question() {
    let removed = Arc::new(AtomicUsize::new(0));
    let user = User::answering([approve(false)]);
    let client =
        connect(McpService::new(runtime(&removed)).elicit_approvals(true), user.clone()).await;
    let secret = "AKIAABCDEFGHIJKLMNOP";
    let r = client.peer().call_tool(call("remove", json!({ "path": secret }))).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    let (message, _) = &user.asked()[0];
    assert!(!message.contains(secret) && message.contains("[redacted]"), "{message}");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_elicitation_on_both_sides_nobody_is_asked_and_the_call_is_refused() {
    let removed = Arc::new(AtomicUsize::new(0));
    // A client that cannot be asked.
    let service = McpService::new(runtime(&removed)).elicit_approvals(true);
    let client = connect(service, ()).await;
    let r = client.peer().call_tool(call("remove", json!({"path": "a"}))).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text_of(&r).contains("does not support form elicitation"), "{}", text_of(&r));
    client.cancel().await.unwrap();
    // A client that could be asked, of a service that does not ask.
    let user = User::answering([approve(true)]);
    let client = connect(McpService::new(runtime(&removed)), user.clone()).await;
    let r = client.peer().call_tool(call("remove", json!({"path": "a"}))).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text_of(&r).contains("does not ask its clients"), "{}", text_of(&r));
    assert!(user.asked().is_empty());
    // --approve-all wins: nobody is asked, the call runs.
    let service = McpService::new(runtime(&removed)).elicit_approvals(true).approve_all(true);
    let client2 = connect(service, user.clone()).await;
    let r = client2.peer().call_tool(call("remove", json!({"path": "a"}))).await.unwrap();
    assert_eq!(r.is_error, Some(false));
    assert!(user.asked().is_empty());
    assert_eq!(removed.load(Ordering::SeqCst), 1);
    client.cancel().await.unwrap();
    client2.cancel().await.unwrap();
}

/// A third-party client: the official Python `mcp` package over streamable HTTP, its
/// elicitation callback approving one call and declining the other (tests/python/elicit.py).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_mcp_client_answers_approval_questions() {
    let test = "the_python_mcp_client_answers_approval_questions";
    python_user_approves_one_call(test, Sdk::Current, &[]).await;
}

/// The same with the SDK's last 1.x release, a client of the generation before 2026-07-28.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_mcp_1x_client_answers_approval_questions() {
    let test = "a_python_mcp_1x_client_answers_approval_questions";
    python_user_approves_one_call(test, Sdk::V1, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tools_question_in_a_served_run_is_passed_on_to_the_clients_user() {
    let user = User::answering([
        ElicitResult::new(ElicitationAction::Accept).with_content(json!({"name": "Ada"})),
        ElicitResult::new(ElicitationAction::Decline),
    ]);
    let client = connect(McpService::new(greeter()).elicit_approvals(true), user.clone()).await;
    let r = client.peer().call_tool(call("greet", json!({}))).await.unwrap();
    assert_eq!((r.is_error, text_of(&r).as_str()), (Some(false), "Hello, Ada!"));
    let (message, form) = &user.asked()[0];
    assert!(message.starts_with("`greet` asks: Who are you?"), "{message}");
    assert!(!message.contains("sk-abcdefghijklmnopqrstuvwxyz"), "secrets are redacted: {message}");
    assert_eq!(form["properties"]["name"]["type"], "string");
    assert_eq!(form["required"], json!(["name"]));
    let r = client.peer().call_tool(call("greet", json!({}))).await.unwrap();
    assert_eq!(text_of(&r), "Hello, stranger!");
    client.cancel().await.unwrap();

    // A service that does not ask its client: the question is declined, no one is asked.
    let user = User::answering([]);
    let client = connect(McpService::new(greeter()), user.clone()).await;
    let r = client.peer().call_tool(call("greet", json!({}))).await.unwrap();
    assert_eq!(text_of(&r), "Hello, stranger!");
    assert!(user.asked().is_empty());
    client.cancel().await.unwrap();
}
