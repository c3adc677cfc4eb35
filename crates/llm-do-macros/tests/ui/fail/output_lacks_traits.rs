use llm_do::prelude::*;

pub struct Category(u8);

#[worker(prompt = "Classify {ticket}")]
async fn classify(ctx: &Ctx, ticket: String) -> Result<Category>;

#[tool]
async fn with_ctx(ctx: &Ctx) -> Result<Category> {
    let _ = ctx;
    Ok(Category(1))
}

#[tool]
async fn without_ctx() -> Result<Category> {
    Ok(Category(1))
}

fn main() {}
