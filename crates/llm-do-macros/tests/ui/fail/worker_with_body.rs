use llm_do::prelude::*;

#[worker(prompt = "Hi {name}")]
async fn greet(ctx: &Ctx, name: String) -> Result<String> {
    Ok(name)
}

fn main() {
    let _ = greet::spec;
}
