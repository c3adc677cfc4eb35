//! The effects seam: every model request, tool execution and approval of a run passes through
//! the run's `Effects`, and a recorded result returned by the seam replaces the effect.

use futures::future::BoxFuture;
use llm_do_core::approval::{ApprovalRequest, Decision, OnDenied, Verdict};
use llm_do_core::effects::{Effects, ModelStep, ToolOutcome, ToolStep};
use llm_do_core::error::ErrorKind;
use llm_do_core::{
    Ctx, EventLog, Message, Model, ModelError, ModelRequest, ModelResponse, Runtime, ToolCall,
    ToolSpecBuilder, WorkerSpecBuilder,
};
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// Asks for `step` until the conversation holds two tool results, then answers.
struct TwoSteps(Arc<AtomicU32>);

impl Model for TwoSteps {
    fn request<'a>(
        &'a self,
        req: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        let done = req.messages.len();
        let n = req.messages.iter().filter(|m| matches!(m, Message::Tool(_))).count() + 1;
        Box::pin(async move {
            // Counted when polled: the effect is the future, not its creation.
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(if n <= 2 {
                ModelResponse::tool_calls(vec![ToolCall::new(
                    format!("c{n}"),
                    "step",
                    &json!({"n": n}),
                )])
            } else {
                ModelResponse::text(format!("done after {done} messages"))
            })
        })
    }
}

#[derive(Default)]
struct Journal {
    steps: Mutex<Vec<String>>,
    /// When set, the model requests are answered from here instead of being sent.
    replay: Mutex<Vec<ModelResponse>>,
    sequential: bool,
}

impl Effects for Journal {
    fn model_request<'a>(
        &'a self,
        step: ModelStep<'a>,
        exec: BoxFuture<'a, Result<ModelResponse, ModelError>>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        self.steps.lock().unwrap().push(format!("model {} turn {}", step.worker, step.turn));
        let recorded = {
            let mut replay = self.replay.lock().unwrap();
            if replay.is_empty() { None } else { Some(replay.remove(0)) }
        };
        match recorded {
            Some(response) => Box::pin(async move { Ok(response) }),
            None => exec,
        }
    }

    fn tool_call<'a>(
        &'a self,
        step: ToolStep<'a>,
        exec: BoxFuture<'a, llm_do_core::Result<ToolOutcome>>,
    ) -> BoxFuture<'a, llm_do_core::Result<ToolOutcome>> {
        self.steps.lock().unwrap().push(format!("tool {}", step.call.name));
        exec
    }

    fn approval<'a>(
        &'a self,
        _ctx: &'a Ctx,
        request: &'a ApprovalRequest,
        exec: BoxFuture<'a, Decision>,
    ) -> BoxFuture<'a, Decision> {
        self.steps.lock().unwrap().push(format!("approval {}", request.tool));
        exec
    }

    fn concurrent_tools(&self) -> bool {
        !self.sequential
    }
}

fn runtime(model_calls: Arc<AtomicU32>, tool_runs: Arc<AtomicU32>, log: EventLog) -> Runtime {
    let step = ToolSpecBuilder::new("step")
        .approval(Verdict::Ask)
        .handler(move |_, args| {
            let runs = tool_runs.clone();
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(json!(format!("step {} done", args["n"])))
            }
        })
        .build();
    let worker = WorkerSpecBuilder::new("w").prompt("go").tool_name("step").build().unwrap();
    Runtime::builder()
        .model_override(TwoSteps(model_calls))
        .register(step)
        .register(worker)
        .approver(|_: &ApprovalRequest| Decision::ApproveOnce)
        .subscribe(log)
        .build()
}

#[tokio::test]
async fn every_effect_passes_through_the_seam_in_order() {
    let (models, tools) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let rt = runtime(models.clone(), tools.clone(), EventLog::new());
    let journal = Arc::new(Journal { sequential: true, ..Journal::default() });
    let out = rt.ctx_with_effects(journal.clone()).call_value("w", json!({})).await.unwrap();
    assert_eq!(out, json!("done after 5 messages"));
    assert_eq!(
        *journal.steps.lock().unwrap(),
        [
            "model w turn 1",
            "approval step",
            "tool step",
            "model w turn 2",
            "approval step",
            "tool step",
            "model w turn 3"
        ]
    );
    assert_eq!((models.load(Ordering::SeqCst), tools.load(Ordering::SeqCst)), (3, 2));
    // The runtime's default effects are direct: nothing recorded, same answer.
    let again = rt.ctx().call_value("w", json!({})).await.unwrap();
    assert_eq!(again, json!("done after 5 messages"));
}

#[tokio::test]
async fn a_recorded_answer_replaces_the_model_request() {
    let (models, tools) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let rt = runtime(models.clone(), tools.clone(), EventLog::new());
    let recorded = ModelResponse::tool_calls(vec![ToolCall::new("r1", "step", &json!({"n": 7}))]);
    let journal = Arc::new(Journal { replay: Mutex::new(vec![recorded]), ..Journal::default() });
    let out = rt.ctx_with_effects(journal.clone()).call_value("w", json!({})).await.unwrap();
    // Turn 1 came from the record; the model was asked for turns 2 and 3 only.
    assert_eq!(models.load(Ordering::SeqCst), 2);
    assert_eq!(tools.load(Ordering::SeqCst), 2);
    assert_eq!(out, json!("done after 5 messages"));
}

/// Answers with a denied call followed by two others, in one answer.
struct DeniedFirst;

impl Model for DeniedFirst {
    fn request<'a>(
        &'a self,
        _req: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            Ok(ModelResponse::tool_calls(vec![
                ToolCall::new("c1", "rm_rf", &json!({})),
                ToolCall::new("c2", "step", &json!({"n": 1})),
                ToolCall::new("c3", "step", &json!({"n": 2})),
            ]))
        })
    }
}

#[tokio::test]
async fn under_on_denied_abort_a_sequential_run_starts_no_call_after_the_denied_one() {
    let runs = Arc::new(AtomicU32::new(0));
    let counted = runs.clone();
    let step = ToolSpecBuilder::new("step")
        .handler(move |_, _| {
            let runs = counted.clone();
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(json!("ran"))
            }
        })
        .build();
    let rm_rf = ToolSpecBuilder::new("rm_rf")
        .approval(Verdict::Deny)
        .handler(|_, _| async { Ok(json!("never")) })
        .build();
    let worker = WorkerSpecBuilder::new("w").prompt("go").tool_name("rm_rf").tool_name("step");
    let rt = Runtime::builder()
        .model_override(DeniedFirst)
        .on_denied(OnDenied::Abort)
        .register(step)
        .register(rm_rf)
        .register(worker.build().unwrap())
        .build();
    let journal = Arc::new(Journal { sequential: true, ..Journal::default() });
    let ctx = rt.ctx_with_effects(journal.clone());
    let err = ctx.call_value("w", json!({})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied, "{err:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 0, "no call after the denied one ran");
    // Nor was one started: the journal holds no tool step.
    assert_eq!(*journal.steps.lock().unwrap(), ["model w turn 1"]);
    assert!(ctx.cancellation().is_cancelled(), "the denial ended the run");
}
