use llm_do::prelude::*;

pub struct Ticket {
    pub text: String,
}

#[worker(prompt = "Classify {ticket}")]
async fn classify(ctx: &Ctx, ticket: Ticket) -> Result<String>;

#[tool]
async fn with_ctx(ctx: &Ctx, ticket: Option<Ticket>) -> Result<u8> {
    let _ = (ctx, ticket);
    Ok(1)
}

#[tool]
async fn without_ctx(ticket: std::rc::Rc<String>) -> Result<u8> {
    let _ = ticket;
    Ok(1)
}

fn main() {}
