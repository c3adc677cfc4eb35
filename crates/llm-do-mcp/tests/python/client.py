"""Drives an llm-do MCP server with the official Python `mcp` package (a third-party client).

Usage: client.py URL  (a streamable HTTP endpoint). Prints one JSON object: the listed tools
and the results of a few calls, in MCP wire format, for the Rust test to check.
"""

import asyncio
import json
import sys

from mcp.client.session import ClientSession

try:  # mcp >= 2
    from mcp.client.streamable_http import streamable_http_client as connect
except ImportError:  # mcp 1.x
    from mcp.client.streamable_http import streamablehttp_client as connect


def wire(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def main(url):
    out = {}
    async with connect(url) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            out["tools"] = [wire(t) for t in tools.tools]
            out["classify"] = wire(await session.call_tool("classify", {"input": "the app crashes"}))
            out["remove"] = wire(await session.call_tool("remove", {"path": "notes.txt"}))
            try:
                await session.call_tool("no_such_tool", {})
                out["unknown"] = "no error"
            except Exception as e:  # an McpError carrying the JSON-RPC error
                out["unknown"] = str(e)
    print(json.dumps(out))


asyncio.run(main(sys.argv[1]))
