//! The prefix scheme: how the tools of an MCP server are named in llm-do's name space.
//!
//! A tool `lookup_order` of the server registered as `orders` is called `orders__lookup_order`
//! (server name, two underscores, tool name) everywhere: in the registry, in approval rules,
//! in events and run logs, and in what the model sees. One name, valid wherever a tool name
//! must be: OpenAI-compatible APIs accept only `^[a-zA-Z0-9_-]{1,64}$` as function names, so the
//! `orders.lookup_order` spelling could not be shown to a model. Worker files may still write
//! `orders.lookup_order` (one tool) or `orders.*` (every tool of the server); those entries are
//! translated to this scheme.
//!
//! ```
//! use llm_do_mcp::names;
//! assert_eq!(names::qualified("orders", "lookup_order").unwrap(), "orders__lookup_order");
//! assert!(names::qualified("orders", "get.order").is_err());
//! assert!(names::check_server_name("my__orders").is_err());
//! ```

/// The separator between the server name and the tool name.
pub const SEPARATOR: &str = "__";

/// Longest tool name providers accept.
pub const MAX_NAME_LEN: usize = 64;

/// Most characters of a name a message quotes (a server's name for a tool can be megabytes).
pub(crate) const MAX_QUOTED: usize = 100;

fn valid_chars(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Checks a server name: 1 to 32 ASCII letters, digits, `_` or `-`, without `__` (so that the
/// server part of a qualified name is never ambiguous).
///
/// ```
/// assert!(llm_do_mcp::names::check_server_name("orders").is_ok());
/// assert!(llm_do_mcp::names::check_server_name("or ders").is_err());
/// ```
pub fn check_server_name(server: &str) -> Result<(), String> {
    if server.is_empty() || server.len() > 32 || !valid_chars(server) {
        return Err(format!(
            "invalid MCP server name `{}`: expected 1 to 32 ASCII letters, digits, `_` or `-`",
            server.escape_debug()
        ));
    }
    if server.contains(SEPARATOR) || server.ends_with('_') {
        return Err(format!(
            "invalid MCP server name `{server}`: it may not contain `__` or end with `_`"
        ));
    }
    Ok(())
}

/// The name of `tool` of server `server` in llm-do's name space, or why it has none.
///
/// ```
/// let long = "x".repeat(70);
/// assert!(llm_do_mcp::names::qualified("s", &long).unwrap_err().contains("64"));
/// ```
pub fn qualified(server: &str, tool: &str) -> Result<String, String> {
    let name = format!("{server}{SEPARATOR}{tool}");
    if tool.is_empty() || !valid_chars(tool) {
        return Err(format!(
            "tool name `{}` has characters a model API does not accept in tool names \
             (letters, digits, `_` and `-` only)",
            quoted(tool)
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "`{}` is longer than the {MAX_NAME_LEN} characters model APIs accept as a tool name",
            quoted(&name)
        ));
    }
    Ok(name)
}

/// `name` as a message quotes it: escaped, and cut to [`MAX_QUOTED`] characters (the crate's
/// one rule for a server's text, [`crate::error::escaped_cut`]).
pub(crate) fn quoted(name: &str) -> String {
    crate::error::escaped_cut(name, MAX_QUOTED)
}

/// Splits a worker-file entry `server.tool` or `server.*` into the server and the tool
/// (`None` for `*`); `None` for names without a `.`.
///
/// ```
/// use llm_do_mcp::names::split_entry;
/// assert_eq!(split_entry("orders.*"), Some(("orders", None)));
/// assert_eq!(split_entry("orders.lookup_order"), Some(("orders", Some("lookup_order"))));
/// assert_eq!(split_entry("orders"), None);
/// ```
pub fn split_entry(entry: &str) -> Option<(&str, Option<&str>)> {
    let (server, tool) = entry.split_once('.')?;
    Some((server, if tool == "*" { None } else { Some(tool) }))
}
