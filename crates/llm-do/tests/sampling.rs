//! Statistical tests with the Sampler, against scripted models whose answer depends on the
//! sample's seed: known distributions, so pass rates and reports are exact.

use llm_do::ModelRequest;
use llm_do::prelude::*;
use llm_do::testing::{Reply, SampleTarget, Sampler, SamplingError, ScriptedModel};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
enum Category {
    Bug,
    Billing,
    Feature,
}

/// Classify a support ticket.
#[worker(model = "openai:gpt-4o-mini", prompt = "Classify: {ticket}")]
async fn classify(ctx: &Ctx, ticket: String) -> Result<Category>;

/// Answers by seed: 0, 4, 8, ... -> Feature; otherwise Billing (or Bug for crash tickets).
/// Records each request's temperature in the answer's model field for inspection.
fn seeded_model() -> ScriptedModel {
    ScriptedModel::new(|req: &ModelRequest| {
        let seed = req.settings.seed.unwrap_or(u64::MAX);
        let crash = req.messages.iter().any(|m| format!("{m:?}").contains("crash"));
        let answer = match (seed % 4, crash) {
            (0, _) => "Feature",
            (_, true) => "Bug",
            _ => "Billing",
        };
        if req.settings.temperature != Some(0.8) {
            return Ok(Reply::text("\"not sampled at 0.8\""));
        }
        Ok(Reply::json(json!(answer)))
    })
}

fn ctx() -> Ctx {
    Runtime::builder().register(classify::spec()).model_override(seeded_model()).build().ctx()
}

#[tokio::test]
async fn every_sample_gets_its_own_seed_and_the_temperature()
-> std::result::Result<(), SamplingError> {
    let report = Sampler::new(&ctx(), classify::spec())
        .input(json!({"ticket": "I was charged twice"}))
        .runs(20)
        .temperature(0.8)
        .invariant("is a category", |_: &Category| true)
        .min_pass_rate(1.0)
        .run()
        .await?;
    // Seeds 0..20: 5 multiples of 4 give Feature.
    assert_eq!(
        report.distribution(),
        [("\"Billing\"".to_owned(), 15), ("\"Feature\"".to_owned(), 5)]
    );
    let seeds: Vec<Option<u64>> = report.samples.iter().map(|s| s.seed).collect();
    assert_eq!(seeds, (0..20).map(Some).collect::<Vec<_>>());
    Ok(())
}

#[tokio::test]
async fn a_pass_rate_at_the_threshold_passes_and_below_it_fails() {
    let sampler = || {
        Sampler::new(&ctx(), "classify")
            .input(json!({"ticket": "I was charged twice"}))
            .runs(20)
            .temperature(0.8)
            .invariant("is Billing", |c: &Category| *c == Category::Billing)
    };
    let report = sampler().min_pass_rate(0.75).run().await.expect("15 of 20 is 75%");
    assert_eq!(report.passed(), 15);
    let err = sampler().min_pass_rate(0.8).run().await.unwrap_err();
    assert!(matches!(err, SamplingError::BelowPassRate { passed: 15, total: 20, .. }));
}

#[tokio::test]
async fn a_failing_run_reports_samples_invariants_and_distribution() {
    let err = Sampler::new(&ctx(), classify::spec())
        .input(json!({"ticket": "I was charged twice"}))
        .input(json!({"ticket": "The app crashes on start"}))
        .runs(6)
        .temperature(0.8)
        .concurrency(3)
        .invariant("is not Feature", |c: &Category| *c != Category::Feature)
        .invariant("is Billing", |c: &Category| *c == Category::Billing)
        .min_pass_rate(0.9)
        .run()
        .await
        .unwrap_err();
    insta::assert_snapshot!("failing_sampler_report", format!("{err:?}"));
}

#[tokio::test]
async fn failed_calls_are_failing_samples_with_their_error() {
    let model = ScriptedModel::new(|req: &ModelRequest| {
        Ok(match req.settings.seed {
            Some(1) => Reply::json(json!("Refund")), // not a category: rejected, no retry left
            _ => Reply::json(json!("Bug")),
        })
    });
    let spec = strict_classify_spec();
    let ctx = Runtime::builder().register(spec.clone()).model_override(model).build().ctx();
    let report = Sampler::new(&ctx, spec)
        .runs(3)
        .invariant("any", |_: &Category| true)
        .sample()
        .await
        .expect("configured");
    assert_eq!(report.passed(), 2);
    let failure = report.failures().next().expect("one failure");
    assert_eq!(failure.seed, Some(1));
    assert!(failure.error.as_deref().unwrap_or_default().contains("Refund"), "{:?}", failure.error);
    assert_eq!(report.distribution(), [("\"Bug\"".to_owned(), 2), ("(error)".to_owned(), 1)]);
}

/// `classify` without output retries, so that an invalid answer fails the call.
fn strict_classify_spec() -> std::sync::Arc<llm_do::CallableSpec> {
    let base = classify::spec();
    llm_do::WorkerSpecBuilder::new("strict_classify")
        .prompt("Classify.")
        .output_schema(base.output_schema().clone())
        .output_retries(0)
        .build()
        .expect("valid spec")
}

#[tokio::test]
async fn misconfiguration_is_a_typed_error() {
    let err = Sampler::new(&ctx(), "classify")
        .runs(0)
        .invariant("x", |_: &Category| true)
        .run()
        .await
        .unwrap_err();
    assert!(matches!(err, SamplingError::Config(_)));
    let err =
        Sampler::<Category>::new(&ctx(), "classify").min_pass_rate(1.5).run().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid sampler configuration: `min_pass_rate` must be between 0.0 and 1.0, not 1.5"
    );
}

/// A worker that takes arguments, sampled without `.input(..)`: one configuration error that
/// says what is missing, not every sample failing on its arguments.
#[tokio::test]
async fn a_worker_sampled_without_its_arguments_is_a_configuration_error() {
    for target in [SampleTarget::from("classify"), SampleTarget::from(classify::spec())] {
        let err = Sampler::<Category>::new(&ctx(), target).runs(3).run().await.unwrap_err();
        let SamplingError::Config(message) = &err else { panic!("not a Config error: {err}") };
        assert!(
            message.contains("\"ticket\" is a required property") && message.contains(".input(..)"),
            "{message}"
        );
    }
    // With its input, the same sampler runs.
    let report = Sampler::<Category>::new(&ctx(), "classify")
        .input(json!({"ticket": "I was charged twice"}))
        .runs(3)
        .temperature(0.8)
        .sample()
        .await
        .unwrap();
    assert_eq!(report.samples.len(), 3);
}
