//! [`McpBuilderExt`]: registering a connected MCP server's tools on a runtime builder.

use crate::toolset::McpToolset;
use llm_do_core::RuntimeBuilder;

/// Adds `.mcp(&toolset)` to [`RuntimeBuilder`].
///
/// The toolset is registered as a [`CallableSource`](llm_do_core::CallableSource) with the
/// prefix `server__`: an unstarted toolset ([`McpToolset::new`]) starts its server the first
/// time the runtime needs its tools, and tools the server adds later
/// (`notifications/tools/list_changed`) join the runtime's name space — workers that list
/// `server__*` offer them from their next call on, and calls by name reach them. The tools of
/// a connected toolset ([`McpToolset::connect`]) are also registered by name, so that
/// [`Registry::names`](llm_do_core::Registry::names) lists them.
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use llm_do_core::Runtime;
/// use llm_do_mcp::{McpBuilderExt, McpServer, McpToolset};
/// let orders = McpToolset::connect("orders", McpServer::stdio("orders-server", Vec::<String>::new())).await?;
/// let rt = Runtime::builder().mcp(&orders).build();
/// assert!(rt.registry().names().any(|n| n.starts_with("orders__")));
/// # Ok(()) }
/// ```
pub trait McpBuilderExt {
    /// Adds the server's tools under their qualified names (see [`crate::names`]).
    fn mcp(self, toolset: &McpToolset) -> Self;
}

impl McpBuilderExt for RuntimeBuilder {
    fn mcp(self, toolset: &McpToolset) -> Self {
        toolset
            .specs()
            .into_iter()
            .fold(self, RuntimeBuilder::register)
            .source(std::sync::Arc::new(toolset.clone()))
    }
}
