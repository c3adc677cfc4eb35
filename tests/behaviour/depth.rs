//! Nested calls run one level deeper; the depth limit stops runaway recursion with a clear,
//! typed error (and an error tool result when the caller is a model).

use llm_do::prelude::*;
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::{Message, ModelRequest};
use llm_do_tests::bounded;

/// Summarize a text, splitting it in halves that are summarized recursively.
#[worker(prompt = "Summarize: {text}", tools = [summarize])]
async fn summarize(ctx: &Ctx, text: String) -> Result<String>;

/// A model that always recurses on the first half, and answers once a tool result arrives.
fn recursing_model() -> ScriptedModel {
    ScriptedModel::new(|req: &ModelRequest| {
        Ok(match req.messages.last() {
            Some(Message::Tool(result)) => {
                Reply::text(format!("summary after: {}", result.content))
            }
            _ => Reply::tool_call("summarize", json!({"text": "first half"})),
        })
    })
}

/// The error tool result that told a model its call past the depth limit was refused.
fn refused_call_result(model: &ScriptedModel) -> String {
    model
        .requests()
        .iter()
        .find_map(|r| match r.messages.last() {
            Some(Message::Tool(t)) if t.is_error => Some(t.content.clone()),
            _ => None,
        })
        .expect("the refused call is reported to the model")
}

#[tokio::test]
async fn runaway_recursion_is_stopped_at_the_default_depth() {
    let model = recursing_model();
    let ctx = Runtime::builder().model_override(model.clone()).build().ctx();
    let answer = bounded(summarize(&ctx, "a long text".into())).await.unwrap();
    // Depths 1..=5 ran; the call that would have run at depth 6 was refused, and the refusal
    // went to the depth-5 worker's model as an error tool result.
    assert_eq!(model.request_count(), 10, "5 workers, 2 requests each");
    let innermost_result = refused_call_result(&model);
    insta::assert_snapshot!(innermost_result);
    assert!(answer.starts_with("summary after: summary after:"), "{answer}");
}

#[tokio::test]
async fn max_depth_is_configurable() {
    let model = recursing_model();
    let ctx = Runtime::builder().model_override(model.clone()).max_depth(2).build().ctx();
    bounded(summarize(&ctx, "text".into())).await.unwrap();
    assert_eq!(model.request_count(), 4, "2 workers, 2 requests each");
}

/// A `max_depth` of any size holds at `MAX_CALL_DEPTH`: nested calls are polled inside their
/// callers, and thousands of them would overflow this test thread's 2 MiB stack (an abort).
#[tokio::test]
async fn a_huge_max_depth_stops_at_the_depth_the_stack_allows() {
    let model = recursing_model();
    let ctx = Runtime::builder().model_override(model.clone()).max_depth(u32::MAX).build().ctx();
    bounded(summarize(&ctx, "text".into())).await.unwrap();
    let deepest = llm_do::bounds::MAX_CALL_DEPTH as usize;
    assert_eq!(model.request_count(), 2 * deepest, "{deepest} workers, 2 requests each");
    let refused = refused_call_result(&model);
    assert!(refused.contains(&format!("max_depth = {deepest}")), "{refused}");
}

/// Counts down by calling itself by name.
#[tool]
async fn countdown(ctx: &Ctx, n: u32) -> Result<u32> {
    assert_eq!(ctx.depth(), ctx.call_path().len() as u32);
    if n == 0 { Ok(ctx.depth()) } else { ctx.call("countdown", json!({"n": n - 1})).await }
}

#[tokio::test]
async fn code_callers_get_a_typed_depth_error_with_the_call_path() {
    let ctx = Runtime::builder().register(countdown::spec()).build().ctx();
    // n = 4 needs depths 1..=5: allowed.
    assert_eq!(countdown(&ctx, 4).await.unwrap(), 5);
    // n = 5 would need depth 6.
    let err = countdown(&ctx, 5).await.unwrap_err();
    match &err {
        Error::DepthExceeded { name, depth, max_depth, .. } => {
            assert_eq!((name.as_str(), *depth, *max_depth), ("countdown", 6, 5));
        }
        other => panic!("expected DepthExceeded, got {other:?}"),
    }
    insta::assert_snapshot!(err.to_string());
}

#[tokio::test]
async fn depth_is_counted_from_the_root_context() {
    let ctx = Runtime::builder().register(countdown::spec()).build().ctx();
    assert_eq!(ctx.depth(), 0);
    assert_eq!(countdown(&ctx, 0).await.unwrap(), 1);
    let by_name: u32 = ctx.call("countdown", json!({"n": 2})).await.unwrap();
    assert_eq!(by_name, 3);
}
