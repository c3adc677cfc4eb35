//! Keeping secrets out of errors: every message the provider builds passes through a
//! [`Redactor`] that knows the configured API key and the values of sensitive headers.
//!
//! (The configuration's `Debug` output never prints them in the first place; see
//! [`OpenAiConfig`](super::OpenAiConfig).)

use std::sync::Arc;

/// What a secret is replaced by.
pub(crate) const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not scrubbed from text: replacing every occurrence of a
/// one- or two-character "key" would garble messages without protecting anything.
const MIN_SECRET_LEN: usize = 4;

/// Replaces known secret strings in text by [`REDACTED`].
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    secrets: Arc<[String]>,
}

impl Redactor {
    /// A redactor for these secrets (empty and very short ones are ignored).
    pub(crate) fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> =
            secrets.into_iter().filter(|s| s.chars().count() >= MIN_SECRET_LEN).collect();
        // Longest first, so that a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets: secrets.into() }
    }

    /// `text` with every secret replaced.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in self.secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

/// `true` for header names whose values are credentials (compared without regard to case).
pub(crate) fn is_sensitive_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["authorization", "proxy-authorization", "api-key", "x-api-key", "cookie"]
        .contains(&name.as_str())
        || name.contains("token")
        || name.contains("secret")
        || name.ends_with("-key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_occurrence_of_every_secret() {
        let r = Redactor::new(["sk-test-SECRET123".to_owned(), "hdr-secret".to_owned()]);
        let text = "key sk-test-SECRET123 twice sk-test-SECRET123 and hdr-secret";
        assert_eq!(r.redact(text), "key [redacted] twice [redacted] and [redacted]");
    }

    #[test]
    fn ignores_empty_and_tiny_secrets() {
        let r = Redactor::new([String::new(), "ab".to_owned()]);
        assert_eq!(r.redact("abc"), "abc");
        assert!(!format!("{r:?}").contains("ab"));
    }

    #[test]
    fn longer_secrets_win_over_their_prefixes() {
        let r = Redactor::new(["sk-1234".to_owned(), "sk-123456789".to_owned()]);
        assert_eq!(r.redact("sk-123456789"), "[redacted]");
    }

    #[test]
    fn knows_credential_headers() {
        for name in ["Authorization", "api-key", "X-Api-Key", "x-auth-token", "X-Client-Secret"] {
            assert!(is_sensitive_header(name), "{name}");
        }
        for name in ["x-title", "http-referer", "openai-organization"] {
            assert!(!is_sensitive_header(name), "{name}");
        }
    }
}
