//! The code `#[worker]` and `#[tool]` both generate, which is what makes them interchangeable:
//! the companion struct that carries `spec()`, the arguments struct whose schema calling models
//! see, the typed wrapper that routes a call through the runtime, and the trait assertions.
//!
//! Generated code names nothing but `::llm_do::__private::…` (or `{crate}::__private::…` with
//! `crate = "..."`) and `::core::…` (plus the user's own items and types), so that it compiles
//! whatever the user's scope shadows.

use crate::signature::{Callable, CtxParam};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, Ident, LitStr, Signature};

/// The path generated code reaches the support items through: `::llm_do::__private`, or
/// `{crate}::__private` for `crate = "..."`.
pub(crate) fn private(callable: &Callable) -> TokenStream {
    let krate = &callable.krate;
    quote!(#krate::__private)
}

/// [`private`] with every token at `span`, for calls whose errors must point at user code.
pub(crate) fn private_at(callable: &Callable, span: Span) -> TokenStream {
    private(callable)
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

/// `{crate}::__private::{module}` as a string, for `#[serde(crate = "...")]` and
/// `#[schemars(crate = "...")]`.
fn private_str(callable: &Callable, module: &str) -> String {
    let krate = &callable.krate;
    let krate = quote!(#krate).to_string().replace(' ', "");
    format!("{krate}::__private::{module}")
}

/// The name of the arguments struct (inside the `const _` block, so no user item can clash).
pub(crate) fn args_type() -> Ident {
    Ident::new("__LlmDoArgs", Span::call_site())
}

/// A hygienic local variable: invisible to, and unshadowable by, the user's names.
pub(crate) fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// The `#[cfg(...)]` attributes of the item, repeated on every generated item so that a
/// configured-out function takes its companions with it.
pub(crate) fn cfg_attrs(attrs: &[Attribute]) -> Vec<&Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("cfg")).collect()
}

/// The name string callers use, spanned on the function name unless `name = "..."` gave one.
pub(crate) fn name_lit(callable: &Callable, name: Option<&LitStr>) -> LitStr {
    name.cloned()
        .unwrap_or_else(|| LitStr::new(&callable.default_name(), callable.sig.ident.span()))
}

/// `.approval(Verdict::…)` for `approval = "..."` (already checked to be allow, ask or deny).
pub(crate) fn approval_call(callable: &Callable, approval: Option<&LitStr>) -> TokenStream {
    let Some(lit) = approval else { return TokenStream::new() };
    let p = private(callable);
    let variant = match lit.value().as_str() {
        "allow" => format_ident!("Allow"),
        "deny" => format_ident!("Deny"),
        _ => format_ident!("Ask"),
    };
    quote_spanned!(lit.span()=> .approval(#p::Verdict::#variant))
}

/// The description: `description = "..."` if given, else the doc comments.
pub(crate) fn description_lit(callable: &Callable, description: Option<&LitStr>) -> LitStr {
    description
        .cloned()
        .unwrap_or_else(|| LitStr::new(&callable.doc_description(), Span::call_site()))
}

/// The arguments struct: one field per parameter, with the parameter's doc comments, deriving
/// the serde and schemars traits through the re-exports. Worker and tool generate it the same
/// way, so a hardened worker keeps its input schema.
///
/// The struct is generic over its field types (`__LlmDoArgs<String, u8>`): its derived impls
/// then compile whatever the user's types are, and a type that lacks a trait is reported once,
/// on the user's type, by the assertions (see [`assertions`]) instead of deep inside the derives.
pub(crate) fn args_struct(callable: &Callable) -> TokenStream {
    let p = private(callable);
    let args = args_type();
    let generics = arg_generics(callable);
    let fields = callable.params.iter().zip(&generics).map(|(param, generic)| {
        let docs = &param.docs;
        let ident = &param.ident;
        quote!(#(#docs)* #ident: #generic)
    });
    let generics = angle_bracketed(&generics);
    let serde = private_str(callable, "serde");
    let schemars = private_str(callable, "schemars");
    quote! {
        #[derive(#p::serde::Serialize, #p::serde::Deserialize, #p::schemars::JsonSchema)]
        #[serde(crate = #serde, deny_unknown_fields)]
        #[schemars(crate = #schemars)]
        // The fields are the user's parameter names: a lint on them is reported (or allowed)
        // once, where the user declared them.
        #[allow(dead_code, non_camel_case_types, non_snake_case)]
        struct #args #generics {
            #(#fields,)*
        }
    }
}

/// The type parameters of the arguments struct, one per parameter: `__A0`, `__A1`, ...
fn arg_generics(callable: &Callable) -> Vec<Ident> {
    (0..callable.params.len()).map(|i| format_ident!("__A{}", i)).collect()
}

/// `<a, b>`, or nothing for an empty list.
fn angle_bracketed<T: quote::ToTokens>(items: &[T]) -> Option<TokenStream> {
    (!items.is_empty()).then(|| quote!(<#(#items),*>))
}

/// `__llm_do_schemas`: sets the input and output schemas on `builder` (a `WorkerSpecBuilder` or
/// `ToolSpecBuilder` path). Generic, with `Param` and `Output` bounds, so that its call with the
/// user's types as turbofish checks them exactly like the assertions do, at the same spans.
pub(crate) fn schemas_helper(callable: &Callable, builder: &TokenStream) -> TokenStream {
    let p = private(callable);
    let args = args_type();
    let generics = arg_generics(callable);
    let args_ty = angle_bracketed(&generics);
    quote! {
        fn __llm_do_schemas<#(#generics: #p::Param,)* __O: #p::Output>(builder: #builder) -> #builder {
            builder.input::<#args #args_ty>().output::<__O>()
        }
    }
}

/// The call of [`schemas_helper`] on `builder`, with the user's types.
pub(crate) fn schemas_call(callable: &Callable, builder: &TokenStream) -> TokenStream {
    let types = callable.params.iter().map(|param| &param.ty);
    let output = &callable.output;
    quote!(__llm_do_schemas::<#(#types,)* #output>(#builder))
}

/// `__llm_do_decode`: decodes the arguments object of a tool call (generic for the same reason
/// as [`schemas_helper`]).
pub(crate) fn decode_helper(callable: &Callable) -> TokenStream {
    let p = private(callable);
    let args = args_type();
    let generics = arg_generics(callable);
    let bounds: Vec<TokenStream> = generics.iter().map(|g| quote!(#g: #p::Param)).collect();
    let bounds = angle_bracketed(&bounds);
    let args_ty = angle_bracketed(&generics);
    quote! {
        fn __llm_do_decode #bounds(callee: &str, json: #p::Value) -> #p::Result<#args #args_ty> {
            #p::decode_args::<#args #args_ty>(callee, json)
        }
    }
}

/// The call of [`decode_helper`] with the user's types.
pub(crate) fn decode_call(callable: &Callable, name: &LitStr, json: &Ident) -> TokenStream {
    let types: Vec<&syn::Type> = callable.params.iter().map(|param| &param.ty).collect();
    let turbofish = angle_bracketed(&types).map(|types| quote!(::#types));
    quote!(__llm_do_decode #turbofish(#name, #json))
}

/// The companion struct: a braced struct named like the function. It lives in the type
/// namespace only, so it does not clash with the function, and `name::spec()` finds it.
pub(crate) fn companion_struct(callable: &Callable) -> TokenStream {
    let cfgs = cfg_attrs(&callable.attrs);
    let vis = &callable.vis;
    let ident = &callable.sig.ident;
    quote! {
        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #ident {
            _private: (),
        }
    }
}

/// `impl name { pub fn spec() }`: checks the parameter and result types, then builds the spec
/// once with `init`.
pub(crate) fn spec_impl(callable: &Callable, init: &TokenStream) -> TokenStream {
    let p = private(callable);
    let ident = &callable.sig.ident;
    let doc = format!(
        " The spec of `{0}`: register it with `Runtime::builder().register({0}::spec())`.",
        ident.unraw()
    );
    let assertions = assertions(callable);
    quote! {
        impl #ident {
            #[doc = #doc]
            #[allow(dead_code)]
            pub fn spec() -> #p::Arc<#p::CallableSpec> {
                #assertions
                static SPEC: #p::OnceLock<#p::Arc<#p::CallableSpec>> = #p::OnceLock::new();
                SPEC.get_or_init(|| #init).clone()
            }
        }
    }
}

/// The trait assertions: every parameter type is a `Param`, the result type is an `Output`.
///
/// Spanned on the user's types, so that a missing trait is reported there with the message of
/// `Param` / `Output`. Every function that uses the user's types starts with them: rustc drops
/// a later error at the same span for the same missing trait in the same function, and
/// identical errors from different functions, so each missing trait is reported once.
fn assertions(callable: &Callable) -> TokenStream {
    let params = callable.params.iter().map(|param| {
        let ty = &param.ty;
        let p = private_at(callable, ty.span());
        quote_spanned!(ty.span()=> #p::assert_param::<#ty>();)
    });
    let output = callable.output.as_ref().map(|ty| {
        let p = private_at(callable, ty.span());
        quote_spanned!(ty.span()=> #p::assert_output::<#ty>();)
    });
    quote!(#(#params)* #output)
}

/// The typed wrapper: the public function of a worker and of a tool that takes a ctx. It turns
/// its arguments into JSON and calls the spec through the ctx, so that a typed call gets events,
/// depth and budget accounting, and validation, exactly like a call by name.
pub(crate) fn typed_wrapper(callable: &Callable, name: &LitStr) -> TokenStream {
    let p = private(callable);
    let attrs = &callable.attrs;
    let vis = &callable.vis;
    let ident = &callable.sig.ident;
    let sig = wrapper_signature(callable);
    let ctx = callable.ctx.as_ref().map(CtxParam::ident);
    let ctx_check = callable.ctx.as_ref().map(|c| {
        let p = private_at(callable, c.ty.span());
        quote_spanned!(c.ty.span()=> #p::assert_ctx(#ctx);)
    });
    let assertions = assertions(callable);
    let args = local("__llm_do_args");
    let declare = if callable.params.is_empty() {
        quote!(let #args = #p::Map::new();)
    } else {
        quote!(let mut #args = #p::Map::new();)
    };
    let pushes = callable.params.iter().map(|param| {
        let ty = &param.ty;
        let value = &param.ident;
        let key = param.ident.unraw().to_string();
        let p = private_at(callable, ty.span());
        quote_spanned! {ty.span()=>
            #p::push_arg::<#ty>(&mut #args, #name, #key, &#value)?;
        }
    });
    let call = callable.output.as_ref().map(|output| {
        let p = private_at(callable, output.span());
        quote_spanned! {output.span()=>
            #p::call_typed::<#output>(#ctx, #ident::spec(), #args).await?
        }
    });
    quote! {
        #(#attrs)*
        #vis #sig {
            #ctx_check
            #assertions
            #declare
            #(#pushes)*
            ::core::result::Result::Ok(#call)
        }
    }
}

/// `impl name { pub async fn chat(ctx, conversation, params...) }`: the typed call of a worker
/// as the next turn of a conversation. Its arguments travel like the typed wrapper's; the call
/// goes through `Ctx::chat_spec`, the path chats by name take too. `pub` like `spec()`: inside
/// the `const _` block a private method would not be callable from the function's module.
pub(crate) fn chat_impl(callable: &Callable, name: &LitStr) -> TokenStream {
    let p = private(callable);
    let ident = &callable.sig.ident;
    let Some(output) = &callable.output else { return TokenStream::new() };
    let ctx = local("__llm_do_ctx");
    let conversation = local("__llm_do_conversation");
    let args = local("__llm_do_args");
    let declare = if callable.params.is_empty() {
        quote!(let #args = #p::Map::new();)
    } else {
        quote!(let mut #args = #p::Map::new();)
    };
    let params = callable.params.iter().map(|param| {
        let ident = &param.ident;
        let ty = &param.ty;
        quote!(#ident: #ty)
    });
    let pushes = callable.params.iter().map(|param| {
        let ty = &param.ty;
        let value = &param.ident;
        let key = param.ident.unraw().to_string();
        quote!(#p::push_arg::<#ty>(&mut #args, #name, #key, &#value)?;)
    });
    let doc = format!(
        " Calls `{0}` as the next turn of `conversation`: the worker sees the history, and on \
         success the conversation grows by this turn (see `Ctx::chat`).",
        ident.unraw()
    );
    quote! {
        impl #ident {
            #[doc = #doc]
            #[allow(dead_code, non_snake_case, clippy::too_many_arguments)]
            pub async fn chat(
                #ctx: &#p::Ctx,
                #conversation: &mut #p::Conversation,
                #(#params),*
            ) -> #p::Result<#output> {
                #declare
                #(#pushes)*
                #p::chat_typed::<#output>(#ctx, #conversation, #ident::spec(), #args).await
            }
        }
    }
}

/// The wrapper's signature: the user's, with plain `name: Type` parameters (no `mut`, which
/// the wrapper does not need, and a name for a `_` ctx).
fn wrapper_signature(callable: &Callable) -> Signature {
    let mut sig = callable.sig.clone();
    let ctx = callable.ctx.as_ref().map(|ctx| {
        let ident = ctx.ident();
        let ty = &ctx.ty;
        let arg: FnArg = syn::parse_quote!(#ident: #ty);
        arg
    });
    let params = callable.params.iter().map(|param| {
        let attrs = &param.attrs;
        let ident = &param.ident;
        let ty = &param.ty;
        let arg: FnArg = syn::parse_quote!(#(#attrs)* #ident: #ty);
        arg
    });
    sig.inputs = ctx.into_iter().chain(params).collect();
    sig
}
