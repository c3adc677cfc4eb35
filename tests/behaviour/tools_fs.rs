//! The filesystem toolset: confined to its root whatever the path says (`..`, absolute paths,
//! encoded-looking names, symbolic links out of the root, chains, dangling links, directories
//! reached through a link), checked on disk; and what it does inside the root.

#![cfg(unix)]

use llm_do::Runtime;
use llm_do::tools::ToolError;
use llm_do::tools::fs::{Filesystem, ListFilesArgs, ReadFileArgs, WriteFileArgs};
use llm_do_tests::bounded;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

const SECRET: &str = "TOP SECRET outside the root";

/// `outer/root` is the sandbox; `outer/outside` holds what must stay out of reach.
struct World {
    _tmp: tempfile::TempDir,
    outer: PathBuf,
    root: PathBuf,
    outside: PathBuf,
}

fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let outer = tmp.path().canonicalize().unwrap();
    let root = outer.join("root");
    let outside = outer.join("outside");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::create_dir_all(outside.join("dir")).unwrap();
    std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
    std::fs::write(outside.join("dir/inner.txt"), SECRET).unwrap();
    std::fs::write(root.join("ok.txt"), "inside").unwrap();
    // Links that leave the root.
    symlink("/etc", root.join("link_etc")).unwrap();
    symlink("/etc/passwd", root.join("link_passwd")).unwrap();
    symlink("../outside", root.join("link_outside")).unwrap();
    symlink(&outside, root.join("linkdir_abs")).unwrap();
    symlink("../outside/secret.txt", root.join("link_secret")).unwrap();
    symlink("chain2", root.join("chain1")).unwrap();
    symlink("sub/chain3", root.join("chain2")).unwrap();
    symlink("../../outside/secret.txt", root.join("sub/chain3")).unwrap();
    symlink("../..", root.join("sub/up2")).unwrap();
    symlink("/nonexistent/llm-do/file", root.join("dangling_abs")).unwrap();
    symlink("../outside/created-through-link.txt", root.join("dangling_out")).unwrap();
    // Links that stay inside (they must keep working).
    symlink("ok.txt", root.join("inside_link")).unwrap();
    symlink("..", root.join("sub/up")).unwrap();
    World { _tmp: tmp, outer, root, outside }
}

/// Every file and directory under `dir` with its content (`None` for directories and links).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path.clone());
                out.insert(path, None);
            } else if meta.is_file() {
                out.insert(path.clone(), Some(std::fs::read(&path).unwrap()));
            } else {
                out.insert(
                    path.clone(),
                    Some(std::fs::read_link(&path).unwrap().into_os_string().into_encoded_bytes()),
                );
            }
        }
    }
    out
}

fn runtime(fs: &Filesystem) -> Runtime {
    fs.specs().into_iter().fold(Runtime::builder(), |b, s| b.register(s)).build()
}

#[tokio::test]
async fn escape_suite_every_attempt_is_refused_and_nothing_outside_is_touched() {
    let w = world();
    let fs = Filesystem::new(&w.root).unwrap();
    let rt = runtime(&fs);
    let ctx = rt.ctx();
    let outside_before = snapshot(&w.outside);
    let outer_before = snapshot(&w.outer);
    let root_text = w.root.display().to_string();
    let outside_text = w.outside.display().to_string();

    // (what is tried, tool, arguments, a fragment of the message the model gets)
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        ("parent dir", "read_file", json!({"path": "../outside/secret.txt"}), "`..`"),
        (
            "parent dirs to /etc",
            "read_file",
            json!({"path": "../../../../../../etc/passwd"}),
            "`..`",
        ),
        (
            "parent dir after a subdir",
            "read_file",
            json!({"path": "sub/../../outside/secret.txt"}),
            "`..`",
        ),
        (
            "absolute /etc/passwd",
            "read_file",
            json!({"path": "/etc/passwd"}),
            "absolute path outside",
        ),
        (
            "absolute outside path",
            "read_file",
            json!({"path": format!("{outside_text}/secret.txt")}),
            "absolute path outside",
        ),
        (
            "absolute root then ..",
            "read_file",
            json!({"path": format!("{root_text}/../outside/secret.txt")}),
            "`..`",
        ),
        (
            "url-encoded ..",
            "read_file",
            json!({"path": "..%2F..%2Foutside%2Fsecret.txt"}),
            "does not exist",
        ),
        (
            "encoded dots dir",
            "read_file",
            json!({"path": "%2e%2e/outside/secret.txt"}),
            "does not exist",
        ),
        ("backslash ..", "read_file", json!({"path": "..\\outside\\secret.txt"}), "does not exist"),
        ("four dots", "read_file", json!({"path": "....//outside/secret.txt"}), "does not exist"),
        (
            "fullwidth dots",
            "read_file",
            json!({"path": "．．/outside/secret.txt"}),
            "does not exist",
        ),
        ("tilde", "read_file", json!({"path": "~/.ssh/id_rsa"}), "does not exist"),
        ("NUL byte", "read_file", json!({"path": "ok.txt\u{0}/../../outside/secret.txt"}), "NUL"),
        ("symlink to /etc", "read_file", json!({"path": "link_etc/passwd"}), "leads outside"),
        ("symlink to /etc/passwd", "read_file", json!({"path": "link_passwd"}), "leads outside"),
        ("relative symlink out", "read_file", json!({"path": "link_secret"}), "leads outside"),
        (
            "symlinked dir out",
            "read_file",
            json!({"path": "link_outside/secret.txt"}),
            "leads outside",
        ),
        (
            "absolute symlinked dir",
            "read_file",
            json!({"path": "linkdir_abs/dir/inner.txt"}),
            "leads outside",
        ),
        ("symlink chain out", "read_file", json!({"path": "chain1"}), "leads outside"),
        (
            "symlink .. chain out",
            "read_file",
            json!({"path": "sub/up2/outside/secret.txt"}),
            "leads outside",
        ),
        (
            "dangling absolute symlink",
            "read_file",
            json!({"path": "dangling_abs"}),
            "leads outside",
        ),
        ("list through ..", "list_files", json!({"pattern": "../outside/*"}), "`..`"),
        (
            "list absolute",
            "list_files",
            json!({"pattern": "/etc/*"}),
            "relative to the sandbox root",
        ),
        (
            "write with ..",
            "write_file",
            json!({"path": "../outside/new.txt", "content": "x"}),
            "`..`",
        ),
        (
            "write absolute",
            "write_file",
            json!({"path": format!("{outside_text}/new.txt"), "content": "x"}),
            "absolute path outside",
        ),
        (
            "write through symlinked dir",
            "write_file",
            json!({"path": "link_outside/new.txt", "content": "x"}),
            "leads outside",
        ),
        (
            "overwrite through symlinked dir",
            "write_file",
            json!({"path": "linkdir_abs/secret.txt", "content": "x"}),
            "leads outside",
        ),
        (
            "mkdir through symlinked dir",
            "write_file",
            json!({"path": "linkdir_abs/deeper/new.txt", "content": "x"}),
            "leads outside",
        ),
        (
            "write to a symlink out",
            "write_file",
            json!({"path": "link_secret", "content": "x"}),
            "leads outside",
        ),
        (
            "write to a symlink chain out",
            "write_file",
            json!({"path": "chain1", "content": "x"}),
            "leads outside",
        ),
        (
            "write to a dangling symlink out",
            "write_file",
            json!({"path": "dangling_out", "content": "x"}),
            "leads outside",
        ),
        (
            "write through .. symlink",
            "write_file",
            json!({"path": "sub/up2/outside/new.txt", "content": "x"}),
            "leads outside",
        ),
        (
            "write to /etc via symlink",
            "write_file",
            json!({"path": "link_etc/llm-do-escape", "content": "x"}),
            "leads outside",
        ),
    ];
    assert!(cases.len() >= 15);
    for (what, tool, args, fragment) in cases {
        let result = bounded(ctx.call_value(tool, args.clone())).await;
        let message = match result {
            Err(e) => e.to_string(),
            Ok(v) => panic!("{what}: {tool} {args} must be refused, got {v}"),
        };
        assert!(message.contains(fragment), "{what}: expected `{fragment}` in: {message}");
        assert!(
            !message.contains(SECRET) && !message.contains("root:x:"),
            "{what}: leaked: {message}"
        );
        assert_eq!(snapshot(&w.outside), outside_before, "{what}: something outside changed");
    }
    // Every refused call left the whole tree as it was, the root included.
    assert_eq!(snapshot(&w.outer), outer_before);
    assert!(!Path::new("/etc/llm-do-escape").exists());
    assert!(!w.outside.join("created-through-link.txt").exists());
}

#[tokio::test]
async fn listing_never_enters_links_that_leave_the_root() {
    let w = world();
    let fs = Filesystem::new(&w.root).unwrap();
    let all = bounded(fs.list_files(ListFilesArgs::default())).await.unwrap();
    assert!(
        all.entries.iter().all(|e| !e.contains("secret.txt") && !e.contains("inner")),
        "{:?}",
        all.entries
    );
    assert!(all.entries.contains(&"link_outside".to_owned()), "links are listed as entries");
    for pattern in ["link_outside/*", "linkdir_abs/**/*", "link_etc/*", "sub/up2/**/*"] {
        let args = ListFilesArgs { pattern: Some(pattern.into()), max_results: None };
        let out = bounded(fs.list_files(args)).await;
        match out {
            Ok(out) => assert!(out.entries.is_empty(), "{pattern}: {:?}", out.entries),
            Err(e) => assert!(e.to_string().contains("outside"), "{pattern}: {e}"),
        }
    }
}

#[tokio::test]
async fn links_that_stay_inside_the_root_work() {
    let w = world();
    let fs = Filesystem::new(&w.root).unwrap();
    let read = |path: &str| ReadFileArgs { path: path.into(), offset: None, max_chars: None };
    assert_eq!(bounded(fs.read_file(read("inside_link"))).await.unwrap().content, "inside");
    assert_eq!(bounded(fs.read_file(read("sub/up/ok.txt"))).await.unwrap().content, "inside");
    let abs = format!("{}/ok.txt", w.root.display());
    assert_eq!(
        bounded(fs.read_file(read(&abs))).await.unwrap().content,
        "inside",
        "absolute, under the root"
    );
    // Writing to a link inside the root writes its target.
    let write = WriteFileArgs { path: "inside_link".into(), content: "changed".into() };
    let out = bounded(fs.write_file(write)).await.unwrap();
    assert_eq!((out.path.as_str(), out.created), ("ok.txt", false));
    assert_eq!(std::fs::read_to_string(w.root.join("ok.txt")).unwrap(), "changed");
    assert!(
        std::fs::symlink_metadata(w.root.join("inside_link")).unwrap().file_type().is_symlink()
    );
}

#[tokio::test]
async fn read_file_pages_through_a_file_and_reports_its_size() {
    let w = world();
    let text: String = (0..500).map(|i| format!("line {i} — ünïcode\n")).collect();
    std::fs::write(w.root.join("long.txt"), &text).unwrap();
    let fs = Filesystem::new(&w.root).unwrap().max_read_chars(1000);
    let mut offset = 0;
    let mut collected = String::new();
    loop {
        let args =
            ReadFileArgs { path: "long.txt".into(), offset: Some(offset), max_chars: Some(5000) };
        let out = bounded(fs.read_file(args)).await.unwrap();
        assert_eq!(out.total_chars, Some(text.chars().count() as u64));
        assert_eq!(out.size_bytes, text.len() as u64);
        assert!(out.content.chars().count() <= 1000, "the configured maximum caps max_chars");
        collected.push_str(&out.content);
        match out.next_offset {
            Some(next) => {
                assert!(out.truncated && out.note.as_deref().is_some_and(|n| n.contains("offset")));
                offset = next;
            }
            None => {
                assert!(!out.truncated);
                break;
            }
        }
    }
    assert_eq!(collected, text);
}

#[tokio::test]
async fn reads_refuse_directories_and_binary_files_with_clear_errors() {
    let w = world();
    std::fs::write(w.root.join("blob.bin"), [0xffu8, 0xfe, 0x00, 0x80]).unwrap();
    let fs = Filesystem::new(&w.root).unwrap();
    let read = |path: &str| ReadFileArgs { path: path.into(), offset: None, max_chars: None };
    let err = bounded(fs.read_file(read("blob.bin"))).await.unwrap_err();
    assert!(matches!(err, ToolError::NotText { .. }), "{err}");
    let err = bounded(fs.read_file(read("sub"))).await.unwrap_err();
    assert!(err.to_string().contains("is a directory") && err.to_string().contains("list_files"));
    let err = bounded(fs.read_file(read("missing.txt"))).await.unwrap_err();
    assert!(matches!(err, ToolError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn write_file_creates_parents_replaces_atomically_and_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let w = world();
    let fs = Filesystem::new(&w.root).unwrap();
    let write =
        |path: &str, content: &str| WriteFileArgs { path: path.into(), content: content.into() };
    let out = bounded(fs.write_file(write("a/b/c.md", "one"))).await.unwrap();
    assert!(out.created && out.bytes_written == 3);
    assert_eq!(std::fs::read_to_string(w.root.join("a/b/c.md")).unwrap(), "one");

    std::fs::write(w.root.join("run.sh"), "old").unwrap();
    std::fs::set_permissions(w.root.join("run.sh"), std::fs::Permissions::from_mode(0o755))
        .unwrap();
    let out = bounded(fs.write_file(write("run.sh", "new"))).await.unwrap();
    assert!(!out.created);
    assert_eq!(std::fs::read_to_string(w.root.join("run.sh")).unwrap(), "new");
    let mode = std::fs::metadata(w.root.join("run.sh")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);

    let err = bounded(fs.write_file(write("sub", "x"))).await.unwrap_err();
    assert!(matches!(err, ToolError::IsDirectory { .. }), "{err}");
    let err = bounded(fs.write_file(write(".", "x"))).await.unwrap_err();
    assert!(matches!(err, ToolError::IsDirectory { .. }), "{err}");
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&w.root)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("llm-do-write"))
        .collect();
    assert!(leftovers.is_empty());
}

#[tokio::test]
async fn list_files_matches_globs_sorted_and_capped() {
    let w = world();
    for path in ["docs/b.md", "docs/a.md", "docs/api/c.md", "src/main.rs", "README.md"] {
        let p = w.root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "").unwrap();
    }
    let fs = Filesystem::new(&w.root).unwrap();
    let list = |pattern: &str, max: Option<u64>| ListFilesArgs {
        pattern: Some(pattern.into()),
        max_results: max,
    };
    let md = bounded(fs.list_files(list("**/*.md", None))).await.unwrap();
    assert_eq!(md.entries, ["README.md", "docs/a.md", "docs/api/c.md", "docs/b.md"]);
    let top = bounded(fs.list_files(list("docs/*", None))).await.unwrap();
    assert_eq!(top.entries, ["docs/a.md", "docs/api/", "docs/b.md"]);
    let capped = bounded(fs.list_files(list("**/*.md", Some(2)))).await.unwrap();
    assert_eq!((capped.entries.len(), capped.total_matches, capped.truncated), (2, 4, true));
    let none = bounded(fs.list_files(list("nowhere/**/*", None))).await.unwrap();
    assert!(none.entries.is_empty() && !none.truncated);
    let err = bounded(fs.list_files(list("docs/[", None))).await.unwrap_err();
    assert!(matches!(err, ToolError::InvalidPattern { .. }), "{err}");
}

#[tokio::test]
async fn the_read_only_variant_has_no_write_tool_and_refuses_writes() {
    let w = world();
    let fs = Filesystem::new(&w.root).unwrap().read_only();
    let names: Vec<String> = fs.specs().iter().map(|s| s.name().to_owned()).collect();
    assert_eq!(names, ["read_file", "list_files"]);
    let err =
        bounded(fs.write_file(WriteFileArgs { path: "x.txt".into(), content: "x".into() })).await;
    assert!(matches!(err, Err(ToolError::ReadOnly)));
    assert!(!w.root.join("x.txt").exists());
    let rt = runtime(&fs);
    let err =
        bounded(rt.ctx().call_value("write_file", json!({"path": "x.txt", "content": "x"}))).await;
    // The read-only toolset registers no `write_file` at all.
    assert!(
        matches!(&err, Err(llm_do::Error::UnknownCallable { name, .. }) if name == "write_file"),
        "{err:?}"
    );
    assert!(!w.root.join("x.txt").exists());
}

#[tokio::test]
async fn length_limits_are_in_the_schemas_and_enforced_by_the_calls() {
    let w = world();
    // No limits unless asked for.
    for spec in Filesystem::new(&w.root).unwrap().specs() {
        let schema = spec.input_schema().to_string();
        assert!(!schema.contains("maxLength"), "{}: {schema}", spec.name());
    }

    let fs = Filesystem::new(&w.root).unwrap().max_path_chars(12).max_write_chars(5);
    let write = fs.write_file_spec();
    assert_eq!(write.input_schema()["properties"]["path"]["maxLength"], 12);
    assert_eq!(write.input_schema()["properties"]["content"]["maxLength"], 5);
    assert_eq!(fs.read_file_spec().input_schema()["properties"]["path"]["maxLength"], 12);
    let args =
        |path: &str, content: &str| WriteFileArgs { path: path.into(), content: content.into() };

    // Characters, not bytes: five `é` are ten bytes and fit.
    let out = bounded(fs.write_file(args("notes/a.md", "ééééé"))).await.unwrap();
    assert_eq!(out.bytes_written, 10);
    let err = bounded(fs.write_file(args("notes/b.md", "ééééé!"))).await.unwrap_err();
    assert!(matches!(err, ToolError::TooLong { argument: "content", chars: 6, max: 5 }), "{err}");
    assert!(err.to_string().contains("more than the limit of 5"), "{err}");
    let err = bounded(fs.write_file(args("notes/long_name.md", "x"))).await.unwrap_err();
    assert!(matches!(err, ToolError::TooLong { argument: "path", chars: 18, max: 12 }), "{err}");
    let read = ReadFileArgs { path: "notes/long_name.md".into(), offset: None, max_chars: None };
    let err = bounded(fs.read_file(read)).await.unwrap_err();
    assert!(matches!(err, ToolError::TooLong { argument: "path", .. }), "{err}");
    assert!(!w.root.join("notes/b.md").exists() && !w.root.join("notes/long_name.md").exists());

    // Through a runtime, the same call is refused and nothing is written.
    let rt = runtime(&fs);
    let ctx = rt.ctx();
    let call = ctx.call_value("write_file", json!({"path": "c.md", "content": "too long"}));
    // The schema's `maxLength` refuses the arguments before the tool runs.
    let err = bounded(call).await;
    assert!(
        matches!(&err, Err(llm_do::Error::InvalidArguments { name, message })
            if name == "write_file" && message.contains("content")),
        "{err:?}"
    );
    assert!(!w.root.join("c.md").exists());
}

#[test]
fn tools_describe_themselves_with_strict_schemas_and_approvals() {
    use llm_do::approval::Verdict;
    let w = world();
    let specs = Filesystem::new(&w.root).unwrap().specs();
    for spec in &specs {
        let schema = spec.input_schema();
        assert_eq!(schema["type"], "object", "{}", spec.name());
        assert_eq!(schema["additionalProperties"], false, "{}", spec.name());
        for (name, prop) in schema["properties"].as_object().unwrap() {
            assert!(
                prop["description"].as_str().is_some_and(|d| d.len() > 20),
                "{}.{name}",
                spec.name()
            );
        }
        assert!(spec.description().len() > 100, "{}", spec.name());
        // The argument types' doc examples are for Rust readers, not in what models see.
        let shown = format!("{} {}", spec.input_schema(), spec.output_schema());
        assert!(!shown.contains("```") && !shown.contains("unwrap()"), "{}: {shown}", spec.name());
        assert!(spec.output_schema()["properties"].is_object(), "{}", spec.name());
        let expected = if spec.name() == "write_file" { Some(Verdict::Ask) } else { None };
        assert_eq!(spec.approval(), expected, "{}", spec.name());
    }
    assert!(Filesystem::new(w.root.join("ok.txt")).is_err(), "the root must be a directory");
    assert!(Filesystem::new(w.root.join("missing")).is_err(), "the root must exist");
}
