//! [`McpBuilderExt`]: registering a connected MCP server's tools on a runtime builder.

use crate::toolset::McpToolset;
use llm_do_core::RuntimeBuilder;

/// Adds `.mcp(&toolset)` to [`RuntimeBuilder`].
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
    /// Registers every tool of the server under its qualified name (see [`crate::names`]).
    fn mcp(self, toolset: &McpToolset) -> Self;
}

impl McpBuilderExt for RuntimeBuilder {
    fn mcp(self, toolset: &McpToolset) -> Self {
        toolset.specs().into_iter().fold(self, RuntimeBuilder::register)
    }
}
