//! The Pythons some tests run the official Python `mcp` package with: a test skips (saying so)
//! when its variable is unset, except under CI, where `.ci/run` installs them and the test fails.

#![allow(dead_code)]

use std::ffi::OsString;

/// A release line of the official Python SDK, and the variable naming a Python that has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sdk {
    /// The current release (`LLM_DO_TEST_PY_MCP`), which speaks MCP 2026-07-28.
    Current,
    /// The last 1.x release (`LLM_DO_TEST_PY_MCP_LEGACY`), of the generation before 2026-07-28:
    /// most MCP servers and clients in use are built on it.
    V1,
}

impl Sdk {
    fn var_and_package(self) -> (&'static str, &'static str) {
        match self {
            Sdk::Current => ("LLM_DO_TEST_PY_MCP", "mcp"),
            Sdk::V1 => ("LLM_DO_TEST_PY_MCP_LEGACY", "mcp==1.30.0"),
        }
    }
}

/// The Python with `sdk` (a virtualenv's `bin/python`); `None` after a notice that `test` is
/// skipped when its variable is unset and `CI` is not; a panic when `CI` is set and it is not.
pub fn python(sdk: Sdk, test: &str) -> Option<OsString> {
    let (var, package) = sdk.var_and_package();
    if let Some(python) = std::env::var_os(var) {
        return Some(python);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {var} (a python with {package}) is not"
    );
    eprintln!(
        "SKIPPED {test}: set {var} to a python with {package} \
         (python3 -m venv V && V/bin/pip install '{package}')"
    );
    None
}
