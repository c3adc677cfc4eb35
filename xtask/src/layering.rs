//! The crate layering `cargo xtask ci` enforces on normal (non-dev) dependencies, read from
//! `cargo tree` (see docs/architecture.md for what each crate owns):
//!
//! - `llm-do-core` depends on no other workspace crate but `llm-do-syntax`, the
//!   dependency-free rules (templates, model strings, names) the macros, core and worker files
//!   share; `llm-do-syntax` itself depends on no workspace crate, nor does `llm-do-process`
//!   (child processes tied to llm-do's life, the workspace's `unsafe` code);
//! - the test crates (`llm-do-testing`, `llm-do-testkit`) on no HTTP client provider and no
//!   inference engine;
//! - `llm-do-openai-wire` (the server side of the OpenAI wire format, shared by testkit and
//!   `llm-do serve`) on no HTTP stack at all, client or server;
//! - the providers, toolsets and projects on neither the facade nor each other's engines;
//! - `llm-do` without features (a program that only uses `#[worker]` and `#[tool]`) compiles
//!   no HTTP stack and no inference engine.

use anyhow::{Context, Result, bail};
use std::process::Command;

/// One rule: `package` built with `features` (cargo tree arguments) must not depend on any
/// of `forbidden`. `"llm-do-*"` stands for every `llm-do-…` workspace crate but the package
/// itself and [`SYNTAX`].
pub struct Rule {
    /// The package whose graph is read.
    pub package: &'static str,
    /// Feature arguments for `cargo tree`.
    pub features: &'static [&'static str],
    /// Crates that must not appear among its normal dependencies.
    pub forbidden: &'static [&'static str],
}

/// The dependency-free leaf every layer may use: the syntax rules shared by the macros (at
/// compile time), core and worker files (at load time).
const SYNTAX: &str = "llm-do-syntax";

/// The HTTP stack and the inference engine: what only a provider may pull in.
const HTTP: &[&str] = &["llm-do-openai", "reqwest", "hyper", "rustls"];

/// The rules `cargo xtask ci` checks.
pub const RULES: &[Rule] = &[
    Rule {
        package: "llm-do-core",
        features: &["--all-features"],
        forbidden: &["llm-do", "llm-do-*"],
    },
    Rule {
        package: "llm-do-syntax",
        features: &["--all-features"],
        forbidden: &["llm-do", "llm-do-*"],
    },
    Rule {
        package: "llm-do-process",
        features: &["--all-features"],
        forbidden: &["llm-do", "llm-do-*"],
    },
    Rule {
        package: "llm-do-testing",
        features: &["--all-features"],
        forbidden: &[HTTP[0], HTTP[1], HTTP[2], "llm-do-local", "candle-core", "llm-do"],
    },
    Rule {
        package: "llm-do-testkit",
        features: &["--all-features"],
        forbidden: &["llm-do-openai", "reqwest", "llm-do-local", "candle-core", "llm-do"],
    },
    Rule {
        package: "llm-do-openai-wire",
        features: &["--all-features"],
        forbidden: &[HTTP[0], HTTP[1], HTTP[2], "axum", "llm-do", "llm-do-testing", "llm-do-local"],
    },
    Rule {
        package: "llm-do",
        features: &["--no-default-features"],
        forbidden: &[HTTP[0], HTTP[1], HTTP[2], HTTP[3], "llm-do-local", "candle-core"],
    },
    Rule {
        package: "llm-do-openai",
        features: &["--all-features"],
        forbidden: &["llm-do", "llm-do-testing", "llm-do-local", "llm-do-tools"],
    },
    Rule {
        package: "llm-do-local",
        features: &["--all-features"],
        forbidden: &["llm-do", "llm-do-openai", "llm-do-testing"],
    },
    Rule {
        package: "llm-do-tools",
        features: &["--all-features"],
        forbidden: &["llm-do", "llm-do-openai", "llm-do-local", "llm-do-testing"],
    },
    Rule {
        package: "llm-do-project",
        features: &["--all-features"],
        forbidden: &["llm-do", "llm-do-openai", "llm-do-local", "llm-do-testing"],
    },
    Rule {
        package: "llm-do-mcp",
        features: &["--all-features"],
        forbidden: &["llm-do", "llm-do-openai", "llm-do-local", "llm-do-testing"],
    },
];

/// Fails with every broken rule.
pub fn check() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut broken = Vec::new();
    for rule in RULES {
        let mut args = vec!["tree", "-p", rule.package, "-e", "normal"];
        args.extend(rule.features);
        args.extend(["--prefix", "none", "--format", "{p}"]);
        eprintln!("$ cargo {}", args.join(" "));
        let out = Command::new(&cargo)
            .args(&args)
            .output()
            .with_context(|| format!("could not run `{cargo}`"))?;
        if !out.status.success() {
            bail!("`cargo tree` failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        for found in violations(rule, &String::from_utf8_lossy(&out.stdout)) {
            broken.push(format!(
                "{} ({}) depends on {found}; see `cargo tree -p {} -e normal -i {found}`",
                rule.package,
                rule.features.join(" "),
                rule.package
            ));
        }
    }
    if !broken.is_empty() {
        bail!("the crate layering is broken (docs/architecture.md):\n  {}", broken.join("\n  "));
    }
    Ok(())
}

/// The forbidden crates of `rule` named in `cargo tree --prefix none --format {p}` output.
fn violations(rule: &Rule, tree: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for name in tree.lines().filter_map(|line| line.split_whitespace().next()) {
        let hit = rule.forbidden.iter().any(|f| match f.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix) && name != rule.package && name != SYNTAX,
            None => name == *f,
        });
        if hit && !found.iter().any(|f| f == name) {
            found.push(name.to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_crates_are_found_by_exact_name_or_workspace_prefix() {
        let core = &RULES[0];
        let tree = "llm-do-core v0.1.0 (/w)\nserde v1.0.0\nllm-do-testing v0.1.0 (/w)\n";
        assert_eq!(violations(core, tree), ["llm-do-testing"]);
        assert!(violations(core, "llm-do-core v0.1.0 (/w)\nllm-dollar v1.0.0\n").is_empty());
        assert_eq!(violations(core, "llm-do-core v0.1.0 (/w)\nllm-do v0.1.0 (/w)\n"), ["llm-do"]);
        assert!(
            violations(core, "llm-do-core v0.1.0 (/w)\nllm-do-syntax v0.1.0 (/w)\n").is_empty()
        );
        let facade = RULES.iter().find(|r| r.package == "llm-do").unwrap();
        assert!(
            violations(facade, "llm-do v0.1.0\nllm-do-core v0.1.0\nreqwest-middleware v1\n")
                .is_empty()
        );
        assert_eq!(
            violations(facade, "llm-do v0.1.0\nreqwest v0.13.0\nreqwest v0.13.0 (*)\n"),
            ["reqwest"]
        );
    }
}
