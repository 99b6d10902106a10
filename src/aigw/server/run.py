"""Run the gateway in this process: event loop, listening socket, banner, clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Mapping

from aiohttp import web

from aigw import __version__
from aigw.config import Settings
from aigw.observability.logs import configure as configure_logging
from aigw.server.app import GENERATED_ADMIN_KEY, create_app
from aigw.server.fast_lane import FastLane, LaneSite

log = logging.getLogger("aigw")


# Young-generation threshold of the cyclic GC while serving. At the default (700) the net
# container objects of a few dozen requests in flight cross it many times a second; each
# pass found almost nothing (requests free their objects by reference counting) and cost
# ~3-5 µs of CPU per request. Cycles are still collected, just in fewer, larger passes.
GC_YOUNG_THRESHOLD = 10_000
SHUTDOWN_SECONDS = 10.0  # requests in flight get this long to finish at shutdown


def settle_gc() -> None:
    """Once the app has started: move everything made at start-up (the catalog, SQLAlchemy
    metadata, the app; ~130,000 objects) out of the collector's sight, so a full collection
    looks at what serving made (~1 ms instead of ~50 ms with the loop stopped), and make
    young collections rarer (``GC_YOUNG_THRESHOLD``)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def _install_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def start(
    settings: Settings, *, environ: Mapping[str, str] | None = None, reuse_port: bool = False
) -> tuple[web.AppRunner, str]:
    """Start serving; returns the runner (call ``cleanup()``) and the base URL."""
    app = create_app(settings, environ=environ)
    lane = None
    if settings.fast_lane and not settings.access_log:  # (the access log is aiohttp's)
        lane = FastLane(app, max_body=settings.max_body_bytes, shutdown_timeout=SHUTDOWN_SECONDS)
        app.on_shutdown.append(lane.on_shutdown)
    runner = web.AppRunner(
        app,
        handler_cancellation=True,  # a client that disconnects cancels its upstream call
        access_log=logging.getLogger("aigw.access") if settings.access_log else None,
        shutdown_timeout=SHUTDOWN_SECONDS,
    )
    await runner.setup()
    site: web.TCPSite
    if lane is not None:
        site = LaneSite(
            runner, lane, settings.host, settings.port, backlog=1024, reuse_port=reuse_port
        )
    else:
        site = web.TCPSite(
            runner, settings.host, settings.port, backlog=1024, reuse_port=reuse_port
        )
    await site.start()
    port = runner.addresses[0][1] if settings.port == 0 else settings.port
    return runner, f"http://{settings.host}:{port}"


def banner(settings: Settings, url: str, admin_key: str | None, command: str) -> str:
    lines = [
        f"aigw {__version__} listening on {url} (OpenAI-compatible base URL: {url}/v1)",
        f"database: {settings.database_url.split('@')[-1]}",
    ]
    if admin_key:
        lines += [
            "",
            f"Admin key (shown once; set AIGW_ADMIN_KEY to choose your own): {admin_key}",
        ]
    lines += [
        "",
        "Get an API key:",
        f"  {command} accounts create demo",
        f"  {command} keys create --account demo",
        f"  {command} topup demo 10        # $10 of prepaid credits (free models need none)",
        "Then: curl "
        f"{url}/v1/chat/completions -H 'Authorization: Bearer sk-aig-...' "
        "-H 'Content-Type: application/json' "
        '-d \'{"model":"xai/grok-4.3","messages":[{"role":"user","content":"hi"}]}\'',
    ]
    return "\n".join(lines)


async def _main(
    settings: Settings, command: str, *, reuse_port: bool = False, quiet: bool = False
) -> None:
    runner, url = await start(settings, reuse_port=reuse_port)
    settle_gc()
    generated = runner.app[GENERATED_ADMIN_KEY] if runner.app is not None else []
    if not quiet:
        print(banner(settings, url, generated[0] if generated else None, command), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        print("aigw: shutting down", file=sys.stderr, flush=True)
        await runner.cleanup()


def serve(settings: Settings, *, command: str = "aigw", workers: int = 1) -> None:
    configure_logging(settings.log_level, settings.log_format)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if workers > 1:
        from aigw.server.workers import supervise

        supervise(settings, command, workers)
        return
    _install_uvloop()
    asyncio.run(_main(settings, command))


def run_worker(settings: Settings, command: str, index: int) -> None:
    """One of ``--workers N`` processes: all listen on the same port (SO_REUSEPORT)."""
    configure_logging(settings.log_level, settings.log_format, worker=index)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _install_uvloop()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(settings, command, reuse_port=True, quiet=index > 0))
