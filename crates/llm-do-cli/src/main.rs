//! `llm-do`: see `llm-do --help` and `docs/cli.md`.

fn main() -> std::process::ExitCode {
    llm_do_cli::main_with(llm_do::Registry::default())
}
