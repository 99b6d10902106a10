"""The ``aigw`` command: a thin layer over the server, the store and the simulator."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Awaitable
from dataclasses import asdict
from typing import Any, TypeVar

import click
import orjson

from aigw import __version__
from aigw.config import Settings, load_settings
from aigw.errors import ConfigError, GatewayError

T = TypeVar("T")


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    obj = ctx.find_root().obj or {}
    merged = {"database_url": obj.get("db"), **overrides}
    return load_settings(obj.get("config"), overrides=merged)


def _run(coro: Awaitable[T]) -> T:
    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except (GatewayError, ConfigError) as err:
        raise click.ClickException(str(err)) from None


def _aigw_command() -> str:
    """How the user can call this command again (the venv's script when not on PATH)."""
    if shutil.which("aigw") == os.path.abspath(sys.argv[0]):
        return "aigw"
    return os.path.relpath(sys.argv[0]) if sys.argv and sys.argv[0].endswith("aigw") else "aigw"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aigw")
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    envvar="AIGW_CONFIG",
    help="TOML config file ([gateway], [providers.<id>], [models.<id>]). Env: AIGW_CONFIG.",
)
@click.option(
    "--db",
    envvar="AIGW_DATABASE_URL",
    help="Database URL: sqlite:///PATH (default sqlite:///aigw.db) or "
    "postgresql://USER@HOST/DB. Env: AIGW_DATABASE_URL.",
)
@click.pass_context
def main(ctx: click.Context, config: str | None, db: str | None) -> None:
    """aigw: a self-hosted AI gateway, one OpenAI-compatible API for every model provider."""
    ctx.obj = {"config": config, "db": db}


@main.command()
@click.option("--host", envvar="AIGW_HOST", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, envvar="AIGW_PORT", help="Port to listen on (default 8080).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Config file.")
@click.option("--db", "db_url", help="Database URL (as the group option --db).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    envvar="AIGW_WORKERS",
    show_default=True,
    help="Processes serving the same port. More than 1 needs AIGW_REDIS_URL and a "
    "postgresql:// database. Env: AIGW_WORKERS.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    config_file: str | None,
    db_url: str | None,
    workers: int,
) -> None:
    """Start the gateway (SQLite by default; nothing else to install)."""
    from aigw.server.run import serve as run_server

    if config_file:
        ctx.find_root().obj["config"] = config_file
    settings = _settings(ctx, host=host, port=port, **({"database_url": db_url} if db_url else {}))
    try:
        run_server(settings, command=_aigw_command(), workers=workers)
    except ConfigError as err:
        raise click.ClickException(str(err)) from None


@main.group()
def accounts() -> None:
    """Create and list accounts (they own API keys)."""


@accounts.command("create")
@click.argument("name")
@click.pass_context
def accounts_create(ctx: click.Context, name: str) -> None:
    """Create account NAME."""
    from aigw.store import accounts as store

    async def go() -> Any:
        async with _database(ctx) as db:
            return await store.create_account(db, name)

    account = _run(go())
    click.echo(f"created account {account.name} ({account.id})")


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def accounts_list(ctx: click.Context, as_json: bool) -> None:
    """List accounts."""
    from aigw.store import accounts as store

    async def go() -> Any:
        async with _database(ctx) as db:
            return await store.list_accounts(db)

    found = _run(go())
    if as_json:
        click.echo(orjson.dumps([asdict(a) for a in found]).decode())
        return
    for a in found:
        click.echo(f"{a.id}  {a.name}")


@accounts.command("limits")
@click.argument("name")
@click.option(
    "--rpm", type=click.IntRange(min=0), default=None, help="Requests per minute (0 = none)."
)
@click.option(
    "--tpm", type=click.IntRange(min=0), default=None, help="Tokens per minute (0 = none)."
)
@click.pass_context
def accounts_limits(ctx: click.Context, name: str, rpm: int | None, tpm: int | None) -> None:
    """Set the default rate limits of NAME's keys (unset options: the gateway's default)."""
    from aigw.store import accounts as store

    async def go() -> Any:
        async with _database(ctx) as db:
            return await store.set_account_limits(db, name, rpm=rpm, tpm=tpm)

    account = _run(go())
    click.echo(
        f"limits of {account.name}: rpm={rpm if rpm is not None else 'default'}, "
        f"tpm={tpm if tpm is not None else 'default'}"
    )


@main.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command("create")
@click.option("--account", required=True, help="Account name or id that owns the key.")
@click.option("--name", default=None, help="A label for the key.")
@click.pass_context
def keys_create(ctx: click.Context, account: str, name: str | None) -> None:
    """Create a key and print it (it is shown only this once)."""
    from aigw.store import keys as store

    async def go() -> Any:
        async with _database(ctx) as db:
            return await store.create_key(db, account, name)

    record, plaintext = _run(go())
    click.echo(plaintext)
    click.echo(
        f"key id {record.id} for account {account}; store it now, it is not shown again", err=True
    )


@keys.command("list")
@click.option("--account", default=None, help="Only this account's keys.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def keys_list(ctx: click.Context, account: str | None, as_json: bool) -> None:
    """List keys (prefix and last four characters only)."""
    from aigw.store import keys as store

    async def go() -> Any:
        async with _database(ctx) as db:
            return await store.list_keys(db, account)

    found = _run(go())
    if as_json:
        click.echo(orjson.dumps([asdict(k) for k in found]).decode())
        return
    for k in found:
        state = "revoked" if k.revoked_at else "active"
        click.echo(f"{k.id}  {k.prefix}...{k.last4}  {k.account_id}  {state}  {k.name or ''}")


@keys.command("revoke")
@click.argument("key_id")
@click.pass_context
def keys_revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke KEY_ID; running gateways stop accepting it within seconds."""
    from aigw.store import keys as store

    async def go() -> Any:
        async with _database(ctx) as db:
            return await store.revoke_key(db, key_id)

    record = _run(go())
    click.echo(f"revoked {record.id}")


@main.command()
@click.argument("account")
@click.argument("amount")
@click.option("--note", default=None, help="Why (kept in the ledger).")
@click.pass_context
def topup(ctx: click.Context, account: str, amount: str, note: str | None) -> None:
    """Add AMOUNT USD of credits to ACCOUNT (the platform fee is recorded on top)."""
    from aigw.billing import ledger

    settings = _settings(ctx)

    async def go() -> Any:
        micro = ledger.usd_to_micro_cents(amount)
        async with _database(ctx) as db:
            return micro, await ledger.top_up(
                db,
                account,
                micro,
                fee_percent=settings.platform_fee_percent,
                fee_mode=settings.platform_fee_mode,
                note=note,
            )

    micro, (state, fee) = _run(go())
    click.echo(
        f"credited ${micro / 1e8:,.2f} to {account} (paid ${(micro + fee) / 1e8:,.2f}, "
        f"fee ${fee / 1e8:,.2f}); balance ${state.balance_micro_cents / 1e8:,.2f}"
    )


@main.group("ledger")
def ledger_group() -> None:
    """Check the ledger."""


@ledger_group.command("verify")
@click.pass_context
def ledger_verify(ctx: click.Context) -> None:
    """Prove every wallet balance equals the sum of its ledger entries (exit 1 if not)."""
    from aigw.billing import ledger

    async def go() -> Any:
        async with _database(ctx) as db:
            return await ledger.verify(db)

    checked, mismatches = _run(go())
    for m in mismatches:
        click.echo(
            f"MISMATCH {m.account_id}: wallet {m.wallet_balance} µ¢, ledger sum {m.ledger_sum} µ¢",
            err=True,
        )
    if mismatches:
        raise SystemExit(1)
    click.echo(f"ok: {checked} wallets equal the sum of their ledger entries")


class _database:
    """``async with _database(ctx) as db``: a migrated database for one CLI command."""

    def __init__(self, ctx: click.Context) -> None:
        self._settings = _settings(ctx)

    async def __aenter__(self) -> Any:
        from aigw.store.db import Database

        self._db = Database.from_url(self._settings.database_url)
        await self._db.migrate()
        return self._db

    async def __aexit__(self, *exc: object) -> None:
        await self._db.close()


def _register_simulator() -> None:
    from aigw.simulator.command import simulate

    main.add_command(simulate)


_register_simulator()


from aigw.clients.usage_tail import tail, usage  # noqa: E402  (HTTP client commands)

main.add_command(usage)
main.add_command(tail)


def _register_replays() -> None:
    from aigw.replays.cli import eval_group, replay

    main.add_command(replay)
    main.add_command(eval_group)


_register_replays()
