use llm_do::prelude::*;

#[worker(prompt = "Hi", max_turns = "ten", temperature = "hot", seed = -1, model = gpt4, tools = lookup)]
async fn greet(ctx: &Ctx) -> Result<String>;

fn main() {
    let _ = greet::spec;
}
