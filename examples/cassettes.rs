//! Cassettes recorded from the embedded model, replayed by the examples' tests.
//!
//! Each example keeps its cassettes in `<example>/cassettes/`. A test opens one with
//! [`recorded`]: by default the cassette is replayed offline (deterministic, no model loaded);
//! with `LLM_DO_RECORD=1` the test runs on the embedded model `local:smollm2` instead and
//! rewrites the file. Re-record one example with
//!
//! ```text
//! LLM_DO_RECORD=1 cargo test -p llm-do-examples --example NAME
//! ```
//!
//! and review the diff like any other change.

use llm_do::testing::cassette::CassetteModel;
use llm_do::{Model, Runtime, RuntimeBuilder};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The path of a cassette, relative to the examples' folder (`"ticket_classifier/cassettes/x.json"`).
///
/// ```
/// let path = llm_do_examples::cassettes::path("ticket_classifier/cassettes/classify.json");
/// assert!(path.is_file());
/// ```
pub fn path(relative: &str) -> PathBuf {
    examples_dir().join(relative)
}

/// The examples' folder. `cargo test` and `cargo run` set `CARGO_MANIFEST_DIR` for the process,
/// and that one wins over the folder this library was compiled in: two checkouts sharing one
/// `CARGO_TARGET_DIR` share this library's build, so the compile-time path may be the other
/// checkout's (and a recording would land there).
fn examples_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.join("cassettes.rs").is_file())
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).to_owned())
}

/// The cassette at `relative` (see [`path`]): replayed, or recorded from the embedded model when
/// `LLM_DO_RECORD=1`. Panics with the cassette's path and the reason when it cannot be opened
/// (these are test fixtures: a missing cassette is a test failure).
///
/// ```
/// use llm_do::testing::cassette::CassetteMode;
/// # if std::env::var_os("LLM_DO_RECORD").is_none() {
/// let model = llm_do_examples::cassettes::recorded("ticket_classifier/cassettes/classify.json");
/// assert_eq!(model.mode(), CassetteMode::Replay);
/// # }
/// ```
pub fn recorded(relative: &str) -> Arc<CassetteModel> {
    #[cfg(feature = "local")]
    {
        let path = path(relative);
        let model =
            llm_do::testing::cassette::cassette(&path, llm_do::providers::local::LocalModel::new);
        Arc::new(model.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
    }
    #[cfg(not(feature = "local"))]
    {
        use llm_do::testing::cassette::CassetteMode;
        if CassetteMode::from_env() == CassetteMode::Record {
            panic!("recording needs the embedded model: build with the `local` feature");
        }
        replayed(relative)
    }
}

/// The cassette at `relative`, always replayed, also under `LLM_DO_RECORD=1`: for a test that
/// checks a second form of a worker against the recording the first form made (the replay fails
/// with a diff when a request differs). Panics like [`recorded`].
///
/// ```
/// let model = llm_do_examples::cassettes::replayed("approvals_demo/cassettes/approve.json");
/// assert_eq!(model.mode(), llm_do::testing::cassette::CassetteMode::Replay);
/// ```
pub fn replayed(relative: &str) -> Arc<CassetteModel> {
    use llm_do::testing::cassette::{CassetteMode, cassette_with_mode};
    let path = path(relative);
    let model = cassette_with_mode(CassetteMode::Replay, &path, || {
        llm_do::testing::ScriptedModel::queue([])
    });
    Arc::new(model.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The end of a test on a cassette: every recorded request was made again (when replaying: the
/// test still does all it did when recorded), and the transcript matches its snapshot
/// ([`assert_transcript`]).
///
/// ```
/// # if std::env::var_os("LLM_DO_RECORD").is_none() {
/// let relative = "approvals_demo/cassettes/deny.json";
/// let cassette = llm_do_examples::cassettes::replayed(relative);
/// // ... a test that makes none of the recorded requests:
/// let check = || llm_do_examples::cassettes::assert_replayed(&cassette, relative);
/// assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).is_err());
/// # }
/// ```
pub fn assert_replayed(cassette: &CassetteModel, relative: &str) {
    let unused = cassette.unused();
    assert!(unused.is_empty(), "{relative}: recorded requests not made again: {unused:?}");
    assert_transcript(cassette, relative);
}

/// Snapshots the transcript of `cassette` ([`CassetteModel::transcript`]: the recorded
/// conversations, readable) with insta as `NAME.snap` next to the cassette `relative`
/// (`NAME.json`). Replayed, it fails when the cassette file changed without its transcript; after
/// `LLM_DO_RECORD=1 cargo test …` it shows how the model's conversation changed, for review with
/// `cargo insta review` (or `cargo insta accept`).
///
/// ```
/// # if std::env::var_os("LLM_DO_RECORD").is_none() {
/// let relative = "approvals_demo/cassettes/deny.json";
/// let cassette = llm_do_examples::cassettes::replayed(relative);
/// llm_do_examples::cassettes::assert_transcript(&cassette, relative);
/// # }
/// ```
pub fn assert_transcript(cassette: &CassetteModel, relative: &str) {
    let relative = Path::new(relative);
    let name = relative.file_stem().and_then(|s| s.to_str()).expect("a cassette file name");
    let mut settings = insta::Settings::clone_current();
    // Relative to this file's folder, the examples' folder.
    settings.set_snapshot_path(relative.parent().unwrap_or(Path::new(".")));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(format!("transcript of {}", relative.display()));
    settings.bind(|| insta::assert_snapshot!(name, cassette.transcript()));
}

/// A runtime builder whose every model request is served by `cassette`, under the model name
/// the examples record with (`local:smollm2`, for workers that name no model). Add the example's
/// workers, subscribers and approver, and `ignore_env()`, as for any runtime.
///
/// ```
/// # if std::env::var_os("LLM_DO_RECORD").is_none() {
/// let cassette = llm_do_examples::cassettes::recorded("ticket_classifier/cassettes/classify.json");
/// let rt = llm_do_examples::cassettes::builder(&cassette).ignore_env().build();
/// # drop(rt);
/// # }
/// ```
pub fn builder(cassette: &Arc<CassetteModel>) -> RuntimeBuilder {
    let model: Arc<dyn Model> = cassette.clone();
    Runtime::builder().model_override(model).default_model("local:smollm2")
}
