"""The docs stay true: every setting, error type and command is documented."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import click

from aigw import errors
from aigw.cli import main
from aigw.config import Settings

DOCS = Path(__file__).parent.parent / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    for field in dataclasses.fields(Settings):
        assert f"`{field.name}`" in text, field.name
        if field.name != "providers":
            assert f"`AIGW_{field.name.upper()}`" in text, field.name


def test_every_error_type_is_documented() -> None:
    text = (DOCS / "api.md").read_text()
    for _, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, errors.GatewayError):
            assert f"| {cls.status} | `{cls.type}` |" in text, cls.__name__


def _commands(group: click.Group, prefix: str = "aigw") -> list[str]:
    out = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out += _commands(command, f"{prefix} {name}")
        else:
            out.append(f"{prefix} {name}")
    return out


def test_every_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text() + (DOCS.parent / "README.md").read_text()
    for command in _commands(main):
        assert f"`{command}" in text, command
