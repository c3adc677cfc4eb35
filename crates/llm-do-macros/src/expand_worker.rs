//! `#[worker]`: a body-less `async fn` becomes a typed wrapper that calls an LLM-backed spec
//! through the ctx, plus the companion struct whose `spec()` builds that spec.

use crate::args::Args;
use crate::companion::{
    approval_call, args_struct, cfg_attrs, chat_impl, companion_struct, description_lit, name_lit,
    private, schemas_call, schemas_helper, spec_impl, typed_wrapper,
};
use crate::errors::Errors;
use crate::fallback;
use crate::item::FnItem;
use crate::kind::MacroKind;
use crate::signature::{self, Callable};
use crate::template;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

/// Expands `#[worker(attr)] item`.
pub fn expand_worker(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = Args::parse(MacroKind::Worker, attr, &mut errors);
    let item = match FnItem::parse(MacroKind::Worker, item.clone()) {
        Ok(item) => item,
        Err(e) => return fallback::not_a_function(&e, &item),
    };
    let callable = signature::analyze(MacroKind::Worker, &item, args.krate.as_ref(), &mut errors);
    check_prompt(&args, &callable, &mut errors);
    if args.name.is_none() {
        signature::check_default_name(&callable, &mut errors);
    }
    match errors.finish() {
        Ok(()) => generate(&args, &callable),
        Err(e) => fallback::expand(&item, &callable.krate, &e),
    }
}

/// Checks that there is a prompt and that its placeholders are parameters.
fn check_prompt(args: &Args, callable: &Callable, errors: &mut Errors) {
    let Some(prompt) = &args.prompt else {
        errors.at(
            Span::call_site(),
            "a #[worker] needs a prompt template, e.g. \
             `#[worker(prompt = \"Classify this ticket: {ticket}\")]`",
        );
        return;
    };
    for message in template::check(&prompt.value(), &callable.param_names()) {
        errors.at(prompt.span(), message);
    }
}

/// The expansion of a worker that passed every check.
fn generate(args: &Args, callable: &Callable) -> TokenStream {
    let p = private(callable);
    let name = name_lit(callable, args.name.as_ref());
    let description = description_lit(callable, args.description.as_ref());
    let prompt = &args.prompt;
    let system = args.system.as_ref().map(|s| quote!(.system(#s)));
    let model = args.model.as_ref().map(|m| quote!(.model(#m)));
    let approval = approval_call(callable, args.approval.as_ref());
    let tools = args.tools.iter().map(|path| quote_spanned!(path.span()=> .tool(#path::spec)));
    let stops = &args.stop;
    let stop = (!stops.is_empty()).then(|| quote!(.stop([#(#stops),*])));
    let settings = [
        ("temperature", &args.temperature),
        ("top_p", &args.top_p),
        ("max_tokens", &args.max_tokens),
        ("seed", &args.seed),
        ("max_turns", &args.max_turns),
        ("output_retries", &args.output_retries),
    ]
    .into_iter()
    .filter_map(|(method, value)| {
        let method = syn::Ident::new(method, Span::call_site());
        value.as_ref().map(|value| quote!(.#method(#value)))
    });
    let builder = quote! {
        #p::WorkerSpecBuilder::new(#name)
            .description(#description)
            .prompt(#prompt)
            #system
            #model
            #approval
            #(#tools)*
            #(#settings)*
            #stop
    };
    let builder = schemas_call(callable, &builder);

    let wrapper = typed_wrapper(callable, &name);
    let companion = companion_struct(callable);
    let cfgs = cfg_attrs(&callable.attrs);
    let args_struct = args_struct(callable);
    let schemas = schemas_helper(callable, &quote!(#p::WorkerSpecBuilder));
    let spec = spec_impl(callable, &quote!(#p::build_worker(#builder)));
    let chat = chat_impl(callable, &name);
    quote! {
        #wrapper
        #companion
        #(#cfgs)*
        const _: () = {
            #args_struct
            #schemas
            #spec
            #chat
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{error_messages, pretty};

    #[test]
    fn contract_example() {
        insta::assert_snapshot!(pretty(expand_worker(
            quote!(
                model = "openai:gpt-4o-mini",
                prompt = "Classify this ticket: {ticket}",
                tools = [lookup_customer]
            ),
            quote! {
                /// Classify a customer support ticket.
                pub async fn classify(ctx: &Ctx, ticket: String) -> Result<Category>;
            },
        )));
    }

    #[test]
    fn all_arguments() {
        insta::assert_snapshot!(pretty(expand_worker(
            quote!(
                prompt = "Summarize {text} in {lang}.",
                model = "anthropic:claude-sonnet-4-5",
                tools = [search::web, fetch, crate::tools::calc],
                system = "You are terse.",
                name = "summarize-v2",
                description = "Summarizes text.",
                temperature = 0.2,
                top_p = 1,
                max_tokens = 512,
                seed = 42,
                stop = ["\n\n", "END"],
                max_turns = 5,
                output_retries = 0,
            ),
            quote! {
                /// Ignored: `description` wins.
                #[cfg(feature = "summaries")]
                pub(crate) async fn summarize(_: &llm_do::Ctx, mut text: String, lang: String) -> llm_do::Result<String>;
            },
        )));
    }

    #[test]
    fn option_param_and_param_docs() {
        insta::assert_snapshot!(pretty(expand_worker(
            quote!(prompt = "Translate {text}"),
            quote! {
                /// Translate text.
                ///
                /// Keeps the tone.
                async fn translate(
                    ctx: &Ctx,
                    /// The text to translate.
                    text: String,
                    /** Target language; English when absent. */
                    lang: Option<String>,
                ) -> Result<String>;
            },
        )));
    }

    #[test]
    fn errors_fall_back_to_stand_ins() {
        let tokens = expand_worker(
            quote!(prompt = "Hi {nme}", colour = "red"),
            quote! {
                /// Greets.
                pub fn greet(&self, ctx: &Ctx, /// Who.
                    name: String) -> Result<String> { todo!() }
            },
        );
        insta::assert_snapshot!(pretty(tokens.clone()));
        assert_eq!(
            error_messages(&tokens),
            [
                "unknown #[worker] argument `colour`; expected one of `prompt`, `model`, `tools`, \
                 `system`, `name`, `description`, `temperature`, `top_p`, `max_tokens`, `seed`, \
                 `stop`, `max_turns`, `output_retries`, `approval`, `crate`",
                "a #[worker] function must be `async`: write `async fn greet`",
                "a #[worker] function cannot take `self`: declare a free function",
                "a #[worker] has no body: the model does the work. End the declaration with `;` \
                 (or use #[tool] for a function written in Rust)",
                "the prompt uses `{nme}`, which is not a parameter; the valid placeholders \
                 are `{name}`",
            ]
        );
    }

    #[test]
    fn missing_prompt_and_bad_default_name() {
        let tokens = expand_worker(
            quote!(),
            quote!(
                async fn café(ctx: &Ctx) -> Result<String>;
            ),
        );
        assert_eq!(
            error_messages(&tokens),
            [
                "a #[worker] needs a prompt template, e.g. \
                 `#[worker(prompt = \"Classify this ticket: {ticket}\")]`",
                "the name `café` contains `é`; names may only use ASCII letters, digits, `_` and \
                 `-`; set a valid one with `name = \"...\"`",
            ]
        );
    }

    #[test]
    fn not_a_function_is_left_alone() {
        let tokens = expand_worker(
            quote!(prompt = "x"),
            quote!(
                struct S;
            ),
        );
        assert_eq!(error_messages(&tokens), ["#[worker] can only be applied to an `async fn`"]);
        assert!(tokens.to_string().ends_with("struct S ;"));
    }
}
