//! A worker may list itself (and others that list it) as tools: specs are referenced lazily.
use llm_do::prelude::*;

#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    steps: Vec<String>,
}

/// Break a task into steps, recursing on sub-tasks.
#[worker(prompt = "Plan: {task}", tools = [plan, review])]
async fn plan(ctx: &Ctx, task: String) -> Result<Plan>;

/// Review a plan.
#[worker(prompt = "Review the plan for {task}", tools = [plan])]
async fn review(ctx: &Ctx, task: String) -> Result<bool>;

fn main() {
    let _ = Runtime::builder().register(plan::spec()).register(review::spec());
    let _ = (plan, review);
}
