//! The example of the contract: a worker with a tool, a tool with ctx and one without.
use llm_do::prelude::*;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub enum Category {
    Bug,
    Billing,
    Feature,
}

/// Classify a customer support ticket.
#[worker(model = "openai:gpt-4o-mini", prompt = "Classify this ticket: {ticket}", tools = [lookup_customer])]
pub async fn classify(ctx: &Ctx, ticket: String) -> Result<Category>;

/// Look a customer up by email.
#[tool]
async fn lookup_customer(
    ctx: &Ctx,
    /** the customer's email */
    email: String,
) -> Result<String> {
    let _ = ctx;
    Ok(format!("customer <{email}>"))
}

/// Add two integers.
#[tool]
async fn add(a: i64, b: i64) -> Result<i64> {
    Ok(a + b)
}

async fn use_them(ctx: &Ctx) -> Result<i64> {
    let _category: Category = classify(ctx, "I was charged twice".to_owned()).await?;
    let _customer: String = lookup_customer(ctx, "a@b.c".to_owned()).await?;
    add(1, 2).await
}

fn main() {
    let rt = Runtime::builder()
        .register(classify::spec())
        .register(lookup_customer::spec())
        .register(add::spec())
        .build();
    let _ = rt;
    let _ = use_them;
}
