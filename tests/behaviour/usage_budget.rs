//! Usage aggregates per call and across nested calls; budgets end a run with a typed error.

use llm_do::prelude::*;
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::usage::BudgetKind;
use llm_do::{EventKind, EventLog, Usage};
use llm_do_tests::bounded;

/// Inner worker.
#[worker(prompt = "Inner {x}")]
async fn inner(ctx: &Ctx, x: u32) -> Result<String>;

/// Outer worker, calls `inner` twice.
#[worker(prompt = "Outer", tools = [inner])]
async fn outer(ctx: &Ctx) -> Result<String>;

fn script() -> ScriptedModel {
    ScriptedModel::queue([
        Reply::tool_calls([("inner", json!({"x": 1})), ("inner", json!({"x": 2}))])
            .with_tokens(100, 10),
        Reply::text("one").with_tokens(20, 1),
        Reply::text("two").with_tokens(30, 2),
        Reply::text("both done").with_tokens(200, 5),
    ])
}

#[tokio::test]
async fn usage_aggregates_across_nested_calls() {
    let log = EventLog::new();
    let rt = Runtime::builder().model_override(script()).subscribe(log.clone()).build();
    let ctx = rt.ctx();
    assert_eq!(bounded(outer(&ctx)).await.unwrap(), "both done");
    let total = Usage { requests: 4, input_tokens: 350, output_tokens: 18 };
    assert_eq!(ctx.usage(), total, "the root context reports the run's total");
    assert_eq!(ctx.run_usage(), total);

    let finished: Vec<(String, Usage)> = log
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::CallFinished { usage, .. } => Some((e.call.name.to_string(), usage)),
            _ => None,
        })
        .collect();
    let inner_usages: Vec<Usage> =
        finished.iter().filter(|(n, _)| n == "inner").map(|(_, u)| *u).collect();
    assert_eq!(inner_usages.len(), 2);
    assert_eq!(inner_usages.iter().map(|u| u.requests).sum::<u64>(), 2);
    assert_eq!(inner_usages.iter().map(|u| u.input_tokens).sum::<u64>(), 50);
    let (_, outer_usage) = finished.iter().find(|(n, _)| n == "outer").unwrap();
    assert_eq!(*outer_usage, total, "a call's usage includes its nested calls");
}

#[tokio::test]
async fn a_failed_model_request_counts_as_a_request() {
    use llm_do::{ModelError, ModelErrorKind};
    let log = EventLog::new();
    let model = ScriptedModel::queue([
        Reply::tool_calls([("inner", json!({"x": 1}))]).with_tokens(100, 10),
        Reply::text("one").with_tokens(20, 1),
        Reply::error(ModelError::new(ModelErrorKind::Status(503), "upstream unavailable")),
    ]);
    let rt = Runtime::builder().model_override(model).subscribe(log.clone()).build();
    let ctx = rt.ctx();
    let err = bounded(outer(&ctx)).await.unwrap_err();
    assert_eq!(err.kind(), llm_do::error::ErrorKind::Model, "{err}");
    // Three requests were made; the failed one brought no tokens.
    let total = Usage { requests: 3, input_tokens: 120, output_tokens: 11 };
    assert_eq!(ctx.usage(), total);
    let failed = log.events().into_iter().find_map(|e| match e.kind {
        EventKind::CallFinished { usage, error: Some(_), .. } => Some((e.call.name, usage)),
        _ => None,
    });
    assert_eq!(failed, Some(("outer".into(), total)), "the failed call's usage includes it");
}

#[tokio::test]
async fn each_root_context_is_its_own_run() {
    let rt = Runtime::builder()
        .model_override(ScriptedModel::new(|_req: &llm_do::ModelRequest| {
            Ok(Reply::text("ok").with_tokens(5, 5))
        }))
        .build();
    let a = rt.ctx();
    let b = rt.ctx();
    bounded(inner(&a, 1)).await.unwrap();
    bounded(inner(&a, 2)).await.unwrap();
    bounded(inner(&b, 3)).await.unwrap();
    assert_eq!(a.usage().requests, 2);
    assert_eq!(b.usage().requests, 1);
}

#[tokio::test]
async fn the_request_budget_ends_the_run_even_inside_nested_calls() {
    let model = script();
    let rt = Runtime::builder().model_override(model.clone()).max_requests(2).build();
    let ctx = rt.ctx();
    let err = bounded(outer(&ctx)).await.unwrap_err();
    match &err {
        Error::BudgetExceeded { kind, limit, .. } => {
            assert_eq!((*kind, *limit), (BudgetKind::Requests, 2));
        }
        other => panic!("expected a budget error, got {other:?}"),
    }
    assert_eq!(err.to_string(), "run budget exceeded: model requests used 2, limit 2");
    // The budget error inside `inner` was not turned into a tool result: it ended the run
    // before the outer model could be asked again.
    assert_eq!(model.request_count(), 2);
}

#[tokio::test]
async fn the_token_budget_is_enforced() {
    let model = script();
    let rt = Runtime::builder().model_override(model.clone()).max_total_tokens(120).build();
    let ctx = rt.ctx();
    let err = bounded(outer(&ctx)).await.unwrap_err();
    assert!(
        matches!(err, Error::BudgetExceeded { kind: BudgetKind::TotalTokens, limit: 120, .. }),
        "{err:?}"
    );
    assert!(ctx.usage().total_tokens() > 120);
}

/// Does nothing.
#[tool]
async fn tick() -> Result<String> {
    Ok("tick".into())
}

/// Ticks until told to stop.
#[worker(prompt = "Tick", tools = [tick])]
async fn ticker(ctx: &Ctx) -> Result<String>;

/// A provider that reports no token counts (an OpenAI-compatible server without `usage`, a
/// stream cut before its usage chunk) does not make the token budget unlimited: its requests
/// are counted against it with the estimate, while the usage stays what the provider said.
#[tokio::test]
async fn the_token_budget_holds_when_the_provider_reports_no_usage() {
    let model = ScriptedModel::new(|_: &llm_do::ModelRequest| {
        Ok(Reply::tool_call("tick", json!({})).with_usage(Usage::default()))
    });
    let rt = Runtime::builder().model_override(model.clone()).max_total_tokens(40).build();
    let ctx = rt.ctx();
    let err = bounded(ticker(&ctx)).await.unwrap_err();
    assert!(
        matches!(err, Error::BudgetExceeded { kind: BudgetKind::TotalTokens, limit: 40, .. }),
        "{err:?}"
    );
    let usage = ctx.usage();
    assert_eq!(usage.total_tokens(), 0, "{usage:?}");
    assert!(usage.requests < 20, "stopped by the budget, not by max_turns: {usage:?}");
    // Reported counts are taken as they are.
    let reported = ScriptedModel::queue([Reply::text("done").with_tokens(7, 3)]);
    let ctx = Runtime::builder().model_override(reported).build().ctx();
    bounded(inner(&ctx, 1)).await.unwrap();
    assert_eq!(ctx.usage(), Usage { requests: 1, input_tokens: 7, output_tokens: 3 });
}

#[tokio::test]
async fn the_tool_call_budget_counts_every_call_a_model_asks_for() {
    let model = script();
    let rt = Runtime::builder().model_override(model.clone()).max_tool_calls(1).build();
    let ctx = rt.ctx();
    let err = bounded(outer(&ctx)).await.unwrap_err();
    assert!(
        matches!(err, Error::BudgetExceeded { kind: BudgetKind::ToolCalls, limit: 1, used: 1 }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "run budget exceeded: tool calls used 1, limit 1");
    // The outer model asked for two calls at once: the first ran, the second ended the run.
    assert!(model.request_count() <= 2, "{}", model.request_count());

    // Two calls fit a budget of two.
    let rt = Runtime::builder().model_override(script()).max_tool_calls(2).build();
    assert_eq!(bounded(outer(&rt.ctx())).await.unwrap(), "both done");
}

#[tokio::test]
async fn a_run_started_with_its_own_limits_keeps_them_and_leaves_other_runs_alone() {
    use llm_do::RunOptions;
    let model =
        ScriptedModel::new(|_req: &llm_do::ModelRequest| Ok(Reply::text("ok").with_tokens(5, 5)));
    let rt = Runtime::builder().model_override(model).max_requests(10).build();
    let mut one = rt.limits();
    one.max_requests = Some(1);
    let tight = rt.ctx_with(RunOptions::new().limits(one));
    assert_eq!(tight.limits().max_requests, Some(1));
    bounded(inner(&tight, 1)).await.unwrap();
    let err = bounded(inner(&tight, 2)).await.unwrap_err();
    assert!(
        matches!(err, Error::BudgetExceeded { kind: BudgetKind::Requests, limit: 1, used: 1 }),
        "{err:?}"
    );
    // Runs of the same runtime without options keep the runtime's limits.
    let plain = rt.ctx();
    for x in 0..3 {
        bounded(inner(&plain, x)).await.unwrap();
    }
    assert_eq!((plain.usage().requests, plain.limits().max_requests), (3, Some(10)));
}

/// Stops the run it is called in, and returns normally.
#[tool]
async fn stopper(ctx: &Ctx) -> Result<String> {
    ctx.cancel("user pressed stop");
    Ok("stopped".into())
}

/// Calls `stopper`.
#[worker(prompt = "Stop", tools = [stopper])]
async fn stops(ctx: &Ctx) -> Result<String>;

#[tokio::test]
async fn a_cancelled_run_sends_and_counts_no_further_request() {
    for budget in [None, Some(1)] {
        let log = EventLog::new();
        let model = ScriptedModel::queue([
            Reply::tool_call("stopper", json!({})),
            Reply::text("not reached"),
        ]);
        let mut builder = Runtime::builder().model_override(model.clone()).subscribe(log.clone());
        if let Some(limit) = budget {
            builder = builder.max_requests(limit);
        }
        let ctx = builder.build().ctx();
        let err = bounded(stops(&ctx)).await.unwrap_err();
        // The run ended as cancelled, not by the budget the next request would have exceeded.
        assert!(
            matches!(&err, Error::Cancelled { reason } if reason == "user pressed stop"),
            "budget {budget:?}: {err:?}"
        );
        assert_eq!(model.request_count(), 1, "budget {budget:?}");
        assert_eq!(ctx.usage().requests, 1, "budget {budget:?}: only the request made counts");
        let requests = log
            .events()
            .iter()
            .filter(|e| matches!(e.kind, EventKind::ModelRequest { .. }))
            .count();
        assert_eq!(requests, 1, "budget {budget:?}: no event for a request never sent");
    }
}

static DELETED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Deletes things.
#[tool]
async fn delete_things(n: u32) -> Result<String> {
    DELETED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    Ok(format!("deleted {n}"))
}

/// Asks `inner`, then deletes things.
#[worker(prompt = "Go", tools = [inner, delete_things])]
async fn asks_then_deletes(ctx: &Ctx) -> Result<String>;

#[tokio::test]
async fn no_call_of_a_parallel_batch_starts_after_one_ended_the_run() {
    let log = EventLog::new();
    let model = ScriptedModel::queue([
        Reply::tool_calls([
            ("inner", json!({"x": 1})),
            ("delete_things", json!({"n": 1})),
            ("delete_things", json!({"n": 2})),
        ]),
        Reply::text("done"),
    ]);
    let rt = Runtime::builder()
        .model_override(model)
        .max_requests(1)
        .max_parallel_tool_calls(1)
        .subscribe(log.clone())
        .build();
    let err = bounded(asks_then_deletes(&rt.ctx())).await.unwrap_err();
    // `inner` needs a second request: the budget ends the run, and the calls queued behind it
    // in the same answer do not start, as they would not one after the other.
    assert!(
        matches!(err, Error::BudgetExceeded { kind: BudgetKind::Requests, limit: 1, .. }),
        "{err:?}"
    );
    assert_eq!(DELETED.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing was deleted");
    let started = log
        .events()
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::ToolCall { call } if call.name == "delete_things"))
        .count();
    assert_eq!(started, 0, "no call was started after the fatal error");
}
