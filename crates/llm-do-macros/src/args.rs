//! The attribute arguments: `#[worker(prompt = "...", model = "...", tools = [...], ...)]` and
//! `#[tool(name = "...", description = "...")]`.
//!
//! Every argument is `key = value`, separated by commas. Parsing recovers after a bad argument
//! (it skips to the next comma), so all problems are reported at once: unknown and duplicate
//! keys (spanned on the key), values of the wrong kind or out of range (spanned on the value).
//! Checks that need the function signature (the prompt's placeholders) happen later.

use crate::errors::Errors;
use crate::keys::{self, Key, ValueKind};
use crate::kind::MacroKind;
use crate::{model, name};
use proc_macro2::{Literal, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Path, Token, bracketed, token};

/// The parsed and validated arguments of one attribute. Keys the macro does not accept are
/// never set.
#[derive(Default)]
pub(crate) struct Args {
    /// `prompt = "..."`, not yet checked against the parameters.
    pub(crate) prompt: Option<LitStr>,
    /// `model = "..."`, checked.
    pub(crate) model: Option<LitStr>,
    /// `system = "..."`.
    pub(crate) system: Option<LitStr>,
    /// `name = "..."`, checked.
    pub(crate) name: Option<LitStr>,
    /// `description = "..."`.
    pub(crate) description: Option<LitStr>,
    /// `tools = [...]`, without repeats.
    pub(crate) tools: Vec<Path>,
    /// `temperature`, as an `f32` literal.
    pub(crate) temperature: Option<Literal>,
    /// `top_p`, as an `f32` literal.
    pub(crate) top_p: Option<Literal>,
    /// `max_tokens`, as a `u32` literal.
    pub(crate) max_tokens: Option<Literal>,
    /// `seed`, as a `u64` literal.
    pub(crate) seed: Option<Literal>,
    /// `stop`, checked (at most four, none empty); empty when not given.
    pub(crate) stop: Vec<LitStr>,
    /// `max_turns`, as a `u32` literal.
    pub(crate) max_turns: Option<Literal>,
    /// `output_retries`, as a `u32` literal.
    pub(crate) output_retries: Option<Literal>,
    /// `approval = "allow" | "ask" | "deny"`, checked.
    pub(crate) approval: Option<LitStr>,
    /// `crate = "path"`: the path of the llm-do crate, parsed.
    pub(crate) krate: Option<Path>,
}

/// A parsed value, before it is stored under its key.
enum Value {
    /// A string literal.
    Str(LitStr),
    /// A path given as a string.
    Path(Path),
    /// A list of paths.
    Paths(Vec<Path>),
    /// A list of string literals (one given alone counts as a list of one).
    Strs(Vec<LitStr>),
    /// A number, converted to the literal to emit.
    Number(Literal),
}

impl Args {
    /// Parses the arguments of `kind`'s attribute, recording every problem in `errors`.
    pub(crate) fn parse(kind: MacroKind, tokens: TokenStream, errors: &mut Errors) -> Args {
        let mut args = Args::default();
        let parser = |input: ParseStream| {
            parse_list(kind, input, &mut args, errors);
            Ok(())
        };
        // `parse_list` consumes everything and records its own errors.
        let _ = parser.parse2(tokens);
        args
    }

    /// Stores `value` under `key` (already known to be accepted and not a repeat).
    fn store(&mut self, key: Key, value: Value) {
        match (key, value) {
            (Key::Prompt, Value::Str(s)) => self.prompt = Some(s),
            (Key::Model, Value::Str(s)) => self.model = Some(s),
            (Key::System, Value::Str(s)) => self.system = Some(s),
            (Key::Name, Value::Str(s)) => self.name = Some(s),
            (Key::Description, Value::Str(s)) => self.description = Some(s),
            (Key::Tools, Value::Paths(p)) => self.tools = p,
            (Key::Temperature, Value::Number(n)) => self.temperature = Some(n),
            (Key::TopP, Value::Number(n)) => self.top_p = Some(n),
            (Key::MaxTokens, Value::Number(n)) => self.max_tokens = Some(n),
            (Key::Seed, Value::Number(n)) => self.seed = Some(n),
            (Key::Stop, Value::Strs(s)) => self.stop = s,
            (Key::MaxTurns, Value::Number(n)) => self.max_turns = Some(n),
            (Key::OutputRetries, Value::Number(n)) => self.output_retries = Some(n),
            (Key::Approval, Value::Str(s)) => self.approval = Some(s),
            (Key::Crate, Value::Path(p)) => self.krate = Some(p),
            (key, _) => unreachable!("value of the wrong kind for `{}`", key.as_str()),
        }
    }
}

/// Parses `key = value, ...` to the end of `input`.
fn parse_list(kind: MacroKind, input: ParseStream, args: &mut Args, errors: &mut Errors) {
    let mut seen: Vec<Key> = Vec::new();
    while !input.is_empty() {
        match parse_key(kind, input) {
            Ok((key, span)) => {
                let repeated = seen.contains(&key);
                if repeated {
                    errors.at(span, format_args!("duplicate argument `{}`", key.as_str()));
                }
                seen.push(key);
                if let Some(value) = parse_value(key, span, input, errors)
                    && !repeated
                {
                    args.store(key, value);
                }
            }
            Err(e) => {
                errors.push(e);
                skip_to_comma(input);
            }
        }
        if input.is_empty() {
            break;
        }
        // `parse_value` stops at a comma, and so does `skip_to_comma`.
        let _ = input.parse::<Token![,]>();
    }
}

/// Parses a key that `kind` accepts (any identifier, keywords included: `crate`), looked up
/// in the table of keys.
fn parse_key(kind: MacroKind, input: ParseStream) -> syn::Result<(Key, Span)> {
    let names: Vec<String> = keys::accepted(kind).map(|d| format!("`{}`", d.name)).collect();
    if !input.peek(Ident::peek_any) {
        return Err(input.error(format_args!("expected one of: {}", names.join(", "))));
    }
    let ident = input.call(Ident::parse_any)?;
    let key = ident.unraw().to_string();
    if let Some(def) = keys::accepted(kind).find(|d| d.name == key) {
        return Ok((def.key, ident.span()));
    }
    let hint = if kind == MacroKind::Tool && keys::KEYS.iter().any(|d| d.name == key) {
        format!(" (`{ident}` is an argument of `#[worker]`)")
    } else {
        String::new()
    };
    let message = format!(
        "unknown {} argument `{ident}`; expected one of {}{hint}",
        kind.attr(),
        names.join(", ")
    );
    Err(syn::Error::new(ident.span(), message))
}

/// Parses `= value` after `key`, up to the next comma. Returns `None` after recording an error.
fn parse_value(key: Key, key_span: Span, input: ParseStream, errors: &mut Errors) -> Option<Value> {
    if !input.peek(Token![=]) {
        errors.at(
            key_span,
            format_args!(
                "expected `=` and a value after `{}`, e.g. `{}`",
                key.as_str(),
                key.example()
            ),
        );
        skip_to_comma(input);
        return None;
    }
    let eq: Token![=] = input.parse().ok()?;
    let mut tokens = TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        tokens.extend([input.parse::<TokenTree>().ok()?]);
    }
    if tokens.is_empty() {
        errors.at(eq.span, format_args!("expected a value, e.g. `{}`", key.example()));
        return None;
    }
    let value = match key.def().value {
        ValueKind::Str => parse_str(key, tokens).map(Value::Str),
        ValueKind::PathStr => parse_path_str(key, tokens).map(Value::Path),
        ValueKind::Paths => parse_paths(tokens).map(Value::Paths),
        ValueKind::Strs => parse_strs(key, tokens).map(Value::Strs),
        ValueKind::Float => parse_float(key, tokens).map(Value::Number),
        ValueKind::U32 | ValueKind::U64 => parse_int(key, tokens).map(Value::Number),
    };
    let value = errors.ok(value)?;
    errors.ok(validate(key, &value))?;
    Some(value)
}

/// Consumes tokens up to (not including) the next top-level comma.
fn skip_to_comma(input: ParseStream) {
    while !input.is_empty() && !input.peek(Token![,]) {
        let _ = input.parse::<TokenTree>();
    }
}

/// Parses a string literal.
fn parse_str(key: Key, tokens: TokenStream) -> syn::Result<LitStr> {
    syn::parse2::<LitStr>(tokens.clone()).map_err(|_| {
        syn::Error::new_spanned(
            tokens,
            format!("`{}` expects a string literal, e.g. `{}`", key.as_str(), key.example()),
        )
    })
}

/// Parses a string literal holding a path, e.g. `"::llm_do"` (spanned on the literal).
fn parse_path_str(key: Key, tokens: TokenStream) -> syn::Result<Path> {
    let lit = parse_str(key, tokens)?;
    lit.parse_with(Path::parse_mod_style).map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!("`{}` expects a path, e.g. `{}`", key.as_str(), key.example()),
        )
    })
}

/// Parses `[path, path::to::x, ...]`, rejecting repeats.
fn parse_paths(tokens: TokenStream) -> syn::Result<Vec<Path>> {
    let parser = |input: ParseStream| {
        if !input.peek(token::Bracket) {
            return Err(syn::Error::new_spanned(
                input.cursor().token_stream(),
                format!("`tools` expects a list in brackets, e.g. `{}`", Key::Tools.example()),
            ));
        }
        let content;
        bracketed!(content in input);
        let list =
            Punctuated::<Path, Token![,]>::parse_terminated_with(&content, Path::parse_mod_style)?;
        Ok(list.into_iter().collect::<Vec<_>>())
    };
    let paths = parser.parse2(tokens)?;
    let mut errors = Errors::default();
    let mut unique: Vec<Path> = Vec::new();
    for path in paths {
        if unique.contains(&path) {
            errors.spanned(&path, "this tool is already listed");
        } else {
            unique.push(path);
        }
    }
    errors.finish().map(|()| unique)
}

/// Parses a string literal, or `["...", ...]`.
fn parse_strs(key: Key, tokens: TokenStream) -> syn::Result<Vec<LitStr>> {
    if let Ok(one) = syn::parse2::<LitStr>(tokens.clone()) {
        return Ok(vec![one]);
    }
    let parser = |input: ParseStream| {
        let content;
        bracketed!(content in input);
        let list = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
        Ok(list.into_iter().collect::<Vec<_>>())
    };
    parser.parse2(tokens.clone()).map_err(|_| {
        syn::Error::new_spanned(
            tokens,
            format!(
                "`{}` expects a string or a list of strings in brackets, e.g. `{}`",
                key.as_str(),
                key.example()
            ),
        )
    })
}

/// The error for a negative number.
fn negative(key: Key, tokens: TokenStream) -> syn::Error {
    syn::Error::new_spanned(tokens, format!("`{}` cannot be negative", key.as_str()))
}

/// Parses a float or integer literal as `f32`.
fn parse_float(key: Key, tokens: TokenStream) -> syn::Result<Literal> {
    let parser = |input: ParseStream| {
        if input.peek(Token![-]) {
            return Err(negative(key, input.cursor().token_stream()));
        }
        let (value, span) = if input.peek(syn::LitFloat) {
            let lit = input.parse::<syn::LitFloat>()?;
            (lit.base10_parse::<f32>()?, lit.span())
        } else if input.peek(syn::LitInt) {
            let lit = input.parse::<syn::LitInt>()?;
            (lit.base10_parse::<f32>()?, lit.span())
        } else {
            return Err(syn::Error::new_spanned(
                input.cursor().token_stream(),
                format!("`{}` expects a number, e.g. `{}`", key.as_str(), key.example()),
            ));
        };
        if !value.is_finite() {
            return Err(syn::Error::new(span, "the number is too large"));
        }
        let mut lit = Literal::f32_unsuffixed(value);
        lit.set_span(span);
        Ok(lit)
    };
    parser.parse2(tokens)
}

/// Parses an integer literal as `u32` or `u64`, as `key` needs.
fn parse_int(key: Key, tokens: TokenStream) -> syn::Result<Literal> {
    let parser = |input: ParseStream| {
        if input.peek(Token![-]) {
            return Err(negative(key, input.cursor().token_stream()));
        }
        if !input.peek(syn::LitInt) {
            return Err(syn::Error::new_spanned(
                input.cursor().token_stream(),
                format!("`{}` expects an integer, e.g. `{}`", key.as_str(), key.example()),
            ));
        }
        let lit = input.parse::<syn::LitInt>()?;
        let mut out = match key.def().value {
            ValueKind::U64 => Literal::u64_unsuffixed(lit.base10_parse::<u64>()?),
            _ => Literal::u32_unsuffixed(lit.base10_parse::<u32>()?),
        };
        out.set_span(lit.span());
        Ok(out)
    };
    parser.parse2(tokens)
}

/// Checks what can be checked of a value on its own.
fn validate(key: Key, value: &Value) -> syn::Result<()> {
    let fail = |span: Span, message: String| Err(syn::Error::new(span, message));
    match (key, value) {
        (Key::Model, Value::Str(s)) => model::check(&s.value()).or_else(|m| fail(s.span(), m)),
        (Key::Name, Value::Str(s)) => name::check(&s.value()).or_else(|m| fail(s.span(), m)),
        (Key::Approval, Value::Str(s)) => match s.value().as_str() {
            "allow" | "ask" | "deny" => Ok(()),
            other => fail(
                s.span(),
                format!("`approval` is `\"allow\"`, `\"ask\"` or `\"deny\"`, not `\"{other}\"`"),
            ),
        },
        (Key::Stop, Value::Strs(stops)) => {
            use llm_do_syntax::stop::{self, StopError};
            let values: Vec<String> = stops.iter().map(LitStr::value).collect();
            stop::check(&values).or_else(|e| {
                // Spanned on the empty or too long literal, or on the first one too many.
                let at = match e {
                    StopError::Empty { index } | StopError::TooLong { index, .. } => index,
                    _ => stop::MAX,
                };
                let span = stops.get(at).map_or_else(Span::call_site, LitStr::span);
                fail(span, format!("`stop`: {e}"))
            })
        }
        (Key::TopP, Value::Number(n)) if number(n) > 1.0 => {
            fail(n.span(), "`top_p` must be between 0 and 1".to_owned())
        }
        (Key::MaxTurns | Key::MaxTokens, Value::Number(n)) if number(n) == 0.0 => {
            fail(n.span(), format!("`{}` must be at least 1", key.as_str()))
        }
        _ => Ok(()),
    }
}

/// The value of a literal this module made.
fn number(lit: &Literal) -> f64 {
    lit.to_string().parse().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    /// The error messages of parsing `tokens` as `kind`'s arguments.
    fn errors(kind: MacroKind, tokens: TokenStream) -> Vec<String> {
        let mut errors = Errors::default();
        Args::parse(kind, tokens, &mut errors);
        match errors.finish() {
            Ok(()) => vec![],
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn parses_every_worker_argument() {
        let mut errors = Errors::default();
        let args = Args::parse(
            MacroKind::Worker,
            quote! {
                prompt = "Hi {x}", model = "openai:gpt-4o", tools = [a, b::c,],
                system = "Be brief.", name = "greet", description = "Greets.",
                temperature = 1, top_p = 0.5, max_tokens = 64, seed = 18446744073709551615,
                stop = ["\n\n", "END"], max_turns = 3, output_retries = 0,
            },
            &mut errors,
        );
        assert_eq!(errors.finish().map_err(|e| e.to_string()), Ok(()));
        assert_eq!(args.prompt.unwrap().value(), "Hi {x}");
        assert_eq!(args.model.unwrap().value(), "openai:gpt-4o");
        assert_eq!(args.tools.len(), 2);
        assert_eq!(args.system.unwrap().value(), "Be brief.");
        assert_eq!(args.name.unwrap().value(), "greet");
        assert_eq!(args.description.unwrap().value(), "Greets.");
        assert_eq!(args.temperature.unwrap().to_string(), "1.0");
        assert_eq!(args.top_p.unwrap().to_string(), "0.5");
        assert_eq!(args.max_tokens.unwrap().to_string(), "64");
        assert_eq!(args.seed.unwrap().to_string(), "18446744073709551615");
        assert_eq!(args.max_turns.unwrap().to_string(), "3");
        assert_eq!(args.output_retries.unwrap().to_string(), "0");
        assert_eq!(args.stop.iter().map(LitStr::value).collect::<Vec<_>>(), ["\n\n", "END"]);
    }

    #[test]
    fn stop_sequences() {
        let mut found = Errors::default();
        let args = Args::parse(MacroKind::Worker, quote!(stop = "END"), &mut found);
        assert!(found.finish().is_ok());
        assert_eq!(args.stop.iter().map(LitStr::value).collect::<Vec<_>>(), ["END"]);
        assert_eq!(
            errors(MacroKind::Worker, quote!(stop = ["a", "b", "c", "d", "e"])),
            ["`stop`: 5 stop sequences are given; at most 4 are allowed"]
        );
        assert_eq!(
            errors(MacroKind::Worker, quote!(stop = ["a", ""])),
            ["`stop`: stop sequence 1 is empty"]
        );
        let long = "x".repeat(300);
        assert_eq!(
            errors(MacroKind::Worker, quote!(stop = ["a", #long])),
            ["`stop`: stop sequence 1 is 300 bytes long; at most 256 are allowed"]
        );
        assert_eq!(
            errors(MacroKind::Worker, quote!(stop = 3)),
            [
                r#"`stop` expects a string or a list of strings in brackets, e.g. `stop = ["\n\n", "END"]`"#
            ]
        );
        assert_eq!(
            errors(MacroKind::Tool, quote!(stop = "END")),
            [
                "unknown #[tool] argument `stop`; expected one of `name`, `description`, `approval`, \
              `crate` (`stop` is an argument of `#[worker]`)"
            ]
        );
    }

    #[test]
    fn unknown_arguments_list_the_accepted_ones() {
        assert_eq!(
            errors(MacroKind::Worker, quote!(prompt = "x", modle = "openai:x")),
            ["unknown #[worker] argument `modle`; expected one of `prompt`, `model`, `tools`, \
              `system`, `name`, `description`, `temperature`, `top_p`, `max_tokens`, `seed`, \
              `stop`, `max_turns`, `output_retries`, `approval`, `crate`"]
        );
        assert_eq!(
            errors(MacroKind::Tool, quote!(prompt = "x")),
            ["unknown #[tool] argument `prompt`; expected one of `name`, `description`, \
                 `approval`, `crate` (`prompt` is an argument of `#[worker]`)"]
        );
        assert_eq!(
            errors(MacroKind::Tool, quote!("x")),
            ["expected one of: `name`, `description`, `approval`, `crate`"]
        );
    }

    #[test]
    fn duplicates_and_bad_values_are_all_reported() {
        assert_eq!(
            errors(
                MacroKind::Worker,
                quote!(prompt = "a", prompt = "b", max_turns = "ten", temperature = -1, seed = 1.5)
            ),
            [
                "duplicate argument `prompt`",
                "`max_turns` expects an integer, e.g. `max_turns = 10`",
                "`temperature` cannot be negative",
                "`seed` expects an integer, e.g. `seed = 42`",
            ]
        );
    }

    #[test]
    fn value_checks() {
        assert_eq!(
            errors(MacroKind::Worker, quote!(model = "gpt-4o")),
            ["invalid model `gpt-4o`: expected `provider:name`, e.g. `openai:gpt-4o-mini`"]
        );
        assert_eq!(
            errors(MacroKind::Tool, quote!(name = "a b")),
            ["the name `a b` contains ` `; names may only use ASCII letters, digits, `_` and `-`"]
        );
        assert_eq!(
            errors(MacroKind::Worker, quote!(top_p = 1.5)),
            ["`top_p` must be between 0 and 1"]
        );
        assert_eq!(
            errors(MacroKind::Worker, quote!(max_turns = 0)),
            ["`max_turns` must be at least 1"]
        );
        assert_eq!(
            errors(MacroKind::Worker, quote!(max_tokens = 99999999999)),
            ["number too large to fit in target type"]
        );
        assert_eq!(
            errors(MacroKind::Worker, quote!(prompt = concat!("a", "b"))),
            [
                r#"`prompt` expects a string literal, e.g. `prompt = "Classify this ticket: {ticket}"`"#
            ]
        );
    }

    #[test]
    fn syntax_errors_recover_at_the_next_comma() {
        assert_eq!(
            errors(MacroKind::Worker, quote!(model "x", prompt = , max_turns = 3 4, seed = 1)),
            [
                r#"expected `=` and a value after `model`, e.g. `model = "openai:gpt-4o-mini"`"#,
                r#"expected a value, e.g. `prompt = "Classify this ticket: {ticket}"`"#,
                "unexpected token",
            ]
        );
    }

    #[test]
    fn crate_paths() {
        let mut found = Errors::default();
        let args = Args::parse(MacroKind::Tool, quote!(crate = "::llm_do_core"), &mut found);
        assert!(found.finish().is_ok());
        let krate = args.krate.unwrap();
        assert_eq!(quote!(#krate).to_string(), ":: llm_do_core");
        assert_eq!(
            errors(MacroKind::Worker, quote!(crate = "not a path", crate = llm_do)),
            [
                r#"`crate` expects a path, e.g. `crate = "::llm_do"`"#,
                "duplicate argument `crate`",
                r#"`crate` expects a string literal, e.g. `crate = "::llm_do"`"#,
            ]
        );
    }

    #[test]
    fn tools_lists() {
        assert_eq!(
            errors(MacroKind::Worker, quote!(tools = a)),
            ["`tools` expects a list in brackets, e.g. `tools = [lookup_customer, search::web]`"]
        );
        assert_eq!(
            errors(MacroKind::Worker, quote!(tools = [a, b, a])),
            ["this tool is already listed"]
        );
        assert_eq!(errors(MacroKind::Worker, quote!(tools = ["a"])), ["expected identifier"]);
        assert!(errors(MacroKind::Worker, quote!(tools = [])).is_empty());
    }
}
