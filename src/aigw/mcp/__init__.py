"""The gateway as MCP tools over Streamable HTTP (``POST /mcp``, JSON-RPC, same API keys)."""
