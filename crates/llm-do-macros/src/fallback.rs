//! What an attribute expands to when the input has errors: the errors, plus stand-ins for the
//! items it would have generated, so that the rest of the program still resolves (`name(..)`,
//! `name::spec()`, `tools = [name]`) and one mistake does not cascade into many.

use crate::companion::{cfg_attrs, companion_struct, private};
use crate::item::FnItem;
use crate::signature::Callable;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{FnArg, Token};

/// The compile errors, the function with an `unreachable!()` body, and a companion struct whose
/// `spec()` is `unreachable!()`.
///
/// The stand-in signature keeps what callers rely on and drops what rustc would reject again:
/// it is always `async` (so `.await` at call sites still type-checks), and loses `const`,
/// `unsafe`, `extern`, `self`, variadics, and the attributes of parameters other than lint
/// levels and `cfg` (doc comments, and those the macro refused, e.g. `#[serde(...)]`).
pub(crate) fn expand(item: &FnItem, krate: &syn::Path, errors: &syn::Error) -> TokenStream {
    let errors = errors.to_compile_error();
    let attrs = &item.attrs;
    let vis = &item.vis;
    let mut sig = item.sig.clone();
    sig.constness = None;
    sig.unsafety = None;
    sig.abi = None;
    sig.variadic = None;
    sig.asyncness = Some(Token![async](sig.fn_token.span));
    sig.inputs = sig
        .inputs
        .into_iter()
        .filter_map(|arg| match arg {
            FnArg::Receiver(_) => None,
            FnArg::Typed(mut pat_type) => {
                // Only what rustc accepts on a parameter: another attribute was already
                // reported by the macro, and rustc would report it again.
                pat_type.attrs.retain(|a| {
                    ["allow", "warn", "deny", "forbid", "expect", "cfg", "cfg_attr"]
                        .iter()
                        .any(|name| a.path().is_ident(name))
                });
                Some(FnArg::Typed(pat_type))
            }
        })
        .collect();
    let ident = &sig.ident;
    let cfgs = cfg_attrs(attrs);
    let stand_in = Callable {
        attrs: item.attrs.clone(),
        vis: item.vis.clone(),
        sig: sig.clone(),
        ctx: None,
        params: Vec::new(),
        output: None,
        krate: krate.clone(),
    };
    let p = private(&stand_in);
    let companion = companion_struct(&stand_in);
    quote! {
        #errors
        #(#attrs)*
        #[allow(unused_variables, clippy::unused_async)]
        #vis #sig {
            ::core::unreachable!()
        }
        #companion
        #(#cfgs)*
        impl #ident {
            #[allow(dead_code)]
            pub fn spec() -> #p::Arc<#p::CallableSpec> {
                ::core::unreachable!()
            }
        }
    }
}

/// The errors for an item that is not a function at all: it is emitted unchanged, since no
/// caller can expect anything generated from it.
pub(crate) fn not_a_function(error: &syn::Error, item: &TokenStream) -> TokenStream {
    let errors = error.to_compile_error();
    quote!(#errors #item)
}
