use llm_do::prelude::*;

#[worker(prompt = "Hi", model = "gpt-4o-mini")]
async fn a(ctx: &Ctx) -> Result<String>;

#[worker(prompt = "Hi", model = "OpenAI:gpt-4o")]
async fn b(ctx: &Ctx) -> Result<String>;

#[worker(prompt = "Hi", model = "openai:")]
async fn c(ctx: &Ctx) -> Result<String>;

fn main() {}
