//! Text of a PDF, for models that take text only (feature `pdf`, on by default; pure Rust,
//! with `lopdf`).

use super::error::{AttachmentError, AttachmentErrorKind};

/// Most pages whose text is extracted; a longer document is refused rather than cut.
pub const MAX_PDF_PAGES: usize = 500;

/// The text of a PDF, pages separated by blank lines. Damaged, encrypted or image-only PDFs
/// are an [`UnreadablePdf`](AttachmentErrorKind::UnreadablePdf) error; so is any panic of the
/// parser on hostile input, which is caught.
///
/// ```
/// use llm_do_core::attachment::{AttachmentErrorKind, extract_pdf_text};
/// let err = extract_pdf_text(b"%PDF-1.4 but nothing else", "broken.pdf").unwrap_err();
/// assert_eq!(err.kind(), AttachmentErrorKind::UnreadablePdf);
/// ```
pub fn extract_pdf_text(bytes: &[u8], name: &str) -> Result<String, AttachmentError> {
    let unreadable = |why: String| {
        AttachmentError::new(
            AttachmentErrorKind::UnreadablePdf,
            format!("no text could be extracted from `{name}`: {why}"),
        )
    };
    let text = extract(bytes).map_err(unreadable)?;
    if text.trim().is_empty() {
        return Err(unreadable("it has no text layer (scanned pages need OCR)".into()));
    }
    Ok(text)
}

#[cfg(feature = "pdf")]
fn extract(bytes: &[u8]) -> Result<String, String> {
    let run = std::panic::catch_unwind(|| -> Result<String, String> {
        let doc = lopdf::Document::load_mem(bytes).map_err(|e| e.to_string())?;
        if doc.is_encrypted() {
            return Err("it is encrypted".into());
        }
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        if pages.is_empty() {
            return Err("it has no pages".into());
        }
        if pages.len() > MAX_PDF_PAGES {
            return Err(format!("it has {} pages, more than {MAX_PDF_PAGES}", pages.len()));
        }
        let mut out = Vec::with_capacity(pages.len());
        for page in pages {
            let text = doc.extract_text(&[page]).map_err(|e| format!("page {page}: {e}"))?;
            out.push(tidy(&text));
        }
        Ok(out.join("\n\n"))
    });
    run.unwrap_or_else(|_| Err("the PDF parser failed on it".into()))
}

#[cfg(not(feature = "pdf"))]
fn extract(_: &[u8]) -> Result<String, String> {
    Err("this build has no PDF support (feature `pdf` of llm-do-core)".into())
}

/// Trims trailing spaces and runs of blank lines.
#[cfg_attr(not(feature = "pdf"), allow(dead_code))]
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}
