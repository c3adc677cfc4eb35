//! A server's tools, listed page by page within bounds: a server whose `tools/list` goes on
//! and on (a cursor that never ends, more tools than a model could be offered) is an error,
//! not a list that grows until memory or the start timeout runs out.

use rmcp::model::{PaginatedRequestParams, Tool};

/// The most pages of `tools/list` read from one server.
pub(crate) const MAX_PAGES: usize = 100;

/// The most tools taken from one server.
pub(crate) const MAX_TOOLS: usize = 10_000;

/// Every tool `peer` lists, following its cursors; the failure in words (the server's text
/// escaped).
pub(crate) async fn all_tools(peer: &rmcp::Peer<rmcp::RoleClient>) -> Result<Vec<Tool>, String> {
    let mut tools = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let params = PaginatedRequestParams::default().with_cursor(cursor);
        let page =
            peer.list_tools(Some(params)).await.map_err(|e| crate::error::list_failure(&e))?;
        tools.extend(page.tools);
        if tools.len() > MAX_TOOLS {
            return Err(format!("it lists more than {MAX_TOOLS} tools"));
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(tools),
        }
    }
    Err(format!("its `tools/list` goes on past {MAX_PAGES} pages"))
}
