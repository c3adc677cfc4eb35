//! `cargo xtask pdfs`: writes the tiny PDF decks the examples and tests attach
//! (`examples/pitchdeck_data/*.pdf`), one per Markdown deck beside it, and a copy of each in
//! the worker-file project that attaches them (`examples/pitchdeck_eval/project/decks/`: a
//! project reads attachments beneath its own root only).
//!
//! The PDFs are made with `lopdf` (pure Rust): one A4 page, Helvetica with WinAnsi encoding,
//! one text line per `T*`, so that text extraction gives the lines back in order. Markdown
//! emphasis is dropped and non-ASCII punctuation replaced, so the decks read the same in any
//! extractor. The output is deterministic: re-running the task changes no byte.

use anyhow::{Context, Result};
use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use std::path::Path;

/// The folder of the decks, relative to the workspace root.
const DECKS: &str = "examples/pitchdeck_data";

/// Where copies of the PDFs go too, relative to the workspace root.
const COPIES: &[&str] = &["examples/pitchdeck_eval/project/decks"];

/// Longest line, in characters, before wrapping.
const WRAP: usize = 80;

pub fn run(root: &Path) -> Result<()> {
    let dir = root.join(DECKS);
    let mut sources: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    sources.sort();
    for source in sources {
        let markdown = std::fs::read_to_string(&source)?;
        let pdf = render(&lines(&markdown))?;
        let target = source.with_extension("pdf");
        let file_name = target.file_name().context("a file name")?.to_owned();
        let copies = COPIES.iter().map(|dir| root.join(dir).join(&file_name));
        for target in std::iter::once(target.clone()).chain(copies) {
            std::fs::write(&target, &pdf)
                .with_context(|| format!("writing {}", target.display()))?;
            eprintln!("wrote {}", target.display());
        }
    }
    Ok(())
}

/// The deck's text lines: emphasis dropped, ASCII only, paragraphs wrapped, a blank line
/// between paragraphs.
fn lines(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    for paragraph in markdown.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let text = ascii(&paragraph.replace("**", "").replace("# ", "").replace('\n', " "));
        let mut line = String::new();
        for word in text.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + word.len() > WRAP {
                out.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push(line);
        out.push(String::new());
    }
    out.pop();
    out
}

fn ascii(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{2013}' | '\u{2014}' => '-',
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201c}' | '\u{201d}' => '"',
            c if c.is_ascii() => c,
            _ => '?',
        })
        .collect()
}

/// One A4 page with the lines, top to bottom.
fn render(lines: &[String]) -> Result<Vec<u8>> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let mut operations = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 11.into()]),
        Operation::new("TL", vec![15.into()]),
        Operation::new("Td", vec![50.into(), 780.into()]),
    ];
    for line in lines {
        operations.push(Operation::new("Tj", vec![Object::string_literal(line.as_str())]));
        operations.push(Operation::new("T*", vec![]));
    }
    operations.push(Operation::new("ET", vec![]));
    let content = Content { operations }.encode()?;
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    doc.trailer.set("Root", catalog_id);
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out)?;
    Ok(out)
}
