//! Progress reports: a flood is kept at a readable rate without losing the last word, and a
//! run's own subscribers hear that run and no other.

use llm_do_core::runtime::RunOptions;
use llm_do_core::{CallableSpec, Event, EventKind, EventLog, Runtime, ToolSpecBuilder};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// The progress reports in `log`, as (call name, progress, total).
fn reports(log: &EventLog) -> Vec<(String, f64, Option<f64>)> {
    log.events()
        .into_iter()
        .filter_map(|e: Event| match e.kind {
            EventKind::Progress { progress, total, .. } => {
                Some((e.call.name.to_string(), progress, total))
            }
            _ => None,
        })
        .collect()
}

/// A tool that reports `n` steps of `n` as fast as it can, then answers.
fn flood(name: &str) -> Arc<CallableSpec> {
    ToolSpecBuilder::new(name)
        .handler(|ctx, args| async move {
            let n = args["n"].as_u64().unwrap_or(0);
            for done in 1..=n {
                ctx.report_progress(done as f64, Some(n as f64), Some("working"));
            }
            Ok(json!(n))
        })
        .build()
}

#[tokio::test]
async fn a_flood_of_reports_is_kept_at_a_readable_rate_and_ends_with_the_last() {
    let log = EventLog::new();
    let rt = Runtime::builder().register(flood("flood")).subscribe(log.clone()).build();
    let started = Instant::now();
    let n: u64 = rt.ctx().call("flood", json!({"n": 100_000})).await.unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(n, 100_000);
    let kept = reports(&log);
    // 20 at once, 10 a second after, and the one that reaches the total.
    let bound = 20.0 + 10.0 * elapsed.ceil() + 1.0;
    assert!(kept.len() as f64 <= bound, "{} reports kept in {elapsed:.2} s", kept.len());
    assert!(kept.len() >= 21, "the burst and the last: {kept:?}");
    let first: Vec<f64> = kept.iter().take(20).map(|r| r.1).collect();
    assert_eq!(first, (1..=20).map(f64::from).collect::<Vec<_>>(), "the burst, in order");
    assert_eq!(kept.last(), Some(&("flood".to_owned(), 100_000.0, Some(100_000.0))));
}

#[tokio::test]
async fn a_few_reports_are_all_kept() {
    let log = EventLog::new();
    let rt = Runtime::builder().register(flood("steps")).subscribe(log.clone()).build();
    rt.ctx().call_value("steps", json!({"n": 20})).await.unwrap();
    let progress: Vec<f64> = reports(&log).into_iter().map(|r| r.1).collect();
    assert_eq!(progress, (1..=20).map(f64::from).collect::<Vec<_>>());
}

#[tokio::test]
async fn each_call_has_its_own_allowance() {
    let log = EventLog::new();
    let both = ToolSpecBuilder::new("both")
        .handler(|ctx, _| async move {
            ctx.call_value("a", json!({"n": 15})).await?;
            ctx.call_value("b", json!({"n": 15})).await
        })
        .build();
    let rt = Runtime::builder()
        .register(flood("a"))
        .register(flood("b"))
        .register(both)
        .subscribe(log.clone())
        .build();
    rt.ctx().call_value("both", json!({})).await.unwrap();
    let names: Vec<String> = reports(&log).into_iter().map(|r| r.0).collect();
    assert_eq!(names.iter().filter(|n| *n == "a").count(), 15);
    assert_eq!(names.iter().filter(|n| *n == "b").count(), 15);
}

#[tokio::test]
async fn a_runs_own_subscribers_hear_that_run_only() {
    let everything = EventLog::new();
    let rt = Runtime::builder().register(flood("steps")).subscribe(everything.clone()).build();
    let (one, two) = (EventLog::new(), EventLog::new());
    let first = rt.ctx_with(RunOptions::new().subscribe(one.clone()));
    let second = rt.ctx_with(RunOptions::new().subscribe(two.clone()));
    let (a, b) = tokio::join!(
        first.call_value("steps", json!({"n": 2})),
        second.call_value("steps", json!({"n": 3})),
    );
    a.unwrap();
    b.unwrap();
    let totals = |log: &EventLog| reports(log).into_iter().map(|r| r.2).collect::<Vec<_>>();
    assert_eq!(totals(&one), [Some(2.0); 2]);
    assert_eq!(totals(&two), [Some(3.0); 3]);
    assert_eq!(reports(&everything).len(), 5, "the runtime's subscriber hears both runs");
    // A run subscriber hears the whole run, not only its progress.
    let labels: Vec<&str> = one.events().iter().map(|e| e.kind.label()).collect();
    assert_eq!(labels.first(), Some(&"call_started"), "{labels:?}");
    assert_eq!(labels.last(), Some(&"call_finished"), "{labels:?}");
}

#[tokio::test]
async fn a_run_subscriber_alone_is_enough_to_hear_it() {
    let rt = Runtime::builder().register(flood("steps")).build();
    let log = EventLog::new();
    rt.ctx_with(RunOptions::new().subscribe(log.clone()))
        .call_value("steps", json!({"n": 1}))
        .await
        .unwrap();
    assert_eq!(reports(&log), [("steps".to_owned(), 1.0, Some(1.0))]);
}
