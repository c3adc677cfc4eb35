use llm_do::prelude::*;

#[tool]
async fn shout(text: &str, words: Vec<&str>) -> Result<String> {
    Ok(text.to_uppercase() + &words.concat())
}

fn main() {}
