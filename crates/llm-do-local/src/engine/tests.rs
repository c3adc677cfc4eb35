//! Tests of the engine: loading crafted model files, and the reasons of its errors.

use super::*;
use crate::gguf::craft;
use candle_core::quantized::gguf_file::Value;

/// Loads the model at `path` as a request would, with a small context.
fn load_file(path: &std::path::Path) -> Result<ModelInfo, LocalError> {
    let config = EngineConfig { context_size: 256, threads: 1 };
    load(&Location::File(path.to_owned()), config).map(|s| s.info)
}

/// A file whose metadata would make candle's loader allocate 64 GiB (aborting the
/// process) or divide by zero is refused by the checks, with their reason, before it loads.
#[test]
fn hostile_hyperparameters_fail_the_load_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let md = craft::qwen2_metadata(8);
    let info = load_file(&craft::write(dir.path(), 8, &md, &[])).unwrap();
    assert_eq!(info.architecture.as_deref(), Some("qwen2"));
    for (key, value) in [("qwen2.embedding_length", 1 << 30), ("qwen2.attention.head_count", 0)] {
        let md = craft::with(md.clone(), key, Value::U32(value));
        match load_file(&craft::write(dir.path(), 8, &md, &[])) {
            Err(LocalError::InvalidGguf { reason, .. }) => {
                assert!(reason.contains(key), "{reason}")
            }
            other => panic!("{key}: {other:?}"),
        }
    }
}

/// With `RUST_BACKTRACE=1`, candle errors carry the engine's stack; the reason a user sees
/// does not.
#[test]
fn a_candle_error_is_told_without_its_backtrace() {
    let traced = |inner: candle_core::Error| candle_core::Error::WithBacktrace {
        inner: Box::new(inner),
        backtrace: Box::new(std::backtrace::Backtrace::force_capture()),
    };
    let e = traced(candle_core::Error::Msg("the file has no tensor `x`".into()));
    assert!(e.to_string().len() > "the file has no tensor `x`".len(), "a backtrace to strip");
    assert_eq!(candle_reason(&e), "the file has no tensor `x`");
    let e = candle_core::Error::WithPath {
        inner: Box::new(traced(candle_core::Error::Msg("bad".into()))),
        path: "/m.gguf".into(),
    };
    assert_eq!(candle_reason(&e), "path: \"/m.gguf\" bad");
}

/// candle's qwen loaders build RoPE tables for the file's `context_length`: 4e9 positions
/// aborted the process (a 16 GiB allocation). They are built for the engine's window.
#[test]
fn a_huge_trained_context_builds_tables_for_the_window_only() {
    let dir = tempfile::tempdir().unwrap();
    let md = craft::with(craft::qwen2_metadata(8), "qwen2.context_length", Value::U32(u32::MAX));
    let info = load_file(&craft::write(dir.path(), 8, &md, &[])).unwrap();
    assert_eq!(info.context_size, 256);
    // A shorter trained context still caps the window.
    let md = craft::with(md, "qwen2.context_length", Value::U32(100));
    assert_eq!(load_file(&craft::write(dir.path(), 8, &md, &[])).unwrap().context_size, 100);
}

/// The reason a model fails to load in, from a child process of this test binary run with
/// `RUST_BACKTRACE=1` (candle then appends the engine's stack to its errors).
#[test]
fn a_tokenizer_error_is_told_without_candles_backtrace() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "engine::tests::child_load_reason", "--nocapture"])
        .args(["--test-threads=1"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let reason = stdout.lines().find_map(|l| Some(l.split_once("REASON=")?.1));
    let reason =
        reason.unwrap_or_else(|| panic!("{stdout}{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(reason, r#""tokenizer: Token `c` out of vocabulary""#);
}

/// Helper of [`a_tokenizer_error_is_told_without_candles_backtrace`]: loads a model whose
/// merge `a c` names no token, and prints the reason it fails with.
#[test]
#[ignore = "run by a_tokenizer_error_is_told_without_candles_backtrace in a child process"]
fn child_load_reason() {
    let dir = tempfile::tempdir().unwrap();
    let merges = Value::Array(vec![Value::String("a c".into())]);
    let md = craft::with(craft::qwen2_metadata(8), "tokenizer.ggml.merges", merges);
    match load_file(&craft::write(dir.path(), 8, &md, &[])) {
        Err(LocalError::LoadFailed { reason, .. }) => println!("REASON={reason:?}"),
        other => panic!("{other:?}"),
    }
}
