use llm_do::prelude::*;

#[worker(prompt = "Hi {name}", model = "openai:gpt-4o-mini", model = "openai:gpt-4o")]
async fn greet(ctx: &Ctx, name: String) -> Result<String>;

#[tool(name = "a", name = "b")]
async fn t(x: u8) -> Result<u8> {
    Ok(x)
}

fn main() {
    let _ = (greet::spec, t::spec);
}
