//! Analysis of the function signature: [`analyze`] turns a [`FnItem`] into a [`Callable`] (its
//! ctx parameter, its JSON parameters, its result type), recording every rule it breaks.
//!
//! The rules: an `async fn`, not `const`/`unsafe`/`extern`, no generics, no `self`, no variadics;
//! parameters are plain names (`x: T` or `mut x: T`) of owned types; a `&Ctx` parameter may only
//! come first (and a worker must have one); the result is `Result<T>`; a worker has no body and a
//! tool has one.
//!
//! (Just over 400 lines: each rule above is one check with its spanned error, all collected in
//! one pass over the signature.)

use crate::errors::Errors;
use crate::item::{FnBody, FnItem};
use crate::kind::MacroKind;
use crate::{doc, name};
use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{
    Attribute, FnArg, GenericArgument, Ident, Pat, PatIdent, Path, PathArguments, ReturnType,
    Signature, Token, Type, TypeImplTrait, TypeReference, Visibility,
};

/// A function that passed (or, when `errors` is not empty, partly passed) the checks.
pub(crate) struct Callable {
    /// The outer attributes, doc comments included.
    pub(crate) attrs: Vec<Attribute>,
    /// The visibility.
    pub(crate) vis: Visibility,
    /// The signature as written, minus the doc comments of parameters (rustc rejects those).
    pub(crate) sig: Signature,
    /// The `&Ctx` parameter, when there is one.
    pub(crate) ctx: Option<CtxParam>,
    /// The other parameters: the properties of the arguments object.
    pub(crate) params: Vec<Param>,
    /// The `T` of `Result<T>`, when the result type is one.
    pub(crate) output: Option<Type>,
    /// The path of the llm-do crate that generated code uses: `::llm_do`, or `crate = "..."`.
    pub(crate) krate: Path,
}

/// The `ctx: &Ctx` parameter.
pub(crate) struct CtxParam {
    /// Its name; `None` for `_: &Ctx`.
    pub(crate) ident: Option<Ident>,
    /// Its type, as written.
    pub(crate) ty: Type,
}

/// A parameter that travels as JSON.
pub(crate) struct Param {
    /// Its name, which is also the property name.
    pub(crate) ident: Ident,
    /// Its type.
    pub(crate) ty: Type,
    /// Its doc comments: the property's description.
    pub(crate) docs: Vec<Attribute>,
    /// Its other attributes (lint levels), which stay on the function.
    pub(crate) attrs: Vec<Attribute>,
}

impl Callable {
    /// The name callers and models use: `name = "..."`, else the function's name.
    pub(crate) fn default_name(&self) -> String {
        self.sig.ident.unraw().to_string()
    }

    /// The parameter names, as placeholders and properties.
    pub(crate) fn param_names(&self) -> Vec<String> {
        self.params.iter().map(|p| p.ident.unraw().to_string()).collect()
    }

    /// The description written in the item's doc comments.
    pub(crate) fn doc_description(&self) -> String {
        doc::description(&self.attrs)
    }
}

impl CtxParam {
    /// The name to refer to the ctx by in generated code (`_` gets a hygienic one).
    pub(crate) fn ident(&self) -> Ident {
        self.ident.clone().unwrap_or_else(|| Ident::new("__llm_do_ctx", Span::mixed_site()))
    }
}

/// Analyzes `item` as the function of `kind`'s attribute, recording every problem in `errors`.
/// `krate` is the `crate = "..."` override, if any.
pub(crate) fn analyze(
    kind: MacroKind,
    item: &FnItem,
    krate: Option<&Path>,
    errors: &mut Errors,
) -> Callable {
    let attr = kind.attr();
    let sig = &item.sig;
    check_header(kind, sig, errors);

    let mut ctx = None;
    let mut params = Vec::new();
    let mut clean_inputs = Punctuated::<FnArg, Token![,]>::new();
    // The position among typed parameters (a `self`, already an error, does not count).
    let mut index = 0;
    for input in &sig.inputs {
        let pat_type = match input {
            FnArg::Receiver(receiver) => {
                errors.spanned(
                    receiver,
                    format_args!("a {attr} function cannot take `self`: declare a free function"),
                );
                clean_inputs.push(input.clone());
                continue;
            }
            FnArg::Typed(pat_type) => pat_type,
        };
        index += 1;
        let first = index == 1;
        let (docs, attrs) = split_param_attrs(kind, &pat_type.attrs, errors);
        let mut clean = pat_type.clone();
        clean.attrs.clone_from(&attrs);
        clean_inputs.push(FnArg::Typed(clean));

        if let Some(shape) = ctx_shape(&pat_type.ty) {
            match shape {
                CtxShape::Shared => {}
                CtxShape::Mut => errors.spanned(
                    &pat_type.ty,
                    "take the context as `&Ctx`: it is shared, never `&mut`",
                ),
                CtxShape::Owned => {
                    errors.spanned(&pat_type.ty, "take the context by reference: `ctx: &Ctx`");
                }
            }
            if !first {
                errors.spanned(pat_type, "the `ctx: &Ctx` parameter must come first");
                continue;
            }
            let ident = match &*pat_type.pat {
                Pat::Wild(_) => None,
                pat => plain_ident(pat).or_else(|| {
                    errors.spanned(pat, "expected a name for the context, e.g. `ctx: &Ctx`");
                    None
                }),
            };
            ctx = Some(CtxParam { ident, ty: (*pat_type.ty).clone() });
            continue;
        }

        if kind == MacroKind::Worker && first {
            errors.spanned(
                pat_type,
                "the first parameter of a #[worker] is its context: add `ctx: &Ctx` before it",
            );
        }
        let Some(ident) = plain_ident(&pat_type.pat) else {
            errors.spanned(
                &pat_type.pat,
                format_args!(
                    "parameters of a {attr} function must be plain names, e.g. `ticket: String`: \
                     each one is a property of the JSON arguments"
                ),
            );
            continue;
        };
        UnsupportedTypes { errors: &mut *errors, of: ("a parameter", "arguments") }
            .visit_type(&pat_type.ty);
        params.push(Param { ident, ty: (*pat_type.ty).clone(), docs, attrs });
    }
    if kind == MacroKind::Worker && index == 0 {
        errors.at(
            sig.paren_token.span.join(),
            "a #[worker] takes its context as first parameter: `(ctx: &Ctx, ...)`",
        );
    }

    let output = result_type(kind, sig, krate, errors);
    check_body(kind, &item.body, errors);

    let mut sig = sig.clone();
    sig.inputs = clean_inputs;
    Callable {
        attrs: item.attrs.clone(),
        vis: item.vis.clone(),
        sig,
        ctx,
        params,
        output,
        krate: krate.cloned().unwrap_or_else(default_crate),
    }
}

/// Checks the name that will be registered when no `name = "..."` overrides it.
pub(crate) fn check_default_name(callable: &Callable, errors: &mut Errors) {
    if let Err(message) = name::check(&callable.default_name()) {
        errors.spanned(
            &callable.sig.ident,
            format_args!("{message}; set a valid one with `name = \"...\"`"),
        );
    }
}

/// Checks the qualifiers, generics and variadics of `sig`.
fn check_header(kind: MacroKind, sig: &Signature, errors: &mut Errors) {
    let attr = kind.attr();
    if let Some(constness) = &sig.constness {
        errors.spanned(constness, format_args!("a {attr} function cannot be `const`"));
    }
    if sig.asyncness.is_none() {
        errors.spanned(
            sig.fn_token,
            format_args!("a {attr} function must be `async`: write `async fn {}`", sig.ident),
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(unsafety, format_args!("a {attr} function cannot be `unsafe`"));
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, format_args!("a {attr} function cannot have an ABI (`extern`)"));
    }
    if !sig.generics.params.is_empty() {
        errors.spanned(
            &sig.generics,
            format_args!(
                "a {attr} function cannot be generic: its parameters and result are described by \
                 one fixed JSON Schema"
            ),
        );
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors
            .spanned(where_clause, format_args!("a {attr} function cannot have a `where` clause"));
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(variadic, format_args!("a {attr} function cannot be variadic"));
    }
}

/// Splits a parameter's attributes into doc comments and lint attributes, rejecting others.
fn split_param_attrs(
    kind: MacroKind,
    attrs: &[Attribute],
    errors: &mut Errors,
) -> (Vec<Attribute>, Vec<Attribute>) {
    const LINTS: &[&str] = &["allow", "warn", "deny", "forbid", "expect"];
    let mut docs = Vec::new();
    let mut others = Vec::new();
    for attr in attrs {
        if doc::is_doc(attr) {
            docs.push(attr.clone());
        } else if LINTS.iter().any(|lint| attr.path().is_ident(lint)) {
            others.push(attr.clone());
        } else {
            errors.spanned(attr, refused_param_attr(kind, attr));
        }
    }
    (docs, others)
}

/// The error for an attribute a parameter does not take: what it takes, and the way to get
/// what the refused attribute was for.
fn refused_param_attr(kind: MacroKind, attr: &Attribute) -> String {
    let rule = format!(
        "parameters of a {} function accept only doc comments (the parameter's description \
         for the model) and lint attributes such as `#[allow(...)]`",
        kind.attr()
    );
    let path = attr.path();
    if path.is_ident("serde") || path.is_ident("schemars") {
        format!(
            "{rule}; a parameter's JSON name is its Rust name (`r#type` is `type`): for other \
             serde or schemars options, take a struct that derives `Deserialize` and \
             `JsonSchema` with the options on its fields"
        )
    } else if path.is_ident("cfg") || path.is_ident("cfg_attr") {
        format!(
            "{rule}; a parameter cannot be compiled out, as the schema the model sees would \
             differ between builds: keep it, or make it an `Option<T>`"
        )
    } else {
        rule
    }
}

/// How a parameter whose type names `Ctx` takes it.
enum CtxShape {
    /// `&Ctx`: right.
    Shared,
    /// `&mut Ctx`.
    Mut,
    /// `Ctx`.
    Owned,
}

/// Whether `ty` is a context parameter type (any path ending in `Ctx`), and how it is taken.
fn ctx_shape(ty: &Type) -> Option<CtxShape> {
    match ty {
        Type::Group(group) => ctx_shape(&group.elem),
        Type::Paren(paren) => ctx_shape(&paren.elem),
        Type::Reference(reference) if is_ctx_path(&reference.elem) => {
            Some(if reference.mutability.is_some() { CtxShape::Mut } else { CtxShape::Shared })
        }
        ty if is_ctx_path(ty) => Some(CtxShape::Owned),
        _ => None,
    }
}

/// `true` for a path type whose last segment is `Ctx`.
fn is_ctx_path(ty: &Type) -> bool {
    match ty {
        Type::Group(group) => is_ctx_path(&group.elem),
        Type::Paren(paren) => is_ctx_path(&paren.elem),
        Type::Path(path) => {
            path.qself.is_none() && path.path.segments.last().is_some_and(|s| s.ident == "Ctx")
        }
        _ => false,
    }
}

/// The name bound by `x` or `mut x`; `None` for other patterns.
fn plain_ident(pat: &Pat) -> Option<Ident> {
    match pat {
        Pat::Ident(PatIdent { by_ref: None, subpat: None, ident, .. }) => Some(ident.clone()),
        _ => None,
    }
}

/// Reports parameter and result types that cannot be decoded from JSON: borrowed (`&str`) and
/// `impl Trait` types, wherever they occur in the type.
struct UnsupportedTypes<'a> {
    /// Where problems go.
    errors: &'a mut Errors,
    /// What the type is of ("a parameter", "a result") and what is decoded ("arguments",
    /// "results").
    of: (&'static str, &'static str),
}

impl<'ast> Visit<'ast> for UnsupportedTypes<'_> {
    fn visit_type_reference(&mut self, reference: &'ast TypeReference) {
        let owned = match &*reference.elem {
            Type::Path(p) if p.path.is_ident("str") => "`String`, not `&str`".to_owned(),
            Type::Slice(s) => {
                let elem = &s.elem;
                format!("`Vec<{}>`", quote::quote!(#elem))
            }
            _ => "e.g. `String`, `Vec<T>`".to_owned(),
        };
        let (of, decoded) = self.of;
        self.errors.spanned(
            reference,
            format_args!(
                "{of} cannot borrow: {decoded} are decoded from JSON into owned values (use an \
                 owned type: {owned})"
            ),
        );
    }

    fn visit_type_impl_trait(&mut self, impl_trait: &'ast TypeImplTrait) {
        let (of, decoded) = self.of;
        self.errors.spanned(
            impl_trait,
            format_args!(
                "`impl Trait` cannot be {of} type: {decoded} are decoded from JSON into one \
                 concrete type"
            ),
        );
        visit::visit_type_impl_trait(self, impl_trait);
    }
}

/// The `T` of the `Result<T>` that `sig` returns.
fn result_type(
    kind: MacroKind,
    sig: &Signature,
    krate: Option<&Path>,
    errors: &mut Errors,
) -> Option<Type> {
    let attr = kind.attr();
    let ty = match &sig.output {
        ReturnType::Default => {
            errors.at(
                sig.paren_token.span.close(),
                format_args!(
                    "a {attr} function must return `Result<T>`: add e.g. `-> Result<String>` \
                     after the parameters"
                ),
            );
            return None;
        }
        ReturnType::Type(_, ty) => ty,
    };
    let found = result_ok_type(ty, krate, errors);
    if let Some(ok) = &found {
        UnsupportedTypes { errors: &mut *errors, of: ("a result", "results") }.visit_type(ok);
    }
    if found.is_none() {
        errors.spanned(
            ty,
            format_args!(
                "a {attr} function must return `Result<T>` (`llm_do::Result<T>`): every call can fail"
            ),
        );
    }
    found
}

/// `T` when `ty` is a path ending in `Result<T>` or `Result<T, E>`. An `E` must be llm-do's
/// `Error` (a path ending in `Error`): the generated code turns failures into it and back, and
/// any other type would fail there, in code the user never wrote. For the same reason a
/// one-argument `Result<T>` reached through another crate's path (`std::io::Result<T>`, an
/// alias with its own error type) is refused; `Result<T>` alone is the prelude's.
fn result_ok_type(ty: &Type, krate: Option<&Path>, errors: &mut Errors) -> Option<Type> {
    match ty {
        Type::Group(group) => result_ok_type(&group.elem, krate, errors),
        Type::Paren(paren) => result_ok_type(&paren.elem, krate, errors),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            if last.ident != "Result" {
                return None;
            }
            let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
            if args.args.len() == 1
                && !is_llm_do_path(&path.path, krate)
                && !is_std_result(&path.path)
            {
                let mut alias = path.path.clone();
                if let Some(last) = alias.segments.last_mut() {
                    last.arguments = PathArguments::None;
                }
                let alias = quote::quote!(#alias).to_string().replace(' ', "");
                errors.spanned(
                    path,
                    format_args!(
                        "`{alias}<T>` is not llm-do's `Result`: the error type of a worker or \
                         tool is `llm_do::Error`; write `Result<T>` (`llm_do::Result<T>`) and \
                         convert failures of your own with `?` or `llm_do::Error::msg`"
                    ),
                );
            }
            if let Some(error) = args.args.iter().nth(1)
                && !is_error_path(error, krate)
            {
                errors.spanned(
                    error,
                    "the error type of a worker or tool is `llm_do::Error`: write \
                     `llm_do::Result<T>` (a failure of your own converts with `?` or \
                     `llm_do::Error::msg`)",
                );
            }
            match args.args.first()? {
                GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether a generic argument names llm-do's `Error`: `Error` (as the prelude imports it), or
/// a path from llm-do (see [`is_llm_do_path`]) ending in `Error`.
fn is_error_path(arg: &GenericArgument, krate: Option<&Path>) -> bool {
    let GenericArgument::Type(Type::Path(path)) = arg else { return false };
    let segments = &path.path.segments;
    let ends_in_error =
        segments.last().is_some_and(|s| s.ident == "Error" && s.arguments.is_none());
    path.qself.is_none() && ends_in_error && is_llm_do_path(&path.path, krate)
}

/// Whether `path` names an item of llm-do: a single name (as the prelude imports it), a path
/// from `llm_do` (or `llm_do_core`), or, with `crate = "a::ours"`, a path through the name
/// llm-do goes by there (`ours::Error`, `a::ours::Error`).
fn is_llm_do_path(path: &Path, krate: Option<&Path>) -> bool {
    let segments = &path.segments;
    let renamed = krate.and_then(|k| k.segments.last()).is_some_and(|name| {
        segments.len() >= 2 && segments[segments.len() - 2].ident == name.ident
    });
    segments.len() == 1
        || renamed
        || segments.first().is_some_and(|s| s.ident == "llm_do" || s.ident == "llm_do_core")
}

/// Whether `path` is `std::result::Result` or `core::result::Result` (with a leading `::` or
/// not): the standard type, whose error type is checked separately.
fn is_std_result(path: &Path) -> bool {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    matches!(
        names.iter().map(String::as_str).collect::<Vec<_>>()[..],
        ["std" | "core", "result", "Result"]
    )
}

/// The path generated code reaches llm-do through unless `crate = "..."` says otherwise.
pub(crate) fn default_crate() -> Path {
    syn::parse_quote!(::llm_do)
}

/// Checks that a worker has no body and a tool has one.
fn check_body(kind: MacroKind, body: &FnBody, errors: &mut Errors) {
    match (kind, body) {
        (MacroKind::Worker, FnBody::Block(block)) => errors.at(
            block.span_open(),
            "a #[worker] has no body: the model does the work. End the declaration with `;` \
             (or use #[tool] for a function written in Rust)",
        ),
        (MacroKind::Tool, FnBody::Semi(semi)) => errors.spanned(
            semi,
            "a #[tool] needs a body written in Rust (or use #[worker] to have a model do the work)",
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::TokenStream;
    use quote::quote;

    /// The analysis of `item` and the error messages.
    fn analyze_tokens(kind: MacroKind, item: TokenStream) -> (Callable, Vec<String>) {
        let item = FnItem::parse(kind, item).unwrap();
        let mut errors = Errors::default();
        let callable = analyze(kind, &item, None, &mut errors);
        let messages = match errors.finish() {
            Ok(()) => vec![],
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        };
        (callable, messages)
    }

    #[test]
    fn splits_ctx_params_and_result() {
        let (callable, errors) = analyze_tokens(
            MacroKind::Worker,
            quote! {
                /// Doc.
                pub async fn classify(ctx: &llm_do::Ctx, /// The ticket.
                    mut ticket: String, r#type: Option<u8>) -> llm_do::Result<Category>;
            },
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(callable.ctx.as_ref().unwrap().ident.as_ref().unwrap(), "ctx");
        assert_eq!(callable.param_names(), ["ticket", "type"]);
        assert_eq!(callable.params[0].docs.len(), 1);
        let output = callable.output.as_ref().unwrap();
        assert_eq!(quote!(#output).to_string(), "Category");
        assert_eq!(callable.doc_description(), "Doc.");
        let sig = &callable.sig;
        assert_eq!(
            quote!(#sig).to_string(),
            quote!(async fn classify(ctx: &llm_do::Ctx, mut ticket: String, r#type: Option<u8>)
                -> llm_do::Result<Category>)
            .to_string()
        );
    }

    #[test]
    fn collects_every_header_problem() {
        let (_, errors) = analyze_tokens(
            MacroKind::Tool,
            quote!(
                const unsafe extern "C" fn f<T>(&self, (a, b): (u8, u8), s: &str) -> u8
                where
                    T: Copy;
            ),
        );
        assert_eq!(
            errors,
            [
                "a #[tool] function cannot be `const`",
                "a #[tool] function must be `async`: write `async fn f`",
                "a #[tool] function cannot be `unsafe`",
                "a #[tool] function cannot have an ABI (`extern`)",
                "a #[tool] function cannot be generic: its parameters and result are described by \
                 one fixed JSON Schema",
                "a #[tool] function cannot have a `where` clause",
                "a #[tool] function cannot take `self`: declare a free function",
                "parameters of a #[tool] function must be plain names, e.g. `ticket: String`: each \
                 one is a property of the JSON arguments",
                "a parameter cannot borrow: arguments are decoded from JSON into owned values (use \
                 an owned type: `String`, not `&str`)",
                "a #[tool] function must return `Result<T>` (`llm_do::Result<T>`): every call can fail",
                "a #[tool] needs a body written in Rust (or use #[worker] to have a model do the work)",
            ]
        );
    }

    #[test]
    fn worker_rules() {
        let (_, errors) = analyze_tokens(
            MacroKind::Worker,
            quote!(
                async fn w(x: String) {}
            ),
        );
        assert_eq!(
            errors,
            [
                "the first parameter of a #[worker] is its context: add `ctx: &Ctx` before it",
                "a #[worker] function must return `Result<T>`: add e.g. `-> Result<String>` after \
                 the parameters",
                "a #[worker] has no body: the model does the work. End the declaration with `;` \
                 (or use #[tool] for a function written in Rust)",
            ]
        );
        let (_, errors) = analyze_tokens(
            MacroKind::Worker,
            quote!(
                async fn w() -> Result<String>;
            ),
        );
        assert_eq!(
            errors,
            ["a #[worker] takes its context as first parameter: `(ctx: &Ctx, ...)`"]
        );
    }

    #[test]
    fn ctx_rules() {
        let (callable, errors) = analyze_tokens(
            MacroKind::Tool,
            quote!(
                async fn t(_: &Ctx) -> Result<u8> {
                    Ok(1)
                }
            ),
        );
        assert!(errors.is_empty());
        assert_eq!(callable.ctx.unwrap().ident(), "__llm_do_ctx");
        let (_, errors) = analyze_tokens(
            MacroKind::Tool,
            quote!(
                async fn t(a: u8, ctx: &Ctx, c: &mut Ctx, #[cfg(x)] d: u8) -> Result<u8> {
                    Ok(a)
                }
            ),
        );
        assert_eq!(
            errors,
            [
                "the `ctx: &Ctx` parameter must come first",
                "take the context as `&Ctx`: it is shared, never `&mut`",
                "the `ctx: &Ctx` parameter must come first",
                "parameters of a #[tool] function accept only doc comments (the parameter's \
                 description for the model) and lint attributes such as `#[allow(...)]`; a \
                 parameter cannot be compiled out, as the schema the model sees would differ \
                 between builds: keep it, or make it an `Option<T>`",
            ]
        );
    }

    #[test]
    fn error_paths_through_the_crate_override() {
        let krate: Path = syn::parse_quote!(crate::renamed::ours);
        for ty in [quote!(Result<u8, ours::Error>), quote!(renamed::ours::Result<u8>)] {
            let item =
                FnItem::parse(MacroKind::Tool, quote!(async fn t() -> #ty { todo!() })).unwrap();
            let mut errors = Errors::default();
            let callable = analyze(MacroKind::Tool, &item, Some(&krate), &mut errors);
            assert!(errors.finish().is_ok(), "{ty}");
            assert_eq!(callable.krate, krate);
        }
        let (_, errors) = analyze_tokens(
            MacroKind::Tool,
            quote!(
                async fn t() -> Result<u8, ours::Error> {
                    todo!()
                }
            ),
        );
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn result_types() {
        for ty in [
            quote!(Result<u8>),
            quote!(::llm_do::Result<u8>),
            quote!(std::result::Result<u8, llm_do::Error>),
            quote!(Result<Vec<String>, Error>),
            quote!(llm_do_core::Result<u8>),
            quote!(anyhow::Result<u8, llm_do::Error>),
        ] {
            let (callable, errors) =
                analyze_tokens(MacroKind::Tool, quote!(async fn t() -> #ty { todo!() }));
            assert!(errors.is_empty(), "{ty}");
            assert!(callable.output.is_some());
        }
        for ty in [
            quote!(u8),
            quote!(Result),
            quote!(Option<u8>),
            quote!(impl Future),
            quote!(Result<&'static str>),
            quote!(Result<Vec<&'static str>>),
            quote!(Result<u8, String>),
            quote!(std::result::Result<u8, std::io::Error>),
            quote!(std::io::Result<u8>),
            quote!(io::Result<u8>),
            quote!(anyhow::Result<u8>),
        ] {
            let (_, errors) =
                analyze_tokens(MacroKind::Tool, quote!(async fn t() -> #ty { todo!() }));
            assert_eq!(errors.len(), 1, "{ty}");
        }
    }
}
