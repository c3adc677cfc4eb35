//! The shell tool: injection attempts are refused or run as literal arguments, never
//! interpreted by a shell (checked by side effects on disk); rules, working directory,
//! timeout and output cap.

#![cfg(unix)]

use llm_do::Runtime;
use llm_do::approval::Verdict;
use llm_do::tools::ToolError;
use llm_do::tools::shell::{MAX_COMMAND_BYTES, Shell, ShellRule, read_only_rules};
use llm_do_tests::bounded;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

struct World {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    /// Created by any injection that gets interpreted.
    marker: PathBuf,
}

fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let outer = tmp.path().canonicalize().unwrap();
    let root = outer.join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("notes.md"), "TODO: ship it\nDone: tests\n").unwrap();
    World { _tmp: tmp, marker: outer.join("marker"), root }
}

/// `echo` is the only program that runs: whatever reaches it is printed back, so its output
/// shows exactly which argument vector was executed.
fn echo_shell(root: &Path) -> Shell {
    Shell::new(root).unwrap().rule(ShellRule::allow("echo")).timeout(Duration::from_secs(20))
}

enum Expect {
    /// Refused before anything runs, with this fragment in the message.
    Refused(&'static str),
    /// Run by `echo` with the words passed literally: this is its output.
    Literal(&'static str),
}

#[tokio::test]
async fn injection_suite_nothing_is_ever_interpreted_by_a_shell() {
    let w = world();
    let shell = echo_shell(&w.root);
    let m = w.marker.display().to_string();
    let long = format!("echo {}", "A".repeat(MAX_COMMAND_BYTES));
    let many = format!("echo {}", "a ".repeat(300));
    use Expect::*;
    let cases: Vec<(&str, String, Expect)> = vec![
        ("semicolon", format!("echo hi; touch {m}"), Refused("`;`")),
        ("and-and", format!("echo hi && touch {m}"), Refused("`&`")),
        ("or-or", format!("false || touch {m}"), Refused("`|`")),
        ("pipe", format!("echo hi | tee {m}"), Refused("`|`")),
        ("redirect out", format!("echo hi > {m}"), Refused("redirection")),
        ("redirect append", format!("echo hi >> {m}"), Refused("redirection")),
        ("redirect in", "echo < /etc/passwd".to_owned(), Refused("redirection")),
        ("background job", format!("echo hi & touch {m}"), Refused("`&`")),
        ("backticks", format!("echo `touch {m}`"), Refused("backtick")),
        ("command substitution", format!("echo $(touch {m})"), Refused("`$(`")),
        ("substitution in double quotes", format!("echo \"$(touch {m})\""), Refused("`$(`")),
        ("parameter expansion", "echo ${PATH}".to_owned(), Refused("`${`")),
        ("newline", format!("echo hi\ntouch {m}"), Refused("line break")),
        ("carriage return", format!("echo hi\rtouch {m}"), Refused("line break")),
        ("NUL byte", format!("echo hi\0touch {m}"), Refused("control character")),
        ("quoted semicolon", format!("echo 'hi; touch {m}'"), Refused("even inside quotes")),
        ("quoted pipe", format!("echo \"a|touch {m}\""), Refused("`|`")),
        ("overlong command", long, Refused("limit")),
        ("too many arguments", many, Refused("limit")),
        ("unbalanced quote", "echo 'open".to_owned(), Refused("not closed")),
        ("another program", format!("touch {m}"), Refused("not allowed")),
        ("a shell", format!("sh -c touch\\ {m}"), Refused("not allowed")),
        ("the allowed program by path", format!("/bin/touch {m}"), Refused("not allowed")),
        ("variable", "echo $HOME $PATH".to_owned(), Literal("$HOME $PATH\n")),
        ("glob", "echo * ?.md [a]".to_owned(), Literal("* ?.md [a]\n")),
        ("tilde and braces", "echo ~ ~/x {a,b} a=b".to_owned(), Literal("~ ~/x {a,b} a=b\n")),
        ("comment", format!("echo hi # touch {m}"), Literal("hi\n")),
        (
            "quoted words",
            "echo 'two  words' \"x y\" a\\ b".to_owned(),
            Literal("two  words x y a b\n"),
        ),
        ("lone dollar and parens", "echo $ (x) )".to_owned(), Literal("$ (x) )\n")),
        ("fullwidth semicolon", "echo a；touch b".to_owned(), Literal("a；touch b\n")),
    ];
    assert!(cases.len() >= 15);
    for (what, command, expect) in cases {
        let result = bounded(shell.run(&command)).await;
        match (expect, result) {
            (Refused(fragment), Err(e)) => {
                assert!(e.to_string().contains(fragment), "{what}: expected `{fragment}` in: {e}")
            }
            (Literal(stdout), Ok(out)) => {
                assert_eq!((out.stdout.as_str(), out.exit_code), (stdout, Some(0)), "{what}")
            }
            (Refused(_), Ok(out)) => panic!("{what}: {command:?} must be refused, it ran: {out:?}"),
            (Literal(_), Err(e)) => panic!("{what}: {command:?} must run literally: {e}"),
        }
        assert!(!w.marker.exists(), "{what}: {command:?} was interpreted by a shell");
        assert!(!w.root.join("marker").exists() && !w.root.join("b").exists(), "{what}");
    }
}

#[tokio::test]
async fn the_same_suite_through_the_runtime_gives_the_model_error_results() {
    let w = world();
    let shell = echo_shell(&w.root);
    let ctx = Runtime::builder().register(shell.spec()).build().ctx();
    let m = w.marker.display().to_string();
    for command in
        [format!("echo hi; touch {m}"), format!("touch {m}"), format!("echo $(touch {m})")]
    {
        let err =
            bounded(ctx.call_value("shell", json!({ "command": command }))).await.unwrap_err();
        assert!(!err.is_fatal(), "a refusal is an error result the model can act on: {err}");
        assert!(!w.marker.exists());
    }
    let out = bounded(ctx.call_value("shell", json!({"command": "echo ok"}))).await.unwrap();
    assert_eq!(out["stdout"], "ok\n");
    assert_eq!(out["exit_code"], 0);
}

#[tokio::test]
async fn read_only_rules_allow_grep_block_pipes_and_ask_before_find_delete() {
    let w = world();
    std::fs::write(w.root.join("junk.tmp"), "").unwrap();
    let shell = Shell::new(&w.root).unwrap().rules(read_only_rules());
    assert_eq!(shell.verdict("grep -ri todo .").unwrap(), Verdict::Allow);
    assert_eq!(shell.verdict("find . -name junk.tmp -delete").unwrap(), Verdict::Ask);
    assert_eq!(shell.verdict("rm junk.tmp").unwrap(), Verdict::Deny);
    assert!(matches!(shell.verdict("ls | wc -l"), Err(ToolError::ShellSyntax { .. })));

    let out = bounded(shell.run("grep -ri todo notes.md")).await.unwrap();
    assert_eq!(out.stdout, "TODO: ship it\n");
    let err = bounded(shell.run("ls | wc -l")).await.unwrap_err();
    assert!(matches!(err, ToolError::ShellSyntax { .. }), "{err}");
    let err = bounded(shell.run("rm junk.tmp")).await.unwrap_err();
    assert!(matches!(err, ToolError::Denied { .. }), "{err}");
    assert!(
        err.to_string().contains("commands that can run"),
        "the model learns what is allowed: {err}"
    );
    assert!(w.root.join("junk.tmp").exists());
}

#[tokio::test]
async fn rules_are_ordered_and_matched_on_whole_words() {
    let w = world();
    let shell = Shell::new(&w.root)
        .unwrap()
        .rule(ShellRule::deny("git").with_arg_prefix("--output").reason("writes a file"))
        .rule(ShellRule::allow("git log"))
        .rule(ShellRule::ask("git"));
    let verdict = |c: &str| shell.verdict(c).unwrap();
    assert_eq!(verdict("git log --oneline -3"), Verdict::Allow);
    assert_eq!(verdict("git log --output=/tmp/x"), Verdict::Deny);
    assert_eq!(verdict("git logs"), Verdict::Ask);
    assert_eq!(verdict("git push --force"), Verdict::Ask);
    assert_eq!(verdict("gitk"), Verdict::Deny);
    assert_eq!(verdict("'git' 'log'"), Verdict::Allow, "rules see the parsed words");
    let err = bounded(shell.run("git log --output=x")).await.unwrap_err();
    assert!(err.to_string().contains("writes a file"), "{err}");
    assert!(!w.root.join("x").exists());
}

#[tokio::test]
async fn rules_hold_for_every_spelling_of_a_path_and_the_command_runs_as_written() {
    let w = world();
    std::fs::create_dir(w.root.join("secret")).unwrap();
    std::fs::write(w.root.join("secret/key.txt"), "TOP-SECRET\n").unwrap();
    let shell = Shell::new(&w.root)
        .unwrap()
        .rule(ShellRule::deny("cat secret/key.txt"))
        .rule(ShellRule::allow("cat"))
        .rule(ShellRule::allow("echo"));
    let absolute = format!("cat {}/secret/key.txt", w.root.display());
    for command in ["cat ./secret//key.txt", "cat secret/./key.txt", absolute.as_str()] {
        assert_eq!(shell.verdict(command).unwrap(), Verdict::Deny, "{command}");
        let err = bounded(shell.run(command)).await.unwrap_err();
        assert!(matches!(err, ToolError::Denied { .. }), "{command}: {err:?}");
    }
    // Trusted code calling the tool through the runtime (not gated) meets the same rules.
    let ctx = Runtime::builder().register(shell.spec()).build().ctx();
    let err = bounded(ctx.call_value("shell", json!({"command": "cat ./secret//key.txt"})))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), llm_do::error::ErrorKind::Tool, "{err:?}");
    assert!(err.to_string().contains("denied by the rule `cat secret/key.txt`"), "{err}");
    // What runs is the argument vector as written, not its normalised form.
    let out = bounded(shell.run("echo ./a//b https://x.org//y")).await.unwrap();
    assert_eq!(out.stdout, "./a//b https://x.org//y\n");
}

#[tokio::test]
async fn commands_run_in_the_root_directory() {
    let w = world();
    let shell = Shell::new(&w.root).unwrap().rule(ShellRule::allow("pwd"));
    let out = bounded(shell.run("pwd")).await.unwrap();
    assert_eq!(out.stdout.trim_end(), w.root.display().to_string());
}

#[tokio::test]
async fn a_command_that_runs_too_long_is_killed_with_a_clear_error() {
    let w = world();
    let shell = Shell::new(&w.root)
        .unwrap()
        .rule(ShellRule::allow("sleep"))
        .timeout(Duration::from_millis(200));
    let err = bounded(shell.run("sleep 60")).await.unwrap_err();
    assert!(matches!(err, ToolError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("killed"), "{err}");
}

#[tokio::test]
async fn output_is_capped_with_a_truncation_note() {
    let w = world();
    std::fs::write(w.root.join("big.txt"), "x".repeat(10_000)).unwrap();
    let shell = Shell::new(&w.root).unwrap().rule(ShellRule::allow("cat")).max_output(100);
    let out = bounded(shell.run("cat big.txt missing.txt")).await.unwrap();
    assert_eq!(out.stdout, format!("{}\n[… truncated 9900 bytes]", "x".repeat(100)));
    assert!(out.stderr.contains("missing.txt"));
    assert!(!out.success && out.exit_code.is_some_and(|c| c != 0));
}

#[tokio::test]
async fn a_missing_program_is_a_clear_error() {
    let w = world();
    let shell = Shell::new(&w.root).unwrap().rule(ShellRule::allow("no-such-program-llm-do"));
    let err = bounded(shell.run("no-such-program-llm-do --help")).await.unwrap_err();
    assert!(matches!(err, ToolError::Spawn { .. }), "{err}");
}

#[test]
fn the_tool_describes_its_rules_and_declares_ask() {
    let w = world();
    let shell = Shell::new(&w.root).unwrap().rules(read_only_rules());
    let spec = shell.spec();
    assert_eq!(spec.name(), "shell");
    assert_eq!(spec.approval(), Some(Verdict::Ask));
    assert_eq!(spec.input_schema()["required"], json!(["command"]));
    assert_eq!(spec.input_schema()["additionalProperties"], false);
    assert!(spec.input_schema()["properties"]["command"]["description"].is_string());
    let d = spec.description();
    assert!(d.contains("`grep` → allow") && d.contains("`find … -delete` → ask"), "{d}");
    assert!(d.contains("no shell"), "{d}");
    assert!(Shell::new(w.root.join("notes.md")).is_err(), "the root must be a directory");
}

/// Whether a process is gone (or a zombie: killed, waiting to be reaped).
#[cfg(target_os = "linux")]
fn is_dead(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn cancelling_a_call_kills_the_program_and_its_children() {
    let w = world();
    std::fs::write(w.root.join("spawn.sh"), "sleep 60 &\necho $! > child.pid\nwait\n").unwrap();
    let shell = Shell::new(&w.root).unwrap().rule(ShellRule::allow("sh spawn.sh"));
    let task = tokio::spawn(async move { shell.run("sh spawn.sh").await });
    let pid_file = w.root.join("child.pid");
    let pid = bounded(async {
        loop {
            match std::fs::read_to_string(&pid_file) {
                Ok(pid) if pid.ends_with('\n') => return pid.trim().to_owned(),
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    })
    .await;
    assert!(!is_dead(&pid), "the grandchild runs");
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    bounded(async {
        while !is_dead(&pid) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}
