//! Ticket classifier: the hardening progression in one example.
//!
//! ```text
//! cargo run -p llm-do-examples --example ticket_classifier              # the LLM classifies
//! cargo run -p llm-do-examples --example ticket_classifier -- --hardened # keyword rules first
//! ```
//!
//! - `llm::classify` is a `#[worker]`: an LLM sorts each ticket into a [`Category`].
//! - `hardened::classify` is a `#[tool]` with the same signature: keyword rules decide the
//!   clear cases, and the tickets no rule recognizes still go to an LLM worker
//!   (`classify_with_llm`, called like any typed async fn). The stochastic edge stays stochastic.
//!
//! Both modules include the same call sites (`triage.rs`) verbatim; `--hardened` only chooses
//! which module's runtime and `triage` run. The same worker also exists as a worker file,
//! `workers/classify.worker`, loaded by the tests with `llm_do::project::Project`.
//!
//! The workers name no model, so `main` runs them on the default setup: the embedded local
//! model `local:smollm2` when nothing is configured (see the `hello` example).

use llm_do::prelude::*;
use llm_do::{EventPrinter, RuntimeBuilder};

/// What a support ticket is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Category {
    /// Something is broken.
    Bug,
    /// Payments, invoices, refunds.
    Billing,
    /// A wish for something new.
    Feature,
    /// Logins, passwords, profiles.
    Account,
}

/// The sample tickets, one per line.
const TICKETS: &str = include_str!("tickets.txt");

/// Stochastic: an LLM classifies every ticket.
pub mod llm {
    use super::Category;
    use llm_do::RuntimeBuilder;
    use llm_do::prelude::*;

    /// Classify a customer support ticket.
    #[worker(
        prompt = "Classify this customer support ticket as Bug, Billing, Feature or Account.\n\nTicket: {ticket}",
        temperature = 0.0
    )]
    pub async fn classify(
        ctx: &Ctx,
        /** the ticket text */
        ticket: String,
    ) -> Result<Category>;

    /// A runtime with this version of `classify` registered.
    pub fn runtime(builder: RuntimeBuilder) -> Runtime {
        builder.register(classify::spec()).build()
    }

    include!("triage.rs");
}

/// Deterministic where the evidence allows: keyword rules, and the LLM for the rest.
pub mod hardened {
    use super::Category;
    use llm_do::RuntimeBuilder;
    use llm_do::prelude::*;

    /// Classify a customer support ticket that no keyword rule recognized.
    #[worker(
        prompt = "Classify this customer support ticket as Bug, Billing, Feature or Account.\n\nTicket: {ticket}",
        temperature = 0.0
    )]
    pub async fn classify_with_llm(
        ctx: &Ctx,
        /** the ticket text */
        ticket: String,
    ) -> Result<Category>;

    /// Classify a customer support ticket.
    #[tool]
    pub async fn classify(
        ctx: &Ctx,
        /** the ticket text */
        ticket: String,
    ) -> Result<Category> {
        match keyword_rules(&ticket) {
            Some(category) => Ok(category),
            // The ambiguous cases stay stochastic.
            None => classify_with_llm(ctx, ticket).await,
        }
    }

    /// The rules extracted from what the LLM consistently did: the first rule whose keyword
    /// occurs in the ticket (case-insensitive) decides; `None` when no rule fires.
    pub fn keyword_rules(ticket: &str) -> Option<Category> {
        const RULES: &[(Category, &[&str])] = &[
            (Category::Billing, &["charged", "refund", "invoice", "payment", "billing"]),
            (Category::Bug, &["crash", "error", "broken", "bug", "does not work"]),
            (Category::Account, &["password", "log in", "login", "sign in", "account"]),
            (
                Category::Feature,
                &["would be great", "please add", "feature request", "could you add"],
            ),
        ];
        let text = ticket.to_lowercase();
        RULES.iter().find(|(_, words)| words.iter().any(|w| text.contains(w))).map(|(c, _)| *c)
    }

    /// A runtime with this version of `classify` (and the worker it falls back to) registered.
    pub fn runtime(builder: RuntimeBuilder) -> Runtime {
        builder.register(classify::spec()).register(classify_with_llm::spec()).build()
    }

    include!("triage.rs");
}

fn tickets() -> Vec<String> {
    TICKETS.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

fn builder() -> RuntimeBuilder {
    Runtime::builder().subscribe(EventPrinter::stderr().outputs(false)).with_default_providers()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let hardened = std::env::args().skip(1).any(|a| a == "--hardened");
    let tickets = tickets();
    let categories = if hardened {
        let ctx = hardened::runtime(builder()).ctx();
        hardened::triage(&ctx, &tickets).await?
    } else {
        let ctx = llm::runtime(builder()).ctx();
        llm::triage(&ctx, &tickets).await?
    };
    for (ticket, category) in tickets.iter().zip(categories) {
        println!("{:<8} {ticket}", format!("{category:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::hardened::keyword_rules;
    use super::*;
    use llm_do::EventLog;
    use llm_do::project::Project;
    use llm_do::testing::Sampler;
    use llm_do::testing::hardening::{AgreementReport, Observation, observations};
    use llm_do::testing::{Reply, ScriptedModel};
    use llm_do::{CallKind, EventKind, Message, ModelRequest};

    /// The least number of hot samples (of 10) that must give the keyword rules' answer. The
    /// recorded `local:smollm2` gives 5: it answers `Bug` for the billing ticket, every time.
    const MIN_HOT_AGREEMENT: usize = 5;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    /// A stand-in for the LLM that answers `Feature` for anything, and records what it saw.
    fn always_feature() -> ScriptedModel {
        ScriptedModel::new(|_: &ModelRequest| Ok(Reply::json(json!("Feature"))))
    }

    fn asked_tickets(model: &ScriptedModel) -> Vec<String> {
        model
            .requests()
            .iter()
            .filter_map(|r| {
                r.messages.iter().find_map(|m| match m {
                    Message::User { content } => Some(content.clone()),
                    _ => None,
                })
            })
            .collect()
    }

    #[test]
    fn keyword_rules_decide_the_clear_cases() {
        assert_eq!(keyword_rules("I was CHARGED twice"), Some(Category::Billing));
        assert_eq!(keyword_rules("Where is my invoice for March?"), Some(Category::Billing));
        assert_eq!(keyword_rules("The app crashes on start"), Some(Category::Bug));
        assert_eq!(keyword_rules("Export does not work at all"), Some(Category::Bug));
        assert_eq!(keyword_rules("I cannot log in since Monday"), Some(Category::Account));
        assert_eq!(keyword_rules("Forgot my password"), Some(Category::Account));
        assert_eq!(keyword_rules("It would be great to have dark mode"), Some(Category::Feature));
        // Earlier rules win: a refund for a crash is about money.
        assert_eq!(keyword_rules("Refund me, the app crashed"), Some(Category::Billing));
        assert_eq!(keyword_rules("Something feels off"), None);
        assert_eq!(keyword_rules(""), None);
    }

    #[test]
    fn the_llm_version_asks_the_model_for_every_ticket() {
        let model = always_feature();
        let ctx = llm::runtime(Runtime::builder().model_override(model.clone()).ignore_env()).ctx();
        let tickets = tickets();
        let categories = block_on(llm::triage(&ctx, &tickets)).unwrap();
        assert_eq!(categories, vec![Category::Feature; tickets.len()]);
        let asked = asked_tickets(&model);
        assert_eq!(asked.len(), tickets.len());
        for (prompt, ticket) in asked.iter().zip(&tickets) {
            assert!(prompt.ends_with(ticket.as_str()), "{prompt}");
        }
    }

    #[test]
    fn the_hardened_version_sends_only_ambiguous_tickets_to_the_worker() {
        let model = always_feature();
        let log = EventLog::new();
        let ctx = hardened::runtime(
            Runtime::builder().model_override(model.clone()).subscribe(log.clone()).ignore_env(),
        )
        .ctx();
        let tickets = tickets();
        let categories = block_on(hardened::triage(&ctx, &tickets)).unwrap();

        // Rules where they fire, the model's answer elsewhere.
        for (ticket, category) in tickets.iter().zip(&categories) {
            assert_eq!(*category, keyword_rules(ticket).unwrap_or(Category::Feature), "{ticket}");
        }
        let ambiguous: Vec<&String> =
            tickets.iter().filter(|t| keyword_rules(t).is_none()).collect();
        assert_eq!(ambiguous.len(), 2, "the sample has two tickets no rule recognizes");
        let asked = asked_tickets(&model);
        assert_eq!(asked.len(), ambiguous.len());
        for (prompt, ticket) in asked.iter().zip(&ambiguous) {
            assert!(prompt.ends_with(ticket.as_str()), "{prompt}");
        }

        // In the events: every ticket is a deterministic `classify` call, and only the
        // ambiguous ones have a stochastic `classify_with_llm` call nested under them.
        let events = log.events();
        let started: Vec<_> =
            events.iter().filter(|e| matches!(e.kind, EventKind::CallStarted { .. })).collect();
        let classify: Vec<_> = started.iter().filter(|e| &*e.call.name == "classify").collect();
        assert_eq!(classify.len(), tickets.len());
        assert!(classify.iter().all(|e| e.call.kind == CallKind::Tool));
        let fallback: Vec<_> =
            started.iter().filter(|e| &*e.call.name == "classify_with_llm").collect();
        assert_eq!(fallback.len(), ambiguous.len());
        for e in &fallback {
            assert_eq!(e.call.kind, CallKind::Worker);
            let parent = e.call.parent.expect("the fallback runs inside classify");
            let parent = classify.iter().find(|c| c.call.id == parent).expect("a classify call");
            let EventKind::CallStarted { input } = &parent.kind else { unreachable!() };
            assert!(keyword_rules(input["ticket"].as_str().unwrap()).is_none());
        }
    }

    #[test]
    fn both_versions_offer_the_same_tool_to_other_models() {
        assert_eq!(
            llm::classify::spec().tool_definition(),
            hardened::classify::spec().tool_definition()
        );
        assert_eq!(
            llm::classify::spec().output_schema(),
            hardened::classify::spec().output_schema()
        );
    }

    #[test]
    fn the_worker_file_form_runs_like_the_rust_worker() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ticket_classifier/workers");
        let project = Project::check(&dir, &llm_do::Registry::default()).unwrap();
        let model = ScriptedModel::queue([Reply::json(json!("Account"))]);
        let rt =
            project.register(Runtime::builder().model_override(model.clone())).ignore_env().build();
        let ticket = "Something feels off with my profile";
        let category: Category =
            block_on(rt.ctx().call("classify", json!({ "ticket": ticket }))).unwrap();
        assert_eq!(category, Category::Account);
        let request = model.last_request().unwrap();
        assert_eq!(request.settings.temperature, Some(0.0));
        assert!(request.output.schema().is_some(), "the enum output is requested as JSON");
        assert!(asked_tickets(&model)[0].ends_with(ticket));
        // An answer outside the enum is rejected by the file's output schema.
        let model = ScriptedModel::queue([Reply::json(json!("Spam")), Reply::json(json!("Bug"))]);
        let rt =
            project.register(Runtime::builder().model_override(model.clone())).ignore_env().build();
        let category: Category =
            block_on(rt.ctx().call("classify", json!({ "ticket": ticket }))).unwrap();
        assert_eq!((category, model.request_count()), (Category::Bug, 2));
    }

    // Evidence from the embedded model. The cassettes under `ticket_classifier/cassettes/` were
    // recorded from `local:smollm2`; these tests replay them offline. Re-record with
    // `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example ticket_classifier`.

    fn recorded(name: &str) -> std::sync::Arc<llm_do::testing::cassette::CassetteModel> {
        llm_do_examples::cassettes::recorded(&format!("ticket_classifier/cassettes/{name}"))
    }

    fn cassette_path(name: &str) -> std::path::PathBuf {
        llm_do_examples::cassettes::path(&format!("ticket_classifier/cassettes/{name}"))
    }

    fn evidence_tickets() -> Vec<String> {
        include_str!("evidence.txt").lines().map(str::to_owned).collect()
    }

    /// Runs the stochastic version over the evidence tickets on the recorded model (this is what
    /// writes `classify.json` when recording).
    fn worker_answers() -> Vec<Category> {
        let model = recorded("classify.json");
        let ctx = llm::runtime(llm_do_examples::cassettes::builder(&model).ignore_env()).ctx();
        let answers = block_on(llm::triage(&ctx, &evidence_tickets())).unwrap();
        llm_do_examples::cassettes::assert_replayed(
            &model,
            "ticket_classifier/cassettes/classify.json",
        );
        answers
    }

    #[test]
    fn the_keyword_rules_agree_with_the_recorded_worker_where_they_fire() {
        let tickets = evidence_tickets();
        let answers = worker_answers();
        assert_eq!(answers.len(), tickets.len());

        // The worker's observed (ticket → category) pairs, read back from the cassette.
        let cassette =
            llm_do::testing::cassette::Cassette::load(cassette_path("classify.json")).unwrap();
        let seen = observations(&cassette, &llm::classify::spec()).unwrap();
        // (The cassette keeps its entries sorted by request, not in the order of the run.)
        assert_eq!(seen.len(), tickets.len(), "one observation per ticket");
        for (ticket, answer) in tickets.iter().zip(&answers) {
            let o = seen.iter().find(|o| o.input == json!({ "ticket": ticket })).unwrap();
            assert_eq!(o.output, json!(answer), "{ticket}");
        }

        // The hardened `classify` uses the rules only where one fires; the other tickets still
        // go to the worker. So the rules are measured on the tickets they decide.
        let decided: Vec<Observation> = seen
            .iter()
            .filter(|o| o.input["ticket"].as_str().and_then(keyword_rules).is_some())
            .cloned()
            .collect();
        let report = AgreementReport::of_fn("keyword_rules", "classify", &decided, |t: String| {
            keyword_rules(&t)
        });
        let table = report.to_string();
        println!("{table}");
        assert_eq!(decided.len(), tickets.iter().filter(|t| keyword_rules(t).is_some()).count());
        for case in &report.cases {
            let ticket = case.input["ticket"].as_str().unwrap();
            assert_eq!(case.candidate, Ok(json!(keyword_rules(ticket))));
            let i = tickets.iter().position(|t| t == ticket).unwrap();
            assert_eq!(case.agrees(), keyword_rules(ticket) == Some(answers[i]), "{ticket}");
        }
        // The README shows this very table.
        let readme = include_str!("README.md");
        assert!(readme.contains(&table), "README.md is out of date; the table now reads:\n{table}");
    }

    #[test]
    fn sampled_hot_the_worker_stays_on_the_clear_tickets() {
        let model = recorded("sampled.json");
        let ctx = llm::runtime(llm_do_examples::cassettes::builder(&model).ignore_env()).ctx();
        let clear = [
            ("I was charged twice, please refund one payment.", Category::Billing),
            ("The app crashes every time I open the settings page.", Category::Bug),
        ];
        let mut sampler = Sampler::new(&ctx, llm::classify::spec());
        for (ticket, _) in clear {
            sampler = sampler.input(json!({ "ticket": ticket }));
        }
        let sampler = sampler
            .runs(5)
            .temperature(0.8)
            .concurrency(1)
            .invariant("is one of the four categories", |v: &serde_json::Value| {
                serde_json::from_value::<Category>(v.clone()).is_ok()
            });
        let report = block_on(sampler.sample()).unwrap();
        llm_do_examples::cassettes::assert_replayed(
            &model,
            "ticket_classifier/cassettes/sampled.json",
        );
        assert_eq!(report.samples.len(), 10);
        assert_eq!(report.pass_rate(), 1.0, "{report}");
        // How often the hot worker gives the keyword rules' answer on tickets they decide.
        let agreeing = report
            .samples
            .iter()
            .filter(|s| {
                let expected = clear.iter().find(|(t, _)| s.input["ticket"] == *t).map(|(_, c)| *c);
                s.output.as_ref() == expected.map(|c| json!(c)).as_ref()
            })
            .count();
        println!("{report}\n{agreeing} of 10 hot samples agree with the keyword rules");
        assert!(agreeing >= MIN_HOT_AGREEMENT, "{report}");
    }
}
