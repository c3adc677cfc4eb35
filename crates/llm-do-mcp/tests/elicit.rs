//! Approvals asked of the MCP client's user by elicitation (`McpService::elicit_approvals`):
//! a served call that needs approval, and a call inside a served worker's run that does, are
//! asked of an rmcp client that declared form elicitation; only `approve: true` runs them.

#[path = "support/served.rs"]
mod served;

use llm_do_core::{Message, ModelError, ModelRequest, Runtime, WorkerSpecBuilder};
use llm_do_mcp::serve::McpService;
use llm_do_testing::scripted::{Reply, ScriptedModel};
use rmcp::model::{
    ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction,
    ElicitationCapability, FormElicitationCapability, Implementation,
};
use rmcp::service::RequestContext;
use rmcp::{ClientHandler, ErrorData, RoleClient};
use serde_json::{Value, json};
use served::{HttpServer, call, connect, python_client, remove_tool, text_of};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A client whose user answers approval questions from a script, and keeps what was asked.
#[derive(Clone, Default)]
struct User {
    answers: Arc<Mutex<VecDeque<ElicitResult>>>,
    asked: Arc<Mutex<Vec<(String, Value)>>>,
}

impl User {
    fn answering(answers: impl IntoIterator<Item = ElicitResult>) -> Self {
        Self { answers: Arc::new(Mutex::new(answers.into_iter().collect())), ..Self::default() }
    }

    /// The questions asked so far: their messages and forms.
    fn asked(&self) -> Vec<(String, Value)> {
        self.asked.lock().unwrap().clone()
    }
}

impl ClientHandler for User {
    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        capabilities.elicitation =
            Some(ElicitationCapability::new().with_form(FormElicitationCapability::default()));
        ClientConfig::new(capabilities, Implementation::new("elicit-test", "0"))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ElicitRequestParams::FormElicitationParams { message, requested_schema, .. } = request
        else {
            return Err(ErrorData::invalid_params("only forms are expected", None));
        };
        let form = serde_json::to_value(&requested_schema).unwrap();
        self.asked.lock().unwrap().push((message, form));
        let answer = self.answers.lock().unwrap().pop_front();
        Ok(answer.unwrap_or_else(|| ElicitResult::new(ElicitationAction::Cancel)))
    }
}

fn approve(yes: bool) -> ElicitResult {
    ElicitResult::new(ElicitationAction::Accept).with_content(json!({ "approve": yes }))
}

/// `remove` (needs approval, counts its runs) and `cleaner`, a worker whose model asks for
/// `remove` once and then answers with what the call gave.
fn runtime(removed: &Arc<AtomicUsize>) -> Runtime {
    let remove = remove_tool(removed);
    let cleaner = WorkerSpecBuilder::new("cleaner")
        .description("Cleans up.")
        .prompt("Clean {input}")
        .tool_name("remove")
        .model("scripted:any")
        .build()
        .unwrap();
    let model = ScriptedModel::new(|req: &ModelRequest| {
        let result = req.messages.iter().find_map(|m| match m {
            Message::Tool(r) => Some(r.content.clone()),
            _ => None,
        });
        Ok::<_, ModelError>(match result {
            Some(result) => Reply::text(format!("the tool said: {result}")),
            None => Reply::tool_call("remove", json!({"path": "/tmp/old"})),
        })
    });
    Runtime::builder().model_override(model).register(remove).register(cleaner).build()
}

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
    assert!(text_of(&r).contains("does not support elicitation"), "{}", text_of(&r));
    client.cancel().await.unwrap();
    // A client that could be asked, of a service that does not ask.
    let user = User::answering([approve(true)]);
    let client = connect(McpService::new(runtime(&removed)), user.clone()).await;
    let r = client.peer().call_tool(call("remove", json!({"path": "a"}))).await.unwrap();
    assert_eq!(r.is_error, Some(true));
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
    let removed = Arc::new(AtomicUsize::new(0));
    let server = HttpServer::start(McpService::new(runtime(&removed)).elicit_approvals(true)).await;
    let test = "the_python_mcp_client_answers_approval_questions";
    let Some(v) = python_client(test, "elicit.py", server.addr).await else {
        return;
    };
    assert_eq!(v["approved"]["content"][0]["text"], "removed", "{v}");
    assert_ne!(v["approved"]["isError"], json!(true), "{v}");
    assert_eq!(v["declined"]["isError"], json!(true), "{v}");
    let refusal = v["declined"]["content"][0]["text"].as_str().unwrap();
    assert!(refusal.contains("declined by the MCP client's user"), "{refusal}");
    let asked = v["asked"].as_array().unwrap();
    assert_eq!(asked.len(), 2, "{v}");
    assert!(asked[0]["message"].as_str().unwrap().contains("`remove` needs approval"), "{v}");
    assert_eq!(asked[0]["schema"]["properties"]["approve"]["type"], "boolean", "{v}");
    assert_eq!(removed.load(Ordering::SeqCst), 1, "only the approved call ran");
    server.stop().await;
}
