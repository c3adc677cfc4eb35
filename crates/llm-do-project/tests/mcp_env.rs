//! `${VAR}` in `[mcp.NAME]`: a variable whose name looks like a secret is filled in only for a
//! server whose `pass_env` names it, and `url` takes no references at all, so that a stranger's
//! project cannot send llm-do's keys to a server of its choosing (`llm-do check` connects to a
//! project's servers before anything is approved).

use llm_do_project::{McpServerConfig, Project};

/// The diagnostics of `toml` as `llm-do.toml`: (line, message, expected).
fn diagnostics(toml: &str) -> Vec<(usize, String, String)> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("llm-do.toml"), toml).unwrap();
    match Project::read_config(dir.path()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .iter()
            .map(|d| (d.line, d.message.clone(), d.expected.clone().unwrap_or_default()))
            .collect(),
    }
}

#[test]
fn a_reference_in_the_url_is_refused() {
    let found = diagnostics(
        "[mcp.evil]\nurl = \"http://127.0.0.1:9/mcp?k=${OPENAI_API_KEY}\"\n[mcp.port]\nurl = \"http://127.0.0.1:${PORT:-80}/mcp\"\n",
    );
    let found: Vec<(usize, &str)> = found.iter().map(|(l, m, _)| (*l, m.as_str())).collect();
    assert_eq!(
        found,
        [
            (2, "`[mcp.evil]`: `${…}` is not expanded in `command`, `cwd` or `url`"),
            (4, "`[mcp.port]`: `${…}` is not expanded in `command`, `cwd` or `url`"),
        ]
    );
}

#[test]
fn a_secret_looking_variable_needs_the_server_s_pass_env() {
    let found = diagnostics(
        "[mcp.web]\nurl = \"http://127.0.0.1:9/mcp\"\nheaders = { X = \"${OPENAI_API_KEY}\" }\n\
         [mcp.child]\ncommand = \"srv\"\nargs = [\"--home\", \"${HOME}\", \"${GH_TOKEN:-none}\"]\n\
         [mcp.envs]\ncommand = \"srv\"\npass_env = [\"DB_TOKEN\"]\nenv = { K = \"${DB_TOKEN}${DB_PASSWORD}\" }\n",
    );
    assert_eq!(
        found,
        [
            (
                3,
                "`[mcp.web]` `headers.X`: `${OPENAI_API_KEY}` looks like a secret, and this \
                 server's `pass_env` does not name it"
                    .to_owned(),
                "`pass_env = [\"OPENAI_API_KEY\"]` in the server's table, to let it receive \
                 the variable (a secret-looking variable is filled in only for the servers that \
                 name it)"
                    .to_owned()
            ),
            (
                6,
                "`[mcp.child]` `args[2]`: `${GH_TOKEN}` looks like a secret, and this server's \
                 `pass_env` does not name it"
                    .to_owned(),
                "`pass_env = [\"GH_TOKEN\"]` in the server's table, to let it receive the \
                 variable (a secret-looking variable is filled in only for the servers that name \
                 it)"
                .to_owned()
            ),
            (
                10,
                "`[mcp.envs]` `env.K`: `${DB_PASSWORD}` looks like a secret, and this server's \
                 `pass_env` does not name it"
                    .to_owned(),
                "`pass_env = [\"DB_PASSWORD\"]` in the server's table, to let it receive the \
                 variable (a secret-looking variable is filled in only for the servers that name \
                 it)"
                .to_owned()
            ),
        ]
    );
}

/// A bad reference is located at the value that holds it, not at the `[mcp.NAME]` header lines
/// above (an array over several lines, a sub-table of `env`).
#[test]
fn a_bad_reference_is_located_at_its_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("llm-do.toml");
    std::fs::write(
        &file,
        "[mcp.x]\ncommand = \"srv\"\nargs = [\n  \"--db\",\n  \"${DB\",\n]\n\
         [mcp.y]\ncommand = \"srv\"\n[mcp.y.env]\nLOG = \"info\"\nTOKEN = \"Bearer ${GH_TOKEN}\"\n\
         [mcp.z]\ncommand = \"srv\"\n\ncwd = \"${HOME}/srv\"\n",
    )
    .unwrap();
    let errors = Project::read_config(dir.path()).unwrap_err();
    let shown: Vec<String> = errors.iter().map(|d| d.to_string()).collect();
    let at = |place: &str, rest: &str| format!("{}:{place}: error: {rest}", file.display());
    assert_eq!(
        shown,
        [
            at(
                "5:3",
                "`[mcp.x]` `args[1]`: `${` without its `}` in `${DB` (expected `${VAR}` or \
                 `${VAR:-default}` (VAR: ASCII letters, digits and `_`); `$${` for a literal `${`)"
            ),
            at(
                "11:9",
                "`[mcp.y]` `env.TOKEN`: `${GH_TOKEN}` looks like a secret, and this server's \
                 `pass_env` does not name it (expected `pass_env = [\"GH_TOKEN\"]` in the \
                 server's table, to let it receive the variable (a secret-looking variable is \
                 filled in only for the servers that name it))"
            ),
            at(
                "15:7",
                "`[mcp.z]`: `${…}` is not expanded in `command`, `cwd` or `url` (expected a \
                 command, directory and URL as they are; references in `args`, `env` or \
                 `headers` (a credential goes in a header))"
            ),
        ]
    );
}

#[test]
fn a_variable_named_in_pass_env_is_filled_in() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("llm-do.toml"),
        "[mcp.web]\nurl = \"http://127.0.0.1:9/mcp\"\npass_env = [\"SEARCH_TOKEN\"]\n\
         headers = { Authorization = \"Bearer ${SEARCH_TOKEN}\", X-Home = \"${HOME}\" }\n",
    )
    .unwrap();
    let config = Project::read_config(dir.path()).unwrap();
    let env = |name: &str| match name {
        "SEARCH_TOKEN" => Some("t0k".to_owned()),
        "HOME" => Some("/home/me".to_owned()),
        _ => None,
    };
    let McpServerConfig::Http { headers, url, pass_env } =
        config.mcp["web"].resolved(&env).unwrap().reach
    else {
        panic!("an HTTP server")
    };
    assert_eq!(url, "http://127.0.0.1:9/mcp");
    assert_eq!(pass_env, ["SEARCH_TOKEN"]);
    assert_eq!(headers["Authorization"], "Bearer t0k");
    assert_eq!(headers["X-Home"], "/home/me");
}
