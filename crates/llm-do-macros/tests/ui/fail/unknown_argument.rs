use llm_do::prelude::*;

#[worker(prompt = "Hi {name}", modle = "openai:gpt-4o-mini")]
async fn greet(ctx: &Ctx, name: String) -> Result<String>;

fn main() {
    let _ = greet::spec;
}
