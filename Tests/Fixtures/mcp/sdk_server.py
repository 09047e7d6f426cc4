#!/usr/bin/env python3
"""An MCP server written with the official `mcp` Python SDK (v2's MCPServer, or v1's FastMCP),
for promptcheck's tests. `python3 sdk_server.py` speaks stdio; `python3 sdk_server.py http PORT`
speaks Streamable HTTP on 127.0.0.1:PORT/mcp."""
import json
import sys

try:
    from mcp.server.mcpserver import MCPServer as Server
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as Server

http = len(sys.argv) > 2 and sys.argv[1] == "http"
server = Server("orders")


@server.tool()
def get_order(id: str) -> str:
    """Look an order up by its id."""
    return json.dumps({"id": id, "status": "shipped", "by": "sdk"})


if __name__ == "__main__":
    if http:
        server.run(transport="streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run(transport="stdio")
