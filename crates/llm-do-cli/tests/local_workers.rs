//! Workers on the real embedded model (SmolLM2-135M-Instruct), in-process.
//!
//! The model comes from the default cache (`.ci/run` fetches it first with
//! `llm-do fetch-model`); if it is missing, the first request fetches it through the same code
//! path. Every test is bounded by a timeout and asserts behaviour, never timings.

#[path = "support/workers.rs"]
mod workers;

use llm_do::prelude::*;
use llm_do::providers::local::LocalModel;
use llm_do::{EventKind, EventLog};
use std::future::Future;
use std::time::Duration;
use workers::*;

async fn bounded<T>(f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(600), f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out"),
    }
}

/// The embedded model on one thread (fastest on a busy 2-core machine), steered away from
/// repeating answered calls as `llm-do`'s default local provider is (the 135M model loops on
/// them otherwise).
fn local() -> LocalModel {
    LocalModel::new().with_threads(1).with_context_size(2048).avoid_repeated_calls(true)
}

fn runtime(log: &EventLog) -> Runtime {
    Runtime::builder().provider("local", local()).subscribe(log.clone()).ignore_env().build()
}

fn retries(log: &EventLog) -> usize {
    log.events().iter().filter(|e| matches!(e.kind, EventKind::OutputRetry { .. })).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn struct_output_is_always_schema_valid() {
    let log = EventLog::new();
    let rt = runtime(&log);
    let ctx = rt.ctx();
    for i in 0..20 {
        let ticket = TICKETS[i % TICKETS.len()];
        let t = bounded(triage(&ctx, ticket.into())).await;
        let t = t.unwrap_or_else(|e| panic!("sample {i}: {e}"));
        assert!((1..=5).contains(&t.priority), "sample {i}: {t:?}");
    }
    assert_eq!(retries(&log), 0, "every answer was valid the first time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enum_output_is_always_schema_valid() {
    let log = EventLog::new();
    let rt = runtime(&log);
    let ctx = rt.ctx();
    for i in 0..20 {
        let c = bounded(classify(&ctx, TICKETS[i % TICKETS.len()].into())).await;
        c.unwrap_or_else(|e| panic!("sample {i}: {e}"));
    }
    assert_eq!(retries(&log), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_using_worker_completes_its_loop() {
    let log = EventLog::new();
    let rt = runtime(&log);
    let answer = bounded(where_is_my_order(&rt.ctx(), 4417)).await.expect("the loop completes");
    assert!(!answer.trim().is_empty());
    let events = log.events();
    let calls: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ToolCall { call } => Some(call.clone()),
            _ => None,
        })
        .collect();
    assert!(!calls.is_empty(), "the worker looked the order up:\n{}", log.transcript());
    for call in &calls {
        assert_eq!(call.name, "order_status");
        assert!(call.parse_arguments().expect("JSON")["order"].is_u64(), "{call:?}");
    }
    eprintln!("{}", log.transcript());
    eprintln!("answer: {answer}");
}
