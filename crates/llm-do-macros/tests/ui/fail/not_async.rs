use llm_do::prelude::*;

#[worker(prompt = "Hi {name}")]
fn greet(ctx: &Ctx, name: String) -> Result<String>;

#[tool]
fn add(a: i64, b: i64) -> Result<i64> {
    Ok(a + b)
}

async fn callers(ctx: &Ctx) -> Result<i64> {
    // No cascade: the stand-ins are async.
    let _ = greet(ctx, "x".into()).await?;
    add(1, 2).await
}

fn main() {
    let _ = callers;
}
