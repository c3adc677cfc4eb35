//! `Project::check` on fixture projects: a broken one reports every mistake with
//! file:line:col, a good one loads.

use llm_do_core::{Registry, ToolSpecBuilder};
use llm_do_project::Project;

const BROKEN: &str = "tests/fixtures/broken";
const GOOD: &str = "tests/fixtures/good";

#[test]
fn broken_project_reports_every_mistake_with_its_location() {
    let errors = Project::check(BROKEN, &Registry::default()).unwrap_err();
    insta::assert_snapshot!(errors.to_string());

    let has = |file: &str, needle: &str| {
        errors.iter().any(|d| d.file.ends_with(file) && d.message.contains(needle) && d.line >= 1)
    };
    // The kinds of mistakes the issue asks for, and more.
    assert!(has("bad_yaml.worker", "invalid YAML"), "bad YAML");
    assert!(has("unknown_key.worker", "unknown key `temprature`"), "unknown key");
    assert!(has("unknown_tool.worker", "unknown tool `summarise`"), "unknown tool");
    assert!(has("bad_schema.worker", "not a valid JSON Schema"), "bad schema");
    assert!(has("no_prompt.worker", "no prompt"), "missing prompt");
    assert!(has("bad_model.worker", "invalid model string `gpt-4o`"), "bad model string");
    assert!(has("twin_b.worker", "duplicate worker name `twin`"), "duplicate names");
    assert!(has("placeholder.worker", "placeholder `{pth}`"), "placeholder");
    assert!(has("wrong_types.worker", "`temperature`"), "wrong type");
    assert!(has("no_frontmatter.worker", "frontmatter"), "no frontmatter");
    assert!(has("bad_rules.worker", "invalid approval rule"), "bad rule");
    assert!(has("bad_rules.worker", "more than one verdict"), "bad shell rule");
    assert!(has("bad_toolset.worker", "read_onyl"), "bad toolset option");
    assert!(has("llm-do.toml", "invalid model string `gpt4`"), "bad default model");
    assert!(has("llm-do.toml", "entry `nope`"), "unknown entry");
    // Recursion (a worker listing itself, or a cycle) is not a mistake.
    assert!(!errors.iter().any(|d| d.file.ends_with("recursive.worker")), "{errors}");
    // Every diagnostic says what was expected.
    assert!(errors.iter().all(|d| d.expected.is_some()), "{errors}");
}

#[test]
fn load_without_a_host_leaves_unknown_names_to_the_host() {
    let errors = Project::load(BROKEN).unwrap_err();
    assert!(!errors.to_string().contains("unknown tool"), "{errors}");
    // ... but everything else is still reported.
    assert!(errors.to_string().contains("duplicate worker name `twin`"));
}

#[test]
fn good_project_checks_against_the_host_registry() {
    let errors = Project::check(GOOD, &Registry::default()).unwrap_err();
    assert_eq!(
        errors.to_string(),
        "tests/fixtures/good/main.worker:6:5: error: unknown tool `lookup` (expected one of \
         `main`, `summarize`)"
    );

    let mut host = Registry::default();
    host.insert(ToolSpecBuilder::new("lookup").handler(|_, a| async move { Ok(a) }).build());
    let project = Project::check(GOOD, &host).unwrap();
    assert_eq!(project.entry(), Some("main"));
    assert_eq!(project.config().max_depth, Some(6));
    let names: Vec<&str> = project.workers().iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["main", "summarize"]);
    assert_eq!(project.workers()[0].tool_names(), ["lookup", "summarize"]);

    // A worker may not take a host name.
    host.insert(ToolSpecBuilder::new("summarize").handler(|_, a| async move { Ok(a) }).build());
    let errors = Project::check(GOOD, &host).unwrap_err();
    assert!(
        errors.to_string().contains("summarize.worker:2:7: error: duplicate name `summarize`"),
        "{errors}"
    );
}

#[test]
fn no_input_makes_load_panic() {
    let good = std::fs::read_to_string(format!("{GOOD}/summarize.worker")).unwrap()
        + "\n"
        + &std::fs::read_to_string(format!("{BROKEN}/bad_rules.worker")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.worker");
    // Every prefix of a worker file (cut anywhere, even inside a character) and a few
    // hostile inputs: each is either a project or diagnostics, never a panic.
    let mut inputs: Vec<Vec<u8>> =
        (0..=good.len()).map(|n| good.as_bytes()[..n].to_vec()).collect();
    inputs.push(b"---\n\xff\xfe\n---\nx".to_vec());
    inputs.push(format!("---\na: {}\n---\nx", "[".repeat(10_000)).into_bytes());
    inputs.push(b"---\na: &a [*a]\n---\nx".to_vec());
    inputs.push(b"---\n? [a]\n: b\n---\nx".to_vec());
    inputs.push(b"---\n- a\n---\nx".to_vec());
    inputs
        .push(b"---\ntools: [{filesystem: 3}, {shell: [1]}, {x: 1, y: 2}, 7, ~]\n---\n{".to_vec());
    inputs.push(b"---\ninput: {type: object, properties: 5}\n---\n{a}".to_vec());
    inputs.push(b"---\ntemperature: .inf\nmax_turns: 99999999999999\n---\nx".to_vec());
    for input in inputs {
        std::fs::write(&path, &input).unwrap();
        match Project::load(dir.path()) {
            Ok(_) => {}
            Err(errors) => assert!(!errors.is_empty()),
        }
    }
}

#[test]
fn malformed_braces_in_a_prompt_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("unclosed", "Read {path}\nand then {é", (7, 10), "unclosed `{` in the prompt", "`{{`"),
        ("unmatched", "Read {path} }\n", (6, 13), "unmatched `}` in the prompt", "`}}`"),
        ("words", "ok\n  {two words}", (7, 3), "`{two words}` is not a placeholder", "`{path}`"),
    ];
    for (name, body, _, _, _) in &cases {
        let text = format!(
            "---\ninput:\n  type: object\n  properties: {{ path: {{ type: string }} }}\n---\n{body}\n"
        );
        std::fs::write(dir.path().join(format!("{name}.worker")), text).unwrap();
    }
    let errors = Project::check(dir.path(), &Registry::default()).unwrap_err();
    for (name, _, (line, column), message, expected) in cases {
        let d = errors
            .iter()
            .find(|d| d.file.ends_with(format!("{name}.worker")))
            .unwrap_or_else(|| panic!("no diagnostic for {name}: {errors}"));
        assert_eq!((d.line, d.column), (line, column), "{name}: {errors}");
        assert_eq!(d.message, message);
        assert!(d.expected.as_deref().is_some_and(|e| e.contains(expected)), "{d:?}");
    }
    assert_eq!(errors.iter().count(), 3, "{errors}");
}
