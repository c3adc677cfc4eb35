//! `crate = "..."`: generated code reaches llm-do through the given path, here the core crate
//! (as the workspace's own crates do), and under a renamed import.

use llm_do::prelude::*;

/// Adds two numbers.
#[tool(crate = "::llm_do_core")]
async fn add(a: i64, b: i64) -> Result<i64> {
    Ok(a + b)
}

/// Classifies.
#[worker(prompt = "Classify {text}", tools = [add], crate = "::llm_do_core")]
async fn classify(ctx: &Ctx, text: String) -> Result<String>;

mod renamed {
    pub use llm_do as ours;
}

/// Shouts.
#[tool(crate = "crate::renamed::ours")]
async fn shout(ctx: &Ctx, text: String) -> Result<String> {
    let _ = ctx;
    Ok(text.to_uppercase())
}

/// Halves; the error type is spelled through the renamed path.
#[tool(crate = "crate::renamed::ours")]
async fn halve(n: i64) -> std::result::Result<i64, renamed::ours::Error> {
    Ok(n / 2)
}

/// Names; so is the `Result` alias.
#[worker(prompt = "Name {thing}.", crate = "crate::renamed::ours")]
async fn name_it(ctx: &Ctx, thing: String) -> renamed::ours::Result<String>;

fn main() {
    let _ = (add::spec(), classify::spec(), shout::spec(), halve::spec(), name_it::spec());
}
