use llm_do::prelude::*;

#[worker(prompt = "Hi {name}")]
async fn greet(ctx: &Ctx, name: String) -> String;

#[tool]
async fn add(a: i64, b: i64) {
    let _ = a + b;
}

#[tool]
async fn sub(a: i64, b: i64) -> Option<i64> {
    a.checked_sub(b)
}

fn main() {}
