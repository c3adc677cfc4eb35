//! A served run's progress, passed on to the MCP client that asked for it: a tool's own
//! reports, a worker's tools' reports named and counted, in every way a call can be driven
//! (asking nothing, by request, in rounds, parked between rounds), and across two llm-do hops.

#[path = "support/served.rs"]
mod served;

use llm_do_core::approval::ApproveAll;
use llm_do_core::{EventKind, EventLog, Runtime, ToolSpecBuilder};
use llm_do_mcp::serve::McpService;
use rmcp::model::{ElicitResult, ElicitationAction};
use serde_json::json;
use served::{
    HttpServer, User, answer, call, complete, connect, connect_2026, indexer, indexer_seen_by,
    input_required, text_of,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Notify;

/// A served call's progress goes to the client that asked for it (rmcp's client asks with
/// every request), whether the service asks that client nothing or asks it by request
/// (2025-11-25): a tool's own reports as they are; a worker's, which reports nothing itself,
/// are its tool's, named and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_calls_progress_goes_to_the_client_that_asked_for_it() {
    for elicit in [false, true] {
        let user = User::default();
        let client =
            connect(McpService::new(indexer()).elicit_approvals(elicit), user.clone()).await;
        let r = client.peer().call_tool(call("index", json!({}))).await.unwrap();
        assert_eq!(text_of(&r), "indexed");
        let got = user.progress(3).await;
        let seen: Vec<_> = got.iter().map(|p| (p.progress, p.total, p.message.clone())).collect();
        let expected: Vec<_> =
            (1..=3).map(|n| (f64::from(n), Some(3.0), Some(format!("file {n}")))).collect();
        assert_eq!(seen, expected, "elicitation {elicit}");
        assert!(got.iter().all(|p| p.progress_token == got[0].progress_token));

        let r = client.peer().call_tool(call("research", json!({}))).await.unwrap();
        assert_eq!(text_of(&r), "found it");
        let seen: Vec<_> =
            user.progress(3).await.into_iter().map(|p| (p.progress, p.total, p.message)).collect();
        let expected: Vec<_> = (1..=3)
            .map(|n| (f64::from(n), None, Some(format!("`index`: file {n} ({n}/3)"))))
            .collect();
        assert_eq!(seen, expected, "elicitation {elicit}");
        client.cancel().await.unwrap();
    }
}

/// Across two llm-do hops: an `McpToolset` asks for progress with each call and reports what
/// comes by the call that made it, in the order of its progress, in rounds (2026-07-28) and by
/// request (2025-11-25). rmcp hands each notification to a task of its own, so one may
/// overtake another (the later progress wins), or be handled after the call's answer (it is
/// then not reported): the served tool waits until its first report is seen, and the others
/// may or may not come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_calls_progress_reaches_the_run_that_made_the_call() {
    use llm_do_mcp::{McpBuilderExt as _, McpServer, McpToolset};
    for protocol in [None, Some("2025-11-25")] {
        let seen = Arc::new(AtomicUsize::new(0));
        let service = McpService::new(indexer_seen_by(seen.clone())).elicit_approvals(true);
        let server = HttpServer::start(service).await;
        let reach = McpServer::http(format!("http://{}/mcp", server.addr));
        let reach = match protocol {
            Some(version) => reach.protocol(version),
            None => reach,
        };
        let desk = McpToolset::connect("desk", reach).await.unwrap();
        let log = EventLog::new();
        let counting = move |e: &llm_do_core::Event| {
            if matches!(e.kind, EventKind::Progress { .. }) {
                seen.fetch_add(1, Ordering::SeqCst);
            }
        };
        let rt = Runtime::builder()
            .approver(ApproveAll)
            .subscribe(log.clone())
            .subscribe(counting)
            .mcp(&desk)
            .build();
        let reports = |call: &str| -> Vec<(f64, Option<f64>, String)> {
            log.events()
                .into_iter()
                .filter(|e| &*e.call.name == call)
                .filter_map(|e| match e.kind {
                    EventKind::Progress { progress, total, message } => {
                        Some((progress, total, message.unwrap_or_default()))
                    }
                    _ => None,
                })
                .collect()
        };
        let indexed: String = rt.ctx().call("desk__index", json!({})).await.unwrap();
        assert_eq!(indexed, "indexed");
        let found: String = rt.ctx().call("desk__research", json!({})).await.unwrap();
        assert_eq!(found, "found it");
        for (call, expected) in [
            (
                "desk__index",
                (1..=3).map(|n| (f64::from(n), Some(3.0), format!("file {n}"))).collect::<Vec<_>>(),
            ),
            (
                "desk__research",
                (1..=3)
                    .map(|n| (f64::from(n), None, format!("`index`: file {n} ({n}/3)")))
                    .collect(),
            ),
        ] {
            let got = reports(call);
            assert_eq!(got.first(), expected.first(), "{protocol:?}: {call}: {got:?}");
            assert!(got.iter().all(|r| expected.contains(r)), "{protocol:?}: {got:?}");
            assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "{protocol:?}: in order: {got:?}");
        }
        desk.close().await;
        server.stop().await;
    }
}

/// Each round is a request of its own: the reports made before a question go to the round that
/// asks it, those after the answer to the round that brings it, each under its own token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_in_rounds_goes_to_the_request_of_each_round() {
    let answer = ElicitResult::new(ElicitationAction::Accept).with_content(json!({"name": "Ada"}));
    let user = User::answering([answer]);
    let client =
        connect_2026(McpService::new(indexer()).elicit_approvals(true), user.clone()).await;
    let r = client.call_tool(call("survey", json!({}))).await.unwrap();
    assert_eq!(text_of(&r), "accept");
    assert_eq!(user.asked().len(), 1, "one round asked");
    let got = user.progress(2).await;
    let seen: Vec<_> = got.iter().map(|p| (p.progress, p.message.as_deref())).collect();
    assert_eq!(seen, [(1.0, Some("asking")), (2.0, Some("answered"))]);
    assert_ne!(got[0].progress_token, got[1].progress_token, "one token per round");
    client.cancel().await.unwrap();
}

/// A report made while the call is parked (its round answered, the next not yet asked) has no
/// request to go to; it goes to the next round's request first, before what that round
/// reports itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_made_while_parked_goes_to_the_next_round() {
    let (parked, reported) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let (on_park, on_report) = (parked.clone(), reported.clone());
    let waiting = ToolSpecBuilder::new("waiting")
        .handler(move |ctx, _| {
            let (parked, reported) = (on_park.clone(), on_report.clone());
            async move {
                ctx.report_progress(1.0, Some(3.0), Some("asking"));
                let form = json!({"type": "object", "properties": {"name": {"type": "string"}}});
                let (answer, ()) = tokio::join!(ctx.ask("Who are you?", form), async {
                    parked.notified().await;
                    ctx.report_progress(2.0, Some(3.0), Some("still waiting"));
                    reported.notify_one();
                });
                ctx.report_progress(3.0, Some(3.0), Some("answered"));
                Ok(json!(answer?.action()))
            }
        })
        .build();
    let service = McpService::new(Runtime::builder().register(waiting).build());
    let user = User::default();
    let client = connect_2026(service.elicit_approvals(true), user.clone()).await;
    let (_, handle) =
        input_required(client.call_tool_once(call("waiting", json!({}))).await.unwrap());
    // Parked: the run reports with no request in flight.
    parked.notify_one();
    reported.notified().await;
    let accept = ElicitResult::new(ElicitationAction::Accept).with_content(json!({"name": "Ada"}));
    let mut retry = call("waiting", json!({}))
        .with_input_responses([("question-1".to_owned(), answer(accept))].into());
    retry.request_state = Some(handle);
    let r = complete(client.call_tool_once(retry).await.unwrap());
    assert_eq!(text_of(&r), "accept");
    let got = user.progress(3).await;
    let seen: Vec<_> = got.iter().map(|p| (p.progress, p.message.as_deref())).collect();
    assert_eq!(
        seen,
        [(1.0, Some("asking")), (2.0, Some("still waiting")), (3.0, Some("answered"))]
    );
    assert_ne!(got[0].progress_token, got[1].progress_token, "the first round's, then the next's");
    assert_eq!(got[1].progress_token, got[2].progress_token);
    client.cancel().await.unwrap();
}
