//! The page a question may ask a person to open instead of filling in a form (MCP's URL-mode
//! elicitation: a payment, a sign-in, anything that must not pass through the run): which
//! addresses are shown to a person at all, and the site to show with them.

/// The longest page address a question may carry.
pub const MAX_PAGE_CHARS: usize = 2048;

/// Checks `url` as a page to ask a person to open and returns its site (the host, with the
/// port when there is one), to show beside it: an absolute `https` address — or `http` on a
/// loopback host — with a host and without user information (`https://bank.example@evil.example`
/// names `evil.example`), printable, at most [`MAX_PAGE_CHARS`] characters. The error says why
/// not.
///
/// ```
/// use llm_do_core::approval::check_page;
/// assert_eq!(check_page("https://pay.example.com/refund/7?x=1").unwrap(), "pay.example.com");
/// assert!(check_page("javascript:alert(1)").unwrap_err().contains("https"));
/// assert!(check_page("https://bank.example@evil.example/").unwrap_err().contains("user"));
/// ```
pub fn check_page(url: &str) -> Result<String, String> {
    if url.chars().count() > MAX_PAGE_CHARS {
        return Err(format!("the page's address is longer than {MAX_PAGE_CHARS} characters"));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("the page's address holds spaces or control characters".to_owned());
    }
    let uri =
        fluent_uri::Uri::parse(url).map_err(|e| format!("the page's address is not a URI: {e}"))?;
    let scheme = uri.scheme().as_str().to_ascii_lowercase();
    let Some(authority) = uri.authority() else {
        return Err("the page's address names no site (`https://SITE/...`)".to_owned());
    };
    if authority.userinfo().is_some() {
        return Err("the page's address holds user information before its site".to_owned());
    }
    let host = authority.host().to_ascii_lowercase();
    if host.is_empty() {
        return Err("the page's address names no site (`https://SITE/...`)".to_owned());
    }
    let loopback = matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]");
    match scheme.as_str() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(format!(
                "the page's address must be `https` (or `http` on this machine), not `{scheme}`"
            ));
        }
    }
    Ok(match authority.port().map(|p| p.as_str()).filter(|p| !p.is_empty()) {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_a_person_may_be_sent_to_and_their_sites() {
        assert_eq!(check_page("https://Pay.Example.com/x").unwrap(), "pay.example.com");
        assert_eq!(check_page("https://pay.example.com:8443/").unwrap(), "pay.example.com:8443");
        assert_eq!(check_page("http://127.0.0.1:9/cb").unwrap(), "127.0.0.1:9");
        assert_eq!(check_page("http://localhost/cb").unwrap(), "localhost");
        assert_eq!(check_page("https://xn--bcher-kva.example/").unwrap(), "xn--bcher-kva.example");
    }

    #[test]
    fn addresses_that_could_mislead_or_harm_are_refused_saying_why() {
        let refused = [
            ("http://pay.example.com/", "`http`"),
            ("javascript:alert(1)", "names no site"),
            ("file:///etc/passwd", "names no site"),
            ("data:text/html,hi", "names no site"),
            ("ftp://pay.example.com/", "`ftp`"),
            ("https://bank.example@evil.example/", "user information"),
            ("https://pay.example.com/\x1b[2J", "control characters"),
            ("https://pay.example.com/a b", "spaces"),
            ("https:///path-only", "names no site"),
            ("/relative/page", "not a URI"),
            ("https://exa mple.com", "spaces"),
        ];
        for (url, why) in refused {
            let e = check_page(url).unwrap_err();
            assert!(e.contains(why), "{url:?}: {e}");
        }
        let long = format!("https://pay.example.com/{}", "a".repeat(MAX_PAGE_CHARS));
        assert!(check_page(&long).unwrap_err().contains("longer than 2048"));
    }
}
