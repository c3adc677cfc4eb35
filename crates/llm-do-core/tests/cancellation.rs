//! Cancellation across contexts: a context made with `Ctx::with_child_cancellation` (a chat
//! turn) stops when its run is cancelled, while cancelling it leaves the run going; one made
//! with `Ctx::with_cancellation` is not linked to the run.

use llm_do_core::cancel::Cancellation;
use llm_do_core::{CallableSpec, Ctx, Error, Runtime, ToolSpecBuilder};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::Notify;

/// A liveness bound: a hang becomes a failure instead of a stuck test run.
async fn bounded<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(30), fut).await.expect("no hang")
}

/// `wait`: says it started, then never finishes by itself. `stop`: cancels its own context.
/// `echo`: answers at once.
fn tools(started: Arc<Notify>) -> Vec<Arc<CallableSpec>> {
    vec![
        ToolSpecBuilder::new("wait")
            .handler(move |_, _| {
                let started = started.clone();
                async move {
                    started.notify_one();
                    std::future::pending().await
                }
            })
            .build(),
        ToolSpecBuilder::new("stop")
            .handler(|ctx, _| async move {
                ctx.cancel("this turn only");
                std::future::pending().await
            })
            .build(),
        ToolSpecBuilder::new("echo").handler(|_, args| async move { Ok(args) }).build(),
    ]
}

fn session() -> (Ctx, Arc<Notify>) {
    let started = Arc::new(Notify::new());
    let mut builder = Runtime::builder();
    for tool in tools(started.clone()) {
        builder = builder.register(tool);
    }
    (builder.build().ctx(), started)
}

fn cancelled_with(result: llm_do_core::Result<serde_json::Value>, wanted: &str) {
    match result {
        Err(Error::Cancelled { reason }) => assert_eq!(reason, wanted),
        other => panic!("expected Error::Cancelled {{ {wanted:?} }}, got {other:?}"),
    }
}

#[tokio::test]
async fn cancelling_the_run_stops_a_call_in_flight_under_a_child_context() {
    let (ctx, started) = session();
    let turn = ctx.with_child_cancellation();
    let call = tokio::spawn(async move { turn.call_value("wait", json!({})).await });
    bounded(started.notified()).await;
    ctx.cancel("the session ends");
    cancelled_with(bounded(call).await.unwrap(), "the session ends");
}

#[tokio::test]
async fn cancelling_a_child_context_leaves_the_run_going() {
    let (ctx, _) = session();
    let turn = ctx.with_child_cancellation();
    cancelled_with(bounded(turn.call_value("stop", json!({}))).await, "this turn only");
    assert_eq!(turn.cancellation().reason().as_deref(), Some("this turn only"));
    assert!(!ctx.cancellation().is_cancelled());
    assert_eq!(ctx.call_value("echo", json!({"a": 1})).await.unwrap(), json!({"a": 1}));
    // The next turn starts afresh.
    let next = ctx.with_child_cancellation();
    assert_eq!(next.call_value("echo", json!({"b": 2})).await.unwrap(), json!({"b": 2}));
}

#[tokio::test]
async fn a_child_context_made_after_the_run_was_cancelled_is_cancelled() {
    let (ctx, _) = session();
    ctx.cancel("too late");
    let turn = ctx.with_child_cancellation();
    assert_eq!(turn.cancellation().reason().as_deref(), Some("too late"));
    cancelled_with(turn.call_value("echo", json!({})).await, "too late");
}

/// `with_cancellation` replaces the token: the run's cancellation does not reach it.
#[tokio::test]
async fn a_context_with_a_token_of_its_own_is_not_linked_to_the_run() {
    let (ctx, _) = session();
    let own = Cancellation::new();
    let detached = ctx.with_cancellation(own.clone());
    ctx.cancel("the run ends");
    assert_eq!(detached.call_value("echo", json!({"n": 1})).await.unwrap(), json!({"n": 1}));
    own.cancel("its own");
    cancelled_with(detached.call_value("echo", json!({"n": 1})).await, "its own");
}
