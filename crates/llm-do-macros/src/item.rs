//! [`FnItem`]: the annotated item, parsed as a function that may lack its body.
//!
//! `syn::ItemFn` requires a body and a worker has none (`async fn f(..) -> R;`), so the item is
//! parsed here as attributes, visibility, [`syn::Signature`], then either `;` or a block.

use crate::kind::MacroKind;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Block, Signature, Token, Visibility, braced, token};

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
    /// `{ ... }`, with the inner attributes (`#![...]`) that open it.
    Block {
        /// `#![...]` attributes at the start of the block.
        inner_attrs: Vec<Attribute>,
        /// The block.
        block: Box<Block>,
    },
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
            let content;
            let brace_token = braced!(content in input);
            let inner_attrs = content.call(Attribute::parse_inner)?;
            let stmts = content.call(Block::parse_within)?;
            FnBody::Block { inner_attrs, block: Box::new(Block { brace_token, stmts }) }
        } else {
            return Err(lookahead.error());
        };
        Ok(FnItem { attrs, vis, sig, body })
    }
}

impl FnBody {
    /// The block with its inner attributes, as tokens; `None` for `;`.
    pub(crate) fn block_tokens(&self) -> Option<TokenStream> {
        match self {
            FnBody::Block { inner_attrs, block } => {
                let mut tokens = TokenStream::new();
                block.brace_token.surround(&mut tokens, |tokens| {
                    tokens.extend(quote!(#(#inner_attrs)*));
                    for stmt in &block.stmts {
                        stmt.to_tokens(tokens);
                    }
                });
                Some(tokens)
            }
            FnBody::Semi(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
