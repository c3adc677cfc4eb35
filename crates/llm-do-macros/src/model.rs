//! Compile-time check of `model = "provider:name"`, mirroring `llm_do_core::ModelRef::parse`.

/// Checks the shape of a model string: a non-empty lower-case provider (`[a-z0-9_-]+`), a `:`,
/// and a non-empty model name. Returns what is wrong.
pub(crate) fn check(model: &str) -> Result<(), String> {
    let Some((provider, name)) = model.split_once(':') else {
        return Err(format!(
            "invalid model `{model}`: expected `provider:name`, e.g. `openai:gpt-4o-mini`"
        ));
    };
    let provider_ok = !provider.is_empty()
        && provider
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !provider_ok {
        return Err(format!(
            "invalid model `{model}`: the provider (before `:`) must be lower-case letters, \
             digits, `-` or `_`, e.g. `openai:gpt-4o-mini`"
        ));
    }
    if name.trim().is_empty() {
        return Err(format!("invalid model `{model}`: the model name (after `:`) is empty"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_provider_and_name() {
        assert!(check("openai:gpt-4o-mini").is_ok());
        assert!(check("ollama:llama3:8b").is_ok());
        assert!(check("local:/models/x.gguf").is_ok());
        assert!(check("my_provider-2:x").is_ok());
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(check("gpt-4o-mini").unwrap_err().contains("expected `provider:name`"));
        assert!(check("OpenAI:gpt-4o").unwrap_err().contains("lower-case"));
        assert!(check(":gpt-4o").unwrap_err().contains("lower-case"));
        assert!(check("openai: ").unwrap_err().contains("is empty"));
    }
}
