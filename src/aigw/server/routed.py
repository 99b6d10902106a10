"""What the chat and messages routes share around the router: the reservation for a plan,
encoding the request for each deployment tried, and adopting the deployment that answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from aigw.billing.estimate import max_prompt_tokens, output_ask, reserve_amount
from aigw.formats import openai_translate as oai
from aigw.formats.anthropic_stream import AnthropicStreamDecoder
from aigw.formats.openai_chat import GATEWAY_FIELDS, prepare_upstream
from aigw.formats.upstream_json import decode_object
from aigw.providers.anthropic import AnthropicAdapter
from aigw.server.relay import parse_answer
from aigw.server.translated import SSE, UpstreamCall, plan_call, provider_options

if TYPE_CHECKING:
    from aiohttp import web

    from aigw.billing.service import Billing
    from aigw.config import Settings
    from aigw.routing.deployments import Candidate, Plan
    from aigw.routing.router import Route
    from aigw.server.metering import Meter

ATTEMPT_COUNTS = ("0", "1", "2", "3", "4", "5")


def reservation_ceiling(
    plan: Plan, body: dict[str, Any], body_bytes: int, settings: Settings, billing: Billing
) -> int:
    """The most the call can cost wherever it ends up: the dearest candidate's maximum."""
    prompt = max_prompt_tokens(body_bytes)
    ask = output_ask(body)  # read from the body once, not per candidate
    ceiling = 0
    for cand in plan.candidates:
        if cand.byok:
            amount = billing.byok_ceiling(cand.model, body, prompt, settings)
        else:
            amount = reserve_amount(cand.model, body, prompt, settings, ask)
        if amount > ceiling:
            ceiling = amount
    if plan.auto is not None:  # the auto-route fee is charged on top (routing/auto.py)
        ceiling += plan.auto.fee
    return ceiling


def first_name(model: Any) -> str | None:
    """The requested model for the request log (the first of a list)."""
    if isinstance(model, str):
        return model
    if isinstance(model, list) and model and isinstance(model[0], str):
        return model[0]
    return None


def adopt(meter: Meter, route: Route) -> None:
    """The deployment last tried (the one that answered) is what gets billed and logged."""
    meter.route = route
    cand = route.candidate
    if cand is not None:
        meter.model = cand.model
        meter.byok = cand.byok
        if route.plan.auto is not None:
            meter.surcharge = route.plan.auto.fee_for(cand.model.id)


def attempts_text(attempts: int) -> str:
    return ATTEMPT_COUNTS[attempts] if attempts < len(ATTEMPT_COUNTS) else str(attempts)


class ChatCalls:
    """Encodes ``/v1/chat/completions`` for each deployment the router tries: the body as
    sent (model id changed) for OpenAI-format upstreams, a translation for the others."""

    __slots__ = ("_app", "_settings", "body", "call", "show_usage", "stream")

    def __init__(
        self, app: web.Application, settings: Settings, body: dict[str, Any], stream: bool
    ) -> None:
        self._app = app
        self._settings = settings
        self.body = body
        self.stream = stream
        options = body.get("stream_options")
        wants = isinstance(options, dict) and options.get("include_usage")
        self.show_usage = bool(stream and wants)  # the client's own ask, before prepare
        self.call: UpstreamCall | None = None

    def prepare(self, cand: Candidate) -> UpstreamCall:
        upstream, model, stream = cand.upstream, cand.model, self.stream
        if upstream.translator is not None:
            options = provider_options(self._app, model.provider, self._settings)
            self.call = plan_call(upstream, model, self.body, stream=stream, options=options)
            return self.call
        payload, _ = prepare_upstream(self.body, model.upstream_id, stream=stream)
        adapter, endpoint = upstream.adapter, upstream.endpoint
        self.call = UpstreamCall(
            adapter.chat_url(endpoint, model.upstream_id, stream=stream),
            adapter.headers(endpoint),
            payload,
            stream,
            SSE,
            parse_answer,
            oai.OpenAIStreamDecoder,
        )
        return self.call


class MessagesCalls:
    """Encodes ``/v1/messages`` for each deployment the router tries: a Claude deployment on
    Anthropic gets the client's own body (model id changed), any other the translation."""

    __slots__ = (
        "_app",
        "_beta",
        "_settings",
        "body",
        "call",
        "passthrough",
        "stream",
        "translated",
    )

    def __init__(
        self,
        app: web.Application,
        settings: Settings,
        body: dict[str, Any],
        translated: dict[str, Any],
        *,
        stream: bool,
        beta: str | None,
    ) -> None:
        self._app = app
        self._settings = settings
        self._beta = beta
        for name in GATEWAY_FIELDS:  # the gateway's own fields never reach Anthropic
            body.pop(name, None)
        self.body = body
        self.translated = translated
        self.stream = stream
        self.passthrough = False
        self.call: UpstreamCall | None = None

    def prepare(self, cand: Candidate) -> UpstreamCall:
        upstream, model, stream = cand.upstream, cand.model, self.stream
        if not isinstance(upstream.adapter, AnthropicAdapter):
            options = provider_options(self._app, model.provider, self._settings)
            self.call = plan_call(upstream, model, self.translated, stream=stream, options=options)
            self.passthrough = False  # set once encoded: the flag follows self.call
            return self.call
        self.passthrough = True
        self.body["model"] = model.upstream_id
        headers = upstream.adapter.headers(upstream.endpoint)
        if self._beta:
            headers["anthropic-beta"] = self._beta
        self.call = UpstreamCall(
            upstream.adapter.chat_url(upstream.endpoint, model.upstream_id, stream=stream),
            headers,
            orjson.dumps(self.body),
            stream,
            SSE,
            parse_message,
            AnthropicStreamDecoder,
        )
        return self.call


def parse_message(raw: bytes) -> tuple[dict[str, Any], int]:
    """A whole Anthropic Message (and its size, to estimate usage it does not report)."""
    return decode_object(raw), len(raw)
