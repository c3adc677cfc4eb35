//! Text of a PDF, for models that take text only (feature `pdf`, on by default; pure Rust,
//! with `lopdf`).

use super::error::{AttachmentError, AttachmentErrorKind};

#[cfg(feature = "pdf")]
mod cmap;
#[cfg(feature = "pdf")]
mod decode;
#[cfg(feature = "pdf")]
mod load;
#[cfg(all(test, feature = "pdf"))]
mod tests;
#[cfg(feature = "pdf")]
mod text;

// Limits of text extraction. Each bounds what a hostile PDF can make extraction decode or
// build, so that memory and time stay proportional to them and to the file's size; a PDF over
// one is a `TooLarge` error naming it.

/// Most pages whose text is extracted; a longer document is refused rather than cut.
pub const MAX_PDF_PAGES: usize = 500;
/// Most bytes the cross-reference streams and object streams of a PDF decompress to, together
/// (they are decoded while the file is loaded).
pub const MAX_PDF_STRUCTURE_BYTES: usize = 64 << 20;
/// Most cross-reference sections (`Prev` and `XRefStm` links) followed.
pub const MAX_PDF_XREF_SECTIONS: usize = 1024;
/// Most bytes the content streams of one page decompress to (a stream the page names twice
/// counts twice).
pub const MAX_PDF_PAGE_CONTENT_BYTES: usize = 8 << 20;
/// Most bytes the content streams of all pages and the fonts' ToUnicode CMaps decompress to,
/// together.
pub const MAX_PDF_CONTENT_BYTES: usize = 64 << 20;
/// Most bytes one font's ToUnicode CMap decompresses to.
pub const MAX_PDF_CMAP_BYTES: usize = 2 << 20;
/// Most character codes the ranges of all ToUnicode CMaps of a PDF span together (the PDF
/// reader builds one entry per code).
pub const MAX_PDF_CMAP_CODES: u64 = 1 << 20;
/// Most levels of a page's `Parent` chain.
pub const MAX_PDF_PAGE_TREE_DEPTH: usize = 256;
/// Most bytes of text extracted from a PDF (before blank lines are tidied).
pub const MAX_PDF_TEXT_BYTES: usize = 8 << 20;

/// Why no text is returned.
#[cfg_attr(not(feature = "pdf"), allow(dead_code))]
enum Refusal {
    /// Over one of the limits above (the message names it).
    Limit(String),
    /// Damaged, encrypted, or not read by the parser.
    Unreadable(String),
}

/// The text of a PDF, pages separated by blank lines. Damaged, encrypted or image-only PDFs
/// are an [`UnreadablePdf`](AttachmentErrorKind::UnreadablePdf) error; so is any panic of the
/// parser on hostile input, which is caught. A PDF over one of the limits (`MAX_PDF_*` in this
/// module: pages, decompressed bytes, CMap codes, page-tree depth, text) is a
/// [`TooLarge`](AttachmentErrorKind::TooLarge) error naming the limit: extraction is
/// synchronous, and these caps are what bound its memory and time.
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
    let text = extract(bytes).map_err(|refusal| match refusal {
        Refusal::Unreadable(why) => unreadable(why),
        Refusal::Limit(why) => AttachmentError::new(
            AttachmentErrorKind::TooLarge,
            format!("no text was extracted from `{name}`: {why}"),
        ),
    })?;
    if text.trim().is_empty() {
        return Err(unreadable("it has no text layer (scanned pages need OCR)".into()));
    }
    Ok(text)
}

#[cfg(feature = "pdf")]
fn extract(bytes: &[u8]) -> Result<String, Refusal> {
    let run = std::panic::catch_unwind(|| text::extract(&load::load(bytes)?));
    run.unwrap_or_else(|_| Err(Refusal::Unreadable("the PDF parser failed on it".into())))
}

#[cfg(not(feature = "pdf"))]
fn extract(_: &[u8]) -> Result<String, Refusal> {
    Err(Refusal::Unreadable("this build has no PDF support (feature `pdf` of llm-do-core)".into()))
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
