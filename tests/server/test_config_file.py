"""One TOML file configures the gateway: provider keys and URLs, and catalog overrides."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from tests.harness import GatewayThread
from tests.server.conftest import ADMIN_KEY

from aigw.config import load_settings
from aigw.simulator import SimulatorThread

MESSAGES = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def configured(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GatewayThread, str]]:
    root = tmp_path_factory.mktemp("configured")
    conf = root / "aigw.toml"
    conf.write_text(
        f"""
[gateway]
database_url = "sqlite:///{root / "aigw.db"}"
port = 0
admin_key = "{ADMIN_KEY}"

[providers.xai]
api_key = "from-config-file-4321"
base_url = "{sim_server.base_url}"

[providers.mylab]
name = "My Lab"
wire_format = "openai"
base_url = "{sim_server.base_url}"
api_key_env = "MYLAB_API_KEY"
base_url_env = "MYLAB_BASE_URL"
key_required = false
api_key = "mylab-key-9999"

[models."mylab/tiny-1"]
name = "Tiny 1"
upstream_id = "tiny-1"
modality = "text"
price = {{ input = 10, output = 20 }}

[models."xai/grok-4.3"]
price = {{ input = 100, output = 200 }}
"""
    )
    settings = load_settings(conf, environ={})
    with GatewayThread(settings, environ={}) as gw:
        gw.admin("POST", "/admin/accounts", ADMIN_KEY, {"name": "acme"})
        _, key = gw.admin("POST", "/admin/keys", ADMIN_KEY, {"account": "acme"})
        gw.admin("POST", "/admin/accounts/acme/topup", ADMIN_KEY, {"amount": "1000"})
        yield gw, key["key"]


def test_provider_key_and_url_from_the_config_file(
    configured: tuple[GatewayThread, str], sim_server: SimulatorThread
) -> None:
    gw, key = configured
    sim_server.reset()
    with openai.OpenAI(base_url=gw.base_url, api_key=key, max_retries=0) as client:
        completion = client.chat.completions.create(
            model="xai/grok-4.3", messages=MESSAGES, max_tokens=10
        )
    sent = sim_server.requests[-1]
    assert sent["headers"]["Authorization"].endswith("4321")
    usage = completion.usage
    assert usage is not None
    # The overridden price: $100 / $200 per 1M tokens.
    expected = (usage.prompt_tokens * 100 + usage.completion_tokens * 200) / 1_000_000
    assert usage.model_extra is not None
    assert usage.model_extra["cost"] == pytest.approx(expected, abs=1e-9)


def test_operator_added_provider_and_model(
    configured: tuple[GatewayThread, str], sim_server: SimulatorThread
) -> None:
    gw, key = configured
    sim_server.reset()
    with openai.OpenAI(base_url=gw.base_url, api_key=key, max_retries=0) as client:
        ids = {m.id for m in client.models.list()}
        completion = client.chat.completions.create(model="mylab/tiny-1", messages=MESSAGES)
    assert "mylab/tiny-1" in ids
    assert completion.model == "mylab/tiny-1"
    assert sim_server.requests[-1]["body"]["model"] == "tiny-1"
    assert sim_server.requests[-1]["headers"]["Authorization"].endswith("9999")


def test_config_path_is_readable(tmp_path: Path) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text('[models."nobody/x"]\nname = "X"\n')
    from aigw.errors import ConfigError
    from aigw.server.app import create_app

    with pytest.raises(ConfigError, match="nobody"):
        create_app(load_settings(conf, environ={}))
