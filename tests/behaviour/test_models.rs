//! The schema-driven `TestModel` exercises a worker end to end with no script: every tool is
//! called once with schema-valid arguments, then a schema-valid output comes back.

use llm_do::prelude::*;
use llm_do::testing::TestModel;
use llm_do::{EventKind, EventLog};
use llm_do_tests::bounded;

#[derive(Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
enum Priority {
    Low,
    High,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Report {
    title: String,
    priority: Priority,
    /// Between 1 and 5.
    #[schemars(range(min = 1, max = 5))]
    score: u8,
    tags: Vec<String>,
    owner: Option<String>,
}

/// Look an order up.
#[tool]
async fn lookup_order(order_id: u32, include_items: Option<bool>) -> Result<String> {
    Ok(format!("order {order_id} (items: {})", include_items.unwrap_or(false)))
}

/// Score a priority.
#[tool]
async fn score(ctx: &Ctx, priority: Priority, notes: Vec<String>) -> Result<u8> {
    let _ = ctx;
    Ok(if priority == Priority::High { 5 } else { 1 + notes.len().min(4) as u8 })
}

/// Write a report about an order.
#[worker(prompt = "Report on order {order_id}", tools = [lookup_order, score])]
async fn report(ctx: &Ctx, order_id: u32) -> Result<Report>;

#[tokio::test]
async fn test_model_calls_every_tool_once_and_returns_valid_output() {
    let log = EventLog::new();
    let model = TestModel::new();
    let ctx = Runtime::builder().model_override(model.clone()).subscribe(log.clone()).build().ctx();
    let report = bounded(report(&ctx, 42)).await.expect("schema-valid output deserializes");
    assert!((1..=5).contains(&report.score));

    let results: Vec<(String, bool)> = log
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::ToolResult { result } => Some((result.name, result.is_error)),
            _ => None,
        })
        .collect();
    assert_eq!(results, [("lookup_order".to_owned(), false), ("score".to_owned(), false)]);
    assert_eq!(ctx.usage().requests, 2);
}
