//! Which model a worker runs on: its own `provider:name`, else `LLM_DO_MODEL`, else the
//! runtime's default; `model_override` forces one model for all (tests).

use llm_do::prelude::*;
use llm_do::testing::{Reply, ScriptedModel};
use llm_do::{ModelRequest, WorkerSpecBuilder};
use llm_do_tests::bounded;

/// Names its model.
#[worker(model = "alpha:model-a", prompt = "Hi")]
async fn on_alpha(ctx: &Ctx) -> Result<String>;

/// Names another provider.
#[worker(model = "beta:model-b", prompt = "Hi")]
async fn on_beta(ctx: &Ctx) -> Result<String>;

/// Names no model.
#[worker(prompt = "Hi")]
async fn unnamed(ctx: &Ctx) -> Result<String>;

/// A model that answers with its own label and the model name it was asked for.
fn labelled(label: &'static str) -> ScriptedModel {
    ScriptedModel::new(move |req: &ModelRequest| Ok(Reply::text(format!("{label}/{}", req.model))))
}

#[tokio::test]
async fn each_worker_reaches_its_own_provider() {
    let rt = Runtime::builder()
        .ignore_env()
        .provider("alpha", labelled("A"))
        .provider("beta", labelled("B"))
        .default_model("beta:fallback")
        .build();
    let ctx = rt.ctx();
    assert_eq!(bounded(on_alpha(&ctx)).await.unwrap(), "A/model-a");
    assert_eq!(bounded(on_beta(&ctx)).await.unwrap(), "B/model-b");
    assert_eq!(bounded(unnamed(&ctx)).await.unwrap(), "B/fallback");
}

#[tokio::test]
async fn the_override_wins_and_keeps_the_model_name() {
    let rt = Runtime::builder()
        .ignore_env()
        .provider("alpha", labelled("A"))
        .model_override(labelled("O"))
        .build();
    let ctx = rt.ctx();
    assert_eq!(bounded(on_alpha(&ctx)).await.unwrap(), "O/model-a");
    assert_eq!(bounded(unnamed(&ctx)).await.unwrap(), "O/override");
}

#[tokio::test]
async fn misconfigured_models_are_typed_errors() {
    let ctx = Runtime::builder().ignore_env().provider("alpha", labelled("A")).build().ctx();

    let err = bounded(unnamed(&ctx)).await.unwrap_err();
    assert!(matches!(err, Error::NoModel { .. }), "{err:?}");
    insta::assert_snapshot!("no_model", err.to_string());

    let err = bounded(on_beta(&ctx)).await.unwrap_err();
    assert!(
        matches!(&err, Error::UnknownProvider { provider, .. } if provider == "beta"),
        "{err:?}"
    );
    insta::assert_snapshot!("unknown_provider", err.to_string());

    let bad = WorkerSpecBuilder::new("bad").prompt("Hi").model("gpt-4o").build().unwrap();
    let err = bounded(ctx.call_spec(&bad, json!({}))).await.unwrap_err();
    assert!(matches!(err, Error::InvalidModel { .. }), "{err:?}");
    insta::assert_snapshot!("invalid_model", err.to_string());
}

#[tokio::test]
async fn the_request_carries_the_worker_settings() {
    /// Has settings.
    #[worker(
        prompt = "Hi",
        model = "alpha:m",
        temperature = 0.25,
        top_p = 0.5,
        max_tokens = 64,
        seed = 7
    )]
    async fn tuned(ctx: &Ctx) -> Result<String>;

    let model = ScriptedModel::queue([Reply::text("ok")]);
    let ctx = Runtime::builder().model_override(model.clone()).build().ctx();
    bounded(tuned(&ctx)).await.unwrap();
    let settings = &model.requests()[0].settings;
    assert_eq!(settings.temperature, Some(0.25));
    assert_eq!(settings.top_p, Some(0.5));
    assert_eq!(settings.max_tokens, Some(64));
    assert_eq!(settings.seed, Some(7));
}
