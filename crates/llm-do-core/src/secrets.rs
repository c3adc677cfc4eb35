//! Secrets: what counts as one, and how it is redacted — the one home of that rule.
//!
//! Every place text leaves the process uses this module: the CLI's stdout, stderr (`-v`,
//! `-vv`, errors) and run logs, cassettes, provider error messages, and the shell tool's
//! environment filter. Nothing here reads the environment: callers hand the variables they
//! know to [`Redactor::with_env`] (core knows no environment variables).
//! [`BearerToken`] is the other secret rule: the token llm-do's HTTP servers may require of
//! their clients, compared in constant time and never shown.
//!
//! A secret is:
//! - a token with a well-known credential prefix (`sk-`, `ghp_`, `github_pat_`, `xoxb-`,
//!   `AKIA`, `AIza`, `hf_`, `glpat-`, …) followed by at least 16 token characters, wherever it
//!   starts a word — also right after an escape such as `\n` inside JSON text;
//! - `Bearer <token>`;
//! - the password in a URL's user information (`https://user:[redacted]@host/`), and the
//!   whole user information when it is one long token (`https://[redacted]@host/`, at least
//!   16 characters), whatever the scheme (`postgres://app:[redacted]@db/prod`);
//! - a Slack or Discord webhook URL past its fixed path
//!   (`https://hooks.slack.com/services/[redacted]`, `https://discord.com/api/webhooks/[redacted]`):
//!   the URL is the credential;
//! - the value after a secret-looking name followed by `:` or `=` (`api_key=…`,
//!   `Authorization: …`) — not when the name ends a path (`/etc/passwd: not found` is a file
//!   name and prose) — and in JSON text the string value of any key [`is_secret_name`] says
//!   is secret (`"api_key": "…"`, `"token":"…"`, whatever its length);
//! - in JSON values, the scalar value of every such key;
//! - every value the redactor was given ([`Redactor::with_values`]) or that an environment
//!   variable with a secret-looking name holds ([`Redactor::with_env`]), of at least
//!   [`MIN_SECRET_LEN`] characters, wherever it appears.
//!
//! Each is replaced by [`REDACTED`].
//!
//! (Over 400 lines: the one home of the rule — its patterns, the scanner and their unit tests
//! of edge cases — kept together so that every exception is seen next to what it excepts.)
//!
//! ```
//! use llm_do_core::secrets::Redactor;
//! let r = Redactor::new().with_env([("OPENAI_API_KEY".to_owned(), "local-key-123456".to_owned())]);
//! assert_eq!(r.redact("use sk-proj-abcdefghijklmnop1234 now"), "use [redacted] now");
//! assert_eq!(r.redact("Authorization: Bearer abc.def.ghi123"), "Authorization: [redacted]");
//! assert_eq!(r.redact(r#"{"text":"line\nghp_abcdefghijklmnopqrstuvwx"}"#), r#"{"text":"line\n[redacted]"}"#);
//! assert_eq!(r.redact(r#"{"token": "short"}"#), r#"{"token": "[redacted]"}"#);
//! assert_eq!(r.redact("key local-key-123456 echoed"), "key [redacted] echoed");
//! assert_eq!(r.redact("nothing to hide"), "nothing to hide");
//! ```

mod bearer;
mod unescape;
mod webhooks;
pub use bearer::{BearerToken, MAX_BEARER_TOKEN_LEN};
use serde_json::Value;
use std::sync::Arc;

/// What a redacted secret is replaced by.
pub const REDACTED: &str = "[redacted]";

/// The line shown after a call's arguments when redaction hid part of them (the CLI's approval
/// prompt, the approval question `llm-do mcp` sends its client): whoever approves the call
/// must know that it runs with text they were not shown — a model can make a target look like
/// a secret (`rm -rf Bearer important_dir`) to have it approved unseen.
pub const HIDDEN_IN_ARGUMENTS: &str = "warning: part of these arguments is shown as [redacted] \
     because it looks like a secret, but the call runs with it: deny the call unless you \
     expect a secret there";

/// Known secret values shorter than this are not replaced: replacing every occurrence of a
/// short "key" would garble ordinary text without protecting anything.
pub const MIN_SECRET_LEN: usize = 8;

/// Credential prefixes of well-known services.
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

/// Names that, followed by `:` or `=` in free text, introduce a secret.
const KEY_NAMES: &[&str] =
    &["api_key", "api-key", "apikey", "password", "passwd", "secret", "token", "authorization"];

/// Whether a name — of an environment variable, an HTTP header, a JSON object key — says that
/// its value is a secret: `authorization`, `cookie`, names ending in `token`, `secret`,
/// `password`, `apikey`, `credential(s)`, `_key`, `_key_id` or `_pat` (a personal access
/// token), and names containing `secret`, `password`, `passwd`, `passphrase` or `credential`
/// (case and `_`/`-` separators ignored).
///
/// The shell tool never passes such variables to commands; redaction replaces their values.
///
/// ```
/// use llm_do_core::secrets::is_secret_name;
/// for name in ["OPENAI_API_KEY", "github_token", "X-Api-Key", "Authorization", "DB_PASSWORD_FILE",
///              "AWS_ACCESS_KEY_ID", "client_secret", "gcp_credentials", "x-auth-token", "GITHUB_PAT",
///              "GPG_PASSPHRASE"] {
///     assert!(is_secret_name(name), "{name}");
/// }
/// for name in ["PATH", "HOME", "max_tokens", "output_tokens", "key", "TOKENIZERS_PARALLELISM", "PWD",
///              "CARGO_HOME_PATH", "pat"] {
///     assert!(!is_secret_name(name), "{name}");
/// }
/// ```
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let n: String = lower.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    ["authorization", "proxyauthorization", "cookie", "setcookie", "bearer"].contains(&n.as_str())
        || ["token", "secret", "password", "passwd", "apikey", "credential", "credentials"]
            .iter()
            .any(|s| n.ends_with(s))
        || ["secret", "password", "passwd", "passphrase", "credential"]
            .iter()
            .any(|s| n.contains(s))
        || ["_key", "-key", "_key_id", "-key-id", "_pat", "-pat"].iter().any(|s| lower.ends_with(s))
}

/// Replaces secrets in text and JSON values (see the [module documentation](self)). Cheap to
/// clone.
///
/// ```
/// use llm_do_core::secrets::Redactor;
/// let r = Redactor::new().with_values(["hunter2hunter2".to_owned()]);
/// assert_eq!(r.redact("pw hunter2hunter2"), "pw [redacted]");
/// let v = r.redact_json(serde_json::json!({"api_key": "abc", "n": 1, "text": "hunter2hunter2"}));
/// assert_eq!(v, serde_json::json!({"api_key": "[redacted]", "n": 1, "text": "[redacted]"}));
/// ```
#[derive(Clone, Default)]
pub struct Redactor {
    /// Known secret values, longest first.
    values: Arc<[String]>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} known secrets)", self.values.len())
    }
}

impl Redactor {
    /// A redactor that knows the patterns only.
    ///
    /// ```
    /// let r = llm_do_core::secrets::Redactor::new();
    /// assert_eq!(r.redact("ghp_abcdefghijklmnopqrstuvwxyz"), "[redacted]");
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Also replaces these values wherever they appear (values shorter than
    /// [`MIN_SECRET_LEN`] characters are ignored).
    ///
    /// ```
    /// let r = llm_do_core::secrets::Redactor::new().with_values(["s3cr3t-value".to_owned(), "ab".to_owned()]);
    /// assert_eq!(r.redact("s3cr3t-value ab"), "[redacted] ab");
    /// ```
    pub fn with_values(self, values: impl IntoIterator<Item = String>) -> Self {
        let mut all: Vec<String> = self.values.iter().cloned().collect();
        all.extend(values.into_iter().filter(|v| v.trim().chars().count() >= MIN_SECRET_LEN));
        // Longest first, so that a secret containing another is replaced whole.
        all.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        all.dedup();
        Self { values: all.into() }
    }

    /// Also replaces the values of the variables whose name [`is_secret_name`] (pass
    /// `std::env::vars_os()`: `std::env::vars()` panics on a variable that is not UTF-8, such
    /// as an `OLDPWD` left by a directory of such a name). A value that is not UTF-8 cannot
    /// appear in text, and is left out.
    ///
    /// ```
    /// let vars = [("GH_TOKEN", "abcdefgh12345678"), ("HOME", "/home/someone")];
    /// let r = llm_do_core::secrets::Redactor::new().with_env(vars);
    /// assert_eq!(r.redact("abcdefgh12345678 in /home/someone"), "[redacted] in /home/someone");
    /// ```
    pub fn with_env<K, V>(self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        let secret = |(k, v): (K, V)| {
            let name = k.as_ref().to_str()?;
            let value = v.as_ref().to_str()?;
            is_secret_name(name).then(|| value.to_owned())
        };
        self.with_values(vars.into_iter().filter_map(secret))
    }

    /// `text` with every secret replaced by [`REDACTED`].
    ///
    /// ```
    /// let r = llm_do_core::secrets::Redactor::new();
    /// assert_eq!(r.redact("key AKIAABCDEFGHIJKLMNOP, done"), "key [redacted], done");
    /// assert_eq!(r.redact("task-manager"), "task-manager");
    /// ```
    pub fn redact(&self, text: &str) -> String {
        // `\u0070` is `p` in JSON text: an escape must not hide a secret.
        let text = unescape::unescape_token_chars(text);
        let mut out = text.into_owned();
        for value in self.values.iter() {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), REDACTED);
            }
        }
        redact_patterns(&out)
    }

    /// Redacts a JSON value in place: the scalar value of every object key that
    /// [`is_secret_name`] says is secret, and every string.
    ///
    /// ```
    /// let mut v = serde_json::json!({"a": ["token: abcdefgh12345678"], "password": 1234});
    /// llm_do_core::secrets::Redactor::new().redact_value(&mut v);
    /// assert_eq!(v, serde_json::json!({"a": ["token: [redacted]"], "password": "[redacted]"}));
    /// ```
    pub fn redact_value(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                let redacted = self.redact(s);
                if redacted != *s {
                    *s = redacted;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    let scalar = matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
                    if scalar && is_secret_name(key) {
                        *v = Value::String(REDACTED.to_owned());
                    } else {
                        self.redact_value(v);
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// [`redact_value`](Self::redact_value) by value.
    ///
    /// ```
    /// let v = llm_do_core::secrets::Redactor::new().redact_json(serde_json::json!({"token": "t"}));
    /// assert_eq!(v["token"], "[redacted]");
    /// ```
    pub fn redact_json(&self, mut value: Value) -> Value {
        self.redact_value(&mut value);
        value
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

/// Length in bytes of the run of token characters at the start of `s`.
fn token_len(s: &str) -> usize {
    s.find(|c: char| !is_token_char(c)).unwrap_or(s.len())
}

/// Whether a secret may start right after `before`: at the start, after a character that
/// is not alphanumeric, or after a JSON/C escape (`\n`, `\t`, `\r`, `\b`, `\f`, `\uXXXX`).
fn at_boundary(before: &str) -> bool {
    let Some(last) = before.chars().next_back() else { return true };
    if !last.is_ascii_alphanumeric() {
        return true;
    }
    let escaped_at = |len: usize| {
        before.len() >= len && {
            let head = &before[..before.len() - len];
            let backslashes = head.bytes().rev().take_while(|b| *b == b'\\').count();
            backslashes % 2 == 1
        }
    };
    let bytes = before.as_bytes();
    if matches!(last, 'n' | 't' | 'r' | 'b' | 'f') && escaped_at(1) {
        return true;
    }
    bytes.len() >= 6
        && bytes[bytes.len() - 5] == b'u'
        && bytes[bytes.len() - 4..].iter().all(u8::is_ascii_hexdigit)
        && escaped_at(5)
}

fn redact_patterns(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if let Some(skip) = json_secret_at(rest, &mut out) {
            i += skip;
            continue;
        }
        if let Some(skip) = webhooks::webhook_at(rest, &mut out) {
            i += skip;
            continue;
        }
        if let Some(skip) = url_credentials_at(rest, &mut out) {
            i += skip;
            continue;
        }
        let before = &text[..i];
        if at_boundary(before)
            && let Some(skip) = secret_at(rest, ends_a_path_component(before), &mut out)
        {
            i += skip;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// At `"name": "value"` (or its escaped form `\"name\": \"value\"` inside a JSON string) with
/// a secret name: writes the pair with the value redacted and returns the bytes consumed.
fn json_secret_at(rest: &str, out: &mut String) -> Option<usize> {
    let quote = if rest.starts_with("\\\"") {
        "\\\""
    } else if rest.starts_with('"') {
        "\""
    } else {
        return None;
    };
    let after_open = &rest[quote.len()..];
    let name_len = after_open
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .unwrap_or(after_open.len());
    if name_len == 0 || name_len > 64 || !is_secret_name(&after_open[..name_len]) {
        return None;
    }
    let mut j = quote.len() + name_len;
    let after_name = rest[j..].strip_prefix(quote)?;
    j += quote.len();
    let spaces = after_name.len() - after_name.trim_start_matches([' ', '\t']).len();
    j += spaces;
    let after_colon = rest[j..].strip_prefix(':')?;
    j += 1;
    let spaces = after_colon.len() - after_colon.trim_start_matches([' ', '\t']).len();
    j += spaces;
    rest[j..].strip_prefix(quote)?;
    j += quote.len();
    let value = &rest[j..];
    // The value ends at the closing quote of the same kind (for `"`, one not escaped).
    let end = if quote == "\"" {
        let bytes = value.as_bytes();
        let mut k = 0;
        loop {
            match bytes.get(k) {
                None => return None,
                Some(b'\\') => k += 2,
                Some(b'"') => break k,
                Some(_) => k += 1,
            }
        }
    } else {
        value.find(quote)?
    };
    if end == 0 {
        return None;
    }
    out.push_str(&rest[..j]);
    out.push_str(REDACTED);
    Some(j + end)
}

/// At `://user:password@` (or `://long-token@`): writes it with the password (or the token)
/// redacted and returns the bytes consumed. The user information ends at the first `@` of the
/// authority; the search stops where the authority does, and after 512 bytes.
fn url_credentials_at(rest: &str, out: &mut String) -> Option<usize> {
    let authority = rest.strip_prefix("://")?;
    let end = authority
        .char_indices()
        .take_while(|(i, _)| *i < 512)
        .find(|(_, c)| {
            matches!(c, '@' | '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '\\') || c.is_whitespace()
        })
        .filter(|(_, c)| *c == '@')?
        .0;
    let userinfo = &authority[..end];
    let kept = match userinfo.split_once(':') {
        Some((_, "")) => return None,
        Some((user, _)) => format!("{user}:"),
        None if userinfo.chars().count() >= 16 => String::new(),
        None => return None,
    };
    out.push_str("://");
    out.push_str(&kept);
    out.push_str(REDACTED);
    Some(3 + end)
}

/// Whether what follows `before` starts a path component (`before` ends with `/`): there a
/// secret-looking name is a file name (`/etc/passwd: permission denied`), not a key.
fn ends_a_path_component(before: &str) -> bool {
    before.ends_with('/')
}

/// When a secret starts at the beginning of `rest`, writes its replacement to `out` and
/// returns how many bytes it consumed. `in_path`: `rest` starts a path component, where the
/// key/value rule does not apply (the token rules do).
fn secret_at(rest: &str, in_path: bool, out: &mut String) -> Option<usize> {
    for prefix in PREFIXES {
        if let Some(after) = rest.strip_prefix(prefix) {
            let n = token_len(after);
            if n >= 16 {
                out.push_str(REDACTED);
                return Some(prefix.len() + n);
            }
        }
    }
    if rest.get(..7).is_some_and(|h| h.eq_ignore_ascii_case("bearer ")) {
        let n = token_len(&rest[7..]);
        if n >= 8 {
            out.push_str(REDACTED);
            return Some(7 + n);
        }
    }
    if in_path {
        return None;
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
        skip(&mut j, b"\"'\\");
        skip(&mut j, b" \t");
        if j >= bytes.len() || !matches!(bytes[j], b':' | b'=') {
            continue;
        }
        j += 1;
        skip(&mut j, b" \t\"'\\");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> String {
        Redactor::new().redact(text)
    }

    #[test]
    fn url_credentials_are_redacted() {
        assert_eq!(
            r("GET https://alice:hunter2pass@proxy.example/v1 failed"),
            "GET https://alice:[redacted]@proxy.example/v1 failed"
        );
        assert_eq!(r("http://0123456789abcdef@h/x"), "http://[redacted]@h/x");
        assert_eq!(r(r#"{"url":"https://u:p%40ss@h"}"#), r#"{"url":"https://u:[redacted]@h"}"#);
        // A user name alone, a port, an `@` past the authority: nothing to hide.
        for kept in ["ssh://git@github.com/x", "http://h:8080/a@b", "http://a:@h", "x://"] {
            assert_eq!(r(kept), kept);
        }
    }

    /// Any scheme's user information: a database URL's password as much as a proxy's.
    #[test]
    fn url_credentials_of_any_scheme_are_redacted() {
        for (text, shown) in [
            ("postgres://user:pass@host/db", "postgres://user:[redacted]@host/db"),
            (
                "DATABASE_URL=mysql://app:s3cr3t-Pw@db.internal:3306/prod",
                "DATABASE_URL=mysql://app:[redacted]@db.internal:3306/prod",
            ),
            ("redis://:hunter2hunter2@cache:6379/0", "redis://:[redacted]@cache:6379/0"),
            ("amqp://guest:guest@rabbit/", "amqp://guest:[redacted]@rabbit/"),
        ] {
            assert_eq!(r(text), shown);
        }
    }

    /// Webhook URLs are their own credential: whoever has one can post. The scheme, host and
    /// the path up to the secret stay visible.
    #[test]
    fn webhook_urls_are_redacted_after_their_fixed_path() {
        for (text, shown) in [
            (
                "https://hooks.slack.com/services/T000/B000/XXXX",
                "https://hooks.slack.com/services/[redacted]",
            ),
            (
                "post to https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuvwx now",
                "post to https://hooks.slack.com/services/[redacted] now",
            ),
            (
                "https://hooks.slack.com/workflows/T0123/A0456/789/abcDEF123",
                "https://hooks.slack.com/workflows/[redacted]",
            ),
            (
                "https://discord.com/api/webhooks/123456789012345678/abcDEF-ghi_JKL",
                "https://discord.com/api/webhooks/[redacted]",
            ),
            (
                r#"{"url":"https://discordapp.com/api/v10/webhooks/1234/tok-EN"}"#,
                r#"{"url":"https://discordapp.com/api/v10/webhooks/[redacted]"}"#,
            ),
            (
                "(HTTPS://PTB.Discord.com/api/webhooks/1/x?wait=true)",
                "(HTTPS://PTB.Discord.com/api/webhooks/[redacted]?wait=true)",
            ),
            (
                "http://hooks.slack.com:443/triggers/T0/1/abc",
                "http://hooks.slack.com:443/triggers/[redacted]",
            ),
        ] {
            assert_eq!(r(text), shown, "{text}");
        }
        // The service's other pages, its bare endpoint, a look-alike host: nothing to hide.
        for kept in [
            "https://hooks.slack.com/services/",
            "https://api.slack.com/messaging/webhooks",
            "https://discord.com/api/webhooks",
            "https://discord.com/channels/123/456",
            "https://hooks.slack.com.evil.example/services/T0/B0/x",
            "https://nothooks.slack.com/services/T0/B0/x",
        ] {
            assert_eq!(r(kept), kept);
        }
    }

    #[test]
    fn prefixes_need_a_boundary_and_a_long_token() {
        assert_eq!(r("disk-abcdefghijklmnopqrstu"), "disk-abcdefghijklmnopqrstu");
        assert_eq!(r("sk-short"), "sk-short");
        assert_eq!(r("(sk-ABCDEFGHIJKLMNOPQRST)"), "([redacted])");
        assert_eq!(r("ask-ABCDEFGHIJKLMNOPQRST"), "ask-ABCDEFGHIJKLMNOPQRST");
    }

    #[test]
    fn escapes_in_json_text_are_boundaries() {
        for esc in ["\\n", "\\t", "\\r", "\\u000a"] {
            let text = format!("{{\"a\":\"x{esc}sk-ABCDEFGHIJKLMNOPQRST\"}}");
            assert_eq!(r(&text), format!("{{\"a\":\"x{esc}[redacted]\"}}"), "{esc}");
        }
        // An escaped backslash followed by `n` is text, not an escape.
        assert_eq!(r("x\\\\nsk-ABCDEFGHIJKLMNOPQRST"), "x\\\\nsk-ABCDEFGHIJKLMNOPQRST");
    }

    #[test]
    fn secret_keys_in_json_text_lose_their_values_whatever_the_length() {
        assert_eq!(r(r#"{"api_key":"abc","n":1}"#), r#"{"api_key":"[redacted]","n":1}"#);
        assert_eq!(r(r#"{"openai_api_key": "x\"y"}"#), r#"{"openai_api_key": "[redacted]"}"#);
        assert_eq!(r(r#"{\"token\":\"abc\"}"#), r#"{\"token\":\"[redacted]\"}"#);
        assert_eq!(r(r#"{"max_tokens": 5, "key": "k"}"#), r#"{"max_tokens": 5, "key": "k"}"#);
        assert_eq!(r(r#"{"password": {"type": "string"}}"#), r#"{"password": {"type": "string"}}"#);
    }

    #[test]
    fn key_value_pairs_keep_their_names() {
        assert_eq!(r("PASSWORD = correcthorse"), "PASSWORD = [redacted]");
        assert_eq!(r("token: short"), "token: short");
        assert_eq!(r("the token is fine"), "the token is fine");
        assert_eq!(r("authorization: bearer eyJhbGciOi.payload.sig"), "authorization: [redacted]");
    }

    #[test]
    fn a_path_ending_in_a_key_name_is_not_a_key() {
        let refused = "--attach /etc/passwd: attachment path refused: outside the project";
        assert_eq!(r(refused), refused);
        assert_eq!(
            r("cannot open ./secret: permission denied"),
            "cannot open ./secret: permission denied"
        );
        // The names themselves still introduce secrets, also after other punctuation.
        assert_eq!(r("passwd=s3cr3t-pass99"), "passwd=[redacted]");
        assert_eq!(r("etc passwd: s3cr3t-pass99"), "etc passwd: [redacted]");
        assert_eq!(r("(password: hunter2hunter2)"), "(password: [redacted])");
        assert_eq!(r("url?token=abcdef0123456789"), "url?token=[redacted]");
        // A token with a credential prefix is one wherever it is.
        assert_eq!(r("/srv/ghp_abcdefghijklmnopqrstuvwx"), "/srv/[redacted]");
    }

    #[test]
    fn json_values_keep_their_shape() {
        let v = Redactor::new().redact_json(serde_json::json!({
            "properties": {"password": {"type": "string"}},
            "token": null,
            "usage": {"output_tokens": 3},
        }));
        assert_eq!(v["properties"]["password"]["type"], "string");
        assert_eq!(v["token"], Value::Null);
        assert_eq!(v["usage"]["output_tokens"], 3);
    }

    #[test]
    fn non_ascii_text_survives() {
        assert_eq!(r("héllo wörld — sk-ÄÖ"), "héllo wörld — sk-ÄÖ");
    }
}
