//! `LLM_DO_MODEL` gives the model of workers that name none (its own test binary: it sets a
//! process-wide environment variable).

use llm_do::ModelRequest;
use llm_do::prelude::*;
use llm_do::testing::{Reply, ScriptedModel};

/// Names no model.
#[worker(prompt = "Hi")]
async fn unnamed(ctx: &Ctx) -> Result<String>;

/// Names its model.
#[worker(model = "alpha:own", prompt = "Hi")]
async fn named(ctx: &Ctx) -> Result<String>;

fn echo_model() -> ScriptedModel {
    ScriptedModel::new(|req: &ModelRequest| Ok(Reply::text(req.model.clone())))
}

#[tokio::test]
async fn llm_do_model_applies_to_workers_that_name_none() {
    // SAFETY of the test: this binary has a single test, so no other thread reads the
    // environment concurrently.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("LLM_DO_MODEL", "alpha:from-env")
    };
    let rt = Runtime::builder()
        .provider("alpha", echo_model())
        .default_model("alpha:from-builder")
        .build();
    let ctx = rt.ctx();
    assert_eq!(unnamed(&ctx).await.unwrap(), "from-env");
    assert_eq!(
        named(&ctx).await.unwrap(),
        "own",
        "a worker's own model is never overridden by the env"
    );

    let ignoring = Runtime::builder()
        .ignore_env()
        .provider("alpha", echo_model())
        .default_model("alpha:from-builder")
        .build();
    assert_eq!(unnamed(&ignoring.ctx()).await.unwrap(), "from-builder");
    #[allow(unsafe_code)]
    unsafe {
        std::env::remove_var("LLM_DO_MODEL")
    };
}
