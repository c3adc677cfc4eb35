use llm_do::prelude::*;

#[worker(prompt = "Echo {x}")]
async fn echo<T: Serialize>(ctx: &Ctx, x: T) -> Result<String>;

#[tool]
async fn id<T>(x: T) -> Result<T>
where
    T: Send,
{
    Ok(x)
}

fn main() {}
