//! A [`CassetteModel`] is `Clone`, as the other test models are: clones share one cassette, so
//! a test can hand the same model to two runtimes (or keep one to ask what was served) and
//! the replay stays consistent — each recording served once, whichever clone asked, and both
//! clones agree on what is left. Recording clones write into one cassette.

use llm_do_core::{Message, Model, ModelRequest, ModelResponse};
use llm_do_testing::cassette::{
    Cassette, CassetteError, CassetteMode, CassetteModel, Interaction, cassette_with_mode,
};
use llm_do_testing::scripted::{Reply, ScriptedModel};

fn ask(text: &str) -> ModelRequest {
    ModelRequest::new("m", vec![Message::user(text)])
}

#[tokio::test]
async fn replaying_clones_share_what_was_served() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    let mut recorded = Cassette::default();
    recorded.push(Interaction::new(&ask("ping"), ModelResponse::text("pong 1")));
    recorded.push(Interaction::new(&ask("ping"), ModelResponse::text("pong 2")));
    recorded.push(Interaction::new(&ask("other"), ModelResponse::text("other")));
    recorded.save(&path).unwrap();
    let first =
        cassette_with_mode(CassetteMode::Replay, &path, || ScriptedModel::queue([])).unwrap();
    let second: CassetteModel = first.clone();
    let text = |r: ModelResponse| r.text.unwrap();
    assert_eq!(text(first.request(&ask("ping")).await.unwrap()), "pong 1");
    assert_eq!(text(second.request(&ask("ping")).await.unwrap()), "pong 2");
    // Both recordings of "ping" are served, whichever clone asks next.
    let e = first.request(&ask("ping")).await.unwrap_err();
    let source = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<CassetteError>());
    assert!(matches!(source, Some(CassetteError::Exhausted { recorded: 2, .. })), "{e:?}");
    assert_eq!(first.unused(), second.unused());
    let [left] = second.unused()[..] else { panic!("{:?}", second.unused()) };
    let answer = &first.cassette().interactions[left].response;
    assert_eq!(answer.text.as_deref(), Some("other"), "only the other request is left");
    assert_eq!(first.cassette(), second.cassette());
}

#[tokio::test]
async fn recording_clones_write_one_cassette() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    let first = cassette_with_mode(CassetteMode::Record, &path, || {
        ScriptedModel::queue([Reply::text("a"), Reply::text("b")])
    })
    .unwrap();
    let second = first.clone();
    first.request(&ask("one")).await.unwrap();
    second.request(&ask("two")).await.unwrap();
    assert_eq!(first.cassette(), second.cassette());
    let saved = Cassette::load(&path).unwrap();
    assert_eq!(saved.interactions.len(), 2);
    assert_eq!(saved, first.cassette());
}
