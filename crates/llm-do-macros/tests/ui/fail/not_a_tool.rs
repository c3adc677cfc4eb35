use llm_do::prelude::*;

async fn not_a_tool(x: u8) -> Result<u8> {
    Ok(x)
}

#[worker(prompt = "Hi", tools = [not_a_tool, missing])]
async fn greet(ctx: &Ctx) -> Result<String>;

fn main() {
    let _ = greet::spec;
}
