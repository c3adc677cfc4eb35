// The call sites, included verbatim into both the `llm` and the `hardened` module: the same
// code compiles against the worker and against its hardened Rust version.

/// Classifies each ticket, in order. The call `classify(ctx, ..)` does not know whether an LLM
/// or Rust code answers.
pub async fn triage(ctx: &Ctx, tickets: &[String]) -> Result<Vec<Category>> {
    let mut categories = Vec::with_capacity(tickets.len());
    for ticket in tickets {
        categories.push(classify(ctx, ticket.clone()).await?);
    }
    Ok(categories)
}
