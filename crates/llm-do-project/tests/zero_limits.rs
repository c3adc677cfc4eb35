//! A limit of 0 would make every run (or every call of a toolset) fail: `max_depth = 0` in
//! llm-do.toml (the entry call is depth 1), a shell's `timeout_secs: 0`, a filesystem's
//! `max_path_chars: 0` and the other `max_*` options. Each is a located error when the project
//! is checked, as `[budget]`'s zeros are, instead of a project that checks and never runs.

use llm_do_project::Project;

/// The (line, column, message) of every problem of the project made of `files`.
fn problems(files: &[(&str, &str)]) -> Vec<(usize, usize, String)> {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    match Project::load(dir.path()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(|d| (d.line, d.column, d.message.clone())).collect(),
    }
}

const WORKER: (&str, &str) = ("main.worker", "---\n---\nHi {input}.\n");

#[test]
fn max_depth_0_is_a_located_error() {
    let found = problems(&[WORKER, ("llm-do.toml", "entry = \"main\"\nmax_depth = 0\n")]);
    assert_eq!(found, [(2, 13, "`max_depth` is 0".to_owned())]);
    assert!(problems(&[WORKER, ("llm-do.toml", "max_depth = 1\n")]).is_empty());
}

#[test]
fn toolset_limits_of_0_are_located_errors() {
    let worker = "---\ntools:\n  - shell: {timeout_secs: 0, max_output: 0}\n  - filesystem:\n      max_read_chars: 10\n      max_path_chars: 0\n      max_list_entries: 0\n      max_write_chars: 0\n---\nHi {input}.\n";
    let found = problems(&[("main.worker", worker)]);
    assert_eq!(
        found,
        [
            (3, 27, "`shell` option `timeout_secs` is 0".to_owned()),
            (3, 42, "`shell` option `max_output` is 0".to_owned()),
            (6, 23, "`filesystem` option `max_path_chars` is 0".to_owned()),
            (7, 25, "`filesystem` option `max_list_entries` is 0".to_owned()),
            (8, 24, "`filesystem` option `max_write_chars` is 0".to_owned()),
        ]
    );
    let fine = "---\ntools:\n  - shell: {timeout_secs: 1}\n  - filesystem: {max_path_chars: 1}\n---\nHi {input}.\n";
    assert!(problems(&[("main.worker", fine)]).is_empty());
}
