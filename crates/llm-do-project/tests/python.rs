//! Projects written for the Python llm-do (`project.json` + `NAME.agent`): the fixtures under
//! `tests/fixtures/python` load, map onto workers and built-in toolsets, and every feature
//! that cannot run here is refused at its file:line:col.

use llm_do_core::approval::Verdict;
use llm_do_core::{Registry, Runtime, ToolSpecBuilder};
use llm_do_project::{ApprovalMode, Project, ToolEntry};
use serde_json::json;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python").join(name)
}

/// Diagnostics with the fixture directory shown relative, for snapshots.
fn relative(errors: &llm_do_project::Diagnostics) -> String {
    let root = format!(
        "{}/",
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python").display()
    );
    errors.to_string().replace(&root, "")
}

#[test]
fn the_greeter_maps_onto_a_worker_with_entry_args() {
    let project = Project::check(fixture("greeter"), &Registry::default()).expect("valid");
    assert_eq!(project.entry(), Some("main"));
    let config = project.config();
    assert_eq!(config.approval_mode, ApprovalMode::ApproveAll);
    assert_eq!(config.max_depth, Some(3));
    assert_eq!(config.entry_args, Some(json!({"input": "Good morning, I am Ada."})));
    let main = &project.workers()[0];
    assert_eq!(main.description.as_deref(), Some("Welcomes a visitor by name."));
    assert!(main.system.as_deref().unwrap().starts_with("Reply to the visitor"));
    assert_eq!(main.prompt, "{input}", "the user message is the input as it is");
    assert_eq!(main.input["required"], json!(["input"]));
    assert_eq!(main.compatible_models.as_deref(), Some(&["openai:*".to_owned()][..]));
    assert!(project.check_model("openai:gpt-4o").is_ok());
    let wrong = project.check_model("local:smollm2").unwrap_err();
    assert!(
        wrong.to_string().contains("main.agent:5:3: error: the model `local:smollm2` does not match `compatible_models` of `main`"),
        "{wrong}"
    );
    let rt = project.register(Runtime::builder()).build();
    assert_eq!(rt.limits().max_depth, 3);
}

#[test]
fn builtin_toolsets_map_onto_the_tools_crate() {
    let notes = Project::load(fixture("notes")).expect("valid");
    assert_eq!(notes.config().approval_mode, ApprovalMode::Prompt);
    let names: Vec<String> = notes.specs().map(|s| s.name().to_owned()).collect();
    assert_eq!(names, ["main", "read_file", "write_file", "list_files"]);
    let write = notes.specs().find(|s| s.name() == "write_file").unwrap();
    assert_eq!(write.approval(), Some(Verdict::Ask), "writes ask, as upstream");
    match &notes.workers()[0].tools[0] {
        ToolEntry::Filesystem(fs) => assert_eq!(fs.root, fixture("notes"), "filesystem_project"),
        other => panic!("{other:?}"),
    }

    let analyser = Project::load(fixture("analyser")).expect("valid");
    let ToolEntry::Shell(shell) = &analyser.workers()[0].tools[0] else { panic!() };
    assert_eq!(shell.root, std::env::current_dir().unwrap(), "the shell works in the cwd");
    let policy = analyser.approval_policy(Default::default());
    for (command, verdict) in [
        ("grep -c apples inventory.txt", Verdict::Allow),
        ("find . -delete", Verdict::Ask),
        ("rm inventory.txt", Verdict::Deny),
    ] {
        assert_eq!(
            policy.evaluate("shell", &json!({"command": command}), None).0,
            verdict,
            "{command}"
        );
    }
}

#[test]
fn agents_call_agents_by_name() {
    let project = Project::check(fixture("delegation"), &Registry::default()).expect("valid");
    assert_eq!(project.entry(), Some("editor"));
    let editor = project.workers().iter().find(|w| w.name == "editor").unwrap();
    assert_eq!(editor.tool_names(), ["fact_checker"]);
    let checker = project.workers().iter().find(|w| w.name == "fact_checker").unwrap();
    assert!(
        checker.description.as_deref().unwrap().starts_with("Say in one sentence"),
        "without `description`, callers see the instructions"
    );
}

#[test]
fn python_toolsets_are_refused_until_the_host_provides_them() {
    let errors = Project::check(fixture("calculator"), &Registry::default()).unwrap_err();
    insta::assert_snapshot!(relative(&errors));

    let tool =
        |name: &str| ToolSpecBuilder::new(name).handler(|_, _| async { Ok(json!(0)) }).build();
    let mut host = Registry::default();
    host.insert(tool("add"));
    host.insert(tool("multiply"));
    host.insert_toolset("arithmetic", ["add", "multiply"]);
    let project = Project::check(fixture("calculator"), &host).expect("the host provides it");
    assert_eq!(project.workers()[0].tool_names(), ["add", "multiply"]);
}

#[test]
fn refused_features_are_located() {
    let errors = Project::check(fixture("refused"), &Registry::default()).unwrap_err();
    let text = relative(&errors);
    for (at, what) in [
        ("refused/project.json:5:18", "`auth_mode: oauth_auto` uses OAuth"),
        ("refused/project.json:6:73", "`nobody` is not an agent"),
        ("refused/project.json:9:27", "dynamic agents"),
        ("refused/project.json:12:3", "unknown key `colour`"),
        ("refused/main.agent:3:8", "both `model` and `compatible_models`"),
        (
            "refused/main.agent:5:18",
            "`input_model_ref: schemas.py:PicnicRequest` names a Python class",
        ),
        ("refused/main.agent:7:3", "`server_side_tools`"),
        ("refused/main.agent:10:5", "`dynamic_agents`"),
        (
            "refused/main.agent:11:5",
            "the toolset `weather_tools` is defined in Python (helpers.py)",
        ),
        ("refused/main.agent:13:1", "unknown key `temperature`"),
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{at}: error: ")) && l.contains(what)),
            "{at}: {what}\n{text}"
        );
    }
    insta::assert_snapshot!(text);

    let errors = Project::check(fixture("function_entry"), &Registry::default()).unwrap_err();
    insta::assert_snapshot!("function_entry", relative(&errors));
}

#[test]
fn mixed_projects_and_inline_input_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "project.json",
        r#"{"version": 1, "runtime": {"agent_calls_require_approval": true}, "entry": {"agent": "main", "args": {"input": "x"}}, "agent_files": ["main.agent", "topic.agent"]}"#,
    );
    write("main.agent", "---\nname: main\ntoolsets: [summarize, topic]\n---\nUse your tools.\n");
    write(
        "topic.agent",
        "---\nname: topic\ninput_model_ref: {type: object, properties: {topic: {type: string}}, required: [topic]}\n---\nOne line on the topic.\n",
    );
    write("summarize.worker", "---\ndescription: Summarizes.\n---\nSummarize {input}.\n");
    let project = Project::check(dir.path(), &Registry::default()).expect("mixed project");
    let names: Vec<&str> = project.workers().iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["summarize", "main", "topic"]);
    let topic = project.specs().find(|s| s.name() == "topic").unwrap();
    assert_eq!(topic.input_schema()["required"], json!(["topic"]));
    assert_eq!(topic.approval(), Some(Verdict::Ask), "agent_calls_require_approval");
    let summarize = project.specs().find(|s| s.name() == "summarize").unwrap();
    assert_eq!(summarize.approval(), None, "only agents are concerned");

    // `entry.args` must fit the entry's input schema.
    write(
        "project.json",
        r#"{"version": 1, "runtime": {}, "entry": {"agent": "topic", "args": {"input": "x"}}, "agent_files": ["main.agent", "topic.agent"]}"#,
    );
    let errors = Project::check(dir.path(), &Registry::default()).unwrap_err().to_string();
    assert!(
        errors
            .contains("project.json:1:67: error: `entry.args` are not valid arguments of `topic`"),
        "{errors}"
    );

    // A project has one configuration file.
    write("llm-do.toml", "max_depth = 2\n");
    let errors = Project::load(dir.path()).unwrap_err().to_string();
    assert!(
        errors
            .contains("project.json:1:1: error: the project has both project.json and llm-do.toml"),
        "{errors}"
    );
}

#[test]
fn broken_json_is_located() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("project.json"),
        "{\n  \"version\": 1,\n  \"runtime\": {},\n}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("a.agent"), "---\nname: a\n---\nHi\n").unwrap();
    let errors = Project::load(dir.path()).unwrap_err().to_string();
    assert!(errors.contains("project.json:4:1: error: invalid JSON: trailing comma"), "{errors}");
    // Only that: the files it lists are unknown, not missing.
    assert_eq!(errors.lines().count(), 1, "{errors}");
}

/// `agent_attachments_require_approval` and the per-agent `attachments_require_approval`: a
/// call of an agent that carries attachments asks; one without attachments does not.
#[test]
fn calls_with_attachments_ask_when_the_manifest_says_so() {
    use llm_do_core::approval::ApprovalPolicy;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "project.json",
        r#"{"version": 1, "runtime": {"agent_attachments_require_approval": true, "agent_approval_overrides": {"quiet": {"attachments_require_approval": false}, "strict": {"calls_require_approval": false, "attachments_require_approval": true}}}, "entry": {"agent": "main"}, "agent_files": ["main.agent", "reader.agent", "quiet.agent", "strict.agent"]}"#,
    );
    write("main.agent", "---\nname: main\ntoolsets: [reader, quiet, strict]\n---\nDelegate.\n");
    for name in ["reader", "quiet", "strict"] {
        write(&format!("{name}.agent"), &format!("---\nname: {name}\n---\nRead.\n"));
    }
    let project = Project::check(dir.path(), &Registry::default()).expect("valid");
    let policy = project.approval_policy(ApprovalPolicy::new());
    let verdict = |agent: &str, args: serde_json::Value| {
        let declared = project.specs().find(|s| s.name() == agent).unwrap().approval();
        policy.evaluate(agent, &args, declared).0
    };
    let with = json!({"input": "x", "attachments": ["report.pdf"]});
    assert_eq!(verdict("reader", with.clone()), Verdict::Ask);
    assert_eq!(verdict("reader", json!({"input": "x"})), Verdict::Allow);
    assert_eq!(verdict("reader", json!({"input": "x", "attachments": []})), Verdict::Allow);
    assert_eq!(verdict("quiet", with.clone()), Verdict::Allow, "its override says no");
    assert_eq!(verdict("strict", with), Verdict::Ask);
    assert_eq!(verdict("strict", json!({"input": "x"})), Verdict::Allow);

    write(
        "project.json",
        r#"{"version": 1, "runtime": {"agent_approval_overrides": {"nobody": {"attachments_require_approval": true}}}, "entry": {"agent": "main"}, "agent_files": ["main.agent", "reader.agent", "quiet.agent", "strict.agent"]}"#,
    );
    let errors = Project::load(dir.path()).unwrap_err().to_string();
    assert!(
        errors.contains("project.json:1:100: error: `nobody` is not an agent of this project"),
        "{errors}"
    );
}

/// Refusals the fixtures do not reach: a `tools:` name only Python defines, `schema_in_ref`
/// and `entry` in an agent file, `auth_mode: oauth_required`; each at its file:line:col.
#[test]
fn more_refusals_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "project.json",
        "{\n  \"version\": 1,\n  \"runtime\": {\"auth_mode\": \"oauth_required\"},\n  \"entry\": {\"agent\": \"main\"},\n  \"agent_files\": [\"main.agent\"],\n  \"python_files\": [\"tools.py\"]\n}\n",
    );
    write("tools.py", "def lookup_price(item: str) -> float:\n    return 1.0\n");
    write(
        "main.agent",
        "---\nname: main\ntools:\n  - lookup_price\nschema_in_ref: schemas.py:Order\nentry: true\n---\nPrice the order.\n",
    );
    let errors = Project::check(dir.path(), &Registry::default()).unwrap_err();
    let text = errors.to_string().replace(&format!("{}/", dir.path().display()), "");
    for (at, what) in [
        (
            "project.json:3:28",
            "`auth_mode: oauth_required` uses OAuth model credentials, which are not supported (expected `oauth_off`",
        ),
        (
            "main.agent:4:5",
            "the tool `lookup_price` is defined in Python (tools.py), which cannot run here (expected Rust tools of a host program: write them with #[tool], register them in a `Registry` (register it as `lookup_price`)",
        ),
        (
            "main.agent:5:1",
            "`schema_in_ref` is the old name of `input_model_ref` (expected `input_model_ref` with an inline JSON Schema)",
        ),
        (
            "main.agent:6:1",
            "an agent file cannot declare `entry` (expected the entry in project.json's `entry.agent`)",
        ),
    ] {
        assert!(text.contains(&format!("{at}: error: {what}")), "{at}: {what}\n{text}");
    }
    assert_eq!(errors.to_string().lines().count(), 4, "{text}");
}

/// A listed file that is a FIFO or a directory is said to be one (it exists, so "does not
/// exist" would mislead), and checking the project does not wait on the FIFO.
#[cfg(unix)]
#[test]
fn listed_files_that_are_not_regular_files_say_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("project.json"),
        r#"{"version": 1, "entry": {"agent": "main"}, "agent_files": ["main.agent", "pipe.agent"], "python_files": ["tools.py"]}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("main.agent"), "---\nname: main\n---\nHi\n").unwrap();
    let fifo = dir.path().join("pipe.agent");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    std::fs::create_dir(dir.path().join("tools.py")).unwrap();
    let path = dir.path().to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(Project::load(&path).unwrap_err().to_string());
    });
    let errors = rx.recv_timeout(std::time::Duration::from_secs(20)).expect("no hang");
    assert!(
        errors.contains("error: the agent file `pipe.agent` is a FIFO, not a regular file"),
        "{errors}"
    );
    assert!(
        errors.contains("error: the Python file `tools.py` is a directory, not a regular file"),
        "{errors}"
    );
}

/// A toolset name no Python file mentions (a typo) is an unknown toolset, with the known
/// names, even when the project has `python_files`: only a file that mentions it is blamed.
#[test]
fn a_misspelt_toolset_is_unknown_not_python() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "project.json",
        r#"{"version": 1, "runtime": {}, "entry": {"agent": "main"}, "agent_files": ["main.agent"], "python_files": ["tools.py", "more.py"]}"#,
    );
    write("tools.py", "TOOLSETS = {\"calc_tools\": build()}\n");
    write("more.py", "def other(): pass\n");
    write(
        "main.agent",
        "---\nname: main\ntoolsets:\n  - filesystem_projct\n  - calc_tools\n---\nGo.\n",
    );
    let errors = Project::check(dir.path(), &Registry::default()).unwrap_err();
    let text = errors.to_string().replace(&format!("{}/", dir.path().display()), "");
    assert!(
        text.contains("main.agent:4:5: error: unknown toolset `filesystem_projct` (expected a built-in toolset, an agent of the project or a Rust tool of the host program: one of `filesystem_project`"),
        "{text}"
    );
    assert!(
        text.contains("main.agent:5:5: error: the toolset `calc_tools` is defined in Python (tools.py), which cannot run here"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2, "{text}");
}

/// A built-in toolset listed under `tools:` (upstream: an unknown tool) says to move it to
/// `toolsets:` (before: "unknown tool `filesystem_project`", expecting "one of
/// `filesystem_project`, ..."), and the names a `tools:` entry may take leave the built-in
/// toolsets out.
#[test]
fn a_builtin_toolset_under_tools_says_where_it_goes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.agent"),
        "---\nname: main\ntools: [filesystem_project, helpr]\n---\nGo.\n",
    )
    .unwrap();
    let errors = Project::check(dir.path(), &Registry::default()).unwrap_err();
    let found: Vec<_> = errors.iter().map(|d| (d.line, d.column, d.message.as_str())).collect();
    assert_eq!(
        found,
        [
            (3, 9, "`filesystem_project` is a built-in toolset, not a tool"),
            (3, 29, "unknown tool `helpr`"),
        ],
        "{errors}"
    );
    let expected: Vec<_> = errors.iter().map(|d| d.expected.clone().unwrap_or_default()).collect();
    assert_eq!(expected[0], "`filesystem_project` under `toolsets:` (`tools:` names single tools)");
    assert_eq!(
        expected[1],
        "an agent of the project or a Rust tool of the host program: one of `main`"
    );
}

/// Files the Python llm-do accepts: `null` for its optional (`X | None`) fields means not
/// given, integral floats are whole numbers (pydantic's lax mode), and the frontmatter may
/// follow blank lines and be fenced by more than three dashes (python-frontmatter).
#[test]
fn upstream_nulls_whole_floats_and_fences_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "project.json",
        r#"{"version": 1.0, "runtime": {"max_depth": 4.0, "agent_approval_overrides": {"main": {"calls_require_approval": null, "attachments_require_approval": null}}}, "entry": {"agent": "main", "function": null, "args": null}, "generated_agents_dir": null, "agent_files": ["main.agent"]}"#,
    );
    write(
        "main.agent",
        "\n\n----\nname: main\nmodel:\ndescription: null\ncompatible_models:\ninput_model_ref: null\n-----\nHelp the user.\n",
    );
    let project = Project::check(dir.path(), &Registry::default()).expect("valid");
    assert_eq!(project.entry(), Some("main"));
    let config = project.config();
    assert_eq!((config.max_depth, config.entry_args.clone()), (Some(4), None));
    let main = &project.workers()[0];
    assert_eq!((main.model.as_deref(), main.compatible_models.as_ref()), (None, None));
    assert_eq!(main.description.as_deref(), Some("Help the user."));
    assert_eq!(main.system.as_deref(), Some("Help the user."));
    assert_eq!(main.input, llm_do_project::agent_file::default_agent_input_schema());
    assert_eq!(main.approval, None);

    // Not whole, or null where a value is required: still refused, located.
    write(
        "project.json",
        r#"{"version": 1.5, "runtime": {"max_depth": 2.5}, "entry": {"agent": null}, "agent_files": ["main.agent"]}"#,
    );
    let text = Project::load(dir.path()).unwrap_err().to_string();
    let text = text.replace(&format!("{}/", dir.path().display()), "");
    for expected in [
        "project.json:1:13: error: unsupported manifest version 1.5",
        "project.json:1:43: error: `max_depth` is a number (expected a whole number of at least 1)",
        "project.json:1:68: error: `agent` is nothing (null) (expected a non-empty string)",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
}

/// A name with a character that is not part of an identifier (`-`) is looked for as it is
/// written: `calc-tools` is mentioned by `"calc-tools"`, `calc-tool` is not (it is followed by
/// `s`), nor is `tools-calc` (both its words are, elsewhere).
#[test]
fn names_that_are_not_identifiers_are_looked_for_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "project.json",
        r#"{"version": 1, "runtime": {}, "entry": {"agent": "main"}, "agent_files": ["main.agent"], "python_files": ["tools.py"]}"#,
    );
    write("tools.py", "TOOLSETS = {\"calc-tools\": build()}\n");
    write(
        "main.agent",
        "---\nname: main\ntoolsets:\n  - calc-tools\n  - calc-tool\n  - tools-calc\n---\nGo.\n",
    );
    let errors = Project::check(dir.path(), &Registry::default()).unwrap_err();
    let text = errors.to_string().replace(&format!("{}/", dir.path().display()), "");
    assert!(
        text.contains(
            "main.agent:4:5: error: the toolset `calc-tools` is defined in Python (tools.py)"
        ),
        "{text}"
    );
    assert!(text.contains("main.agent:5:5: error: unknown toolset `calc-tool`"), "{text}");
    assert!(text.contains("main.agent:6:5: error: unknown toolset `tools-calc`"), "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");
}

/// 1000 toolset names that only Python defines, and 40 Python files of 1 MB: each file is read
/// and scanned once, not once per name (before, 1000 names × 40 files of 1 MB took 5¾
/// minutes), and each name is blamed on the files that mention it.
#[test]
fn many_python_names_in_many_large_files_are_checked() {
    const NAMES: usize = 1000;
    const FILES: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    let files: Vec<String> = (0..FILES).map(|i| format!("\"t{i}.py\"")).collect();
    write(
        "project.json",
        &format!(
            r#"{{"version": 1, "runtime": {{}}, "entry": {{"agent": "main"}}, "agent_files": ["main.agent"], "python_files": [{}]}}"#,
            files.join(", ")
        ),
    );
    // Every file mentions every even name, among many lines that mention none.
    let mut text = String::new();
    for i in (0..NAMES).step_by(2) {
        text.push_str(&format!("TOOLSETS[\"set_{i}\"] = build_set_{i}()\n"));
    }
    // and near misses of every name.
    while text.len() < 1_000_000 {
        for i in 0..NAMES {
            text.push_str(&format!("_set_{i}x "));
        }
        text.push('\n');
    }
    for i in 0..FILES {
        write(&format!("t{i}.py"), &text);
    }
    let names: String = (0..NAMES).map(|i| format!("  - set_{i}\n")).collect();
    write("main.agent", &format!("---\nname: main\ntoolsets:\n{names}---\nGo.\n"));
    let errors = Project::check(dir.path(), &Registry::default()).unwrap_err();
    let text = errors.to_string();
    let python = text.lines().filter(|l| l.contains("is defined in Python (t0.py, t1.py,")).count();
    let unknown = text.lines().filter(|l| l.contains("error: unknown toolset `set_")).count();
    assert_eq!((python, unknown), (NAMES / 2, NAMES / 2), "{}", &text[..2000.min(text.len())]);
    assert!(text.contains("the toolset `set_998` is defined in Python (t0.py"), "the last one");
}

/// `agent_files` and `python_files` are relative to the project: a path that leaves its
/// directory (`../x` once `..` are resolved, an absolute path elsewhere) is refused where it
/// is written; `sub/../main.agent` and an absolute path inside the project are not. Before,
/// all of them were read.
#[test]
fn listed_files_outside_the_project_are_refused() {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("project");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let write = |name: &Path, text: &str| std::fs::write(name, text).unwrap();
    write(&outer.path().join("outside.agent"), "---\nname: outside\n---\nGo.\n");
    write(&outer.path().join("outside.py"), "def lookup(): pass\n");
    write(&dir.join("main.agent"), "---\nname: main\n---\nGo.\n");
    write(&dir.join("tools.py"), "def lookup(): pass\n");
    let manifest = format!(
        "{{\n  \"version\": 1,\n  \"runtime\": {{}},\n  \"entry\": {{\"agent\": \"main\"}},\n  \"agent_files\": [\n    \"sub/../main.agent\",\n    \"../outside.agent\",\n    \"{}\"\n  ],\n  \"python_files\": [\n    \"{}\",\n    \"sub/../../outside.py\"\n  ]\n}}\n",
        outer.path().join("outside.agent").display(),
        dir.join("tools.py").display(),
    );
    write(&dir.join("project.json"), &manifest);
    let errors = Project::check(&dir, &Registry::default()).unwrap_err();
    let text = errors.to_string().replace(&format!("{}/", outer.path().display()), "");
    for (at, what) in [
        ("project.json:7:5", "the agent file `../outside.agent` is outside the project directory"),
        ("project.json:8:5", "the agent file `outside.agent` is outside the project directory"),
        (
            "project.json:12:5",
            "the Python file `sub/../../outside.py` is outside the project directory",
        ),
    ] {
        assert!(
            text.contains(&format!("project/{at}: error: {what} (expected a path relative to the project directory, inside it)")),
            "{at}: {what}\n{text}"
        );
    }
    assert_eq!(text.lines().count(), 3, "{text}");
}

/// `python_files` are searched for the names only Python defines, each read whole: listed up
/// to `MAX_PROJECT_BYTES` together (before, a `project.json` listing hard links to one 1 MiB
/// file had every copy read and kept by `check`). The entry that goes over is located.
#[test]
fn python_files_are_listed_up_to_a_total_size() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{}\nTOOLSETS = {{}}\n", "# padding\n".repeat(100_000));
    let first = dir.path().join("t00.py");
    std::fs::write(&first, &text).unwrap();
    let files = llm_do_project::project::MAX_PROJECT_BYTES / text.len() as u64 + 3;
    let mut listed = vec!["\"t00.py\"".to_owned()];
    for i in 1..files {
        let name = format!("t{i:02}.py");
        std::fs::hard_link(&first, dir.path().join(&name)).unwrap();
        listed.push(format!("\"{name}\""));
    }
    std::fs::write(
        dir.path().join("project.json"),
        format!(
            "{{\"version\": 1, \"runtime\": {{}}, \"entry\": {{\"agent\": \"main\"}},\n\"agent_files\": [\"main.agent\"],\n\"python_files\": [{}]}}",
            listed.join(", ")
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("main.agent"), "---\nname: main\n---\nGo.\n").unwrap();
    let errors = Project::check(dir.path(), &Registry::default()).unwrap_err();
    let found: Vec<_> = errors.iter().collect();
    assert_eq!(found.len(), 1, "{errors}");
    let over = llm_do_project::project::MAX_PROJECT_BYTES / text.len() as u64;
    let entry = format!("\"t{over:02}.py\"");
    let column = listed.iter().take(over as usize).map(|l| l.len() + 2).sum::<usize>() + 18;
    assert_eq!((found[0].line, found[0].column), (3, column), "{errors}");
    assert!(found[0].file.ends_with("project.json"));
    assert_eq!(
        found[0].message,
        format!(
            "the Python files listed are larger than {} bytes together: `t{over:02}.py` and the \
             {} after it are not searched",
            llm_do_project::project::MAX_PROJECT_BYTES,
            files - over - 1
        ),
        "{entry}"
    );
}

/// A frontmatter key that is not a string is said to be one, as in a `.worker` file (before:
/// "unknown key `` in an agent file", with an empty name).
#[test]
fn an_agent_key_that_is_not_a_string_says_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.agent"), "---\n1: x\n~: y\nname: main\n---\nGo.\n")
        .unwrap();
    let errors = Project::check(dir.path(), &Registry::default()).unwrap_err();
    let found: Vec<_> = errors.iter().map(|d| (d.line, d.column, d.message.as_str())).collect();
    assert_eq!(
        found,
        [(2, 1, "a key is an integer"), (3, 1, "a key is nothing (null)")],
        "{errors}"
    );
}
