//! A server's tools, listed page by page within bounds: a server whose `tools/list` goes on
//! and on (a cursor that never ends, more tools than a model could be offered) is an error,
//! not a list that grows until memory or the start timeout runs out.

use rmcp::model::{PaginatedRequestParams, Tool};

/// The most pages of `tools/list` read from one server.
pub(crate) const MAX_PAGES: usize = 100;

/// The most tools taken from one server.
pub(crate) const MAX_TOOLS: usize = 10_000;

/// The most bytes of tools (names, descriptions, schemas, as JSON) taken from one server: with
/// [`MAX_PAGES`] alone, pages of 16 MiB (a message's limit) would add up to 1.6 GB.
pub(crate) const MAX_LISTING_BYTES: usize = 32 << 20;

/// Every tool `peer` lists, following its cursors; the failure in words (the server's text
/// escaped).
pub(crate) async fn all_tools(peer: &rmcp::Peer<rmcp::RoleClient>) -> Result<Vec<Tool>, String> {
    let mut tools = Vec::new();
    let mut bytes = 0usize;
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let params = PaginatedRequestParams::default().with_cursor(cursor);
        let page =
            peer.list_tools(Some(params)).await.map_err(|e| crate::error::list_failure(&e))?;
        bytes = page.tools.iter().fold(bytes, |sum, tool| sum.saturating_add(json_len(tool)));
        if bytes > MAX_LISTING_BYTES {
            return Err(format!(
                "its tools take more than {} MiB (names, descriptions and schemas)",
                MAX_LISTING_BYTES >> 20
            ));
        }
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

/// The length of `tool` as JSON, counted without building the text.
fn json_len(tool: &Tool) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter does not fail; a tool that cannot be written counts as empty.
    let _ = serde_json::to_writer(&mut count, tool);
    count.0
}
