"""An MCP server of the generation before protocol 2026-07-28: the official Python `mcp`
package 1.x (FastMCP), unchanged. It knows nothing of `server/discover`, and answers it as
deployed servers of that generation do: over streamable HTTP (a request without a session)
with HTTP 400 "Missing session ID", over stdio with the JSON-RPC error -32602.

Usage: legacy_server.py          prints the port it listens on (127.0.0.1), then serves
                                 streamable HTTP at /mcp until killed
       legacy_server.py stdio    serves stdio
Two tools: `echo`, and `refund`, which asks the user to confirm (elicitation).
"""

import socket
import sys

import anyio
import uvicorn
from mcp.server.fastmcp import Context, FastMCP
from pydantic import BaseModel

mcp = FastMCP("legacy")


@mcp.tool()
def echo(text: str) -> str:
    """Says the text back."""
    return text


class Confirm(BaseModel):
    confirm: bool


@mcp.tool()
async def refund(id: str, ctx: Context) -> str:
    """Refunds an order, after asking the user (elicitation)."""
    answer = await ctx.elicit(message=f"Refund order {id}?", schema=Confirm)
    if answer.action == "accept" and answer.data.confirm:
        return f"refunded {id}"
    return f"not refunded: {answer.action}"


if sys.argv[1:] == ["stdio"]:
    mcp.run()
    sys.exit()

sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen()
print(sock.getsockname()[1], flush=True)
config = uvicorn.Config(mcp.streamable_http_app(), log_level="warning")
anyio.run(uvicorn.Server(config).serve, [sock])
