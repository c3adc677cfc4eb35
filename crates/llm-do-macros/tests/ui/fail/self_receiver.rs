use llm_do::prelude::*;

#[worker(prompt = "Hi {name}")]
async fn greet(&self, ctx: &Ctx, name: String) -> Result<String>;

fn main() {
    let _ = greet::spec;
}
