//! [`FnItem`]: the annotated item, parsed as a function that may lack its body.
//!
//! `syn::ItemFn` requires a body and a worker has none (`async fn f(..) -> R;`), so the item is
//! parsed here as attributes, visibility, [`syn::Signature`], then either `;` or a block. The
//! block stays tokens: the macro never looks inside a body, and a syntax error there must not
//! stop the expansion (rustc reports it where the body is emitted, and the tool's spec and
//! companion are still generated, so that callers do not fail too).

use crate::kind::MacroKind;
use proc_macro2::{Group, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Signature, Token, Visibility, token};

/// A function item, with or without a body.
pub(crate) struct FnItem {
    /// The outer attributes, doc comments included.
    pub(crate) attrs: Vec<Attribute>,
    /// The visibility.
    pub(crate) vis: Visibility,
    /// The signature, as written.
    pub(crate) sig: Signature,
    /// The body, or the `;` that stands for none.
    pub(crate) body: FnBody,
}

/// The body of a [`FnItem`].
pub(crate) enum FnBody {
    /// `{ ... }`, as written (inner attributes included), unparsed.
    Block(Group),
    /// `;`: no body.
    Semi(Token![;]),
}

impl FnItem {
    /// Parses the item `kind`'s attribute is applied to.
    pub(crate) fn parse(kind: MacroKind, tokens: TokenStream) -> syn::Result<Self> {
        (|input: ParseStream| Self::parse_stream(kind, input)).parse2(tokens)
    }

    /// Parses a function, with or without a body, from `input`.
    fn parse_stream(kind: MacroKind, input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let is_fn = input.peek(Token![fn])
            || input.peek(Token![async])
            || input.peek(Token![const])
            || input.peek(Token![unsafe])
            || input.peek(Token![extern]);
        if !is_fn {
            return Err(
                input.error(format_args!("{} can only be applied to an `async fn`", kind.attr()))
            );
        }
        let sig: Signature = input.parse()?;
        let lookahead = input.lookahead1();
        let body = if lookahead.peek(Token![;]) {
            FnBody::Semi(input.parse()?)
        } else if lookahead.peek(token::Brace) {
            match input.parse::<TokenTree>()? {
                TokenTree::Group(group) => FnBody::Block(group),
                other => return Err(syn::Error::new(other.span(), "expected a block")),
            }
        } else {
            return Err(lookahead.error());
        };
        Ok(FnItem { attrs, vis, sig, body })
    }
}

impl FnBody {
    /// The block as written, as tokens; `None` for `;`.
    pub(crate) fn block_tokens(&self) -> Option<TokenStream> {
        match self {
            FnBody::Block(group) => Some(TokenTree::Group(group.clone()).into()),
            FnBody::Semi(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn parses_with_and_without_body() {
        let item = FnItem::parse(
            MacroKind::Worker,
            quote! {
                /// Doc.
                pub async fn f(ctx: &Ctx, x: String) -> Result<u8>;
            },
        )
        .unwrap();
        assert!(matches!(item.body, FnBody::Semi(_)));
        assert_eq!(item.attrs.len(), 1);
        let item = FnItem::parse(
            MacroKind::Tool,
            quote!(
                async fn g(a: i64) -> Result<i64> {
                    #![allow(unused)]
                    Ok(a)
                }
            ),
        )
        .unwrap();
        let body = item.body.block_tokens().unwrap().to_string();
        assert_eq!(body, "{ # ! [allow (unused)] Ok (a) }");
    }

    #[test]
    fn a_body_that_does_not_parse_is_kept_as_tokens() {
        let item =
            FnItem::parse(MacroKind::Tool, quote!(async fn g() -> Result<u8> { let = ; })).unwrap();
        assert_eq!(item.body.block_tokens().unwrap().to_string(), "{ let = ; }");
    }

    #[test]
    fn rejects_non_functions() {
        let err = FnItem::parse(
            MacroKind::Tool,
            quote!(
                pub struct S;
            ),
        )
        .err()
        .unwrap();
        assert_eq!(err.to_string(), "#[tool] can only be applied to an `async fn`");
        let err = FnItem::parse(MacroKind::Tool, quote!(async fn f() -> u8 = 1;)).err().unwrap();
        assert_eq!(err.to_string(), "expected `;` or curly braces");
    }
}
