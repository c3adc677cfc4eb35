//! The glue between a tool's typed body and the runtime's JSON calling convention.

use crate::error::ToolError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Converts a call's JSON arguments to the tool's argument type.
pub(crate) fn parse<A: DeserializeOwned>(args: Value) -> Result<A, ToolError> {
    serde_json::from_value(args).map_err(|e| ToolError::InvalidArguments(e.to_string()))
}

/// Converts the result of the tool `name` to the runtime's. A result that cannot be put in
/// JSON is a [`ResultType`](llm_do_core::Error::ResultType) error, not the tool's own.
pub(crate) fn respond<T: Serialize>(
    name: &str,
    result: Result<T, ToolError>,
) -> llm_do_core::Result<Value> {
    serde_json::to_value(result?).map_err(|e| llm_do_core::Error::ResultType {
        name: name.to_owned(),
        message: format!("the result cannot be converted to JSON: {e}"),
    })
}
