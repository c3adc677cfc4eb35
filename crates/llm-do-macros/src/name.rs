//! The rule for the names workers and tools are called by: what models and the registry see.

/// Longest accepted name (the limit providers put on tool names).
const MAX_LEN: usize = 64;

/// Checks a callable name against `[A-Za-z0-9_-]{1,64}`. Returns what is wrong.
pub(crate) fn check(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the name is empty".to_owned());
    }
    if name.chars().count() > MAX_LEN {
        return Err(format!(
            "the name `{name}` is {} characters long; at most {MAX_LEN} are allowed",
            name.chars().count()
        ));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-')) {
        return Err(format!(
            "the name `{name}` contains `{c}`; names may only use ASCII letters, digits, `_` and `-`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_tool_names() {
        assert!(check("classify").is_ok());
        assert!(check("Lookup-customer_2").is_ok());
        assert!(check(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn rejects_others() {
        assert_eq!(check("").unwrap_err(), "the name is empty");
        assert!(check(&"a".repeat(65)).unwrap_err().contains("65 characters long"));
        assert!(check("look up").unwrap_err().contains("contains ` `"));
        assert!(check("café").unwrap_err().contains("contains `é`"));
    }
}
