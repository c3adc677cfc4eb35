//! A `#[deprecated]` tool or worker: its callers are warned, the generated code that registers
//! and runs it is not (a crate that denies warnings still builds).
#![deny(warnings)]

use llm_do::prelude::*;

/// Doubles, the old way.
#[deprecated = "use `double`"]
#[tool]
async fn twice(n: i64) -> Result<i64> {
    Ok(n * 2)
}

/// Doubles, the old way, with a ctx.
#[deprecated = "use `double`"]
#[tool]
async fn twice_ctx(ctx: &Ctx, n: i64) -> Result<i64> {
    let _ = ctx;
    Ok(n * 2)
}

/// Greets, the old way.
#[deprecated = "use `greet`"]
#[worker(prompt = "Greet {name}.", tools = [twice, twice_ctx])]
async fn hello(ctx: &Ctx, name: String) -> Result<String>;

fn main() {
    let _ = (twice::spec(), twice_ctx::spec(), hello::spec());
}
