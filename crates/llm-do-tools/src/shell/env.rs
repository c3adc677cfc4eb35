//! The environment a command runs with: a short allowlist of the parent's variables, never
//! anything that looks like a secret.

use std::ffi::OsString;

/// The variables passed from the parent environment by default (when set).
pub const DEFAULT_PASSED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TZ",
    "TMPDIR",
];

pub use llm_do_core::secrets::is_secret_name;

/// The `(name, value)` pairs to give a command: each of `names` that is set in this process's
/// environment and does not look like a secret.
pub(crate) fn scrubbed_env(names: &[String]) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = Vec::new();
    for name in names {
        let malformed = name.is_empty() || name.contains(['=', '\0']);
        if malformed || is_secret_name(name) || env.iter().any(|(n, _)| n == name.as_str()) {
            continue;
        }
        if let Some(value) = std::env::var_os(name) {
            env.push((OsString::from(name), value));
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised() {
        for name in [
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "ANTHROPIC_API_KEY",
            "GH_TOKEN",
            "MY_SECRET",
            "PGPASSWORD",
            "gcp_credentials",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in DEFAULT_PASSED_ENV {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn only_named_non_secret_variables_pass() {
        // PATH is set in every test environment; a secret-looking name never passes.
        let names = ["PATH", "PATH", "CARGO_REGISTRY_TOKEN", "", "A=B", "A\0"].map(String::from);
        let env = scrubbed_env(&names);
        let names: Vec<_> = env.iter().map(|(n, _)| n.to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["PATH"]);
    }
}
