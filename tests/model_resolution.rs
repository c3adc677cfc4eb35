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

    // A model string is parsed when the worker is built, not at its first call.
    let err = WorkerSpecBuilder::new("bad").prompt("Hi").model("gpt-4o").build().unwrap_err();
    assert!(matches!(err, Error::InvalidModel { .. }), "{err:?}");
    insta::assert_snapshot!("invalid_model", err.to_string());
}

#[tokio::test]
async fn try_build_rejects_a_worker_whose_provider_is_not_registered() {
    let err = Runtime::builder()
        .ignore_env()
        .provider("alpha", labelled("A"))
        .register(on_alpha::spec())
        .register(on_beta::spec())
        .try_build()
        .err()
        .unwrap();
    assert!(
        matches!(&err, Error::UnknownProvider { provider, known, .. } if provider == "beta" && known == &["alpha"]),
        "{err:?}"
    );
    let err = Runtime::builder()
        .ignore_env()
        .unavailable_provider("beta", "BETA_URL is not a URL")
        .register(on_beta::spec())
        .try_build()
        .err()
        .unwrap();
    assert!(
        matches!(&err, Error::ProviderUnavailable { reason, .. } if reason.contains("BETA_URL"))
    );
    let err = Runtime::builder().ignore_env().default_model("gpt-4o").try_build().err().unwrap();
    assert!(matches!(err, Error::InvalidModel { .. }), "{err:?}");
    // Registered providers, or an override, make the same registrations fine.
    Runtime::builder()
        .ignore_env()
        .provider("alpha", labelled("A"))
        .provider("beta", labelled("B"))
        .register(on_alpha::spec())
        .register(on_beta::spec())
        .try_build()
        .unwrap();
    Runtime::builder()
        .ignore_env()
        .model_override(labelled("O"))
        .register(on_beta::spec())
        .try_build()
        .unwrap();
}

#[tokio::test]
async fn resolve_model_is_the_workers_resolution() {
    let rt = Runtime::builder().ignore_env().provider("alpha", labelled("A")).build();
    let m = rt.resolve_model(&llm_do::ModelRef::parse("alpha:x").unwrap()).unwrap();
    assert_eq!((m.label(), m.name(), m.provider()), ("alpha:x", "x", "alpha"));
    let err = rt.resolve_model(&llm_do::ModelRef::parse("beta:x").unwrap()).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownProvider { provider, .. } if provider == "beta"),
        "{err:?}"
    );
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
