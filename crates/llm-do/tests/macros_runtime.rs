//! What `#[worker]` and `#[tool]` generate, checked at run time: the specs they register, and
//! that hardening a worker into a tool changes nothing a caller or a calling model sees.

use llm_do::prelude::*;
use llm_do::testing::{Reply, ScriptedModel};

/// A ticket category.
#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum Category {
    /// Something is broken.
    Bug,
    /// Money.
    Billing,
}

/// The LLM-backed version.
mod llm {
    use super::Category;
    use llm_do::prelude::*;

    /// Classify a customer support ticket.
    #[worker(prompt = "Classify this ticket: {ticket}", tools = [super::lookup_customer])]
    pub async fn classify(
        ctx: &Ctx,
        /// The ticket text.
        ticket: String,
        /// The customer's language, when known.
        lang: Option<String>,
    ) -> Result<Category>;
}

/// The hardened version: same signature, a Rust body.
mod rust {
    use super::Category;
    use llm_do::prelude::*;

    /// Classify a customer support ticket.
    #[tool]
    pub async fn classify(
        ctx: &Ctx,
        /// The ticket text.
        ticket: String,
        /// The customer's language, when known.
        lang: Option<String>,
    ) -> Result<Category> {
        let _ = (ctx, lang);
        Ok(if ticket.contains("charged") { Category::Billing } else { Category::Bug })
    }
}

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
#[tool(name = "add_numbers")]
async fn add(a: i64, b: i64) -> Result<i64> {
    Ok(a + b)
}

#[test]
fn hardening_keeps_name_description_and_schemas() {
    let (worker, tool) = (llm::classify::spec(), rust::classify::spec());
    assert_eq!(worker.name(), "classify");
    assert_eq!(worker.tool_definition(), tool.tool_definition());
    assert_eq!(worker.input_schema(), tool.input_schema());
    assert_eq!(worker.output_schema(), tool.output_schema());
    assert_eq!(worker.description(), "Classify a customer support ticket.");
    let input = worker.input_schema();
    assert_eq!(input["properties"]["ticket"]["description"], "The ticket text.");
    assert_eq!(input["required"], json!(["ticket"]));
    assert_eq!(input["additionalProperties"], json!(false));
}

#[test]
fn worker_spec_carries_the_attribute() {
    let spec = llm::classify::spec();
    let config = spec.worker().expect("a worker");
    assert_eq!(config.prompt.source(), "Classify this ticket: {ticket}");
    assert_eq!(config.tools.iter().map(|t| t.name()).collect::<Vec<_>>(), ["lookup_customer"]);
    assert!(std::sync::Arc::ptr_eq(&spec, &llm::classify::spec()), "built once");
}

#[test]
fn tool_names_and_param_docs() {
    assert_eq!(add::spec().name(), "add_numbers");
    assert_eq!(add::spec().description(), "Add two integers.");
    let schema = lookup_customer::spec();
    assert_eq!(schema.input_schema()["properties"]["email"]["description"], "the customer's email");
}

#[tokio::test]
async fn typed_calls_and_calls_by_name_share_one_path() -> Result<()> {
    // A plain tool stays a plain function.
    assert_eq!(add(2, 3).await?, 5);

    let model = ScriptedModel::queue([Reply::json(json!("Billing"))]);
    let rt = Runtime::builder()
        .register(llm::classify::spec())
        .register(lookup_customer::spec())
        .register(add::spec())
        .model_override(model)
        .build();
    let ctx = rt.ctx();
    assert_eq!(llm::classify(&ctx, "I was charged twice".into(), None).await?, Category::Billing);
    assert_eq!(rust::classify(&ctx, "I was charged twice".into(), None).await?, Category::Billing);
    assert_eq!(lookup_customer(&ctx, "a@b.c".into()).await?, "customer <a@b.c>");
    let sum: i64 = ctx.call("add_numbers", json!({"a": 2, "b": 3})).await?;
    assert_eq!(sum, 5);
    let err = ctx.call::<i64>("add_numbers", json!({"a": 2, "c": 3})).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArguments { .. }), "{err}");
    Ok(())
}
