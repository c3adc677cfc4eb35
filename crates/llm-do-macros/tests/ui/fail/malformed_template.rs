use llm_do::prelude::*;

#[worker(prompt = "Return {\"label\": {ticket}}")]
async fn classify(ctx: &Ctx, ticket: String) -> Result<String>;

#[worker(prompt = "Classify {two words}")]
async fn classify2(ctx: &Ctx, ticket: String) -> Result<String>;

#[worker(prompt = "Classify {ticket")]
async fn classify3(ctx: &Ctx, ticket: String) -> Result<String>;

#[worker(prompt = "Classify {}")]
async fn classify4(ctx: &Ctx, ticket: String) -> Result<String>;

fn main() {}
