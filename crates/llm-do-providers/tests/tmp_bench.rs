use llm_do_core::{Message, Model, ModelRequest, ModelSettings, OutputMode};
use llm_do_providers::local::LocalModel;
use serde_json::json;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench() {
    let threads: u32 = std::env::var("T").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
    let m = LocalModel::new().with_context_size(2048).with_threads(threads);
    let schema = json!({"type":"object","properties":{"category":{"type":"string","enum":["Bug","Billing","Feature"]},"urgent":{"type":"boolean"},"priority":{"type":"integer","minimum":1,"maximum":5}},"required":["category","urgent","priority"],"additionalProperties":false});
    let t = Instant::now();
    m.load("smollm2").await.unwrap();
    eprintln!("load {:?}", t.elapsed());
    for grammar in [false, true] {
        for i in 0..3 {
            let mut req = ModelRequest::new(
                "smollm2",
                vec![
                    Message::system("You are a concise assistant."),
                    Message::user("Classify this ticket: I was charged twice for my subscription."),
                ],
            )
            .with_settings(ModelSettings {
                temperature: Some(0.8),
                seed: Some(i),
                max_tokens: Some(30),
                top_p: None,
            });
            if grammar {
                req = req.with_output(OutputMode::json("T", schema.clone()));
            }
            let t = Instant::now();
            let r = m.request(&req).await.unwrap();
            eprintln!(
                "grammar={grammar} {:?} in={} out={} {:?}",
                t.elapsed(),
                r.usage.input_tokens,
                r.usage.output_tokens,
                r.text
            );
        }
    }
}
