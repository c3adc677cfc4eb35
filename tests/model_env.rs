//! The model the environment chose (`LLM_DO_MODEL`, read by `llm_do::setup` and passed to
//! `RuntimeBuilder::env_model`; the core runtime never reads the environment) applies to
//! workers that name none, over any `default_model`, before or after it; a worker's own model
//! is never overridden. (How `setup` reads the variables is unit-tested there, on a fake
//! environment: no test sets a process-wide variable.)

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
async fn the_env_model_applies_to_workers_that_name_none() {
    let from_env = || Some("alpha:from-env".to_owned());
    // A project's or program's default set after the environment's model does not hide it.
    let after = Runtime::builder()
        .provider("alpha", echo_model())
        .env_model(from_env())
        .default_model("alpha:from-builder")
        .build();
    let before = Runtime::builder()
        .provider("alpha", echo_model())
        .default_model("alpha:from-builder")
        .env_model(from_env())
        .build();
    for rt in [after, before] {
        let ctx = rt.ctx();
        assert_eq!(unnamed(&ctx).await.unwrap(), "from-env");
        assert_eq!(
            named(&ctx).await.unwrap(),
            "own",
            "a worker's own model is never overridden by the env"
        );
    }

    let ignoring = Runtime::builder()
        .env_model(from_env())
        .ignore_env()
        .provider("alpha", echo_model())
        .default_model("alpha:from-builder")
        .build();
    assert_eq!(unnamed(&ignoring.ctx()).await.unwrap(), "from-builder");

    let blank = Runtime::builder()
        .env_model(Some("  ".into()))
        .provider("alpha", echo_model())
        .default_model("alpha:from-builder")
        .build();
    assert_eq!(unnamed(&blank.ctx()).await.unwrap(), "from-builder", "a blank variable is unset");
}
