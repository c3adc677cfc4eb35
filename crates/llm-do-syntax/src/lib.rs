//! The syntax rules that `#[worker]`/`#[tool]` (at compile time), the runtime and worker files
//! (at load time) share — one home for each, so that the three cannot disagree:
//!
//! - [`template`]: prompt templates, `{param}` placeholders and `{{`/`}}` literal braces;
//! - [`model`]: model strings, `provider:name`;
//! - [`name`]: the names workers and tools are called by;
//! - [`stop`]: stop sequences, how many and which;
//! - [`text`]: which characters a terminal acts on, and how untrusted text is cut for a message.
//!
//! The crate has no dependencies, so the proc-macro crate can use it at expansion time
//! without pulling in the runtime.
//!
//! ```
//! assert_eq!(llm_do_syntax::template::placeholders("Hi {name}").unwrap(), [("name".to_owned(), 3)]);
//! assert_eq!(llm_do_syntax::model::split("openai:gpt-4o").unwrap(), ("openai", "gpt-4o"));
//! assert!(llm_do_syntax::name::check("look up").is_err());
//! ```

#![warn(missing_docs)]

pub mod model;
pub mod name;
pub mod stop;
pub mod template;
pub mod text;
