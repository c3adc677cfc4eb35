//! Hygiene: the code `#[worker]` and `#[tool]` generate must compile in a crate that shadows
//! `Result`, `Option`, `Some`, `None`, `Ok`, `Err` and `core`, and that depends on neither serde
//! nor schemars (only on llm-do).
#![allow(dead_code, non_camel_case_types, clippy::disallowed_names)]

/// Shadows the prelude's `Result`.
pub type Result<T> = ::core::result::Result<T, &'static str>;
/// Shadows `Option`, `Some` and `None`.
pub enum Option {
    /// Shadows `Some`.
    Some,
    /// Shadows `None`.
    None,
}
pub use Option::{None, Some};
/// Shadows `Ok`.
pub struct Ok;
/// Shadows `Err`.
pub struct Err;
/// Shadows the `core` crate for relative paths.
pub mod core {}
/// Shadows `std` types people often name.
pub struct Vec;
/// Shadows `String`.
pub struct Box;

/// Adds two numbers.
#[llm_do::tool]
pub async fn add(a: i64, b: i64) -> llm_do::Result<i64> {
    llm_do::Result::Ok(a + b)
}

/// Joins words, optionally with a separator.
#[llm_do::tool]
pub async fn join(
    ctx: &llm_do::Ctx,
    /// the words
    words: ::std::vec::Vec<::std::string::String>,
    /// the separator, a space by default
    sep: ::core::option::Option<::std::string::String>,
) -> llm_do::Result<::std::string::String> {
    let _ = ctx;
    llm_do::Result::Ok(words.join(sep.as_deref().unwrap_or(" ")))
}

/// Counts words in a text with the tools.
#[llm_do::worker(prompt = "Count the words in {text}", tools = [add, join], max_turns = 4)]
pub async fn count_words(ctx: &llm_do::Ctx, text: ::std::string::String) -> llm_do::Result<u64>;

#[cfg(test)]
mod tests {
    use super::*;
    use llm_do::testing::{Reply, ScriptedModel};

    #[test]
    fn generated_code_works_in_a_shadowed_namespace() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let model = ScriptedModel::queue([
            Reply::tool_call("join", llm_do::json!({"words": ["a", "b"]})),
            Reply::json(llm_do::json!(2)),
        ]);
        let runtime =
            llm_do::Runtime::builder().register(count_words::spec()).model_override(model).build();
        let ctx = runtime.ctx();
        let n = rt.block_on(count_words(&ctx, "a b".into()));
        assert!(matches!(n, ::core::result::Result::Ok(2)));
        let sum = rt.block_on(add(1, 2));
        assert!(matches!(sum, ::core::result::Result::Ok(3)));
        let joined = rt.block_on(join(
            &ctx,
            ::std::vec!["x".into(), "y".into()],
            ::core::option::Option::Some("-".into()),
        ));
        assert_eq!(joined.ok().as_deref(), ::core::option::Option::Some("x-y"));
    }
}
