//! A function that allows a lint for its parameters (`non_snake_case` for names a JSON API
//! imposes) gets no warning from the items generated from those parameters.
#![deny(warnings)]

use llm_do::prelude::*;

/// Looks a user up.
#[allow(non_snake_case)]
#[worker(prompt = "Find {userId}.")]
async fn find(ctx: &Ctx, userId: String) -> Result<String>;

/// Looks a user up, in Rust.
#[allow(non_snake_case)]
#[tool]
async fn lookup(userId: String) -> Result<String> {
    Ok(userId)
}

/// Looks a user up, in Rust, with a ctx.
#[tool]
async fn lookup_ctx(ctx: &Ctx, #[allow(non_snake_case)] userId: String) -> Result<String> {
    let _ = ctx;
    Ok(userId)
}

fn main() {
    let _ = (find::spec(), lookup::spec(), lookup_ctx::spec());
}
