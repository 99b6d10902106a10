"""``aigw simulate``: serve the provider simulator from the command line."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

import click

from aigw.simulator.config import DEFAULT_MODELS, USAGE_STYLES, SimConfig
from aigw.simulator.faults import FAULT_HELP, check_fault_name
from aigw.simulator.runner import start_simulator

_EPILOG = (
    "\b\nFaults (--fault, x-sim-fault header, POST /_sim/faults):\n"
    + "\n".join(f"  {name:<17} {text}" for name, text in FAULT_HELP.items())
    + "\n  4xx/5xx           any other status, e.g. 504"
    + """

\b
Per-request headers override the flags:
  x-sim-latency-ms, x-sim-ttft-ms, x-sim-tokens-per-second, x-sim-output-tokens,
  x-sim-fault (+ x-sim-fault-status, x-sim-retry-after, x-sim-fault-after-chunks,
  x-sim-fault-delay-ms), x-sim-usage-style

\b
Control API (for tests that go through a gateway):
  POST /_sim/faults    {"fault": "429", "count": 2, "retry_after": 3}
  POST /_sim/replay    {"path": "x.sse"} or {"body": "...", "content_type": ..., "count": 1}
  POST /_sim/config    {"latency_ms": 50, ...}     GET /_sim/config
  POST /_sim/reset     GET /_sim/requests     GET /_sim/stats

\b
Example:
  aigw simulate --port 8090 --ttft-ms 300 --tokens-per-second 60
  curl localhost:8090/v1/chat/completions -H 'authorization: Bearer x' \\
    -d '{"model":"m","messages":[{"role":"user","content":"hi"}]}'
"""
)


def _fault_name(_: click.Context, __: click.Parameter, value: str | None) -> str | None:
    try:
        return None if value is None else check_fault_name(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.command("simulate", epilog=_EPILOG)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8090, show_default=True, help="Port to bind (0 = any free).")
@click.option("--latency-ms", default=0.0, show_default=True, help="Delay before any response.")
@click.option("--ttft-ms", default=0.0, show_default=True, help="Time to first token.")
@click.option(
    "--tokens-per-second", default=0.0, show_default=True, help="Output pace; 0 = unpaced."
)
@click.option("--output-tokens", type=int, help="Force every answer to this many tokens.")
@click.option("--min-output-tokens", default=20, show_default=True, help="Natural length range.")
@click.option("--max-output-tokens", default=160, show_default=True, help="Natural length range.")
@click.option(
    "--fault", metavar="NAME", callback=_fault_name, help="Fault to inject (see the list below)."
)
@click.option(
    "--fault-rate", default=1.0, show_default=True, help="Fraction of requests that get --fault."
)
@click.option("--fault-status", type=int, help="Override the HTTP status of an error fault.")
@click.option("--retry-after", default=1.0, show_default=True, help="Retry-After of 429, s.")
@click.option("--fault-after-chunks", default=3, show_default=True, help="Chunks before stall/cut.")
@click.option(
    "--fault-delay-ms", default=3000.0, show_default=True, help="Delay of slow_first_token."
)
@click.option(
    "--hang-seconds", default=300.0, show_default=True, help="Upper bound of timeout/stall."
)
@click.option("--seed", default=0, show_default=True, help="Seed of the --fault-rate RNG.")
@click.option("--require-key", envvar="AIGW_SIM_KEY", help="Accept only this API key.")
@click.option(
    "--usage-style",
    type=click.Choice(USAGE_STYLES),
    default="openai",
    show_default=True,
    help="deepseek: usage rides on the finish chunk of a stream.",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    help=f"Model id listed by /v1/models (repeatable; default {', '.join(DEFAULT_MODELS)}).",
)
@click.option(
    "--replay",
    type=click.Path(exists=True, dir_okay=False),
    help="Answer every chat request with this recording (.sse, .json, .chunks.jsonl).",
)
@click.option("--access-log", is_flag=True, help="Log every request to stderr.")
def simulate(
    host: str,
    port: int,
    latency_ms: float,
    ttft_ms: float,
    tokens_per_second: float,
    output_tokens: int | None,
    min_output_tokens: int,
    max_output_tokens: int,
    fault: str | None,
    fault_rate: float,
    fault_status: int | None,
    retry_after: float,
    fault_after_chunks: int,
    fault_delay_ms: float,
    hang_seconds: float,
    seed: int,
    require_key: str | None,
    usage_style: str,
    models: tuple[str, ...],
    replay: str | None,
    access_log: bool,
) -> None:
    """Run an OpenAI-compatible upstream that answers with realistic generated content.

    Serves POST /v1/chat/completions (streaming, tools, structured outputs, reasoning,
    n, stop, max_tokens), GET /v1/models and GET /healthz, with settable latency, time to
    first token, tokens per second and injected faults.
    """
    try:
        config = SimConfig(
            latency_ms=latency_ms,
            ttft_ms=ttft_ms,
            tokens_per_second=tokens_per_second,
            output_tokens=output_tokens,
            min_output_tokens=min_output_tokens,
            max_output_tokens=max_output_tokens,
            fault=fault,
            fault_rate=fault_rate,
            fault_status=fault_status,
            retry_after=retry_after,
            fault_after_chunks=fault_after_chunks,
            fault_delay_ms=fault_delay_ms,
            hang_seconds=hang_seconds,
            seed=seed,
            require_key=require_key,
            usage_style=usage_style,
            models=models or DEFAULT_MODELS,
            replay_path=replay,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if access_log:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_serve(config, host, port, access_log))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


async def _serve(config: SimConfig, host: str, port: int, access_log: bool) -> None:
    sim = await start_simulator(config, host, port, access_log=access_log)
    click.echo(f"aigw simulator: {sim.base_url}  (control: {sim.url}/_sim/stats)", err=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()
