//! The glue between a tool's typed body and the runtime's JSON calling convention.

use crate::error::ToolError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Converts a call's JSON arguments to the tool's argument type.
pub(crate) fn parse<A: DeserializeOwned>(args: Value) -> Result<A, ToolError> {
    serde_json::from_value(args).map_err(|e| ToolError::InvalidArguments(e.to_string()))
}

/// Converts a tool's result to the runtime's.
pub(crate) fn respond<T: Serialize>(result: Result<T, ToolError>) -> llm_do_core::Result<Value> {
    Ok(serde_json::to_value(result?)?)
}
