#!/usr/bin/env python3
"""A minimal MCP server over stdio (newline-delimited JSON-RPC), with no dependencies, for
promptcheck's tests: one tool, get_order. `crash` exits on tools/call after writing to stderr;
`hang` never answers tools/call; `log FILE` appends each request's method to FILE."""
import json
import sys

mode = sys.argv[1] if len(sys.argv) > 1 else ""
log = sys.argv[2] if mode == "log" and len(sys.argv) > 2 else None

TOOLS = [
    {
        "name": "get_order",
        "description": "Look an order up by its id",
        "inputSchema": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
    },
    {"name": "cancel_order", "description": "Cancel an order", "inputSchema": {"type": "object"}},
]

for line in sys.stdin:
    message = json.loads(line)
    method = message.get("method")
    if log:
        with open(log, "a") as f:
            f.write(method + "\n")
    if "id" not in message:
        continue  # a notification
    if method == "initialize":
        result = {
            "protocolVersion": message["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "orders", "version": "1.0"},
        }
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        if mode == "crash":
            sys.stderr.write("orders: database unreachable\n")
            sys.stderr.flush()
            sys.exit(3)
        if mode == "hang":
            continue
        order = message["params"]["arguments"].get("id", "?")
        result = {"content": [{"type": "text", "text": json.dumps({"id": order, "status": "shipped"})}]}
    else:
        print(json.dumps({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "no such method"}}), flush=True)
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}), flush=True)
