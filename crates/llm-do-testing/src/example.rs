//! Schema-valid example values for a JSON Schema.
//!
//! [`example_value`] turns a JSON Schema (as produced by `schemars` for draft 2020-12, or
//! written by hand) into a value that is valid against it. [`TestModel`](crate::test_model::TestModel)
//! uses it to call tools with plausible arguments and to produce structured output.
//!
//! What the generator understands:
//!
//! - `type` (one or several; non-null types are preferred), `const`, `enum` (first value);
//! - objects: `properties` and `required` (optional properties are included unless that makes
//!   the value invalid), `additionalProperties` (maps get one entry, named `"key"`),
//!   `propertyNames`, `minProperties`/`maxProperties`;
//! - arrays: `items` (one item), `prefixItems`, `minItems`/`maxItems`, `contains`,
//!   `uniqueItems`, and the pre-2020 tuple form of `items`/`additionalItems`;
//! - strings: `minLength`/`maxLength`, `format` (`date-time`, `date`, `time`, `duration`,
//!   `email`, `hostname`, `ipv4`, `ipv6`, `uri`, `uri-reference`, `uuid`, ... give plausible
//!   values), `pattern` (generated from the regular expression; look-around and
//!   back-references are unsupported);
//! - numbers: `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`
//!   (0 when allowed, else the closest bound);
//! - booleans (`false`) and `null`;
//! - `$ref` to `#`, `#/$defs/...` or `#/definitions/...`, with sibling keywords; recursive
//!   references bottom out through optional properties, empty arrays and nullable branches;
//! - `allOf` (branches merged), `oneOf`/`anyOf` (the first branch that works, `null` last).
//!
//! Where anything is allowed (the `true` or `{}` schema) the value is the string
//! `"example"`. Optional parts (optional properties, the illustrative array item and map
//! entry) are left out below a nesting depth of 16 or after 2,000 schema nodes, which keeps
//! examples of deep or mutually recursive structures small.
//!
//! Every generated value is checked against the schema with the `jsonschema` crate (formats
//! included) before it is returned, so keywords the generator does not model (`not`,
//! `if`/`then`/`else`, `dependentRequired`, ...) lead to an [`ExampleError`] rather than an
//! invalid value. Generation is deterministic: the same schema always gives the same value.

mod error;
mod generator;
mod merge;
mod pattern;
mod pointer;
mod rng;
mod scalar;

pub use error::{ExampleError, ExampleErrorKind};
use serde_json::Value;

/// A value valid against `schema`, always the same for the same schema.
///
/// ```
/// use llm_do_testing::example::example_value;
/// use serde_json::json;
///
/// let schema = json!({
///     "type": "object",
///     "properties": {
///         "city": {"type": "string"},
///         "days": {"type": "integer", "minimum": 1, "maximum": 14},
///         "units": {"enum": ["metric", "imperial"]},
///         "when": {"type": "string", "format": "date"}
///     },
///     "required": ["city", "days"]
/// });
/// assert_eq!(
///     example_value(&schema)?,
///     json!({"city": "example", "days": 1, "units": "metric", "when": "2024-01-01"})
/// );
/// # Ok::<(), llm_do_testing::example::ExampleError>(())
/// ```
///
/// # Errors
///
/// An [`ExampleError`] naming the schema location when the schema is invalid, uses something
/// unsupported (a reference to another document, an unsupported regular expression), or admits
/// no value the generator can find.
pub fn example_value(schema: &Value) -> Result<Value, ExampleError> {
    example_value_seeded(schema, 0)
}

/// Like [`example_value`], but `seed` varies the choices (which `enum` value or `oneOf` branch,
/// which number or word); seed 0 gives exactly [`example_value`]'s result. The same schema and
/// seed always give the same value.
///
/// ```
/// use llm_do_testing::example::{example_value, example_value_seeded};
/// use serde_json::json;
///
/// let schema = json!({"enum": ["red", "green", "blue"]});
/// assert_eq!(example_value_seeded(&schema, 0)?, example_value(&schema)?);
/// let picks: std::collections::BTreeSet<String> = (0..20)
///     .map(|seed| example_value_seeded(&schema, seed).map(|v| v.to_string()))
///     .collect::<Result<_, _>>()?;
/// assert!(picks.len() > 1);
/// # Ok::<(), llm_do_testing::example::ExampleError>(())
/// ```
///
/// # Errors
///
/// As [`example_value`].
pub fn example_value_seeded(schema: &Value, seed: u64) -> Result<Value, ExampleError> {
    generator::generate(schema, seed)
}
