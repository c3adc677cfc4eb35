//! The one way this workspace makes HTTP clients: reqwest over rustls with the `ring` crypto
//! provider. (reqwest's default provider, aws-lc-rs, has a build script that needs cmake;
//! `cargo xtask ci` rejects cmake in the dependency graph.)

use std::sync::Once;

/// Makes `ring` rustls' process-wide crypto provider, once; a provider installed earlier (by
/// the embedding program) is kept.
///
/// ```
/// llm_do_openai::http::install_crypto_provider();
/// assert!(rustls::crypto::CryptoProvider::get_default().is_some());
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
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = llm_do_testkit::TestServer::start().await?;
/// let client = llm_do_openai::http::client_builder().user_agent("my-app/1.0").build()?;
/// client.get(format!("{}/models", server.base_url())).send().await?;
/// assert_eq!(server.last_request().unwrap().header("user-agent"), Some("my-app/1.0"));
/// # Ok(())
/// # }
/// ```
pub fn client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
}

/// A reqwest client with default settings.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = llm_do_testkit::TestServer::start().await?;
/// let url = format!("{}/models", server.base_url());
/// let models: serde_json::Value = llm_do_openai::http::client().get(url).send().await?.json().await?;
/// assert_eq!(models["object"], "list");
/// # Ok(())
/// # }
/// ```
pub fn client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::new()
}
