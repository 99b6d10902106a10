"""Adapters by wire format, and the live upstreams (endpoint + pooled client) by provider.

Built-in adapters are loaded exactly like third-party ones: each plugin module exposes
``register(registry)``; plugins come from ``DEFAULT_PLUGINS`` and the ``aigw.providers``
entry-point group.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from aigw.config import Secret, Settings
from aigw.errors import ConfigError, ProviderNotConfigured
from aigw.net import HttpClient
from aigw.providers.base import Endpoint, ProviderAdapter, Translator, translator_of

if TYPE_CHECKING:
    from aigw.catalog.loader import Catalog
    from aigw.catalog.models import Provider

log = logging.getLogger("aigw.providers")

DEFAULT_PLUGINS = (
    "aigw.providers.openai_compatible",
    "aigw.providers.anthropic",
    "aigw.providers.gemini",
    "aigw.providers.cohere",
    "aigw.providers.azure",
    "aigw.providers.bedrock",
)
ENTRY_POINT_GROUP = "aigw.providers"


class AdapterRegistry:
    def __init__(self) -> None:
        self._adapters: dict[str, ProviderAdapter] = {}

    def register(self, adapter: ProviderAdapter) -> None:
        self._adapters[adapter.wire_format] = adapter

    def get(self, wire_format: str) -> ProviderAdapter | None:
        return self._adapters.get(wire_format)

    @property
    def wire_formats(self) -> list[str]:
        return sorted(self._adapters)


def load_adapters(extra_plugins: tuple[str, ...] = ()) -> AdapterRegistry:
    registry = AdapterRegistry()
    for name in (*DEFAULT_PLUGINS, *extra_plugins):
        importlib.import_module(name).register(registry)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        ep.load()(registry)
    return registry


def resolve_endpoint(
    provider: Provider, settings: Settings, environ: Mapping[str, str] | None = None
) -> Endpoint:
    """Base URL and key: config file ``[providers.<id>]`` wins, then the environment, then the
    catalog default (``<PROVIDER>_API_KEY`` / ``<PROVIDER>_BASE_URL``)."""
    env = os.environ if environ is None else environ
    conf: Mapping[str, Any] = settings.providers.get(provider.id, {})
    base_url = conf.get("base_url") or env.get(provider.base_url_env) or provider.base_url
    raw_key = conf.get("api_key")
    if raw_key is None and provider.api_key_env:
        raw_key = env.get(provider.api_key_env)
    if not base_url:
        raise ConfigError(
            f"provider {provider.id!r} has no base URL: set {provider.base_url_env} "
            f"or [providers.{provider.id}] base_url"
        )
    return Endpoint(
        provider_id=provider.id,
        base_url=str(base_url),
        api_key=Secret(str(raw_key)) if raw_key else None,
        key_required=provider.key_required,
        api_key_env=provider.api_key_env,
    )


@dataclass(slots=True)
class Upstream:
    """One provider as the hot path uses it."""

    endpoint: Endpoint
    adapter: ProviderAdapter
    http: HttpClient
    # The adapter's translating side (None: an OpenAI-format upstream), found once here: an
    # isinstance() against a runtime-checkable Protocol costs ~10 µs, too much per request.
    translator: Translator | None


class ProviderRegistry:
    """Live upstreams: one pooled HTTP client (aigw.net) per provider, created on first use."""

    def __init__(
        self,
        catalog: Catalog,
        settings: Settings,
        adapters: AdapterRegistry,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._catalog = catalog
        self._settings = settings
        self._adapters = adapters
        self._environ = environ
        self._upstreams: dict[str, Upstream] = {}

    def upstream(self, provider_id: str) -> Upstream:
        found = self._upstreams.get(provider_id)
        if found is not None:
            return found
        provider = self._catalog.provider(provider_id)
        if provider is None:
            raise ConfigError(f"model refers to unknown provider {provider_id!r}")
        adapter = self._adapters.get(provider.wire_format)
        if adapter is None:
            raise ProviderNotConfigured(
                f"Provider '{provider_id}' speaks the '{provider.wire_format}' wire format, "
                "which this gateway has no adapter for."
            )
        endpoint = resolve_endpoint(provider, self._settings, self._environ)
        upstream = Upstream(endpoint, adapter, self._new_client(), translator_of(adapter))
        self._upstreams[provider_id] = upstream
        return upstream

    def _new_client(self) -> HttpClient:
        return HttpClient(
            connect_timeout=self._settings.upstream_connect_timeout,
            total_timeout=self._settings.upstream_total_timeout,
            keepalive=30.0,
        )

    @staticmethod
    def require_key(endpoint: Endpoint) -> None:
        if endpoint.key_required and not endpoint.api_key:
            var = endpoint.api_key_env or f"{endpoint.provider_id.upper()}_API_KEY"
            raise ProviderNotConfigured(
                f"Provider '{endpoint.provider_id}' has no API key configured: set {var} "
                f"(or [providers.{endpoint.provider_id}] api_key in the config file)."
            )

    async def close(self) -> None:
        for upstream in self._upstreams.values():
            await upstream.http.close()
        self._upstreams.clear()
