//! The workload every contender runs: one worker call that makes 2 model requests. The model
//! calls the tool `shout(text)`, the tool runs, the model answers — as text, or as a 3-field
//! structured value.

use futures::future::BoxFuture;
use llm_do::prelude::*;
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::{Message, Model, ModelError, ModelRequest, ModelResponse, ToolCall};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The text every run shouts.
pub const TEXT: &str = "hello world";

/// The structured answer: three fields.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Shouted {
    /// The text as given.
    pub original: String,
    /// The text upper-cased by the tool.
    pub shouted: String,
    /// Its length in characters.
    pub length: u32,
}

/// Upper-cases text.
#[tool]
pub async fn shout(
    /** the text to shout */
    text: String,
) -> Result<String> {
    Ok(text.to_uppercase())
}

/// Shouts the text with the tool and says what it got.
#[worker(model = "openai:llm-do-test", prompt = "Shout this: {text}", tools = [shout])]
pub async fn shouter(ctx: &Ctx, text: String) -> Result<String>;

/// Shouts the text with the tool and reports the result as a structure.
#[worker(model = "openai:llm-do-test", prompt = "Shout this: {text}", tools = [shout])]
pub async fn shouter_structured(ctx: &Ctx, text: String) -> Result<Shouted>;

/// The two output variants of the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// The worker answers with text.
    Text,
    /// The worker answers with a 3-field structure.
    Structured,
}

impl Variant {
    /// Both variants.
    pub const ALL: [Variant; 2] = [Variant::Text, Variant::Structured];

    /// Runs the workload once on `ctx`; returns a short check of the answer.
    pub async fn run(self, ctx: &Ctx) -> Result<usize> {
        match self {
            Variant::Text => Ok(shouter(ctx, TEXT.into()).await?.len()),
            Variant::Structured => Ok(shouter_structured(ctx, TEXT.into()).await?.length as usize),
        }
    }

    /// The JSON name of the variant.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Text => "text",
            Variant::Structured => "structured",
        }
    }
}

/// The model's side of the workload, as a function of the conversation: the first request
/// calls `shout`, the second answers with what it returned.
pub fn reply_to(request: &ModelRequest) -> Reply {
    let result = request.messages.iter().rev().find_map(|m| match m {
        Message::Tool(r) => Some(r.content.as_str()),
        _ => None,
    });
    match result {
        None => Reply::tool_call("shout", json!({ "text": TEXT })),
        Some(shouted) if request.output.schema().is_some() => Reply::json(json!({
            "original": TEXT,
            "shouted": shouted,
            "length": shouted.chars().count(),
        })),
        Some(shouted) => Reply::text(format!("The tool said: {shouted}")),
    }
}

/// A function model like pydantic-ai's `FunctionModel`: answers with [`reply_to`], optionally
/// after a delay, and — unlike [`ScriptedModel`], a testing tool that records every request —
/// keeps nothing, so that memory and time measure the runtime alone.
#[derive(Debug, Default)]
pub struct FnModel {
    delay: Duration,
    calls: AtomicU64,
}

impl FnModel {
    /// A model that answers at once.
    pub fn new() -> Self {
        Self::default()
    }

    /// A model that sleeps `delay` (tokio timer) before every answer.
    pub fn with_delay(delay: Duration) -> Self {
        Self { delay, calls: AtomicU64::new(0) }
    }

    fn answer(&self, request: &ModelRequest) -> ModelResponse {
        let result = request.messages.iter().rev().find_map(|m| match m {
            Message::Tool(r) => Some(r.content.as_str()),
            _ => None,
        });
        match result {
            None => {
                let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
                ModelResponse::tool_calls(vec![ToolCall::new(
                    format!("call_{n}"),
                    "shout",
                    &json!({ "text": TEXT }),
                )])
            }
            Some(shouted) if request.output.schema().is_some() => ModelResponse::text(
                json!({"original": TEXT, "shouted": shouted, "length": shouted.chars().count()})
                    .to_string(),
            ),
            Some(shouted) => ModelResponse::text(format!("The tool said: {shouted}")),
        }
    }
}

impl Model for FnModel {
    fn request<'a>(
        &'a self,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, std::result::Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            Ok(self.answer(request))
        })
    }
}

/// The same workload on the testing crate's [`ScriptedModel`] (which records every request).
pub fn scripted_model() -> ScriptedModel {
    ScriptedModel::new(|req: &ModelRequest| Ok(reply_to(req)))
}

/// A runtime with both workers and the tool, every worker on `model`.
pub fn runtime_on(model: impl Model) -> Runtime {
    Runtime::builder()
        .register(shouter::spec())
        .register(shouter_structured::spec())
        .register(shout::spec())
        .model_override(model)
        .ignore_env()
        .build()
}
