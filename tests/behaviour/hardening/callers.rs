// The caller code, included verbatim into both the `soft` (worker) and the `hard` (Rust tool)
// module of `tests/behaviour/hardening.rs`. Hardening `classify` must not require a single change here.

/// Route a support ticket to a team.
#[worker(prompt = "Route this ticket: {ticket}", tools = [classify])]
pub async fn triage(ctx: &Ctx, ticket: String) -> Result<String>;

/// The registration line.
pub fn runtime(model: ScriptedModel, log: EventLog) -> Runtime {
    Runtime::builder()
        .register(classify::spec())
        .register(triage::spec())
        .model_override(model)
        .subscribe(log)
        .build()
}

/// The typed call site.
pub async fn typed_call(ctx: &Ctx) -> Result<Category> {
    classify(ctx, "I was charged twice".into()).await
}

/// The late-bound call site.
pub async fn call_by_name(ctx: &Ctx) -> Result<Category> {
    ctx.call("classify", json!({"ticket": "I was charged twice"})).await
}
