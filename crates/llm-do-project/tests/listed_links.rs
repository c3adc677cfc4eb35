//! `project.json`'s `agent_files` and `python_files` are confined to the project directory on
//! their resolved paths: a symbolic link inside the project that leads out of it is refused at
//! the entry that lists it, and never read. A link that stays inside is read as before.
#![cfg(unix)]

use llm_do_core::Registry;
use llm_do_project::Project;
use std::os::unix::fs::symlink;

/// A project whose `project.json` lists `agents` and `python`, in `outer/project`, with
/// `outer/secret.agent` and `outer/secret.py` outside it.
fn project(agents: &[&str], python: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("project");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(outer.path().join("secret.agent"), "---\nname: secret\n---\nTOP SECRET\n")
        .unwrap();
    std::fs::write(outer.path().join("secret.py"), "def lookup(): pass\n").unwrap();
    std::fs::write(dir.join("main.agent"), "---\nname: main\n---\nGo.\n").unwrap();
    let list =
        |items: &[&str]| items.iter().map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(", ");
    let manifest = format!(
        "{{\n  \"version\": 1,\n  \"runtime\": {{}},\n  \"entry\": {{\"agent\": \"main\"}},\n  \"agent_files\": [{}],\n  \"python_files\": [{}]\n}}\n",
        list(agents),
        list(python),
    );
    std::fs::write(dir.join("project.json"), manifest).unwrap();
    (outer, dir)
}

/// The one diagnostic of `errors`.
fn only(errors: &llm_do_project::Diagnostics) -> &llm_do_project::Diagnostic {
    assert_eq!(errors.len(), 1, "{errors}");
    errors.iter().next().unwrap()
}

#[test]
fn a_listed_agent_file_linking_out_of_the_project_is_refused() {
    let (outer, dir) = project(&["main.agent", "sub/leak.agent"], &[]);
    symlink(outer.path().join("secret.agent"), dir.join("sub/leak.agent")).unwrap();
    let errors = Project::check(&dir, &Registry::default()).unwrap_err();
    let text = errors.to_string();
    assert_eq!(errors.len(), 1, "{text}");
    let d = errors.iter().next().unwrap();
    assert!(d.file.ends_with("project.json"), "{text}");
    assert_eq!((d.line, d.column), (5, 33), "{text}");
    assert_eq!(
        d.message,
        "the agent file `sub/leak.agent` is outside the project directory (a symbolic link leads out of it)",
    );
    assert_eq!(
        d.expected.as_deref(),
        Some("a path relative to the project directory, inside it once links are resolved"),
    );
    assert!(!text.contains("secret"), "nothing of the target is read or named: {text}");
}

#[test]
fn a_listed_python_file_linking_out_of_the_project_is_refused() {
    let (outer, dir) = project(&["main.agent"], &["tools.py"]);
    symlink(outer.path().join("secret.py"), dir.join("tools.py")).unwrap();
    let errors = Project::check(&dir, &Registry::default()).unwrap_err();
    let text = errors.to_string();
    assert_eq!(errors.len(), 1, "{text}");
    assert_eq!(
        only(&errors).message,
        "the Python file `tools.py` is outside the project directory (a symbolic link leads out of it)",
    );
    assert_eq!((only(&errors).line, only(&errors).column), (6, 20), "{text}");
}

/// A linked directory on the way out counts as well: `sub/out` links to the outer directory.
#[test]
fn a_linked_directory_leading_out_is_refused() {
    let (outer, dir) = project(&["main.agent", "sub/out/secret.agent"], &[]);
    symlink(outer.path(), dir.join("sub/out")).unwrap();
    let errors = Project::check(&dir, &Registry::default()).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors}");
    assert_eq!(
        only(&errors).message,
        "the agent file `sub/out/secret.agent` is outside the project directory (a symbolic link leads out of it)",
    );
}

/// Links that stay inside the project, and a project named through a link, are read.
#[test]
fn links_inside_the_project_are_read() {
    let (outer, dir) = project(&["sub/alias.agent"], &["sub/tools.py"]);
    std::fs::write(dir.join("tools.py"), "def lookup(): pass\n").unwrap();
    symlink(dir.join("main.agent"), dir.join("sub/alias.agent")).unwrap();
    symlink("../tools.py", dir.join("sub/tools.py")).unwrap();
    let project = Project::check(&dir, &Registry::default()).expect("valid");
    assert_eq!(project.entry(), Some("main"));
    let named = outer.path().join("named");
    symlink(&dir, &named).unwrap();
    Project::check(&named, &Registry::default()).expect("a project named through a link");
}

/// A project without `project.json`: its `.worker` and `.agent` files are found in the
/// directory, in `outer/project`, with `outer/secret.worker` outside it.
fn found_project() -> (tempfile::TempDir, std::path::PathBuf) {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("project");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(outer.path().join("secret.worker"), "---\nname: secret\n---\nTOP SECRET\n")
        .unwrap();
    std::fs::write(dir.join("main.worker"), "---\nname: main\n---\nGo.\n").unwrap();
    (outer, dir)
}

#[test]
fn a_found_worker_or_agent_file_linking_out_of_the_project_is_refused() {
    for link in ["leak.worker", "leak.agent"] {
        let (outer, dir) = found_project();
        symlink(outer.path().join("secret.worker"), dir.join(link)).unwrap();
        let errors = Project::check(&dir, &Registry::default()).unwrap_err();
        let text = errors.to_string();
        let d = only(&errors);
        assert!(d.file.ends_with(link), "{text}");
        assert_eq!(
            d.message,
            format!("`{link}` is outside the project directory (a symbolic link leads out of it)"),
        );
        assert!(!text.contains("TOP SECRET"), "the target is never read: {text}");
    }
}

#[test]
fn a_found_worker_file_linking_inside_the_project_is_read() {
    let (_outer, dir) = found_project();
    std::fs::create_dir(dir.join("kept")).unwrap();
    std::fs::write(dir.join("kept/helper.txt"), "---\nname: helper\n---\nHelp.\n").unwrap();
    symlink(dir.join("kept/helper.txt"), dir.join("helper.worker")).unwrap();
    let project = Project::check(&dir, &Registry::default()).unwrap();
    let names: Vec<_> = project.specs().map(|s| s.name().to_owned()).collect();
    assert!(names.contains(&"helper".to_owned()), "{names:?}");
}

/// A `project.json` above an agent file is its project only when it belongs to the file's
/// owner: one planted in a directory others can write (`/tmp`) is not taken. Changing a file's
/// owner needs root: elsewhere the test says so and checks the own-owner half only.
#[test]
fn a_manifest_above_owned_by_another_user_is_not_the_project() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("victim")).unwrap();
    let agent = dir.path().join("victim/main.agent");
    std::fs::write(&agent, "---\nname: main\n---\nGo.\n").unwrap();
    let manifest = dir.path().join("project.json");
    std::fs::write(
        &manifest,
        r#"{"version": 1, "runtime": {"approval_mode": "approve_all"}, "entry": {"agent": "main"}, "agent_files": ["victim/main.agent"]}"#,
    )
    .unwrap();
    // Owned alike: the manifest above is the project.
    assert_eq!(llm_do_project::listing_project(&agent), Some(dir.path().to_owned()));
    let owner = std::fs::metadata(&agent).unwrap().uid();
    let other = if owner == 65534 { 65533 } else { 65534 };
    if std::os::unix::fs::chown(&manifest, Some(other), None).is_err() {
        eprintln!("not root: the other-owner half of this test is skipped");
        return;
    }
    assert_eq!(std::fs::metadata(&manifest).unwrap().uid(), other);
    assert_eq!(llm_do_project::listing_project(&agent), None);
}
