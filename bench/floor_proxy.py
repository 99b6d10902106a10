"""The floor under aigw: peer-bench's ``bare`` proxy with aigw's upstream client.

``bare`` (../shared/peer-bench/bare_proxy.py) is aiohttp's server and aiohttp's client with
nothing between them. aigw serves with aiohttp too but calls upstreams with ``aigw.net``, so
this proxy, the same handler with ``aigw.net.HttpClient``, is what aigw would cost with all
of its own work (auth, billing, the request log, routing, metrics) taken away. Comparing
aigw's CPU per request with this one tells how much of it is aigw's own (bench/RESULTS.md).

Run it pinned like the gateway and load it like peer-bench does, e.g.::

    MOCK_PORT=18000 taskset -c 0 python ../shared/peer-bench/mock_upstream.py &
    FLOOR_PORT=18200 taskset -c 1 .venv/bin/python bench/floor_proxy.py &
    taskset -c 0 wrk -t1 -c16 -d8s -s ../shared/peer-bench/wrk_post.lua \\
        http://127.0.0.1:18200/v1/chat/completions
"""

from __future__ import annotations

import os

import orjson
import uvloop
from aiohttp import web

from aigw.net import HttpClient

UPSTREAM = f"http://127.0.0.1:{os.environ.get('MOCK_PORT', '18000')}/v1/chat/completions"
CLIENT = web.AppKey("client", HttpClient)


async def _start(app: web.Application) -> None:
    app[CLIENT] = HttpClient()


async def chat(request: web.Request) -> web.StreamResponse:
    raw = await request.read()
    body = orjson.loads(raw)
    headers = {"Authorization": "Bearer x", "Content-Type": "application/json"}
    upstream = await request.app[CLIENT].post(UPSTREAM, data=raw, headers=headers)
    if body.get("stream"):
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        while chunk := await upstream.readany():
            await response.write(chunk)
        upstream.release()
        await response.write_eof()
        return response
    data = await upstream.read()
    upstream.release()
    return web.Response(body=data, content_type="application/json")


def main() -> None:
    uvloop.install()
    app = web.Application()
    app.on_startup.append(_start)
    app.router.add_post("/v1/chat/completions", chat)
    port = int(os.environ.get("FLOOR_PORT", "18200"))
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
