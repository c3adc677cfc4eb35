//! Deck question: a PDF pitch deck as a worker's attachment, read by the embedded model
//! through the text fallback.
//!
//! ```text
//! cargo run -p llm-do-examples --example deck_question [-- DECK.pdf "question"]
//! ```
//!
//! `ask_deck` takes the deck as an [`Attachment`]: a part of the user message, not text in
//! the prompt. The embedded model `local:smollm2` reads text only, so the runtime gives it
//! the PDF's extracted text, inline with the file name; a model that takes PDFs
//! (`openai:gpt-4o-mini`) gets the file itself as a `file` part — same worker, same call.
//! The decks are the tiny PDFs of `pitchdeck_data/` (written by `cargo xtask pdfs`).
//!
//! The tests replay `cassettes/ask.json` (recorded from `local:smollm2`; re-record with
//! `LLM_DO_RECORD=1 cargo test -p llm-do-examples --example deck_question`) and ask the same
//! question live. On that 135M model the company's name is copied right from the PDF's text;
//! the ask is not (it copies the solution line instead): demo quality, as everywhere.

use llm_do::prelude::*;

/// What a pitch deck says: the answers to two questions about it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DeckFacts {
    /// The company's name, as written in the deck.
    #[schemars(length(max = 40))]
    pub company: String,
    /// How much money the company asks for, and for what.
    #[schemars(length(max = 60))]
    pub ask: String,
}

/// Reads a pitch deck: which company, and what it asks for.
#[worker(
    system = "You read pitch decks and answer with words copied from the deck.",
    prompt = "Read the attached pitch deck. {question}",
    temperature = 0.0,
    max_tokens = 64
)]
pub async fn ask_deck(ctx: &Ctx, deck: Attachment, question: String) -> Result<DeckFacts>;

/// The sample deck and question of `main` and the tests.
pub const DECK: &str = "pitchdeck_data/aquaroute.pdf";
/// The question asked about [`DECK`].
pub const QUESTION: &str = "What is the company called, and how much money does it ask for?";

fn sample_deck() -> anyhow::Result<Attachment> {
    let path = llm_do_examples::cassettes::path(DECK);
    Ok(Attachment::from_path(path, &Default::default())?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deck = match args.first() {
        Some(path) => Attachment::from_path(path, &Default::default())?,
        None => sample_deck()?,
    };
    let question = args.get(1).map_or(QUESTION, String::as_str);
    let rt = Runtime::builder().register(ask_deck::spec()).with_default_providers().build();
    let answer = ask_deck(&rt.ctx(), deck, question.to_owned()).await?;
    println!("{}: {}", answer.company, answer.ask);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do::Message;
    use llm_do_examples::cassettes;

    const CASSETTE: &str = "deck_question/cassettes/ask.json";

    /// The request the embedded model got carries the deck's text, not the PDF.
    fn assert_deck_text_in(cassette: &llm_do::testing::cassette::CassetteModel) {
        let recorded = cassette.cassette();
        let request = &recorded.interactions[0].request;
        let user = request["messages"][1]["content"].as_str().unwrap_or_default();
        assert!(user.contains("--- aquaroute.pdf (application/pdf, text extracted) ---"), "{user}");
        assert!(user.contains("AquaRoute"), "{user}");
        assert!(user.contains("Clip-on acoustic sensors"), "{user}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_embedded_model_answers_from_the_pdf_text_recorded() {
        let cassette = cassettes::recorded(CASSETTE);
        let rt = cassettes::builder(&cassette).register(ask_deck::spec()).ignore_env().build();
        let answer = ask_deck(&rt.ctx(), sample_deck().unwrap(), QUESTION.into()).await.unwrap();
        assert!(answer.company.to_lowercase().contains("aquaroute"), "{answer:?}");
        assert_deck_text_in(&cassette);
        cassettes::assert_replayed(&cassette, CASSETTE);
    }

    /// The same question on the embedded model itself (no cassette).
    #[cfg(feature = "local")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_embedded_model_answers_from_the_pdf_text_live() {
        let log = llm_do::EventLog::new();
        let rt = Runtime::builder()
            .register(ask_deck::spec())
            .default_model("local:smollm2")
            .ignore_env()
            .subscribe(log.clone())
            .with_default_providers()
            .build();
        let answer = ask_deck(&rt.ctx(), sample_deck().unwrap(), QUESTION.into()).await.unwrap();
        assert!(answer.company.to_lowercase().contains("aquaroute"), "{answer:?}");
        // What the model was given: the PDF's text, as a plain user message.
        let given = log.events().into_iter().find_map(|e| match e.kind {
            llm_do::EventKind::ModelRequest { new_messages, .. } => {
                new_messages.into_iter().find_map(|m| match m {
                    Message::User { content } => Some(content),
                    _ => None,
                })
            }
            _ => None,
        });
        assert!(given.unwrap_or_default().contains("Team. Two hydraulic engineers"));
    }
}
