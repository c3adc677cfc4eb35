//! A statistical test against the embedded model (`local:smollm2`, feature `local`): 20
//! samples at temperature 0.8, every one a valid category. Answers are grammar-constrained
//! and a single token or two long, so the test stays fast.

use llm_do::prelude::*;
use llm_do::providers::local::LocalModel;
use llm_do::testing::{Sampler, SamplingError};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
enum Category {
    Bug,
    Billing,
    Feature,
}

/// Classify a customer support ticket into Bug, Billing or Feature.
#[worker(model = "local:smollm2", prompt = "Ticket: {ticket}\nCategory:")]
async fn classify(ctx: &Ctx, ticket: String) -> Result<Category>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_hot_samples_are_all_valid_categories() -> std::result::Result<(), SamplingError> {
    let model = LocalModel::new().with_context_size(1024).with_threads(1);
    let rt = Runtime::builder().register(classify::spec()).model_override(model).build();
    let sampler = Sampler::new(&rt.ctx(), classify::spec())
        .input(json!({"ticket": "I was charged twice for my subscription"}))
        .runs(20)
        .temperature(0.8)
        .concurrency(2)
        // The raw JSON output, checked against the schema's enum by hand.
        .invariant("is one of the three categories", |v: &serde_json::Value| {
            matches!(v.as_str(), Some("Bug" | "Billing" | "Feature"))
        })
        .min_pass_rate(1.0);
    let report = match tokio::time::timeout(Duration::from_secs(900), sampler.run()).await {
        Ok(result) => result?,
        Err(_) => panic!("sampling did not finish within 15 minutes"),
    };
    assert_eq!(report.samples.len(), 20);
    assert!(report.samples.iter().all(|s| s.output.is_some()), "{report}");
    let counted: usize = report.distribution().iter().map(|(_, n)| n).sum();
    assert_eq!(counted, 20);
    // The distribution is the model's; print it for the curious (`--nocapture`).
    println!("{report}");
    Ok(())
}
