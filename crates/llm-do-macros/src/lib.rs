//! The `#[worker]` and `#[tool]` attribute macros of [llm-do](https://crates.io/crates/llm-do).
//!
//! Use them through the `llm-do` crate (`use llm_do::prelude::*;`): the code they generate
//! reaches its support items as `::llm_do::__private::…`. A crate that reaches llm-do by
//! another path (the workspace's own crates, or a re-export) says so with `crate = "path"`,
//! as with serde: `#[tool(crate = "::llm_do_core")]`.
//!
//! Both macros follow the same pipeline (private modules, one concept each): `args` parses the
//! attribute (its keys are described in `keys`), `item` and `signature` parse and check the function, `template`, `model` and
//! `name` check the values, every problem is collected (`errors`), and then either
//! `expand_worker` / `expand_tool` generate the code (sharing `companion`), or `fallback` emits
//! the errors with stand-ins so that they do not cascade.
#![warn(missing_docs)]

mod args;
mod companion;
mod doc;
mod errors;
mod expand_tool;
mod expand_worker;
mod fallback;
mod item;
mod keys;
mod kind;
mod model;
mod name;
mod signature;
mod template;
#[cfg(test)]
mod testing;

use proc_macro::TokenStream;

/// Declares an LLM-backed worker: a body-less `async fn` whose first parameter is `ctx: &Ctx`.
///
/// Arguments: `prompt = "..."` (required; `{param}` placeholders), `model = "provider:name"`,
/// `tools = [path, ...]`, `system = "..."`, `name = "..."`, `description = "..."`,
/// `temperature`, `top_p`, `max_tokens`, `seed`, `stop = ["..."]` (stop sequences of text
/// answers, at most four), `max_turns`, `output_retries`,
/// `approval = "allow" | "ask" | "deny"`, `crate = "path"` (where llm-do is, if not `::llm_do`).
///
/// See the `llm-do` crate for documentation and examples.
#[proc_macro_attribute]
pub fn worker(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_worker::expand_worker(attr.into(), item.into()).into()
}

/// Declares a deterministic tool: an `async fn` with a body, optionally taking `ctx: &Ctx` first.
///
/// Arguments: `name = "..."`, `description = "..."`, `approval = "allow" | "ask" | "deny"`,
/// `crate = "path"` (where llm-do is, if not `::llm_do`). The body is kept as written: a
/// syntax error inside it is reported by rustc while the tool's spec is still generated.
///
/// See the `llm-do` crate for documentation and examples.
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_tool::expand_tool(attr.into(), item.into()).into()
}
