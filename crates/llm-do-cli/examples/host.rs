//! A host program embedding the `llm-do` command line with its own Rust tool.
//!
//! ```sh
//! cargo run -p llm-do-cli --example host -- list examples/projects/hello
//! cargo run -p llm-do-cli --example host -- run my-project "some text"
//! cargo run -p llm-do-cli --example host -- mcp my-project   # word_count served over MCP
//! ```
//!
//! Every project run this way can list `word_count` in a worker's `tools:`, and `word_count`
//! could call the project's file workers by name through its `ctx`.

use llm_do::prelude::*;

/// Count the words of a text.
#[tool]
async fn word_count(
    /** the text */
    text: String,
) -> Result<usize> {
    Ok(text.split_whitespace().count())
}

fn main() -> std::process::ExitCode {
    let mut host = llm_do::Registry::default();
    host.insert(word_count::spec());
    llm_do_cli::main_with(host)
}
