use llm_do::prelude::*;

#[worker(prompt = "Classify {tickt} for {customer}")]
async fn classify(ctx: &Ctx, ticket: String, lang: String) -> Result<String>;

fn main() {
    let _ = classify::spec;
}
