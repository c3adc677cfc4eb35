"""Answers an llm-do MCP server's approval questions with the official Python `mcp` package.

Usage: elicit.py [VERSION] URL  (a streamable HTTP endpoint). Without VERSION the client
connects with the initialize handshake and is asked by `elicitation/create` requests; with a
version of 2026-07-28 or later it adopts that version (no handshake) and the questions come in
`InputRequiredResult`s, which `mcp.Client.call_tool` answers and retries. The client declares
form elicitation; its "user" approves a question about `a.txt` and declines any other. It calls
`remove` on `a.txt` and on `b.txt`, and prints one JSON object: the questions asked (message and
requested schema) and both results, in MCP wire format, for the Rust test to check.
"""

import asyncio
import json
import sys

from mcp.client.session import ClientSession

try:  # mcp >= 2
    import mcp_types as types
except ImportError:  # mcp 1.x
    from mcp import types

try:  # mcp >= 2
    from mcp.client.streamable_http import streamable_http_client as connect
except ImportError:  # mcp 1.x
    from mcp.client.streamable_http import streamablehttp_client as connect


def wire(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def main(url, version=None):
    asked = []

    async def answer(context, params):
        # mcp >= 2 names it in snake case, mcp 1.x as on the wire.
        schema = getattr(params, "requested_schema", None) or getattr(params, "requestedSchema")
        asked.append({"message": params.message, "schema": schema})
        if "a.txt" in params.message:
            return types.ElicitResult(action="accept", content={"approve": True})
        return types.ElicitResult(action="decline")

    out = {}
    if version is not None:
        from mcp import Client

        async with Client(url, mode=version, elicitation_callback=answer) as client:
            out["approved"] = wire(await client.call_tool("remove", {"path": "a.txt"}))
            out["declined"] = wire(await client.call_tool("remove", {"path": "b.txt"}))
        out["asked"] = asked
        print(json.dumps(out, default=str))
        return
    async with connect(url) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write, elicitation_callback=answer) as session:
            await session.initialize()
            out["approved"] = wire(await session.call_tool("remove", {"path": "a.txt"}))
            out["declined"] = wire(await session.call_tool("remove", {"path": "b.txt"}))
    out["asked"] = asked
    print(json.dumps(out, default=str))


asyncio.run(main(sys.argv[-1], *sys.argv[1:-1]))
