use llm_do::prelude::*;

#[tool]
async fn add(a: i64, b: i64) -> Result<i64>;

fn main() {
    let _ = add::spec;
}
