"""A streamable HTTP MCP server of the generation before protocol 2026-07-28: the official
Python `mcp` package 1.x (FastMCP), unchanged. It knows nothing of `server/discover` and, as
deployed servers of that generation do, answers it (a request without a session) with HTTP 400
"Missing session ID".

Usage: legacy_server.py  Prints the port it listens on (127.0.0.1), then serves at /mcp until
killed. One tool, `echo`.
"""

import socket

import anyio
import uvicorn
from mcp.server.fastmcp import FastMCP

mcp = FastMCP("legacy")


@mcp.tool()
def echo(text: str) -> str:
    """Says the text back."""
    return text


sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen()
print(sock.getsockname()[1], flush=True)
config = uvicorn.Config(mcp.streamable_http_app(), log_level="warning")
anyio.run(uvicorn.Server(config).serve, [sock])
