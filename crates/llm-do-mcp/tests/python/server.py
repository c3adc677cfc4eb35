"""The official Python `mcp` package's server (MCPServer in 2.x, FastMCP in 1.x), unchanged SDK
code with two tools: `echo`, and `refund`, which asks the user to confirm (elicitation).

With 2.x it speaks MCP 2026-07-28. With 1.x, the generation before, it knows nothing of
`server/discover` and answers it as deployed servers of that generation do: over streamable
HTTP (a request without a session) with HTTP 400 "Missing session ID", over stdio with the
JSON-RPC error -32602.

Usage: server.py          prints the port it listens on (127.0.0.1), then serves streamable
                          HTTP at /mcp until killed
       server.py stdio    serves stdio
"""

import socket
import sys
from typing import Annotated

import anyio
import uvicorn
from pydantic import BaseModel

try:  # mcp >= 2
    from mcp.server.elicitation import ElicitationResult
    from mcp.server.mcpserver import Context, Elicit, MCPServer, Resolve
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import Context, FastMCP as MCPServer

    Resolve = None

mcp = MCPServer("python")


@mcp.tool()
def echo(text: str) -> str:
    """Says the text back."""
    return text


class Confirm(BaseModel):
    confirm: bool


def said(id, answer):
    if answer.action == "accept" and answer.data.confirm:
        return f"refunded {id}"
    return f"not refunded: {answer.action}"


if Resolve is not None:
    # 2.x: a question is a resolver's `Elicit`, asked in a round of the call on 2026-07-28 (a
    # server sends no requests of its own there) and by `elicitation/create` before it.
    def ask(id: str) -> Elicit[Confirm]:
        return Elicit(f"Refund order {id}?", Confirm)

    @mcp.tool()
    async def refund(id: str, answer: Annotated[ElicitationResult[Confirm], Resolve(ask)]) -> str:
        """Refunds an order, after asking the user (elicitation)."""
        return said(id, answer)

else:

    @mcp.tool()
    async def refund(id: str, ctx: Context) -> str:
        """Refunds an order, after asking the user (elicitation)."""
        return said(id, await ctx.elicit(message=f"Refund order {id}?", schema=Confirm))


if sys.argv[1:] == ["stdio"]:
    mcp.run()
    sys.exit()

sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen()
print(sock.getsockname()[1], flush=True)
config = uvicorn.Config(mcp.streamable_http_app(), log_level="warning")
anyio.run(uvicorn.Server(config).serve, [sock])
