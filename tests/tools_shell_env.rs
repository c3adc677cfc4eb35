//! The shell tool's commands get a scrubbed environment: an allowlist of the parent's
//! variables, never a secret, even one named explicitly.
//!
//! The test's process gets the secrets in its environment by running itself again as a child
//! process with them set (`Command::env`): no test mutates its own environment (`set_var` is
//! unsafe in a process with threads).

#![cfg(unix)]

use llm_do::tools::shell::{Shell, ShellRule};
use llm_do_tests::bounded;

/// Set in the child run, whose environment holds the secrets.
const CHILD: &str = "LLM_DO_TEST_SHELL_ENV_CHILD";

/// The test's own variables: names that look secret (and one not listed at all), with values
/// that must not reach a command, and one variable that is passed on.
const PLANTED: &[(&str, &str)] = &[
    ("LLM_DO_TEST_API_KEY", "sk-leak-1"),
    ("LLM_DO_TEST_TOKEN", "tok-leak-2"),
    ("LLM_DO_TEST_SECRET", "sec-leak-3"),
    ("LLM_DO_TEST_PASSWORD_FILE", "pw-leak-4"),
    ("LLM_DO_TEST_VISIBLE", "visible-5"),
    ("LLM_DO_TEST_UNLISTED", "unlisted-6"),
];

#[test]
fn secrets_never_reach_commands() {
    let corpus_env = corpus_env();
    if std::env::var_os(CHILD).is_none() {
        // Run this very test again, in a child whose environment has the secrets.
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "secrets_never_reach_commands", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .envs(PLANTED.iter().copied())
            .envs(corpus_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "the child run failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    for (name, value) in PLANTED {
        assert_eq!(std::env::var(name).as_deref(), Ok(*value), "the child has {name}");
    }
    let root = tempfile::tempdir().unwrap();
    let shell = Shell::new(root.path())
        .unwrap()
        .rule(ShellRule::allow("env"))
        .pass_env("LLM_DO_TEST_VISIBLE")
        .pass_env("LLM_DO_TEST_API_KEY")
        .pass_env("LLM_DO_TEST_TOKEN")
        .pass_env("LLM_DO_TEST_SECRET")
        .pass_env("LLM_DO_TEST_PASSWORD_FILE");
    let shell = corpus_env.iter().fold(shell, |sh, (name, _)| sh.pass_env(name.clone()));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let out = rt.block_on(bounded(shell.run("env"))).unwrap();
    assert!(out.success, "{out:?}");
    assert!(out.stdout.contains("LLM_DO_TEST_VISIBLE=visible-5"), "{}", out.stdout);
    for leak in ["sk-leak-1", "tok-leak-2", "sec-leak-3", "pw-leak-4", "unlisted-6"] {
        assert!(!out.stdout.contains(leak), "`{leak}` reached the command:\n{}", out.stdout);
    }
    for (name, value) in &corpus_env {
        assert!(!out.stdout.contains(value.as_str()), "{name} reached the command");
    }
    let names: Vec<&str> = out.stdout.lines().filter_map(|l| l.split('=').next()).collect();
    let allowed = [
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
        "LLM_DO_TEST_VISIBLE",
        "PWD",
        // The marker that ties every process of the call to it (see `shell::reap`).
        "LLM_DO_SHELL_CALL",
    ];
    assert!(names.iter().all(|n| allowed.contains(n)), "unexpected variables: {names:?}");
}

/// The shared corpus of secrets (`tests/fixtures/secrets.json`): its environment variables.
fn corpus_env() -> Vec<(String, String)> {
    let corpus: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/secrets.json"))
            .unwrap(),
    )
    .unwrap();
    corpus["env"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}
