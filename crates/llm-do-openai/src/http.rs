//! The one way this workspace makes HTTP clients: reqwest over rustls with the `ring` crypto
//! provider. (reqwest's default provider, aws-lc-rs, has a build script that needs cmake;
//! `cargo xtask ci` rejects cmake in the dependency graph.)

use std::sync::Once;

/// Makes `ring` rustls' process-wide crypto provider, once; a provider installed earlier (by
/// the embedding program) is kept.
///
/// ```
/// llm_do_openai::http::install_crypto_provider();
/// ```
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A reqwest client builder, with the crypto provider installed first (building a client
/// without one panics).
///
/// ```
/// let client = llm_do_openai::http::client_builder().build().expect("client");
/// # let _ = client;
/// ```
pub fn client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
}

/// A reqwest client with default settings.
///
/// ```
/// let client = llm_do_openai::http::client();
/// # let _ = client;
/// ```
pub fn client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::new()
}
