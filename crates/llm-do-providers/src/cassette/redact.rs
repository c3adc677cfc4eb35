//! Secret redaction: nothing that looks like a credential reaches a cassette.
//!
//! Requests carry no headers (providers add `Authorization` themselves), so a secret can only
//! reach a cassette through text: a prompt, a tool result, an answer. Redacted are:
//! - tokens with a well-known key prefix (`sk-`, `ghp_`, `github_pat_`, `xoxb-`, `AKIA`,
//!   `AIza`, `hf_`, `glpat-`, ...) followed by at least 16 token characters;
//! - `Bearer <token>`;
//! - the value after `api_key`, `apikey`, `password`, `secret`, `token`, `authorization`
//!   followed by `:` or `=`;
//! - the value of every environment variable whose name contains `KEY`, `TOKEN`, `SECRET`,
//!   `PASSWORD` or `CREDENTIAL` (values of 8 characters or more), wherever it appears.
//!
//! ```
//! use llm_do_providers::cassette::redact::redact_text;
//! assert_eq!(redact_text("use sk-proj-abcdefghijklmnop1234 now"), "use [REDACTED] now");
//! assert_eq!(redact_text("Authorization: Bearer abc.def.ghi123"), "Authorization: [REDACTED]");
//! assert_eq!(redact_text("api_key=\"hunter2hunter2\""), "api_key=\"[REDACTED]\"");
//! assert_eq!(redact_text("nothing to hide"), "nothing to hide");
//! ```

use llm_do_core::ModelResponse;
use serde_json::Value;

/// What a redacted secret is replaced by.
pub const REDACTED: &str = "[REDACTED]";

const PREFIXES: &[&str] = &[
    "sk-",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "pk_live_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xapp-",
    "glpat-",
    "hf_",
    "AKIA",
    "ASIA",
    "AIza",
];
const KEY_NAMES: &[&str] =
    &["api_key", "api-key", "apikey", "password", "passwd", "secret", "token", "authorization"];
const ENV_MARKERS: &[&str] = &["KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL"];

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

/// Length in bytes of the run of token characters at the start of `s`.
fn token_len(s: &str) -> usize {
    s.find(|c: char| !is_token_char(c)).unwrap_or(s.len())
}

/// `text` with every secret replaced by [`REDACTED`].
///
/// ```
/// use llm_do_providers::cassette::redact::redact_text;
/// assert_eq!(redact_text("key AKIAABCDEFGHIJKLMNOP, done"), "key [REDACTED], done");
/// assert_eq!(redact_text("task-manager"), "task-manager");
/// ```
pub fn redact_text(text: &str) -> String {
    let mut out = redact_patterns(text);
    for value in env_secrets() {
        if out.contains(&value) {
            out = out.replace(&value, REDACTED);
        }
    }
    out
}

fn redact_patterns(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let at_boundary = text[..i].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric());
        if at_boundary {
            if let Some(skip) = secret_at(rest, &mut out) {
                i += skip;
                continue;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// When a secret starts at the beginning of `rest`, writes its replacement to `out` and
/// returns how many bytes it consumed.
fn secret_at(rest: &str, out: &mut String) -> Option<usize> {
    for prefix in PREFIXES {
        if let Some(after) = rest.strip_prefix(prefix) {
            let n = token_len(after);
            if n >= 16 {
                out.push_str(REDACTED);
                return Some(prefix.len() + n);
            }
        }
    }
    let lower = rest.get(..7).map(str::to_ascii_lowercase);
    if lower.as_deref() == Some("bearer ") {
        let n = token_len(&rest[7..]);
        if n >= 8 {
            out.push_str(REDACTED);
            return Some(7 + n);
        }
    }
    for name in KEY_NAMES {
        let Some(head) = rest.get(..name.len()) else { continue };
        if !head.eq_ignore_ascii_case(name) {
            continue;
        }
        // name, optional quote, spaces, `:` or `=`, spaces, optional quote, value
        let mut j = name.len();
        let bytes = rest.as_bytes();
        let skip = |j: &mut usize, set: &[u8]| {
            while *j < bytes.len() && set.contains(&bytes[*j]) {
                *j += 1;
            }
        };
        skip(&mut j, b"\"'");
        skip(&mut j, b" \t");
        if j >= bytes.len() || !matches!(bytes[j], b':' | b'=') {
            continue;
        }
        j += 1;
        skip(&mut j, b" \t\"'");
        let value = &rest[j..];
        // `Authorization: Bearer x` is handled by the Bearer rule on the next characters.
        if value.get(..7).is_some_and(|v| v.eq_ignore_ascii_case("bearer ")) {
            continue;
        }
        let n = token_len(value);
        if n >= 8 {
            out.push_str(&rest[..j]);
            out.push_str(REDACTED);
            return Some(j + n);
        }
    }
    None
}

/// Values of environment variables that look like secrets, longest first.
fn env_secrets() -> Vec<String> {
    let mut values: Vec<String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, v)| {
            let k = k.to_ascii_uppercase();
            v.len() >= 8 && ENV_MARKERS.iter().any(|m| k.contains(m))
        })
        .map(|(_, v)| v)
        .collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values
}

/// Redacts every string in `value`, in place.
///
/// ```
/// use llm_do_providers::cassette::redact::redact_value;
/// let mut v = serde_json::json!({"a": ["token: abcdefgh12345678"]});
/// redact_value(&mut v);
/// assert_eq!(v["a"][0], "token: [REDACTED]");
/// ```
pub fn redact_value(value: &mut Value) {
    match value {
        Value::String(s) => {
            let redacted = redact_text(s);
            if redacted != *s {
                *s = redacted;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::Object(map) => map.values_mut().for_each(redact_value),
        _ => {}
    }
}

/// Redacts the text and tool call arguments of an answer.
///
/// ```
/// use llm_do_core::ModelResponse;
/// use llm_do_providers::cassette::redact::redact_response;
/// let r = redact_response(ModelResponse::text("here: ghp_abcdefghijklmnopqrstuvwxyz"));
/// assert_eq!(r.text.as_deref(), Some("here: [REDACTED]"));
/// ```
pub fn redact_response(mut response: ModelResponse) -> ModelResponse {
    if let Some(text) = &mut response.text {
        *text = redact_text(text);
    }
    for call in &mut response.tool_calls {
        call.arguments = redact_text(&call.arguments);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_need_a_boundary_and_a_long_token() {
        assert_eq!(redact_text("disk-abcdefghijklmnopqrstu"), "disk-abcdefghijklmnopqrstu");
        assert_eq!(redact_text("sk-short"), "sk-short");
        assert_eq!(redact_text("(sk-ABCDEFGHIJKLMNOPQRST)"), "([REDACTED])");
    }

    #[test]
    fn key_value_pairs_keep_their_names() {
        assert_eq!(
            redact_text("{\"api_key\": \"0123456789abcdef\"}"),
            "{\"api_key\": \"[REDACTED]\"}"
        );
        assert_eq!(redact_text("PASSWORD = correcthorse"), "PASSWORD = [REDACTED]");
        assert_eq!(redact_text("token: short"), "token: short");
        assert_eq!(redact_text("the token is fine"), "the token is fine");
    }

    #[test]
    fn bearer_tokens_in_headers() {
        assert_eq!(
            redact_text("authorization: bearer eyJhbGciOi.payload.sig"),
            "authorization: [REDACTED]"
        );
    }

    #[test]
    fn non_ascii_text_survives() {
        assert_eq!(redact_text("héllo wörld — sk-ÄÖ"), "héllo wörld — sk-ÄÖ");
    }
}
