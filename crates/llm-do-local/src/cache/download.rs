//! HTTP: the project page and the wheel, with bounded reads, typed errors and a progress bar.
//!
//! reqwest reads `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (and their lower-case
//! forms) from the environment by default; nothing here turns that off.

use super::FetchError;
use super::index::{self, WheelLink, redact};
use super::wheel::hex;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::{Client, Response, Url, header};
use sha2::{Digest, Sha256};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The largest project page read (PyPI's page for a package with years of releases is well
/// under 1 MB).
const MAX_PAGE: u64 = 16 << 20;

/// The HTTP client: a user agent, connect and read timeouts (no total one: a slow link may
/// need long for 98 MB), environment proxies.
pub(crate) fn client() -> Result<Client, FetchError> {
    Client::builder()
        .tls_backend_preconfigured(tls_config()?)
        .user_agent(concat!("llm-do/", env!("CARGO_PKG_VERSION"), " (model fetch)"))
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| FetchError::Runtime { reason: format!("HTTP client: {}", chain(&e)) })
}

/// rustls with the `ring` provider (given explicitly, so a process-wide default provider or
/// another crate's choice does not matter) and the platform's certificate verifier (on Linux:
/// the system store, `SSL_CERT_FILE` and `SSL_CERT_DIR` honoured).
fn tls_config() -> Result<rustls::ClientConfig, FetchError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let tls_error = |e: rustls::Error| FetchError::Runtime { reason: format!("TLS setup: {e}") };
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_platform_verifier()
        .map_err(tls_error)?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The error and its causes, one line, without any URL (the caller names it, redacted).
fn chain(e: &reqwest::Error) -> String {
    let mut out = String::new();
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        let text = match err.downcast_ref::<reqwest::Error>() {
            Some(r) if r.url().is_some() => {
                let mut r = reqwest_error_text(r);
                r.retain(|c| c != '\n');
                r
            }
            _ => err.to_string(),
        };
        if !text.is_empty() && !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        cur = err.source();
    }
    out
}

fn reqwest_error_text(e: &reqwest::Error) -> String {
    // reqwest's Display appends " for url (...)"; the URL may hold credentials.
    let text = e.to_string();
    match text.find(" for url (") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Sends a GET and checks the status.
async fn get(client: &Client, url: &Url, accept: Option<&str>) -> Result<Response, FetchError> {
    let mut request = client.get(url.clone());
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT, accept);
    }
    let response = request
        .send()
        .await
        .map_err(|e| FetchError::Unreachable { url: redact(url), reason: chain(&e) })?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Status { url: redact(url), status: status.as_u16() });
    }
    Ok(response)
}

/// Fetches the project page and finds `file` on it.
pub(crate) async fn find_wheel(
    client: &Client,
    page: &Url,
    file: &str,
) -> Result<WheelLink, FetchError> {
    let mut response = get(client, page, Some(index::ACCEPT)).await?;
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    // Relative file URLs are relative to where the page was actually served from.
    let served_from = response.url().clone();
    if response.content_length().is_some_and(|n| n > MAX_PAGE) {
        return Err(FetchError::TooLarge { url: redact(page), limit: MAX_PAGE });
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() as u64 + chunk.len() as u64 > MAX_PAGE {
                    return Err(FetchError::TooLarge { url: redact(page), limit: MAX_PAGE });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                return Err(FetchError::Interrupted {
                    url: redact(page),
                    received: body.len() as u64,
                    reason: chain(&e),
                });
            }
        }
    }
    index::find_wheel(&served_from, &content_type, &body, file)
}

/// What was downloaded.
pub(crate) struct Downloaded {
    /// Bytes written.
    pub(crate) size: u64,
    /// Their SHA-256, lower-case hex.
    pub(crate) sha256: String,
}

/// Streams the wheel at `link` into `file` (the empty file at `dest`), hashing it; at most
/// `limit` bytes.
pub(crate) async fn wheel(
    client: &Client,
    link: &WheelLink,
    file: std::fs::File,
    dest: &Path,
    limit: u64,
    label: &str,
) -> Result<Downloaded, FetchError> {
    let url = &link.url;
    let mut response = get(client, url, None).await?;
    // Read now: reqwest's content_length() is what remains of the body.
    let content_length = response.content_length();
    let announced = content_length.or(link.size);
    if announced.is_some_and(|n| n > limit) {
        return Err(FetchError::TooLarge { url: redact(url), limit });
    }
    let file = tokio::fs::File::from_std(file);
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let bar = progress(announced, label);
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                bar.abandon();
                return Err(FetchError::Interrupted {
                    url: redact(url),
                    received: size,
                    reason: chain(&e),
                });
            }
        };
        size += chunk.len() as u64;
        if size > limit {
            bar.abandon();
            return Err(FetchError::TooLarge { url: redact(url), limit });
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await.map_err(|e| FetchError::io(dest, "written", e))?;
        bar.set_position(size);
    }
    out.flush().await.map_err(|e| FetchError::io(dest, "written", e))?;
    bar.finish_and_clear();
    // A server that closes a connection without Content-Length ends the body early without an
    // error; the announced size (if any) catches that here, the zip reader and hashes later.
    if let Some(expected) = content_length.filter(|&n| n != size) {
        return Err(FetchError::Interrupted {
            url: redact(url),
            received: size,
            reason: format!("the server announced {expected} bytes"),
        });
    }
    Ok(Downloaded { size, sha256: hex(&hasher.finalize()) })
}

/// A progress bar on stderr when it is a terminal, else a hidden one.
fn progress(total: Option<u64>, label: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    };
    let template = if total.is_some() {
        "{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {eta}"
    } else {
        "{msg} {spinner} {bytes} {bytes_per_sec}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_message(label.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
