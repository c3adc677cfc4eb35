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
fn structure_bombs_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let braces = format!("{}a{}", "{".repeat(20_000), "}".repeat(20_000));
    std::fs::write(
        dir.path().join("llm-do.toml"),
        format!("[approval]\nrules = [{{ tool = \"{braces}\", verdict = \"deny\" }}]\n"),
    )
    .unwrap();
    let deep = format!(
        "---\napproval:\n  - {{tool: \"{}x{}\", verdict: ask}}\na:\n  {}x\n---\nx",
        "{".repeat(30),
        "}".repeat(30),
        "- ".repeat(1000)
    );
    std::fs::write(dir.path().join("deep.worker"), deep).unwrap();
    let errors = Project::load(dir.path()).unwrap_err();
    let found: Vec<_> = errors.iter().map(|d| (d.line, d.column, d.message.as_str())).collect();
    assert_eq!(found.len(), 2, "{errors}");
    // The worker file: the YAML depth is checked before anything else is read from it.
    assert_eq!(
        found[0],
        (5, 3 + 2 * 63, "the YAML is nested more than 64 levels deep"),
        "{errors}"
    );
    assert_eq!((found[1].0, found[1].1), (2, 10), "{errors}");
    assert!(found[1].2.contains("is 40001 characters long"), "{errors}");
    assert!(found[1].2.len() < 200, "the glob is not echoed whole");
    // Nesting within the length bound is refused too, in a worker's rules as in llm-do.toml.
    std::fs::remove_file(dir.path().join("llm-do.toml")).unwrap();
    let deep = format!(
        "---\napproval:\n  - {{tool: \"{}x{}\", verdict: ask}}\n---\nx",
        "{".repeat(30),
        "}".repeat(30)
    );
    std::fs::write(dir.path().join("deep.worker"), deep).unwrap();
    let errors = Project::load(dir.path()).unwrap_err();
    let d = errors.iter().next().unwrap();
    assert_eq!((d.line, d.column), (3, 5), "{errors}");
    assert!(d.message.contains("nested more than 16 levels deep"), "{errors}");
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
    // Structure bombs (issue 15): nesting that overflowed recursive parsers or drops.
    let braces = format!("{}a{}", "{".repeat(20_000), "}".repeat(20_000));
    inputs.push(format!("---\napproval: [{{tool: \"{braces}\", verdict: deny}}]\n---\nx").into());
    inputs.push(
        format!("---\napproval: [{{tool: x, verdict: ask, args: {{/p: {{glob: \"{braces}\"}}}}}}]\n---\nx")
            .into(),
    );
    let parens = format!("{}a{}", "(".repeat(20_000), ")".repeat(20_000));
    inputs.push(
        format!("---\napproval: [{{tool: x, verdict: ask, args: {{/p: {{regex: \"{parens}\"}}}}}}]\n---\nx")
            .into(),
    );
    inputs.push(format!("---\na: {}\n---\nx", "[".repeat(1 << 19)).into_bytes());
    inputs.push(format!("---\na: {}\n---\nx", "- ".repeat(300_000)).into_bytes());
    inputs.push(format!("---\ninput: {}\n---\nx", "{a: ".repeat(100_000)).into_bytes());
    inputs.push(b"---\nbudget: {requests: 0}\n---\nx".to_vec());
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

#[test]
fn a_filesystem_entry_offers_only_the_tools_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, tools: &str| {
        std::fs::write(
            dir.path().join(format!("{name}.worker")),
            format!("---\ntools:\n{tools}---\nGo.\n"),
        )
        .unwrap()
    };
    write("writer", "  - filesystem: { only: [write_file] }\n");
    write("reader", "  - filesystem: { read_only: true, only: [list_files, read_file] }\n");
    let project = Project::check(dir.path(), &Registry::default()).unwrap();
    let offered = |name: &str| {
        project.workers().iter().find(|w| w.name == name).unwrap().tools[0].tool_names()
    };
    assert_eq!(offered("writer"), ["write_file"]);
    assert_eq!(offered("reader"), ["read_file", "list_files"]);
    // The shared toolset can write, because one worker is offered `write_file`.
    let rt = project.register(llm_do_core::Runtime::builder()).build();
    for tool in ["read_file", "list_files", "write_file"] {
        assert!(rt.registry().contains(tool), "{tool}");
    }

    // Only the reader: nothing offers `write_file`, so it is not registered at all.
    std::fs::remove_file(dir.path().join("writer.worker")).unwrap();
    let rt = Project::check(dir.path(), &Registry::default())
        .unwrap()
        .register(llm_do_core::Runtime::builder())
        .build();
    assert!(rt.registry().contains("read_file") && !rt.registry().contains("write_file"));

    // Mistakes in `only` are located at the item.
    write(
        "bad",
        "  - filesystem: { read_only: true, only: [read_file, grep, read_file, write_file] }\n",
    );
    write("empty", "  - filesystem: { only: [] }\n");
    let errors = Project::check(dir.path(), &Registry::default()).unwrap_err();
    let found: Vec<_> = errors.iter().map(|d| (d.line, d.column, d.message.as_str())).collect();
    assert_eq!(
        found,
        [
            (3, 54, "`grep` is not a tool of the filesystem toolset"),
            (3, 60, "`read_file` is listed twice"),
            (3, 71, "`write_file` is offered by a `read_only` filesystem entry"),
            (3, 25, "`only` is empty"),
        ],
        "{errors}"
    );
}

#[test]
fn workers_share_one_filesystem_toolset_with_the_same_limits() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, options: &str| {
        let text = format!("---\ntools:\n  - filesystem: {{ {options} }}\n---\nGo.\n");
        std::fs::write(dir.path().join(format!("{name}.worker")), text).unwrap()
    };
    write("a", "max_write_chars: 160, max_path_chars: 40");
    write("b", "max_write_chars: 160, max_path_chars: 40, only: [read_file]");
    let project = Project::check(dir.path(), &Registry::default()).unwrap();
    let rt = project.register(llm_do_core::Runtime::builder()).build();
    let write_file = rt.registry().get("write_file").unwrap();
    assert_eq!(write_file.input_schema()["properties"]["content"]["maxLength"], 160);
    assert_eq!(write_file.input_schema()["properties"]["path"]["maxLength"], 40);

    write("b", "max_write_chars: 80, max_path_chars: 40");
    let errors = Project::check(dir.path(), &Registry::default()).unwrap_err();
    let d = errors.iter().next().unwrap();
    assert_eq!(d.message, "the `filesystem` toolset is configured differently by another worker");
    assert!(d.file.ends_with("b.worker") && d.line == 3, "{errors}");
}

#[test]
fn mcp_tool_entries_resolve_against_the_servers_tools() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("llm-do.toml", "[mcp.orders]\ncommand = \"orders-server\"\n");
    write("all.worker", "---\ntools: [orders.*]\n---\nGo {input}.\n");
    write("one.worker", "---\ntools: [orders.lookup]\n---\nGo {input}.\n");
    let tool = |name: &str| ToolSpecBuilder::new(name).handler(|_, a| async move { Ok(a) }).build();
    let mut mcp = Registry::default();
    mcp.insert(tool("orders__lookup"));
    mcp.insert(tool("orders__cancel"));
    let project = Project::check(dir.path(), &mcp).unwrap();
    let rt = project
        .register(mcp.iter().fold(llm_do_core::Runtime::builder(), |b, s| b.register(s.clone())))
        .build();
    let tools_of = |w: &str| {
        let spec = rt.registry().get(w).unwrap();
        spec.worker().unwrap().tools.iter().map(|t| t.name()).collect::<Vec<_>>()
    };
    assert_eq!(tools_of("all"), ["orders__cancel", "orders__lookup"]);
    assert_eq!(tools_of("one"), ["orders__lookup"]);

    // A tool the server does not list, an undeclared server, a malformed reference.
    write("one.worker", "---\ntools: [orders.refund, billing.*, orders.a.b]\n---\nGo {input}.\n");
    let errors = Project::check(dir.path(), &mcp).unwrap_err().to_string();
    assert!(errors.contains("one.worker:2:9: error: the MCP server `orders` has no tool `refund` (expected one of `cancel`, `lookup`)"), "{errors}");
    assert!(
        errors.contains(
            "one.worker:2:24: error: unknown MCP server `billing` (expected a server of llm-do.toml: `orders`)"
        ),
        "{errors}"
    );
    assert!(errors.contains("`orders.a.b` is not a valid MCP tool reference"), "{errors}");
}

/// A prompt with `{` + 750 KB + `}` (not a placeholder), or a 750 KB identifier between braces
/// (not an input property), gives a diagnostic of a line, what stood between the braces cut
/// to 60 characters. Before, the whole 750 KB was echoed.
#[test]
fn a_huge_text_between_braces_is_echoed_cut() {
    for (between, problem) in [
        ("a b ".repeat(190_000), format!("`{{{}…}}` is not a placeholder", "a b ".repeat(15))),
        (
            "a".repeat(750_000),
            format!("placeholder `{{{}…}}` is not an input property", "a".repeat(60)),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("llm-do.toml"), "model = \"openai:m\"\n").unwrap();
        let worker = format!("---\n---\nDo {{{between}}}.\n");
        std::fs::write(dir.path().join("main.worker"), worker).unwrap();
        let errors = Project::check(dir.path(), &Registry::default()).unwrap_err().to_string();
        assert!(
            errors.contains(&format!("main.worker:3:4: error: {problem}")),
            "{}",
            &errors[..errors.len().min(500)]
        );
        assert!(errors.len() < 600, "{} bytes", errors.len());
    }
}

/// Worker files of 1 MiB each are each within the file limit, but a project of many is not
/// read whole: the files are read up to `MAX_PROJECT_BYTES` together, and the file that goes
/// over is reported (before, hard links to one 1 MiB worker file made a project of 1 MiB on
/// disk that `check` read in full, each copy kept: 300 links took 900 MB of memory, 3000 ran
/// out of it).
#[test]
fn a_project_is_read_up_to_a_total_size() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = "word ".repeat(200_000);
    let text = format!("---\ndescription: Big.\n---\n{prompt}{{input}}\n");
    let first = dir.path().join("w000.worker");
    std::fs::write(&first, &text).unwrap();
    let files = llm_do_project::project::MAX_PROJECT_BYTES / text.len() as u64 + 3;
    for i in 1..files {
        std::fs::hard_link(&first, dir.path().join(format!("w{i:03}.worker"))).unwrap();
    }
    let errors = Project::load(dir.path()).unwrap_err();
    let found: Vec<_> = errors.iter().collect();
    assert_eq!(found.len(), 1, "{errors}");
    let over = llm_do_project::project::MAX_PROJECT_BYTES / text.len() as u64;
    assert!(found[0].file.ends_with(format!("w{over:03}.worker")), "{errors}");
    assert_eq!((found[0].line, found[0].column), (1, 1));
    assert_eq!(
        found[0].message,
        format!(
            "the project's worker and agent files are larger than {} bytes together: this file \
             and the {} after it are not read",
            llm_do_project::project::MAX_PROJECT_BYTES,
            files - over - 1
        )
    );
}
