//! The deterministic token estimate the in-process models report when a script gives none.
//!
//! Its one home is [`llm_do_core::estimate`] (the conversation's history processors use it
//! too); this module re-exports it where the providers' users have always found it.

pub use llm_do_core::estimate::{estimate_usage, message_tokens, tokens};
