//! Workers shared by the real-model tests: run in-process on `local:smollm2`, and over HTTP
//! through `llm-do serve` and the OpenAI-compatible provider.

use llm_do::prelude::*;

/// The kind of a support ticket.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum Category {
    /// Something is broken.
    Bug,
    /// Payments, invoices, refunds.
    Billing,
    /// A request for something new.
    Feature,
}

/// How to handle a ticket.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct Triage {
    /// What the ticket is about.
    pub category: Category,
    /// Whether it needs an answer today.
    pub urgent: bool,
    /// 1 (low) to 5 (high).
    #[schemars(range(min = 1, max = 5))]
    pub priority: u8,
}

/// Triage a customer support ticket.
#[worker(
    model = "local:smollm2",
    prompt = "Triage this support ticket: {ticket}",
    temperature = 0.8,
    max_tokens = 64
)]
pub async fn triage(ctx: &Ctx, ticket: String) -> Result<Triage>;

/// Classify a customer support ticket.
#[worker(
    model = "local:smollm2",
    prompt = "Classify this support ticket: {ticket}",
    temperature = 0.8
)]
pub async fn classify(ctx: &Ctx, ticket: String) -> Result<Category>;

/// The shipping status of an order.
#[tool]
pub async fn order_status(
    /** the order number */
    order: u32,
) -> Result<String> {
    Ok(format!("Order {order} was shipped on Monday and arrives on Thursday."))
}

/// Answers customers' questions about their orders.
#[worker(
    model = "local:smollm2",
    system = "You answer questions about orders. Always look the order up with the order_status tool before answering.",
    prompt = "Where is my order {order}?",
    tools = [order_status],
    temperature = 0.0,
    seed = 1,
    max_tokens = 96,
    max_turns = 4
)]
pub async fn where_is_my_order(ctx: &Ctx, order: u32) -> Result<String>;

/// The tickets the structured-output tests triage.
pub const TICKETS: &[&str] = &[
    "I was charged twice for my subscription this month.",
    "The app crashes when I open the settings page.",
    "Please add a dark mode.",
    "My invoice shows the wrong company name.",
    "Export to PDF produces an empty file.",
];
