//! Doc comments: the item's become the description a calling model reads; a parameter's become
//! the description of its property in the input schema.

use syn::{Attribute, Expr, ExprLit, Lit, Meta};

/// `true` for `#[doc = ...]` attributes, which is what `///` and `/** */` comments are.
pub(crate) fn is_doc(attr: &Attribute) -> bool {
    attr.path().is_ident("doc")
}

/// The text of a `#[doc = "..."]` attribute; `None` for other attributes and for docs that are
/// not a string literal (e.g. `#[doc = include_str!(..)]`, which a macro cannot read).
fn doc_text(attr: &Attribute) -> Option<String> {
    match &attr.meta {
        Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
            Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    }
}

/// The description written in doc comments: each line loses at most one leading space (the one
/// after `///`), lines are joined with `\n`, and the whole is trimmed. No doc comment gives `""`.
pub(crate) fn description(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter_map(doc_text)
        .flat_map(|text| {
            text.split('\n')
                .map(|line| {
                    line.strip_prefix(' ').unwrap_or(line).trim_end_matches('\r').to_owned()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    lines.join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn strips_one_space_and_trims() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[doc = " Classify a ticket."]),
            parse_quote!(#[doc = ""]),
            parse_quote!(#[doc = "   Indented code."]),
            parse_quote!(#[inline]),
            parse_quote!(#[doc = " "]),
        ];
        assert_eq!(description(&attrs), "Classify a ticket.\n\n  Indented code.");
    }

    #[test]
    fn block_comments_and_missing_docs() {
        let block: Attribute = parse_quote!(#[doc = " the customer's email "]);
        assert_eq!(description(&[block]), "the customer's email");
        assert_eq!(description(&[]), "");
        let computed: Attribute = parse_quote!(#[doc = include_str!("x.md")]);
        assert!(is_doc(&computed));
        assert_eq!(description(&[computed]), "");
    }
}
