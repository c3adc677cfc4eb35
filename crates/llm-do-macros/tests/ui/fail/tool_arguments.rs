use llm_do::prelude::*;

#[tool(prompt = "Add {a} and {b}", name = "add numbers")]
async fn add(a: i64, b: i64) -> Result<i64> {
    Ok(a + b)
}

#[tool]
struct NotAFunction;

#[tool]
async fn pattern((a, b): (i64, i64)) -> Result<i64> {
    Ok(a + b)
}

fn main() {
    let _ = add::spec;
}
