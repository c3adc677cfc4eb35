use llm_do::prelude::*;

#[worker(prompt = "Hi", model = "gpt-4o-mini")]
async fn a(ctx: &Ctx) -> Result<String>;

#[worker(prompt = "Hi", model = "OpenAI:gpt-4o")]
async fn b(ctx: &Ctx) -> Result<String>;

#[worker(prompt = "Hi", model = "openai:")]
async fn c(ctx: &Ctx) -> Result<String>;

// Shown on one line, escaped, and cut to 80 characters: the string holds what it is refused for.
#[worker(prompt = "Hi", model = "openai:gpt\x1b]0;pwned\x07\n\u{202e}x")]
async fn d(ctx: &Ctx) -> Result<String>;

#[worker(prompt = "Hi", model = "gpt-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")]
async fn e(ctx: &Ctx) -> Result<String>;

fn main() {}
