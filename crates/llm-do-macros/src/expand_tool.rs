//! `#[tool]`: an `async fn` with a Rust body becomes a spec whose handler runs that body.
//!
//! A tool that takes `ctx: &Ctx` gets the same typed wrapper as a worker (its body moves into a
//! private function the handler calls), so hardening a worker into a tool changes nothing for
//! its callers. A tool without a ctx stays the plain function it was.

use crate::args::Args;
use crate::companion::{
    approval_call, args_struct, cfg_attrs, companion_struct, decode_call, decode_helper,
    description_lit, local, name_lit, private, private_at, schemas_call, schemas_helper, spec_impl,
    typed_wrapper,
};
use crate::errors::Errors;
use crate::fallback;
use crate::item::FnItem;
use crate::kind::MacroKind;
use crate::signature::{self, Callable};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

/// Expands `#[tool(attr)] item`.
pub fn expand_tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = Args::parse(MacroKind::Tool, attr, &mut errors);
    let item = match FnItem::parse(MacroKind::Tool, item.clone()) {
        Ok(item) => item,
        Err(e) => return fallback::not_a_function(&e, &item),
    };
    let callable = signature::analyze(MacroKind::Tool, &item, args.krate.as_ref(), &mut errors);
    if args.name.is_none() {
        signature::check_default_name(&callable, &mut errors);
    }
    match errors.finish() {
        Ok(()) => generate(&args, &callable, &item),
        Err(e) => fallback::expand(&item, &callable.krate, &e),
    }
}

/// The expansion of a tool that passed every check.
fn generate(args: &Args, callable: &Callable, item: &FnItem) -> TokenStream {
    let p = private(callable);
    let name = name_lit(callable, args.name.as_ref());
    let description = description_lit(callable, args.description.as_ref());
    let block = item.body.block_tokens();

    let ctx_var = local(if callable.ctx.is_some() { "__llm_do_ctx" } else { "_ctx" });
    let json = local("__llm_do_json");
    let decoded = local("__llm_do_args");
    let out = local("__llm_do_out");
    let fields = callable.params.iter().map(|param| {
        let field = &param.ident;
        quote!(#decoded.#field)
    });
    let decode = decode_call(callable, &name, &json);
    let decode = if callable.params.is_empty() {
        quote!(#decode?;)
    } else {
        quote!(let #decoded = #decode?;)
    };
    let encode = callable.output.as_ref().map(|output| {
        let p = private_at(callable, output.span());
        quote_spanned!(output.span()=> #p::encode_output::<#output>(#name, #out))
    });

    // The public function, and how the handler calls the body.
    let (public_fn, body_fn, call) = if callable.ctx.is_some() {
        let body_ident = Ident::new("__llm_do_body", Span::call_site());
        let mut sig = callable.sig.clone();
        sig.ident = body_ident.clone();
        let lints = callable.attrs.iter().filter(|a| {
            ["allow", "warn", "deny", "forbid"].iter().any(|lint| a.path().is_ident(lint))
        });
        // `async` is required by the macro, not chosen: no `unused_async` for a body that
        // does not await.
        let body_fn = quote! {
            #(#lints)*
            #[allow(clippy::unused_async)]
            #sig #block
        };
        (typed_wrapper(callable, &name), body_fn, quote!(#body_ident(&#ctx_var, #(#fields),*)))
    } else {
        let attrs = &callable.attrs;
        let vis = &callable.vis;
        let sig = &callable.sig;
        let ident = &callable.sig.ident;
        let public_fn = quote! {
            #(#attrs)*
            #[allow(clippy::unused_async)]
            #vis #sig #block
        };
        (public_fn, TokenStream::new(), quote!(#ident(#(#fields),*)))
    };

    let approval = approval_call(callable, args.approval.as_ref());
    let builder = schemas_call(
        callable,
        &quote!(#p::ToolSpecBuilder::new(#name).description(#description)#approval),
    );
    let init = quote! {
        #builder
            .handler(|#ctx_var: #p::Ctx, #json: #p::Value| async move {
                #decode
                // A `#[deprecated]` tool steers direct callers away; its own handler is not one.
                #[allow(deprecated)]
                let #out = #call.await?;
                #encode
            })
            .build()
    };
    let companion = companion_struct(callable);
    let cfgs = cfg_attrs(&callable.attrs);
    let args_struct = args_struct(callable);
    let schemas = schemas_helper(callable, &quote!(#p::ToolSpecBuilder));
    let decode_fn = decode_helper(callable);
    let spec = spec_impl(callable, &init);
    quote! {
        #public_fn
        #companion
        #(#cfgs)*
        const _: () = {
            #args_struct
            #schemas
            #decode_fn
            #body_fn
            #spec
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{error_messages, pretty};

    #[test]
    fn tool_with_ctx() {
        insta::assert_snapshot!(pretty(expand_tool(
            quote!(),
            quote! {
                /// Look a customer up by email.
                #[allow(clippy::needless_pass_by_value)]
                async fn lookup_customer(ctx: &Ctx, /** the customer's email */ email: String) -> Result<String> {
                    let _ = ctx;
                    Ok(format!("customer {email}"))
                }
            },
        )));
    }

    #[test]
    fn tool_without_ctx() {
        insta::assert_snapshot!(pretty(expand_tool(
            quote!(name = "add_numbers"),
            quote! {
                /// Add two integers.
                pub async fn add(/// First.
                    mut a: i64, b: i64) -> Result<i64> {
                    a += b;
                    Ok(a)
                }
            },
        )));
    }

    /// The items of an expansion that callers, the registry and calling models see: the public
    /// function, the companion struct, the arguments struct, and the `spec()` function minus the
    /// handler.
    fn public_surface(tokens: TokenStream) -> Vec<String> {
        let file: syn::File = syn::parse2(tokens).unwrap();
        let [syn::Item::Fn(public_fn), syn::Item::Struct(companion), syn::Item::Const(block)] =
            &file.items[..]
        else {
            panic!("unexpected expansion shape")
        };
        let syn::Expr::Block(block) = &*block.expr else { panic!("expected a block") };
        let mut surface = vec![quote!(#public_fn).to_string(), quote!(#companion).to_string()];
        for stmt in &block.block.stmts {
            match stmt {
                syn::Stmt::Item(syn::Item::Struct(args)) => surface.push(quote!(#args).to_string()),
                // A worker's `chat` (a conversation turn) has no tool counterpart.
                syn::Stmt::Item(syn::Item::Impl(spec))
                    if !quote!(#spec).to_string().contains("async fn chat") =>
                {
                    let spec = quote!(#spec).to_string();
                    // Keep the name, description and schemas; drop what builds the body.
                    let end = spec.find(". handler").or_else(|| spec.find(")) . clone")).unwrap();
                    let start = spec.find("__llm_do_schemas").unwrap();
                    surface.push(
                        spec[start..end]
                            .replace("ToolSpecBuilder", "SpecBuilder")
                            .replace("WorkerSpecBuilder", "SpecBuilder"),
                    );
                }
                _ => {}
            }
        }
        surface
    }

    #[test]
    fn hardening_keeps_the_public_surface() {
        let worker = crate::expand_worker::expand_worker(
            quote!(prompt = "Classify this ticket: {ticket}"),
            quote! {
                /// Classify a customer support ticket.
                pub async fn classify(ctx: &Ctx, /// The ticket.
                    ticket: String, lang: Option<String>) -> Result<Category>;
            },
        );
        let tool = expand_tool(
            quote!(),
            quote! {
                /// Classify a customer support ticket.
                pub async fn classify(ctx: &Ctx, /// The ticket.
                    ticket: String, lang: Option<String>) -> Result<Category> {
                    Ok(Category::Bug)
                }
            },
        );
        let worker = public_surface(worker);
        let tool = public_surface(tool);
        assert_eq!(worker.len(), 4);
        assert_eq!(worker[..3], tool[..3]);
        // Same name, description and schemas; the worker adds its prompt.
        let prefix = tool[3].trim_end().strip_suffix(')').unwrap();
        assert!(worker[3].starts_with(prefix), "{}\n{}", worker[3], tool[3]);
    }

    #[test]
    fn tool_errors() {
        let tokens = expand_tool(
            quote!(prompt = "x", name = "a", name = "b"),
            quote!(
                async fn t(a: u8, ctx: &Ctx) -> u8;
            ),
        );
        assert_eq!(
            error_messages(&tokens),
            [
                "unknown #[tool] argument `prompt`; expected one of `name`, `description`, \
                 `approval`, `crate` (`prompt` is an argument of `#[worker]`)",
                "duplicate argument `name`",
                "the `ctx: &Ctx` parameter must come first",
                "a #[tool] function must return `Result<T>` (`llm_do::Result<T>`): every call can fail",
                "a #[tool] needs a body written in Rust (or use #[worker] to have a model do the work)",
            ]
        );
    }

    #[test]
    fn a_body_with_a_syntax_error_still_gets_its_companions() {
        let tokens = expand_tool(
            quote!(crate = "::llm_do_core"),
            quote! {
                async fn add(a: i64, b: i64) -> Result<i64> {
                    let sum = a + ;
                    Ok(sum)
                }
            },
        );
        // No error of the macro's own: rustc reports the one in the body, where it is.
        let text = tokens.to_string();
        assert!(!text.contains("compile_error"), "{text}");
        assert!(text.contains("let sum = a + ;"), "{text}");
        assert!(text.contains("pub fn spec ()"), "{text}");
        assert!(text.contains(":: llm_do_core :: __private :: ToolSpecBuilder"), "{text}");
        assert!(!text.contains(":: llm_do ::"), "{text}");
        assert!(text.contains(r#"crate = "::llm_do_core::__private::serde""#), "{text}");
    }
}
