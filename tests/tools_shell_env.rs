//! The shell tool's commands get a scrubbed environment: an allowlist of the parent's
//! variables, never a secret, even one named explicitly.
//!
//! This binary has a single test, because it sets environment variables (no other thread may
//! read the environment meanwhile).

#![cfg(unix)]

use llm_do::tools::shell::{Shell, ShellRule};
use llm_do_tests::bounded;

#[test]
fn secrets_never_reach_commands() {
    // SAFETY of the test: this binary has a single test, and the runtime below starts after
    // the variables are set, so no other thread reads the environment concurrently.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("LLM_DO_TEST_API_KEY", "sk-leak-1");
        std::env::set_var("LLM_DO_TEST_TOKEN", "tok-leak-2");
        std::env::set_var("LLM_DO_TEST_SECRET", "sec-leak-3");
        std::env::set_var("LLM_DO_TEST_PASSWORD_FILE", "pw-leak-4");
        std::env::set_var("LLM_DO_TEST_VISIBLE", "visible-5");
        std::env::set_var("LLM_DO_TEST_UNLISTED", "unlisted-6");
    }
    // The shared corpus of secrets (`tests/fixtures/secrets.json`): its environment too.
    let corpus: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/secrets.json"))
            .unwrap(),
    )
    .unwrap();
    let corpus_env: Vec<(String, String)> = corpus["env"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    for (name, value) in &corpus_env {
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var(name, value);
        }
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
