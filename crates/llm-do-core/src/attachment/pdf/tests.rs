//! Hostile PDFs, built here: each is over one limit, and without the limit extraction either
//! succeeds (with far more decoded than the limit allows), or overflows the stack.

use std::io::Write;

use flate2::{Compression, write::ZlibEncoder};
use lopdf::{Document, Object, Stream, dictionary};

use super::extract_pdf_text;
use crate::attachment::AttachmentErrorKind;

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// `n` bytes of spaces then `text` shown with font `/F1`, Flate-compressed.
fn content(n: usize, text: &str) -> Stream {
    let mut data = vec![b' '; n];
    data.extend_from_slice(format!("BT /F1 12 Tf ({text}) Tj ET").as_bytes());
    Stream::new(dictionary! { "Filter" => "FlateDecode" }, zlib(&data))
}

/// A document whose pages each name the content streams `contents(doc)` gives; `font` is the
/// font dictionary `font(doc)` gives.
fn document(
    pages: usize,
    font: impl FnOnce(&mut Document) -> Object,
    contents: impl Fn(&mut Document) -> Object,
) -> Document {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = font(&mut doc);
    let font_id = doc.add_object(font);
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let kids: Vec<Object> = (0..pages)
        .map(|_| {
            let contents = contents(&mut doc);
            let page = dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => contents, "Resources" => resources };
            doc.add_object(page).into()
        })
        .collect();
    let tree = dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => pages as i64, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()] };
    doc.objects.insert(pages_id, Object::Dictionary(tree));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc
}

fn helvetica() -> Object {
    Object::Dictionary(
        dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" },
    )
}

fn save(mut doc: Document) -> Vec<u8> {
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

#[track_caller]
fn assert_over(bytes: &[u8], constant: &str) {
    let err = extract_pdf_text(bytes, "hostile.pdf").unwrap_err();
    assert_eq!(err.kind(), AttachmentErrorKind::TooLarge, "{err}");
    assert!(err.message().contains(constant), "{err}");
}

#[test]
fn an_ordinary_document_is_read() {
    let doc = document(2, |_| helvetica(), |doc| doc.add_object(content(10, "Hello")).into());
    assert_eq!(extract_pdf_text(&save(doc), "ok.pdf").unwrap(), "Hello\n\nHello");
}

#[test]
fn a_page_whose_content_inflates_past_the_page_limit_is_refused() {
    let doc = document(
        1,
        |_| helvetica(),
        |doc| doc.add_object(content(super::MAX_PDF_PAGE_CONTENT_BYTES, "Hi")).into(),
    );
    assert_over(&save(doc), "MAX_PDF_PAGE_CONTENT_BYTES");
}

#[test]
fn a_stream_named_many_times_counts_each_time() {
    // 64 KiB named 2,000 times: 125 MiB of content from one small stream.
    let doc = document(
        1,
        |_| helvetica(),
        |doc| {
            let id = doc.add_object(content(64 << 10, "Hi"));
            Object::Array(vec![id.into(); 2_000])
        },
    );
    assert_over(&save(doc), "MAX_PDF_PAGE_CONTENT_BYTES");
}

#[test]
fn pages_whose_content_inflates_past_the_document_limit_are_refused() {
    // Each page names one 1 MiB stream 7 times, under the page limit; 10 pages pass 64 MiB.
    let doc = document(
        10,
        |_| helvetica(),
        |doc| {
            let id = doc.add_object(content(1 << 20, "Hi"));
            Object::Array(vec![id.into(); 7])
        },
    );
    assert_over(&save(doc), "MAX_PDF_CONTENT_BYTES");
}

/// A document with an extra object stream inflating to just over the structure limit.
#[test]
fn an_object_stream_inflating_past_the_structure_limit_is_refused() {
    let mut doc = document(1, |_| helvetica(), |doc| doc.add_object(content(10, "Hi")).into());
    let data = zlib(&vec![b' '; super::MAX_PDF_STRUCTURE_BYTES + 1]);
    // `lopdf` does not write object streams it holds: the type is renamed once written.
    let dict =
        dictionary! { "Type" => "ObjStX", "N" => 0, "First" => 0, "Filter" => "FlateDecode" };
    doc.add_object(Stream::new(dict, data));
    let mut bytes = save(doc);
    let at = bytes.windows(7).position(|w| w == b"/ObjStX").unwrap();
    bytes[at..at + 7].copy_from_slice(b"/ObjStm");
    assert_over(&bytes, "MAX_PDF_STRUCTURE_BYTES");
}

/// A file whose cross-reference stream (the only one) inflates to just over the limit.
#[test]
fn a_cross_reference_stream_inflating_past_the_structure_limit_is_refused() {
    let data = zlib(&vec![0; super::MAX_PDF_STRUCTURE_BYTES + 1]);
    let mut pdf = b"%PDF-1.5\n".to_vec();
    let offset = pdf.len();
    let head = format!(
        "1 0 obj\n<< /Type /XRef /Size 1 /W [1 2 1] /Filter /FlateDecode /Length {} >>\nstream\n",
        data.len()
    );
    pdf.extend_from_slice(head.as_bytes());
    pdf.extend_from_slice(&data);
    pdf.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{offset}\n%%EOF\n").as_bytes());
    assert_over(&pdf, "MAX_PDF_STRUCTURE_BYTES");
}

#[test]
fn a_parent_chain_deeper_than_the_limit_is_refused_without_recursion() {
    // 100,000 levels: `lopdf`'s recursive walk of it overflows the stack (this thread's 1 MiB).
    let mut doc = document(1, |_| helvetica(), |doc| doc.add_object(content(10, "Hi")).into());
    let page = *doc.get_pages().values().next().unwrap();
    let mut parent = doc.add_object(dictionary! { "Type" => "Pages" });
    for _ in 0..100_000 {
        parent = doc.add_object(dictionary! { "Type" => "Pages", "Parent" => parent });
    }
    doc.get_dictionary_mut(page).unwrap().set("Parent", parent);
    let bytes = save(doc);
    let run = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || extract_pdf_text(&bytes, "deep.pdf"));
    let err = run.unwrap().join().unwrap().unwrap_err();
    assert_eq!(err.kind(), AttachmentErrorKind::TooLarge, "{err}");
    assert!(err.message().contains("MAX_PDF_PAGE_TREE_DEPTH"), "{err}");
}

/// A Type1 font whose ToUnicode CMap is `cmap` (Flate-compressed).
fn font_with_cmap(doc: &mut Document, cmap: &[u8]) -> Object {
    let to_unicode =
        doc.add_object(Stream::new(dictionary! { "Filter" => "FlateDecode" }, zlib(cmap)));
    Object::Dictionary(
        dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "X", "ToUnicode" => to_unicode },
    )
}

fn cmap(sections: &str) -> Vec<u8> {
    format!(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CMapName /X def\n\
         1 begincodespacerange\n<00> <FF>\nendcodespacerange\n{sections}\
         endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )
    .into_bytes()
}

/// `document` with one page showing `text`, whose font has the ToUnicode CMap `cmap`.
fn with_cmap(cmap: &[u8], text: &str) -> Vec<u8> {
    save(document(
        1,
        |doc| font_with_cmap(doc, cmap),
        |doc| doc.add_object(content(1, text)).into(),
    ))
}

#[test]
fn a_cmap_whose_ranges_span_too_many_codes_is_refused() {
    // 2^21 codes from one line (lopdf builds an entry for each).
    let bytes = with_cmap(&cmap("1 beginbfrange\n<000000> <1FFFFF> <0041>\nendbfrange\n"), "A");
    assert_over(&bytes, "MAX_PDF_CMAP_CODES");
}

#[test]
fn a_cmap_inflating_past_its_limit_is_refused() {
    let mut big = cmap("1 beginbfchar\n<41> <0041>\nendbfchar\n");
    big.extend(vec![b' '; super::MAX_PDF_CMAP_BYTES]);
    assert_over(&with_cmap(&big, "A"), "MAX_PDF_CMAP_BYTES");
}

#[test]
fn text_longer_than_the_limit_is_refused() {
    // One code maps to 256 characters: 40,000 codes in a string give 10 MiB of text.
    let target = "0041".repeat(256);
    let bytes = with_cmap(
        &cmap(&format!("1 beginbfchar\n<01> <{target}>\nendbfchar\n")),
        &"\\001".repeat(40_000),
    );
    assert_over(&bytes, "MAX_PDF_TEXT_BYTES");
}
