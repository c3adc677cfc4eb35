//! Compile-time check of the names workers and tools are called by, by the rule the
//! registry and worker files use ([`llm_do_syntax::name`]).

/// Checks a callable name against `[A-Za-z0-9_-]{1,64}`. Returns what is wrong.
pub(crate) fn check(name: &str) -> Result<(), String> {
    llm_do_syntax::name::check(name).map_err(|e| e.to_string())
}
