//! The Pythons some tests run the official Python `mcp` package with: a test skips (saying so)
//! when its variable is unset, except under CI, where `.ci/run` installs them and the test fails.

use std::ffi::OsString;

/// The Python named by the environment variable `var` (a virtualenv's `bin/python` with
/// `package` installed); `None` after a notice that `test` is skipped when `var` is unset and
/// `CI` is not; a panic when `CI` is set and `var` is not.
pub fn python(var: &str, package: &str, test: &str) -> Option<OsString> {
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
