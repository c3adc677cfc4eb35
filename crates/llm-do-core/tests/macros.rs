//! The macros used by a crate that reaches llm-do by another path than `::llm_do`, as the
//! workspace's own crates do: `crate = "::llm_do_core"`. With program state in a tool's body.

use llm_do_core::{CallKind, Ctx, Error, Result, Runtime};
use llm_do_macros::{tool, worker};

/// Added to every sum: program state.
struct Offset(i64);

/// Adds two numbers and the offset.
#[tool(crate = "::llm_do_core")]
async fn add(ctx: &Ctx, a: i64, b: i64) -> Result<i64> {
    Ok(a + b + ctx.state::<Offset>()?.0)
}

/// Adds with a model.
#[worker(prompt = "Add {a} and {b}", tools = [add], crate = "::llm_do_core")]
async fn adder(ctx: &Ctx, a: i64, b: i64) -> Result<i64>;

#[tokio::test]
async fn macros_expand_through_the_given_crate_path() -> Result<()> {
    let rt = Runtime::builder().state(Offset(10)).register(add::spec).build();
    assert_eq!(add(&rt.ctx(), 1, 2).await?, 13);
    let by_name: i64 = rt.ctx().call("add", serde_json::json!({"a": 1, "b": 2})).await?;
    assert_eq!(by_name, 13);
    assert_eq!(add::spec().kind(), CallKind::Tool);
    assert_eq!(adder::spec().kind(), CallKind::Worker);
    assert_eq!(adder::spec().worker().unwrap().tools.len(), 1);

    let without = Runtime::builder().register(add::spec()).build();
    let err = add(&without.ctx(), 1, 2).await.unwrap_err();
    assert!(matches!(err, Error::MissingState { type_name } if type_name.ends_with("Offset")));
    Ok(())
}
