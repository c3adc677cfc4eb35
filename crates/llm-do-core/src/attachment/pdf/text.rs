//! The text of a loaded document, page by page, with what `lopdf`'s `extract_text` does
//! (fonts' encodings, the page's content, the text-showing operators) but every decoded byte
//! counted: content streams per page and per document (a stream named twice counts twice),
//! ToUnicode CMaps (their size and the codes their ranges span), the depth of each page's
//! `Parent` chain (`lopdf` follows it recursively), and the text produced.

use std::collections::{BTreeMap, HashMap, HashSet};

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Encoding, Object, ObjectId};

use super::decode::{Stop, decode};
use super::{
    MAX_PDF_CMAP_BYTES, MAX_PDF_CMAP_CODES, MAX_PDF_CONTENT_BYTES, MAX_PDF_PAGE_CONTENT_BYTES,
    MAX_PDF_PAGE_TREE_DEPTH, MAX_PDF_PAGES, MAX_PDF_TEXT_BYTES, Refusal, tidy,
};

/// Bytes of a text-showing string decoded at a time, so that the text cap is checked while a
/// long string is decoded (a CMap can map one byte to 256 characters). Even, so that two-byte
/// codes are not split.
const STRING_CHUNK: usize = 4096;

/// What the document may still decode.
struct Budget {
    content: usize,
    cmap_codes: u64,
    text: usize,
}

fn limit(what: String, constant: &str) -> Refusal {
    Refusal::Limit(format!("{what} (limit {constant})"))
}

/// The text of every page, tidied, pages separated by blank lines.
pub(super) fn extract(doc: &Document) -> Result<String, Refusal> {
    let pages: BTreeMap<u32, ObjectId> = doc.get_pages();
    if pages.is_empty() {
        return Err(Refusal::Unreadable("it has no pages".into()));
    }
    if pages.len() > MAX_PDF_PAGES {
        return Err(limit(
            format!("it has {} pages, more than {MAX_PDF_PAGES}", pages.len()),
            "MAX_PDF_PAGES",
        ));
    }
    let mut budget = Budget {
        content: MAX_PDF_CONTENT_BYTES,
        cmap_codes: MAX_PDF_CMAP_CODES,
        text: MAX_PDF_TEXT_BYTES,
    };
    // Encodings by font dictionary (its address in `doc`): a font shared by all pages is read once.
    let mut encodings: HashMap<*const Dictionary, Encoding<'_>> = HashMap::new();
    let mut out = Vec::with_capacity(pages.len());
    for (&number, &page) in &pages {
        let page_err = |e: lopdf::Error| Refusal::Unreadable(format!("page {number}: {e}"));
        check_parent_chain(doc, page, number)?;
        let mut fonts = HashMap::new();
        for (name, font) in doc.get_page_fonts(page).map_err(page_err)? {
            let key: *const Dictionary = font;
            if let std::collections::hash_map::Entry::Vacant(slot) = encodings.entry(key) {
                check_to_unicode(doc, font, &mut budget)?;
                slot.insert(font.get_font_encoding(doc).map_err(page_err)?);
            }
            fonts.insert(name, key);
        }
        let content = page_content(doc, page, number, &mut budget)?;
        let content = Content::decode(&content).map_err(page_err)?;
        let mut text = String::new();
        let mut current = None;
        for operation in &content.operations {
            let operands = operation.operands.as_slice();
            match operation.operator.as_str() {
                "Tf" => {
                    let font = operands.first().ok_or_else(|| {
                        page_err(lopdf::Error::Syntax("missing font operand".into()))
                    })?;
                    let name = font.as_name().map_err(page_err)?;
                    current = fonts.get(name).and_then(|key| encodings.get(key));
                }
                "Tj" | "TJ" | "'" | "\"" => {
                    let Some(encoding) = current else { continue };
                    if operation.operator != "Tj"
                        && operation.operator != "TJ"
                        && !text.ends_with('\n')
                    {
                        text.push('\n');
                    }
                    let operands = if operation.operator == "\"" {
                        operands.get(2..).unwrap_or_default()
                    } else {
                        operands
                    };
                    show(&mut text, encoding, operands, budget.text).map_err(|e| match e {
                        Some(e) => page_err(e),
                        None => over_text(),
                    })?;
                }
                "T*" | "ET" if !text.ends_with('\n') => text.push('\n'),
                _ => {}
            }
        }
        budget.text = budget.text.checked_sub(text.len()).ok_or_else(over_text)?;
        out.push(tidy(&text));
    }
    Ok(out.join("\n\n"))
}

fn over_text() -> Refusal {
    limit(format!("its text is longer than {} MiB", MAX_PDF_TEXT_BYTES >> 20), "MAX_PDF_TEXT_BYTES")
}

/// Appends the text of a text-showing operator's operands, as `lopdf` does (a space after an
/// array and for a gap wider than 100); `Err(None)` once `text` is longer than `cap`.
fn show(
    text: &mut String,
    encoding: &Encoding<'_>,
    operands: &[Object],
    cap: usize,
) -> Result<(), Option<lopdf::Error>> {
    for operand in operands {
        match operand {
            Object::String(bytes, _) => {
                for chunk in bytes.chunks(STRING_CHUNK) {
                    encoding.write_to_string(chunk, text).map_err(Some)?;
                    if text.len() > cap {
                        return Err(None);
                    }
                }
            }
            Object::Array(items) => {
                show(text, encoding, items, cap)?;
                text.push(' ');
            }
            Object::Integer(i) if *i < -100 => text.push(' '),
            _ => {}
        }
    }
    Ok(())
}

/// Follows the page's `Parent` chain as `lopdf`'s `get_page_resources` will (recursively),
/// refusing a chain deeper than [`MAX_PDF_PAGE_TREE_DEPTH`]. A cycle is left to `lopdf`, which
/// reports it.
fn check_parent_chain(doc: &Document, page: ObjectId, number: u32) -> Result<(), Refusal> {
    let mut seen = HashSet::new();
    let mut node = doc.get_dictionary(page).ok();
    while let Some(parent) = node.and_then(|n| n.get(b"Parent").and_then(Object::as_reference).ok())
    {
        if !seen.insert(parent) {
            break;
        }
        if seen.len() > MAX_PDF_PAGE_TREE_DEPTH {
            let what = format!(
                "page {number} is more than {MAX_PDF_PAGE_TREE_DEPTH} levels deep in its page tree"
            );
            return Err(limit(what, "MAX_PDF_PAGE_TREE_DEPTH"));
        }
        node = doc.get_dictionary(parent).ok();
    }
    Ok(())
}

/// Decodes the font's ToUnicode CMap (if any) as `lopdf` will, within [`MAX_PDF_CMAP_BYTES`]
/// and the document's content budget, and charges the codes its ranges span.
fn check_to_unicode(doc: &Document, font: &Dictionary, budget: &mut Budget) -> Result<(), Refusal> {
    let Ok(stream) = font.get_deref(b"ToUnicode", doc).and_then(Object::as_stream) else {
        return Ok(());
    };
    let cmap = match decode(stream, MAX_PDF_CMAP_BYTES.min(budget.content)) {
        Ok(Some(cmap)) => cmap,
        Ok(None) => return Ok(()), // `lopdf` cannot decode it either, and falls back
        Err(Stop::OverCap) if budget.content < MAX_PDF_CMAP_BYTES => return Err(over_content()),
        Err(Stop::OverCap) => {
            let what = format!(
                "a font's ToUnicode CMap decompresses to more than {} MiB",
                MAX_PDF_CMAP_BYTES >> 20
            );
            return Err(limit(what, "MAX_PDF_CMAP_BYTES"));
        }
        Err(Stop::BadPredictor) => {
            return Err(Refusal::Unreadable(
                "a font's ToUnicode CMap has a malformed predictor".into(),
            ));
        }
    };
    budget.content -= cmap.len();
    budget.cmap_codes =
        budget.cmap_codes.checked_sub(super::cmap::range_codes(&cmap)).ok_or_else(|| {
            limit(
                format!("its fonts' ToUnicode CMaps map more than {MAX_PDF_CMAP_CODES} codes"),
                "MAX_PDF_CMAP_CODES",
            )
        })?;
    Ok(())
}

fn over_content() -> Refusal {
    limit(
        format!("its pages' content decompresses to more than {} MiB", MAX_PDF_CONTENT_BYTES >> 20),
        "MAX_PDF_CONTENT_BYTES",
    )
}

/// The page's content streams decoded and joined as `lopdf`'s `get_page_content` does (a
/// stream that cannot be decoded is taken as it is), within [`MAX_PDF_PAGE_CONTENT_BYTES`] and
/// the document's content budget.
fn page_content(
    doc: &Document,
    page: ObjectId,
    number: u32,
    budget: &mut Budget,
) -> Result<Vec<u8>, Refusal> {
    let mut content = Vec::new();
    for id in doc.get_page_contents(page) {
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else { continue };
        let page_left = MAX_PDF_PAGE_CONTENT_BYTES - content.len();
        let cap = page_left.min(budget.content);
        let data = match decode(stream, cap) {
            Ok(Some(data)) => data,
            Ok(None) | Err(Stop::BadPredictor) if stream.content.len() <= cap => {
                stream.content.clone()
            }
            _ if page_left <= budget.content => {
                let what = format!(
                    "page {number}'s content decompresses to more than {} MiB",
                    MAX_PDF_PAGE_CONTENT_BYTES >> 20
                );
                return Err(limit(what, "MAX_PDF_PAGE_CONTENT_BYTES"));
            }
            _ => return Err(over_content()),
        };
        budget.content -= data.len();
        content.extend_from_slice(&data);
        if content.len() < MAX_PDF_PAGE_CONTENT_BYTES {
            content.push(b'\n');
        }
    }
    Ok(content)
}
