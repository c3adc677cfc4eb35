//! Hardening: replacing the `#[worker]` definition of `classify` by a `#[tool]` with the same
//! signature changes nothing else. The same caller code (`hardening/callers.rs`, included
//! verbatim) compiles against both versions, its calls return the same type, and the tool schema
//! another LLM sees is identical; only the call's kind changes, honestly.

use llm_do::prelude::*;
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::{CallKind, EventKind, EventLog};
use llm_do_tests::bounded;

#[derive(Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub enum Category {
    Bug,
    Billing,
    Feature,
}

/// Stochastic: an LLM classifies.
mod soft {
    use super::Category;
    use llm_do::EventLog;
    use llm_do::prelude::*;
    use llm_do::testing::ScriptedModel;

    /// Classify a customer support ticket.
    #[worker(model = "openai:gpt-4o-mini", prompt = "Classify this ticket: {ticket}")]
    pub async fn classify(
        ctx: &Ctx,
        /** the ticket text */
        ticket: String,
    ) -> Result<Category>;

    include!("hardening/callers.rs");
}

/// Deterministic: keyword rules classify.
mod hard {
    use super::Category;
    use llm_do::EventLog;
    use llm_do::prelude::*;
    use llm_do::testing::ScriptedModel;

    /// Classify a customer support ticket.
    #[tool]
    pub async fn classify(
        ctx: &Ctx,
        /** the ticket text */
        ticket: String,
    ) -> Result<Category> {
        let _ = ctx;
        let t = ticket.to_lowercase();
        Ok(if ["charged", "invoice", "refund"].iter().any(|w| t.contains(w)) {
            Category::Billing
        } else if ["crash", "error", "broken"].iter().any(|w| t.contains(w)) {
            Category::Bug
        } else {
            Category::Feature
        })
    }

    include!("hardening/callers.rs");
}

#[test]
fn the_schema_other_models_see_is_identical() {
    let soft = soft::classify::spec();
    let hard = hard::classify::spec();
    assert_eq!(soft.tool_definition(), hard.tool_definition());
    assert_eq!(soft.output_schema(), hard.output_schema());
    insta::assert_json_snapshot!(hard.tool_definition());
    // The boundary stays honest: only the kind differs.
    assert_eq!(soft.kind(), CallKind::Worker);
    assert_eq!(hard.kind(), CallKind::Tool);
}

#[tokio::test]
async fn the_same_call_sites_work_before_and_after_hardening() {
    // Before: each call is answered by the model.
    let model =
        ScriptedModel::queue([Reply::json(json!("Billing")), Reply::json(json!("Billing"))]);
    let ctx = soft::runtime(model.clone(), EventLog::new()).ctx();
    assert_eq!(bounded(soft::typed_call(&ctx)).await.unwrap(), Category::Billing);
    assert_eq!(bounded(soft::call_by_name(&ctx)).await.unwrap(), Category::Billing);
    assert_eq!(model.request_count(), 2);
    assert_eq!(
        model.requests()[0].messages[1],
        llm_do::Message::user("Classify this ticket: I was charged twice")
    );

    // After: no model request at all (the script is empty and would fail if asked).
    let model = ScriptedModel::queue([]);
    let ctx = hard::runtime(model.clone(), EventLog::new()).ctx();
    assert_eq!(bounded(hard::typed_call(&ctx)).await.unwrap(), Category::Billing);
    assert_eq!(bounded(hard::call_by_name(&ctx)).await.unwrap(), Category::Billing);
    assert_eq!(model.request_count(), 0);
}

/// Runs `triage` (an LLM that calls `classify` as a tool) and returns what its model was
/// offered, plus the depth and kind `classify` ran at.
async fn run_triage(
    runtime: fn(ScriptedModel, EventLog) -> Runtime,
    extra_replies: Vec<Reply>,
) -> (Vec<llm_do::ToolDefinition>, u32, CallKind) {
    let mut replies = vec![Reply::tool_call("classify", json!({"ticket": "I was charged twice"}))];
    replies.extend(extra_replies);
    replies.push(Reply::text("Routed to billing."));
    let model = ScriptedModel::queue(replies);
    let log = EventLog::new();
    let ctx = runtime(model.clone(), log.clone()).ctx();
    let answer: String =
        bounded(ctx.call("triage", json!({"ticket": "I was charged twice"}))).await.unwrap();
    assert_eq!(answer, "Routed to billing.");
    let classify_call = log
        .events()
        .into_iter()
        .find(|e| &*e.call.name == "classify" && matches!(e.kind, EventKind::CallStarted { .. }))
        .expect("classify ran");
    let offered = model.requests()[0].tools.to_vec();
    let last = model.requests().pop().unwrap();
    assert!(
        last.messages.iter().any(
            |m| matches!(m, llm_do::Message::Tool(r) if r.content == "Billing" && !r.is_error)
        ),
        "triage's model received classify's result"
    );
    (offered, classify_call.call.depth, classify_call.call.kind)
}

#[tokio::test]
async fn an_outer_llm_sees_the_same_tool_and_the_nested_call_runs_at_depth_2() {
    let (soft_tools, soft_depth, soft_kind) =
        run_triage(soft::runtime, vec![Reply::json(json!("Billing"))]).await;
    let (hard_tools, hard_depth, hard_kind) = run_triage(hard::runtime, vec![]).await;
    assert_eq!(soft_tools, hard_tools);
    assert_eq!((soft_depth, hard_depth), (2, 2));
    assert_eq!((soft_kind, hard_kind), (CallKind::Worker, CallKind::Tool));
}
