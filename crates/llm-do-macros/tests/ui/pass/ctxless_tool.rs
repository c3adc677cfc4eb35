//! A tool without ctx stays a plain async function, callable without a runtime.
use llm_do::prelude::*;

#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Point {
    x: f64,
    y: f64,
}

/// Distance from the origin.
#[tool]
pub async fn norm(
    /// The point.
    p: Point,
) -> Result<f64> {
    Ok((p.x * p.x + p.y * p.y).sqrt())
}

/// No arguments at all.
#[tool]
async fn now() -> Result<u64> {
    Ok(0)
}

#[tool]
async fn mutable(mut n: i32) -> Result<i32> {
    n += 1;
    Ok(n)
}

async fn plain_calls() -> Result<f64> {
    let _: u64 = now().await?;
    let _: i32 = mutable(1).await?;
    norm(Point { x: 3.0, y: 4.0 }).await
}

fn main() {
    let _ = plain_calls;
    let _ =
        Runtime::builder().register(norm::spec()).register(now::spec()).register(mutable::spec());
}
