//! JSON text may spell a character as `\uXXXX`: `"sk-\u0070roj-…"` is the same string as
//! `"sk-proj-…"`, and `"api\u005fkey"` the key `api_key`. Before the secret rules read a text,
//! such escapes of characters that JSON never needs to escape (letters, digits and
//! `-_.~+/=`, the characters of tokens) are read as those characters, so that an escape
//! cannot hide a secret. The text stays the same JSON: only escapes that were never needed go.

/// `text` with each `\uXXXX` escape of an ASCII token character replaced by the character (an
/// escaped backslash before the `u`, `\\u0070`, is left alone).
pub(super) fn unescape_token_chars(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("\\u") {
        return std::borrow::Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        // A run of backslashes: pairs are escaped backslashes; an odd one escapes what follows.
        let run = bytes[i..].iter().take_while(|b| **b == b'\\').count();
        let escape_at = i + run - 1;
        i += run;
        if run % 2 == 0 || bytes.get(i) != Some(&b'u') {
            continue;
        }
        let Some(hex) = text.get(i + 1..i + 5) else { continue };
        let Ok(code) = u32::from_str_radix(hex, 16) else { continue };
        let Some(c) = char::from_u32(code).filter(|c| super::is_token_char(*c)) else { continue };
        out.push_str(&text[copied..escape_at]);
        out.push(c);
        i += 5;
        copied = i;
    }
    if copied == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::unescape_token_chars as u;

    #[test]
    fn reads_escapes_of_token_characters_only() {
        assert_eq!(u(r#"sk-\u0070roj"#), "sk-proj");
        assert_eq!(u(r#""api\u005fkey":"v""#), r#""api_key":"v""#);
        // A quote, a backslash or a control character stays escaped: the JSON stays valid.
        assert_eq!(u(r#"a\u0022b\u005cc\u000ad"#), r#"a\u0022b\u005cc\u000ad"#);
        // An escaped backslash followed by `u0070` is text, not an escape.
        assert_eq!(u(r#"a\\u0070"#), r#"a\\u0070"#);
        assert_eq!(u(r#"a\\\u0070"#), r#"a\\p"#);
        // Malformed or cut escapes are left as they are.
        assert_eq!(u(r#"x\u00"#), r#"x\u00"#);
        assert_eq!(u(r#"x\uZZZZ\u0041"#), r#"x\uZZZZA"#);
        assert_eq!(u("plain"), "plain");
        assert_eq!(u("é\\u0041ü"), "éAü");
    }

    /// What the audit found: escaped secrets in a model's raw tool arguments reached `-vv`
    /// stderr and run logs unredacted.
    #[test]
    fn an_escape_does_not_hide_a_secret_from_the_redactor() {
        let r = crate::secrets::Redactor::new();
        for raw in [
            r#"{"note":"sk-\u0070roj-AbCdEfGhIjKlMnOpQrSt"}"#,
            r#"{"note":"ghp_\u0041bcdefghijklmnopqrstuvwxyz0123"}"#,
            r#"{"api\u005fkey":"v9iiiiiiiiii"}"#,
        ] {
            let out = r.redact(raw);
            assert!(out.contains(crate::secrets::REDACTED), "{raw} -> {out}");
            assert!(
                !out.contains("AbCdEfGh") && !out.contains("v9iiii") && !out.contains("bcdefghij"),
                "{out}"
            );
        }
    }
}
