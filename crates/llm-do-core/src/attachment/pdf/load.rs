//! Loading a PDF with `lopdf` without unbounded decompression: the cross-reference streams it
//! decodes are found and measured first (and an encrypted file refused, since `lopdf` decodes
//! the object streams of one it can open with the empty password without any filter), and the
//! object streams it decodes while loading pass through a load filter that measures them.

use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};

use lopdf::xref::XrefEntry;
use lopdf::{Document, LoadOptions, Object, ObjectId, Reader, Stream};

use super::decode::{Stop, decode};
use super::{MAX_PDF_STRUCTURE_BYTES, MAX_PDF_XREF_SECTIONS, Refusal};

/// The `Type` an object stream over the budget is given, so that `lopdf` leaves it alone and
/// [`load`] can tell it was refused.
const REFUSED: &str = "LlmDoRefusedObjStm";

thread_local! {
    /// Bytes object streams may still decode while this thread loads a document; `None`
    /// outside [`load`].
    static STRUCTURE_BUDGET: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The document, once its cross-reference streams and object streams are known to decode to
/// at most [`MAX_PDF_STRUCTURE_BYTES`] together.
pub(super) fn load(bytes: &[u8]) -> Result<Document, Refusal> {
    let mut budget = MAX_PDF_STRUCTURE_BYTES;
    check_xref_sections(bytes, &mut budget)?;
    /// Resets the budget even if `lopdf` panics.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            STRUCTURE_BUDGET.set(None);
        }
    }
    STRUCTURE_BUDGET.set(Some(budget));
    let _reset = Reset;
    let options = LoadOptions { filter: Some(measure_object_stream), ..Default::default() };
    let doc = Document::load_mem_with_options(bytes, options)
        .map_err(|e| Refusal::Unreadable(e.to_string()))?;
    let refused = doc
        .objects
        .values()
        .any(|o| o.as_stream().is_ok_and(|s| s.dict.has_type(REFUSED.as_bytes())));
    if refused {
        return Err(over_structure_limit("object streams"));
    }
    if doc.is_encrypted() {
        return Err(Refusal::Unreadable("it is encrypted".into()));
    }
    Ok(doc)
}

fn over_structure_limit(what: &str) -> Refusal {
    Refusal::Limit(format!(
        "its {what} decompress to more than {} MiB, or cannot be decoded safely (limit MAX_PDF_STRUCTURE_BYTES)",
        MAX_PDF_STRUCTURE_BYTES >> 20
    ))
}

/// `lopdf`'s load filter (a plain `fn`, hence the thread-local budget): an object stream is
/// decoded with the remaining budget as cap before `lopdf` decodes it without one; one over the
/// budget (or met on another thread, should `lopdf` be built with `rayon`) is emptied and
/// marked. Streams are returned as `Null`: for top-level objects `lopdf` ignores the returned
/// value (it keeps the object edited in place), and object streams hold no streams.
fn measure_object_stream(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    let Object::Stream(stream) = object else { return Some((id, object.clone())) };
    if stream.dict.has_type(b"ObjStm") {
        let fits = STRUCTURE_BUDGET.with(|budget| {
            let remaining = budget.get()?;
            let used = match decode(stream, remaining) {
                Ok(decoded) => decoded.map_or(0, |d| d.len()),
                Err(_) => return None,
            };
            budget.set(Some(remaining - used));
            Some(())
        });
        if fits.is_none() {
            stream.set_content(Vec::new());
            stream.dict.remove(b"Filter");
            stream.dict.set("Type", REFUSED);
        }
    }
    Some((id, Object::Null))
}

/// Walks the cross-reference sections `lopdf` will read (from `startxref`, through every
/// `Prev` and `XRefStm`), charging each cross-reference stream's decoded size to `budget`;
/// refuses an encrypted document.
fn check_xref_sections(bytes: &[u8], budget: &mut usize) -> Result<(), Refusal> {
    // `lopdf` drops what comes before the header, and offsets count from it.
    let buf = &bytes[bytes.windows(5).position(|w| w == b"%PDF-").unwrap_or(0)..];
    let Some(start) = xref_start(buf) else { return Ok(()) }; // `lopdf` fails on its own
    let unreadable = |offset: usize| {
        Refusal::Unreadable(format!("its cross-reference section at {offset} cannot be read"))
    };
    let mut pending = vec![start];
    let mut seen = HashSet::new();
    while let Some(offset) = pending.pop() {
        if offset > buf.len() || !seen.insert(offset) {
            continue;
        }
        if seen.len() > MAX_PDF_XREF_SECTIONS {
            return Err(Refusal::Limit(format!(
                "it has more than {MAX_PDF_XREF_SECTIONS} cross-reference sections (limit MAX_PDF_XREF_SECTIONS)"
            )));
        }
        let dict = if buf[offset..].starts_with(b"xref") {
            let trailer = classic_trailer(buf, offset).ok_or_else(|| unreadable(offset))?;
            match trailer {
                Object::Dictionary(dict) => dict,
                _ => return Err(unreadable(offset)),
            }
        } else {
            let stream = object_at(buf, offset).and_then(|o| o.as_stream().ok().cloned());
            let stream = stream.ok_or_else(|| unreadable(offset))?;
            check_xref_stream(&stream, budget)?;
            stream.dict
        };
        if offset == start && dict.get(b"Encrypt").is_ok() {
            return Err(Refusal::Unreadable("it is encrypted".into()));
        }
        for key in [&b"Prev"[..], b"XRefStm"] {
            if let Ok(next) = dict.get(key).and_then(Object::as_i64)
                && let Ok(next) = usize::try_from(next)
            {
                pending.push(next);
            }
        }
    }
    Ok(())
}

/// Decodes a cross-reference stream with the remaining budget as cap, and checks what would
/// make `lopdf`'s decoder allocate or loop without reading: field widths (`W`) too wide or all
/// zero.
fn check_xref_stream(stream: &Stream, budget: &mut usize) -> Result<(), Refusal> {
    let widths: Option<Vec<i64>> = stream
        .dict
        .get(b"W")
        .and_then(Object::as_array)
        .ok()
        .map(|w| w.iter().filter_map(|n| n.as_i64().ok()).collect());
    if let Some(widths) = widths
        && (widths.iter().any(|w| !(0..=8).contains(w)) || widths.iter().sum::<i64>() == 0)
    {
        return Err(Refusal::Unreadable(format!(
            "its cross-reference stream has field widths {widths:?}"
        )));
    }
    match decode(stream, *budget) {
        Ok(decoded) => *budget -= decoded.map_or(0, |d| d.len()),
        Err(Stop::OverCap) => return Err(over_structure_limit("cross-reference streams")),
        Err(Stop::BadPredictor) => {
            return Err(Refusal::Unreadable(
                "its cross-reference stream has a malformed predictor".into(),
            ));
        }
    }
    Ok(())
}

/// The object at `offset` of `buf`, read by `lopdf`'s parser (a stream's content is taken
/// as it is, not decoded). As in `lopdf`'s own reading of cross-reference streams, no other
/// object can be looked up (an indirect `Length` leaves the stream empty).
fn object_at(buf: &[u8], offset: usize) -> Option<Object> {
    let id = object_id(&buf[offset..])?;
    let mut reader = Reader {
        buffer: buf,
        document: Document::new(),
        encryption_state: None,
        raw_objects: BTreeMap::new(),
        password: None,
        strict: false,
    };
    let offset = u32::try_from(offset).ok()?;
    reader.document.reference_table.insert(id.0, XrefEntry::Normal { offset, generation: id.1 });
    reader.get_object(id, &mut HashSet::new()).ok()
}

/// `N G obj` at the start of `bytes` (after white space).
fn object_id(bytes: &[u8]) -> Option<ObjectId> {
    let text = std::str::from_utf8(&bytes[..bytes.len().min(64)])
        .unwrap_or_else(|e| std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default());
    let mut words = text.split_ascii_whitespace();
    let number = words.next()?.parse().ok()?;
    let generation = words.next()?.parse().ok()?;
    words.next()?.starts_with("obj").then_some((number, generation))
}

/// The trailer dictionary after the classic table at `offset`: the table holds only digits,
/// `f`, `n` and white space, so its trailer is the first `trailer` after it. The dictionary is
/// read by `lopdf`'s parser from a copy of at most 64 KiB.
fn classic_trailer(buf: &[u8], offset: usize) -> Option<Object> {
    let table = &buf[offset + 4..];
    let end = table.iter().position(|b| !b"0123456789 fn\r\n\t\x0c\x00".contains(b))?;
    let rest = table[end..].strip_prefix(b"trailer")?;
    let mut copy = b"1 0 obj\n".to_vec();
    copy.extend_from_slice(&rest[..rest.len().min(64 << 10)]);
    object_at(&copy, 0)
}

/// The offset `startxref` names, found as `lopdf` finds it: the last `%%EOF` in the last 512
/// bytes, and `startxref` in the 25 bytes before it.
fn xref_start(buf: &[u8]) -> Option<usize> {
    let rfind = |from: usize, to: usize, pattern: &[u8]| {
        buf.get(from..to)?.windows(pattern.len()).rposition(|w| w == pattern).map(|p| from + p)
    };
    let eof = rfind(buf.len().saturating_sub(512), buf.len(), b"%%EOF").filter(|&p| p > 25)?;
    let at = rfind(eof - 25, eof, b"startxref")?;
    let digits = buf[at + 9..eof].iter().filter(|b| !b.is_ascii_whitespace());
    let text: String = digits.map(|&b| b as char).collect();
    text.parse().ok()
}
