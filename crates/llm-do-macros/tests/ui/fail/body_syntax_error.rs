//! A syntax error inside a tool's body is reported once, where it is, and nothing else fails:
//! the tool's function and spec still exist for its callers and for the worker that lists it.

use llm_do::prelude::*;

/// Adds two numbers.
#[tool]
async fn add(ctx: &Ctx, a: i64, b: i64) -> Result<i64> {
    let _ = ctx;
    let sum = a + ;
    Ok(sum)
}

/// Uses the tool.
#[worker(prompt = "Add {a} and {b}", tools = [add])]
async fn adder(ctx: &Ctx, a: i64, b: i64) -> Result<i64>;

async fn caller(ctx: &Ctx) -> Result<i64> {
    let _ = add::spec();
    add(ctx, 1, 2).await
}

fn main() {
    let _ = (adder::spec, caller);
}
