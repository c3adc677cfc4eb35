//! [`ExampleError`]: why no example could be generated, and where in the schema.

use std::fmt;

/// Why [`example_value`](super::example_value) could not produce a value for a schema.
///
/// The error names the JSON pointer (RFC 6901) of the schema part it could not handle, so
/// `#/properties/code/pattern` means "the `pattern` of property `code`".
///
/// ```
/// use llm_do_testing::example::{ExampleErrorKind, example_value};
/// let err = example_value(&serde_json::json!({"properties": {"x": false}, "required": ["x"]}))
///     .unwrap_err();
/// assert_eq!(err.kind(), ExampleErrorKind::Unsatisfiable);
/// assert_eq!(err.pointer(), "/properties/x");
/// assert!(err.to_string().starts_with("no example for the schema at `#/properties/x`"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleError {
    kind: ExampleErrorKind,
    pointer: String,
    message: String,
}

/// Category of an [`ExampleError`].
///
/// ```
/// # use llm_do_testing::example::ExampleErrorKind;
/// assert_ne!(ExampleErrorKind::Unsupported, ExampleErrorKind::Unsatisfiable);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExampleErrorKind {
    /// The schema is not a valid JSON Schema (e.g. `{"type": "strnig"}`).
    InvalidSchema,
    /// The schema uses something the generator cannot handle, such as a reference to another
    /// document or a regular expression with look-around.
    Unsupported,
    /// No value satisfies this part of the schema (e.g. `false`, an empty `enum`,
    /// `minimum` above `maximum`), or none that the generator could find.
    Unsatisfiable,
    /// The schema only admits infinitely deep values: every way out of a recursive `$ref`
    /// leads back into it.
    Recursion,
    /// The schema, or the example it calls for, is nested deeper than the generator follows.
    TooDeep,
    /// Finding an example takes too many steps (e.g. huge `minItems`, or definitions that
    /// refer to each other in many ways).
    TooLarge,
}

impl ExampleError {
    pub(crate) fn new(
        kind: ExampleErrorKind,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self { kind, pointer: pointer.into(), message: message.into() }
    }

    /// The error's category.
    ///
    /// ```
    /// # use llm_do_testing::example::{ExampleErrorKind, example_value};
    /// let err = example_value(&serde_json::json!({"$ref": "other.json"})).unwrap_err();
    /// assert_eq!(err.kind(), ExampleErrorKind::Unsupported);
    /// ```
    pub fn kind(&self) -> ExampleErrorKind {
        self.kind
    }

    /// JSON pointer (RFC 6901) into the schema of the part that failed; `""` is the whole
    /// schema.
    ///
    /// ```
    /// # use llm_do_testing::example::example_value;
    /// let err = example_value(&serde_json::json!({"enum": []})).unwrap_err();
    /// assert_eq!(err.pointer(), "/enum");
    /// ```
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// What went wrong, without the location.
    ///
    /// ```
    /// # use llm_do_testing::example::example_value;
    /// let err = example_value(&serde_json::json!(false)).unwrap_err();
    /// assert_eq!(err.message(), "the `false` schema admits no value");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ExampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no example for the schema at `#{}`: {}", self.pointer, self.message)
    }
}

impl std::error::Error for ExampleError {}
