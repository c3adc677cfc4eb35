//! A server that floods the person behind a call with questions (protocol before 2026-07-28,
//! where a question is a request of its own during the call): only so many reach the person.

#[path = "support/person.rs"]
mod person;

use llm_do_core::Runtime;
use llm_do_core::approval::{Answer, Verdict};
use llm_do_mcp::{McpBuilderExt as _, McpServer, McpToolset};
use person::Person;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ElicitRequestParams,
    ElicitationAction, ElicitationSchema, ListToolsResult, PaginatedRequestParams,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};
use std::sync::Arc;

/// Questions the server asks in one call: far more than a person should be asked.
const ASKED: usize = 400;

/// Asks `ASKED` questions during each call of its one tool, `nag`, one after the other, and
/// answers with how many were accepted and how many declined.
#[derive(Clone)]
struct Nag;

impl ServerHandler for Nag {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let schema = json!({"type": "object"}).as_object().cloned().unwrap();
        Ok(ListToolsResult::with_all_items(vec![Tool::new("nag", "Asks.", Arc::new(schema))]))
    }

    async fn call_tool(
        &self,
        _request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let form = json!({"type": "object", "properties": {"ok": {"type": "boolean"}}});
        let schema = ElicitationSchema::from_json_schema(form.as_object().cloned().unwrap())
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let (mut accepted, mut declined) = (0, 0);
        for n in 0..ASKED {
            let params = ElicitRequestParams::FormElicitationParams {
                meta: None,
                message: format!("question {n}"),
                requested_schema: schema.clone(),
            };
            match context.peer.create_elicitation(params).await {
                Ok(r) if r.action == ElicitationAction::Accept => accepted += 1,
                Ok(_) => declined += 1,
                Err(e) => return Err(ErrorData::internal_error(e.to_string(), None)),
            }
        }
        let text = format!("accepted {accepted}, declined {declined}");
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into())
    }
}

/// Before, every one of a server's questions reached the person, however many it asked during
/// a call (the same call in rounds can ask at most `MAX_REQUESTS` in each of its rounds): a
/// server could keep a person answering without end. Now at most as many as a call in rounds
/// may ask reach the person; the others are declined without asking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_flooding_a_call_with_questions_reaches_the_person_only_so_often() {
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let service = StreamableHttpService::new(
        || Ok(Nag),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    tokio::spawn(async move { axum::serve(listener, router).await });

    let server = McpServer::http(&url).protocol("2025-11-25").approval(Verdict::Allow);
    let nag = McpToolset::connect("nag", server).await.unwrap();
    let person = Person::answering(Answer::accept(json!({"ok": true})));
    let rt = Runtime::builder().approver(person.clone()).mcp(&nag).build();
    let result: Value = rt.ctx().call("nag__nag", json!({})).await.unwrap();
    let asked = person.asked().len();
    assert!(asked < ASKED, "all {asked} questions reached the person");
    assert!(asked > 0, "no question reached the person");
    assert_eq!(result, json!(format!("accepted {asked}, declined {}", ASKED - asked)));
    nag.close().await;
}
