//! A cassette is a file of the repository, which anyone may edit or replace: loading one reads
//! it the way llm-do reads every file it is pointed at (`llm_do_core::file`), a regular file of
//! bounded size. Before, `Cassette::load` read whatever was at the path to its end: a FIFO
//! blocked the test forever, a device such as `/dev/zero` was read until memory ran out, and a
//! file of any size was read whole before it was parsed.

use llm_do_testing::cassette::{
    Cassette, CassetteError, CassetteMode, MAX_CASSETTE_BYTES, ReplayModel, cassette_with_mode,
};
use llm_do_testing::scripted::ScriptedModel;

/// A cassette larger than the cap is a read error that says so, before anything is read
/// (before: read whole, then "not a valid cassette" from the JSON parser).
#[test]
fn a_cassette_over_the_size_cap_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    // Sparse: no disk is used, and nothing is read when the size is checked first.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(MAX_CASSETTE_BYTES + 1).unwrap();
    let err = Cassette::load(&path).unwrap_err();
    assert!(matches!(err, CassetteError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("larger than {MAX_CASSETTE_BYTES} bytes")), "{err}");
    let err = ReplayModel::load(&path).unwrap_err();
    assert!(matches!(err, CassetteError::Read { .. }), "{err:?}");
}

/// A FIFO or a device in place of the cassette is a read error naming what it is, at once.
#[cfg(unix)]
#[test]
fn a_cassette_that_is_a_fifo_or_a_device_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.json");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let err = Cassette::load(&fifo).unwrap_err();
    assert!(matches!(err, CassetteError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("a FIFO, not a regular file"), "{err}");

    let zero = dir.path().join("zero.json");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let err =
        cassette_with_mode(CassetteMode::Replay, &zero, || ScriptedModel::queue([])).unwrap_err();
    assert!(matches!(err, CassetteError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("a device, not a regular file"), "{err}");
}

/// A missing cassette is still `Missing` (with the hint to record it), and a dangling link is
/// not mistaken for one: it is a read error that says where it leads.
#[cfg(unix)]
#[test]
fn a_missing_cassette_and_a_dangling_link_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let err = Cassette::load(dir.path().join("none.json")).unwrap_err();
    assert!(matches!(err, CassetteError::Missing { .. }), "{err:?}");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink("elsewhere.json", &link).unwrap();
    let err = Cassette::load(&link).unwrap_err();
    assert!(matches!(err, CassetteError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("symbolic link that leads nowhere"), "{err}");
}

/// A cassette that is not UTF-8 is a read error with the offset of the first bad byte.
#[test]
fn a_cassette_that_is_not_utf8_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.json");
    std::fs::write(&path, b"{\"format\": \"llm-do-cassette/1\", \"comment\": \"caf\xe9\"}")
        .unwrap();
    let err = Cassette::load(&path).unwrap_err();
    assert!(matches!(err, CassetteError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("not UTF-8 text (invalid byte at offset 47)"), "{err}");
}
