use llm_do::prelude::*;

#[worker(prompt = "Hi {name}")]
async fn greet(name: String) -> Result<String>;

#[worker(prompt = "Hi")]
async fn hello() -> Result<String>;

fn main() {}
