use llm_do::prelude::*;

#[tool]
async fn late(a: u8, ctx: &Ctx) -> Result<u8> {
    let _ = ctx;
    Ok(a)
}

#[tool]
async fn mutable(ctx: &mut Ctx) -> Result<u8> {
    let _ = ctx;
    Ok(1)
}

#[worker(prompt = "Hi")]
async fn owned(ctx: Ctx) -> Result<u8>;

fn main() {}
