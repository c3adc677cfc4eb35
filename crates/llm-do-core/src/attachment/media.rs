//! Media types attachments support, and telling them from content and file names.
//!
//! The list is closed on purpose: every supported type has a way to reach a model (a native
//! part, or text). Binary types are recognised by their magic bytes (the `infer` crate), text
//! types by their file extension and by being valid UTF-8.

use super::error::{AttachmentError, AttachmentErrorKind};

/// What kind of content an attachment is, which decides how it reaches the model.
///
/// ```
/// use llm_do_core::attachment::MediaKind;
/// assert_eq!(MediaKind::of("application/pdf"), Some(MediaKind::Pdf));
/// assert_eq!(MediaKind::of("text/csv"), Some(MediaKind::Text));
/// assert_eq!(MediaKind::of("application/zip"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// PNG, JPEG, GIF or WebP.
    Image,
    /// A PDF document.
    Pdf,
    /// Plain text, Markdown, CSV or JSON: always given to models as text.
    Text,
}

/// The supported media types, their kind and their usual file extensions.
const TYPES: &[(&str, MediaKind, &[&str])] = &[
    ("image/png", MediaKind::Image, &["png"]),
    ("image/jpeg", MediaKind::Image, &["jpg", "jpeg"]),
    ("image/gif", MediaKind::Image, &["gif"]),
    ("image/webp", MediaKind::Image, &["webp"]),
    ("application/pdf", MediaKind::Pdf, &["pdf"]),
    ("text/plain", MediaKind::Text, &["txt", "text", "log"]),
    ("text/markdown", MediaKind::Text, &["md", "markdown"]),
    ("text/csv", MediaKind::Text, &["csv"]),
    ("application/json", MediaKind::Text, &["json"]),
];

impl MediaKind {
    /// The kind of a supported media type (parameters such as `; charset=utf-8` ignored),
    /// `None` for any other.
    ///
    /// ```
    /// # use llm_do_core::attachment::MediaKind;
    /// assert_eq!(MediaKind::of("text/plain; charset=utf-8"), Some(MediaKind::Text));
    /// ```
    pub fn of(media_type: &str) -> Option<MediaKind> {
        let essence = essence(media_type);
        TYPES.iter().find(|(t, _, _)| t.eq_ignore_ascii_case(&essence)).map(|(_, k, _)| *k)
    }
}

/// `type/subtype` in lower case, without parameters.
pub(crate) fn essence(media_type: &str) -> String {
    media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// The supported media types, for error messages and documentation.
///
/// ```
/// assert!(llm_do_core::attachment::supported_media_types().any(|t| t == "application/pdf"));
/// ```
pub fn supported_media_types() -> impl Iterator<Item = &'static str> {
    TYPES.iter().map(|(t, _, _)| *t)
}

/// The media type of a file name's extension, if it is a supported one.
pub(crate) fn from_extension(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    TYPES.iter().find(|(_, _, exts)| exts.contains(&ext.as_str())).map(|(t, _, _)| *t)
}

/// Tells the media type of `bytes` named `name`: magic bytes first (a `.txt` that is really a
/// PDF is a PDF), then, for valid UTF-8, the extension's text type (`text/plain` without one).
pub(crate) fn sniff(bytes: &[u8], name: Option<&str>) -> Result<&'static str, AttachmentError> {
    if let Some(found) = infer::get(bytes) {
        if let Some((t, _, _)) = TYPES.iter().find(|(t, _, _)| *t == found.mime_type()) {
            return Ok(t);
        }
        return Err(unknown(name, Some(found.mime_type())));
    }
    if std::str::from_utf8(bytes).is_ok() {
        return match name.map(from_extension) {
            Some(Some(t)) if MediaKind::of(t) == Some(MediaKind::Text) => Ok(t),
            Some(Some(t)) => Err(AttachmentError::new(
                AttachmentErrorKind::UnknownMediaType,
                format!(
                    "`{}` is named like {t} but its content is text; rename it or attach the real \
                     file",
                    name.unwrap_or_default()
                ),
            )),
            Some(None) if name.is_some_and(|n| n.contains('.')) => Err(unknown(name, None)),
            _ => Ok("text/plain"),
        };
    }
    Err(unknown(name, None))
}

/// Checks a media type given by the caller: it must be a supported one.
pub(crate) fn check_declared(
    media_type: &str,
    name: Option<&str>,
) -> Result<&'static str, AttachmentError> {
    let essence = essence(media_type);
    TYPES
        .iter()
        .find(|(t, _, _)| *t == essence)
        .map(|(t, _, _)| *t)
        .ok_or_else(|| unknown(name, Some(media_type)))
}

/// The media type of `bytes` declared as `declared` (a supported type, see
/// [`check_declared`]), checked against the content: text must be UTF-8 without the magic bytes
/// of a binary type, an image must be an image (the type its magic bytes say, when the
/// declared one names another image type), a PDF must be a PDF.
pub(crate) fn check_content(
    declared: &'static str,
    bytes: &[u8],
    name: Option<&str>,
) -> Result<&'static str, AttachmentError> {
    let found = sniff(bytes, None).ok();
    let kind = MediaKind::of(declared);
    match found {
        Some(t)
            if MediaKind::of(t) == kind && (kind != Some(MediaKind::Text) || t == "text/plain") =>
        {
            Ok(if kind == Some(MediaKind::Text) { declared } else { t })
        }
        _ => {
            let what = shown_name(name);
            let content = match found {
                Some(t) => t.to_owned(),
                None if bytes.is_empty() => "empty".to_owned(),
                None => "neither text nor a supported type".to_owned(),
            };
            Err(AttachmentError::new(
                AttachmentErrorKind::UnknownMediaType,
                format!(
                    "{what} is declared as {declared}, but its content is {content}; declare \
                     the real type or attach the real file"
                ),
            ))
        }
    }
}

/// How an error names the attachment: its name in backticks, or "the attachment".
fn shown_name(name: Option<&str>) -> String {
    name.map(|n| format!("`{n}`")).unwrap_or_else(|| "the attachment".into())
}

fn unknown(name: Option<&str>, found: Option<&str>) -> AttachmentError {
    let what = shown_name(name);
    let found = found.map(|f| format!(" ({f})")).unwrap_or_default();
    AttachmentError::new(
        AttachmentErrorKind::UnknownMediaType,
        format!(
            "{what}{found} is not a supported attachment type; supported: {}",
            supported_media_types().collect::<Vec<_>>().join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_win_over_names() {
        assert_eq!(sniff(b"%PDF-1.4\n%...", Some("deck.txt")).unwrap(), "application/pdf");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", None).unwrap(), "image/png");
        assert_eq!(sniff(b"a,b\n1,2\n", Some("t.csv")).unwrap(), "text/csv");
        assert_eq!(sniff(b"# Notes", Some("README.md")).unwrap(), "text/markdown");
        assert_eq!(sniff(b"plain", Some("LICENSE")).unwrap(), "text/plain");
    }

    #[test]
    fn declared_types_must_match_the_content() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0";
        assert_eq!(check_content("text/csv", b"a,b\n", None).unwrap(), "text/csv");
        assert_eq!(check_content("text/plain", b"", None).unwrap(), "text/plain");
        assert_eq!(check_content("image/png", png, None).unwrap(), "image/png");
        assert_eq!(check_content("image/png", b"\x89PNG\r\n\x1a\n", None).unwrap(), "image/png");
        // Magic bytes win within a kind: a JPEG declared as PNG is a JPEG.
        assert_eq!(check_content("image/png", jpeg, None).unwrap(), "image/jpeg");
        assert_eq!(
            check_content("application/pdf", b"%PDF-1.4\n", None).unwrap(),
            "application/pdf"
        );
        let kind =
            |declared, bytes: &[u8]| check_content(declared, bytes, Some("x")).unwrap_err().kind();
        for (declared, bytes) in [
            ("image/png", &b"hello"[..]),
            ("image/png", b""),
            ("application/pdf", b"hello"),
            ("application/pdf", png),
            ("text/plain", png),
            ("text/plain", b"%PDF-1.4\n"),
            ("application/json", b"\xff\xfe{}"),
            ("image/gif", b"%PDF-1.4\n"),
        ] {
            assert_eq!(kind(declared, bytes), AttachmentErrorKind::UnknownMediaType, "{declared}");
        }
        let e = check_content("image/png", b"hello", Some("a.png")).unwrap_err();
        assert!(
            e.message().contains("`a.png` is declared as image/png, but its content is text/plain"),
            "{e}"
        );
    }

    #[test]
    fn unknown_content_is_refused() {
        let kind = |b: &[u8], n| sniff(b, n).unwrap_err().kind();
        assert_eq!(
            kind(b"PK\x03\x04rest-of-zip", Some("a.zip")),
            AttachmentErrorKind::UnknownMediaType
        );
        assert_eq!(kind(b"\xff\xfe\x00binary", None), AttachmentErrorKind::UnknownMediaType);
        assert_eq!(kind(b"text", Some("x.exe")), AttachmentErrorKind::UnknownMediaType);
        assert_eq!(kind(b"text", Some("x.pdf")), AttachmentErrorKind::UnknownMediaType);
    }
}
