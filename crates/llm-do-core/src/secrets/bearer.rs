//! [`BearerToken`]: the token a server asks its HTTP clients for (`llm-do serve
//! --api-key-env`, `llm-do mcp --http … --token-env`), and the one check of a request's
//! `Authorization` header against it.

/// A bearer token a server requires (RFC 6750): a request is let in only when its
/// `Authorization` header is `Bearer <token>`. The comparison takes the same time wherever the
/// presented token first differs ([`subtle`]), and the token never shows in `Debug` output.
///
/// ```
/// use llm_do_core::secrets::BearerToken;
/// let token = BearerToken::new("s3cret-token-1234").unwrap();
/// assert!(token.admits(Some(b"Bearer s3cret-token-1234")));
/// assert!(token.admits(Some(b"bearer   s3cret-token-1234"))); // the scheme is case-insensitive
/// assert!(!token.admits(Some(b"Bearer s3cret-token-1235")));
/// assert!(!token.admits(Some(b"Basic czNjcmV0LXRva2VuLTEyMzQ=")));
/// assert!(!token.admits(None));
/// assert_eq!(format!("{token:?}"), "BearerToken([redacted])");
/// assert!(BearerToken::new("").is_err() && BearerToken::new("has space").is_err());
/// ```
#[derive(Clone)]
pub struct BearerToken(String);

/// The longest token accepted: longer ones are not tokens but mistakes (a file's content).
pub const MAX_BEARER_TOKEN_LEN: usize = 4096;

impl BearerToken {
    /// `token`, if it can be sent in an `Authorization` header: not empty, at most
    /// [`MAX_BEARER_TOKEN_LEN`] bytes, only visible ASCII (no spaces, no control characters).
    /// The error says which rule it breaks, without the token.
    pub fn new(token: impl Into<String>) -> Result<BearerToken, String> {
        let token = token.into();
        if token.is_empty() {
            return Err("the token is empty".to_owned());
        }
        if token.len() > MAX_BEARER_TOKEN_LEN {
            return Err(format!("the token is longer than {MAX_BEARER_TOKEN_LEN} bytes"));
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the token may hold only visible ASCII characters (no spaces)".to_owned());
        }
        Ok(BearerToken(token))
    }

    /// Whether `authorization`, the value of a request's `Authorization` header (`None`
    /// without one), is `Bearer` (any case), one or more spaces, and this token.
    pub fn admits(&self, authorization: Option<&[u8]>) -> bool {
        use subtle::ConstantTimeEq as _;
        let Some(value) = authorization else { return false };
        let Some((scheme, rest)) = value.split_at_checked(6) else { return false };
        if !scheme.eq_ignore_ascii_case(b"bearer") || !rest.starts_with(b" ") {
            return false;
        }
        let presented = rest.trim_ascii();
        bool::from(presented.ct_eq(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BearerToken({})", super::REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_after_the_bearer_scheme_is_admitted() {
        let t = BearerToken::new("abc").unwrap();
        for refused in [
            &b"Bearer"[..],
            b"Bearer ",
            b"Bearerabc",
            b"Bearer ab",
            b"Bearer abcd",
            b"Bearer abc def",
            b"Token abc",
            b"abc",
            b"",
        ] {
            assert!(!t.admits(Some(refused)), "{:?}", String::from_utf8_lossy(refused));
        }
        assert!(t.admits(Some(b"BEARER abc")));
        assert!(t.admits(Some(b"Bearer abc ")));
    }

    #[test]
    fn tokens_that_no_header_could_carry_are_refused_with_the_rule() {
        assert_eq!(BearerToken::new("").unwrap_err(), "the token is empty");
        assert!(BearerToken::new("a\nb").unwrap_err().contains("visible ASCII"));
        assert!(BearerToken::new("é").unwrap_err().contains("visible ASCII"));
        let long = "a".repeat(MAX_BEARER_TOKEN_LEN + 1);
        assert!(BearerToken::new(long).unwrap_err().contains("longer than"));
        assert!(BearerToken::new("a".repeat(MAX_BEARER_TOKEN_LEN)).is_ok());
    }
}
