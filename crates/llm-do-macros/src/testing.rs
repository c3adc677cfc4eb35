//! Helpers for this crate's unit tests.

use proc_macro2::TokenStream;

/// The expansion, pretty-printed as Rust source.
pub(crate) fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as a file");
    prettyplease::unparse(&file)
}

/// The messages of the `compile_error!`s in an expansion, in order.
pub(crate) fn error_messages(tokens: &TokenStream) -> Vec<String> {
    let file: syn::File = syn::parse2(tokens.clone()).expect("the expansion parses as a file");
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(m)
                if m.mac.path.segments.last().is_some_and(|s| s.ident == "compile_error") =>
            {
                Some(m.mac.parse_body::<syn::LitStr>().expect("a message").value())
            }
            _ => None,
        })
        .collect()
}
