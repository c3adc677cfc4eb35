//! Generated code keeps compiling when the user's scope shadows common names.
#![allow(dead_code, non_camel_case_types)]

mod core {}
mod serde {}
mod schemars {}
struct Option;
struct Some;
struct Ok;
struct Err;
struct Vec;
struct String;
struct Box;
struct Arc;
struct Map;
struct Value;
struct SPEC;
type Result<T> = llm_do::Result<T>;

use llm_do::{Ctx, tool, worker};

/// Echo.
#[worker(prompt = "Echo {text}", tools = [twice])]
async fn echo(ctx: &Ctx, text: std::string::String) -> Result<std::string::String>;

/// Twice.
#[tool]
async fn twice(ctx: &Ctx, n: i64) -> Result<i64> {
    let _ = ctx;
    ::core::result::Result::Ok(n * 2)
}

/// Plain.
#[tool]
async fn plain(n: i64) -> Result<i64> {
    ::core::result::Result::Ok(n)
}

fn main() {
    let _ = (echo::spec, twice::spec, plain::spec);
}
