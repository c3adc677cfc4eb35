//! Workers and tools defined inside a function body.
use llm_do::prelude::*;

fn main() {
    /// Say hello.
    #[worker(prompt = "Say hello to {name}.", tools = [shout])]
    async fn greet(ctx: &Ctx, name: String) -> Result<String>;

    #[tool]
    async fn shout(text: String) -> Result<String> {
        Ok(text.to_uppercase())
    }

    struct Suffix;

    /// Uses an item of the enclosing block.
    #[tool]
    async fn punctuate(ctx: &Ctx, text: String) -> Result<String> {
        let _ = (ctx, Suffix);
        Ok(text + "!")
    }

    let rt = Runtime::builder().register(greet::spec()).register(punctuate::spec()).build();
    let _ = rt;
    let _ = (greet, punctuate);
}
