//! `${VAR}` references to environment variables in the values of `[mcp.NAME]` (so that a token
//! in a header, an argument or a variable of the server need not be written in `llm-do.toml`).
//!
//! `${VAR}` is the variable's value; `${VAR:-default}` is `default` when the variable is unset
//! or empty; `$${` is a literal `${`. A `$` not followed by `{` is itself. `VAR` is ASCII
//! letters, digits and `_`, not starting with a digit; the default is plain text, which may
//! contain neither `}` nor `${` (references do not nest).
//! References are expanded in `args`, `env` values and `headers` values, not in `command`,
//! `cwd` or `url` (a URL would send the value wherever it points; a credential goes in a
//! header). A variable whose name looks like a secret
//! ([`is_secret_name`](llm_do_core::secrets::is_secret_name)) is filled in only for a server
//! whose `pass_env` names it, so that a project cannot hand the providers' keys to a server of
//! its choosing. Their syntax and these rules are checked when the file is read (an error
//! located at the value that holds the reference); they are resolved when a server is started
//! ([`McpServerSettings::resolved`](crate::McpServerSettings::resolved)), and an unset variable
//! without a default is an error that names it.

/// One piece of a value: literal text, or a reference.
enum Piece<'a> {
    Text(&'a str),
    Var { name: &'a str, default: Option<&'a str> },
}

/// Splits `value` into its pieces, or says what is malformed.
fn pieces(value: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(at) = rest.find("${") {
        if rest[..at].ends_with('$') {
            // `$${`: a literal `${`.
            out.push(Piece::Text(&rest[..at - 1]));
            out.push(Piece::Text("${"));
            rest = &rest[at + 2..];
            continue;
        }
        out.push(Piece::Text(&rest[..at]));
        let body_and_rest = &rest[at + 2..];
        let Some(end) = body_and_rest.find('}') else {
            return Err(format!("`${{` without its `}}` in `{}`", value.escape_debug()));
        };
        let body = &body_and_rest[..end];
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        if default.is_some_and(|d| d.contains("${")) {
            // The default ends at the first `}`: `${A:-${B}}` would be the text `${B}`.
            return Err(format!(
                "`${{{}}}}}`: a default cannot hold another reference (`${{` in a default is not \
                 expanded); write the default as plain text",
                body.escape_debug()
            ));
        }
        if !is_var_name(name) {
            return Err(format!(
                "`${{{}}}` does not name an environment variable (ASCII letters, digits and `_`, \
                 not starting with a digit; `${{VAR:-default}}` for a default)",
                body.escape_debug()
            ));
        }
        out.push(Piece::Var { name, default });
        rest = &body_and_rest[end + 1..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The names of the variables `value` refers to, in order (a name once per reference), or
/// what is malformed.
///
/// ```
/// use llm_do_project::env_refs::references;
/// assert_eq!(references("${A}:${B:-x} $${C}").unwrap(), ["A", "B"]);
/// assert!(references("${A").is_err());
/// ```
pub fn references(value: &str) -> Result<Vec<&str>, String> {
    Ok(pieces(value)?
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Var { name, .. } => Some(name),
            Piece::Text(_) => None,
        })
        .collect())
}

/// `value` with its references replaced by the variables `lookup` gives, as the shell would: an
/// empty variable is empty, and `:-default` stands for an unset or empty one. An unset variable
/// without a default is an error naming it (and never its value).
///
/// ```
/// use llm_do_project::env_refs::expand;
/// let env = |name: &str| (name == "TOKEN").then(|| "t0k".to_owned());
/// assert_eq!(expand("Bearer ${TOKEN}", &env).unwrap(), "Bearer t0k");
/// assert_eq!(expand("${PORT:-8080} $$HOME $${x}", &env).unwrap(), "8080 $$HOME ${x}");
/// assert_eq!(expand("${MISSING}", &env).unwrap_err(), "the environment variable `MISSING` is not set");
/// assert!(expand("Bearer ${TOKEN", &env).unwrap_err().contains("without its `}`"));
/// ```
pub fn expand(value: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    for piece in pieces(value)? {
        match piece {
            Piece::Text(text) => out.push_str(text),
            // As the shell's `${VAR}` and `${VAR:-default}`.
            Piece::Var { name, default } => match (lookup(name), default) {
                (Some(v), Some(default)) if v.is_empty() => out.push_str(default),
                (Some(v), _) => out.push_str(&v),
                (None, Some(default)) => out.push_str(default),
                (None, None) => {
                    return Err(format!("the environment variable `{name}` is not set"));
                }
            },
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_expand_and_the_rest_is_kept() {
        let env = |name: &str| match name {
            "A" => Some("1".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        for (value, expanded) in [
            ("", ""),
            ("plain $A text", "plain $A text"),
            ("${A}${A}", "11"),
            ("x${A}y", "x1y"),
            ("${EMPTY:-d}", "d"),
            ("${B:-}", ""),
            ("${B:-a:-b}", "a:-b"),
            ("$${A}", "${A}"),
            ("$$${A}", "$${A}"),
            ("cost: 5$", "cost: 5$"),
        ] {
            assert_eq!(expand(value, &env).as_deref(), Ok(expanded), "{value}");
        }
        assert_eq!(expand("${EMPTY}", &env).as_deref(), Ok(""), "set, if empty");
        assert_eq!(expand("${B}", &env), Err("the environment variable `B` is not set".into()));
        let all_set = |_: &str| Some("x".to_owned());
        for bad in ["${", "${}", "${A", "${-x}", "${A B}", "${A:-x"] {
            assert!(expand(bad, &all_set).is_err(), "{bad}");
        }
    }

    /// A reference in a default (`${A:-${B}}`) is not expanded: the default ended at its first
    /// `}`, so the value silently became the text `${B}` (with `A` unset). Refused now, with
    /// what to write instead.
    #[test]
    fn a_reference_in_a_default_is_refused() {
        let unset = |_: &str| None;
        for nested in ["${A:-${B}}", "x ${A:-a${B:-c}} y", "${A:-$${B}"] {
            let e = expand(nested, &unset).unwrap_err();
            assert!(e.contains("cannot hold another reference"), "{nested}: {e}");
            assert!(references(nested).is_err(), "{nested}");
        }
        // A literal `$` or `{` in a default is still text.
        assert_eq!(expand("${A:-$HOME{x}", &unset).as_deref(), Ok("$HOME{x"));
    }
}
