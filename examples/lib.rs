//! Runnable examples of llm-do; each lives in its own folder and runs with
//! `cargo run --example NAME`. This library holds the pieces their tests share.

pub mod cassettes;
pub mod conversation;
pub mod pitchdeck;
