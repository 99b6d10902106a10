"""Routing: a request's model (or list of models) and ``routing`` preferences become an ordered
plan of deployments; ``Router.send`` walks it until one starts answering.

Before the first byte reaches the client every failure is recoverable:

- a deployment's retryable failure (connection error, 5xx, timeout, 429 / 503 / 529) moves
  on to the next deployment, or, on the last one, retries it with exponential backoff and
  full jitter, waiting at least the upstream's Retry-After;
- upstream 401/403, exhausted quota, an unknown upstream model: the next deployment (those
  are the deployment's problem, not the request's);
- a 400 is the request's own problem: it fails at once, wherever it came from.

At most ``routing_max_attempts`` calls and ``routing_max_seconds`` of trying; a deployment
whose breaker is open is skipped. A stream counts as started when its first chunk arrives
(within ``upstream_ttft_timeout``); after that, gaps longer than ``upstream_idle_timeout``
end it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aigw.errors import (
    GatewayError,
    GatewayTimeout,
    InvalidRequest,
    ModelNotFound,
    ProviderNotConfigured,
    ServerError,
    ServiceUnavailable,
    UpstreamError,
)
from aigw.net import Response, TransportError
from aigw.providers.registry import ProviderRegistry
from aigw.routing.auto import AutoRouter, is_auto
from aigw.routing.deployments import Candidate, Deployments, Plan
from aigw.routing.eval_alias import EvalAliases
from aigw.routing.policy import order
from aigw.routing.resolve import resolve_model
from aigw.routing.retry import backoff
from aigw.routing.spec import RouteSpec, parse_spec

if TYPE_CHECKING:
    from aigw.catalog.loader import Catalog
    from aigw.catalog.models import Model
    from aigw.config import Settings
    from aigw.providers.byok import ByokKeys
    from aigw.routing.health import Health

log = logging.getLogger("aigw.routing")

PROVIDER_HEADER = "x-aig-provider"
POLICY_HEADER = "x-aig-route-policy"
ATTEMPTS_HEADER = "x-aig-attempts"

Resolve = Callable[["Catalog", str], "Model"]
EVAL_PREFIX = "eval:"


class Outbound(Protocol):
    """One upstream call, encoded for one deployment."""

    @property
    def url(self) -> str: ...

    @property
    def headers(self) -> dict[str, str]: ...

    @property
    def payload(self) -> bytes: ...

    @property
    def stream_content_type(self) -> str: ...

    @property
    def decode(self) -> Callable[[bytes], Any]: ...


@dataclass(slots=True)
class Route:
    """One request's way through its plan, filled in by ``Router.send``."""

    plan: Plan
    candidate: Candidate | None = None  # the last one tried: the one that answered on success
    attempts: int = 0
    started: float = 0.0  # monotonic start of the answering attempt
    ttft: float | None = None  # its time to first byte (streams)
    response: Response | None = None  # a started stream, to relay
    first: bytes = b""  # the stream's first chunk, already read
    body: Any = None  # a whole answer, decoded

    def headers(self) -> dict[str, str]:
        assert self.candidate is not None
        return {
            PROVIDER_HEADER: self.candidate.model.provider,
            POLICY_HEADER: self.plan.policy,
            ATTEMPTS_HEADER: str(self.attempts),
        }


def falls_back(err: GatewayError) -> bool:
    """Whether another deployment may succeed where this one failed."""
    return err.retryable or isinstance(err, ServerError | ServiceUnavailable | ModelNotFound)


class Router:
    def __init__(
        self, catalog: Catalog, providers: ProviderRegistry, health: Health, settings: Settings
    ) -> None:
        self._catalog = catalog
        self.health = health
        self.policy = settings.routing_policy
        self.deployments = Deployments(providers, health, self.policy)
        self.max_attempts = max(1, settings.routing_max_attempts)
        self.max_seconds = settings.routing_max_seconds
        self.per_deployment = max(1, settings.upstream_max_attempts)
        self.ttft = settings.upstream_ttft_timeout or None
        self.idle = settings.upstream_idle_timeout or None
        self.auto = AutoRouter(catalog, self.deployments, settings)  # model "auto" (auto.py)
        self.aliases: EvalAliases | None = None  # set once the database is up

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    async def resolve_alias(self, body: dict[str, Any], account_id: str) -> None:
        """``model: "eval:<run_id>"`` becomes the run's winner (routing/eval_alias.py)."""
        name = body["model"]
        if name.__class__ is str and name.startswith(EVAL_PREFIX) and self.aliases is not None:
            body["model"] = await self.aliases.resolve(name[len(EVAL_PREFIX) :], account_id)

    # -- planning -----------------------------------------------------------------------

    def plan(
        self,
        body: dict[str, Any],
        account_id: str,
        byok: ByokKeys,
        resolve: Resolve = resolve_model,
    ) -> Plan:
        """The deployments to try for this request, in order (at most ``max_attempts``)."""
        name = body["model"]
        if is_auto(name):
            return self.auto.plan(body, account_id, byok, self.max_attempts)
        routing = body.get("routing")
        key_id = body.get("provider_key_id")
        if routing is None and name.__class__ is str:
            candidates = self.deployments.of(resolve(self._catalog, name))
            if len(candidates) == 1:  # the common case: no choice to make
                return self._solo(candidates[0], account_id, byok, key_id)
        spec = parse_spec(name, routing, self.policy)
        return self._plan(spec, account_id, byok, key_id, resolve)

    def _solo(self, cand: Candidate, account_id: str, byok: ByokKeys, key_id: Any) -> Plan:
        own = byok.pick(account_id, cand.model.provider, key_id)
        if own is not None:
            return Plan(self.policy, (cand.with_key(own.secret),))
        ProviderRegistry.require_key(cand.upstream.endpoint)
        assert cand.solo is not None
        return cand.solo

    def _plan(
        self, spec: RouteSpec, account_id: str, byok: ByokKeys, key_id: Any, resolve: Resolve
    ) -> Plan:
        now = time.monotonic()
        ordered: list[Candidate] = []
        for name in spec.names:
            candidates = list(self.deployments.of(resolve(self._catalog, name)))
            if spec.providers:
                candidates = [c for c in candidates if c.model.provider in spec.providers]
            if spec.max_cost_per_1m_input is not None:
                cap = spec.max_cost_per_1m_input
                candidates = [c for c in candidates if c.model.price.input <= cap]
            ordered += order(candidates, spec.policy, now, spec.providers)
        usable: list[Candidate] = []
        errors: list[GatewayError] = []
        seen: set[str] = set()
        for cand in ordered:
            if cand.key in seen:
                continue
            seen.add(cand.key)
            try:
                own = byok.pick(account_id, cand.model.provider, key_id)
                if own is None:
                    ProviderRegistry.require_key(cand.upstream.endpoint)
            except (InvalidRequest, ProviderNotConfigured) as err:
                errors.append(err)
                continue
            usable.append(cand if own is None else cand.with_key(own.secret))
        if not usable:
            if errors:
                raise errors[0]
            raise _nothing_matches(spec)
        if not spec.allow_fallback:
            usable = usable[:1]
        return Plan(spec.policy, tuple(usable[: self.max_attempts]))

    # -- sending ------------------------------------------------------------------------

    async def send(
        self, route: Route, prepare: Callable[[Candidate], Outbound], *, stream: bool
    ) -> None:
        """Call deployments in plan order until one starts answering (``route`` then holds
        the answer); raise the last failure, carrying the routing headers."""
        candidates = route.plan.candidates
        budget = time.monotonic() + self.max_seconds
        last: GatewayError | None = None
        blocked: Candidate | None = None
        call: Outbound | None = None
        i = tries = 0
        while i < len(candidates) and route.attempts < self.max_attempts:
            cand = candidates[i]
            if not cand.health.breaker.allow(time.monotonic()):
                blocked = blocked or cand
                i, tries = i + 1, 0
                continue
            if tries == 0:
                try:
                    call = prepare(cand)
                except InvalidRequest as err:  # this provider cannot take the request as is
                    cand.health.breaker.release()
                    last, i = err, i + 1
                    continue
            assert call is not None
            route.candidate = cand
            route.attempts += 1
            tries += 1
            cand.health.attempts += 1
            try:
                await self._attempt(route, cand, call, stream)
                return
            except GatewayError as err:
                if not falls_back(err):
                    cand.health.breaker.release()
                    raise self._annotate(err, route) from None
                last = err
            now = time.monotonic()
            self._failed(cand, last, route)
            more = any(c.health.breaker.available(now) for c in candidates[i + 1 :])
            if last.retryable and tries < self.per_deployment and not more:
                wait = max(float(last.retry_after or 0), backoff(tries - 1))
                if now + wait >= budget:
                    break
                cand.health.retries += 1
                await asyncio.sleep(wait)
                continue
            if now >= budget:
                break
            if more:
                cand.health.fallbacks += 1
            i, tries = i + 1, 0
        if last is None:
            last = _all_blocked(blocked, route)
        raise self._annotate(last, route)

    async def _attempt(self, route: Route, cand: Candidate, call: Outbound, stream: bool) -> None:
        http = cand.upstream.http
        started = time.monotonic()
        response: Response | None = None
        try:
            if stream:
                async with asyncio.timeout(self.ttft):
                    response = await http.post(call.url, data=call.payload, headers=call.headers)
                    if response.status >= 300:
                        raise await _upstream_error(cand, response)
                    if response.content_type == call.stream_content_type:
                        first = await response.readany()
                        if not first:
                            raise UpstreamError("The upstream stream ended before it started.")
                        route.ttft = time.monotonic() - started
                        response.watch_gaps(self.idle)
                        route.started, route.response, route.first = started, response, first
                        return
                    route.body = await _whole(response, call, self.idle)
            else:
                response = await http.post(call.url, data=call.payload, headers=call.headers)
                if response.status >= 300:
                    raise await _upstream_error(cand, response)
                route.body = await _whole(response, call, self.idle)
            route.started, route.response = started, None
        except GatewayError:
            _close(response)
            raise
        except TimeoutError:
            _close(response)
            who = cand.model.provider
            raise GatewayTimeout(f"Upstream provider '{who}' did not answer in time.") from None
        except TransportError:
            _close(response)
            raise UpstreamError(
                f"Could not reach upstream provider '{cand.model.provider}'."
            ) from None
        except BaseException:  # cancelled: the client hung up
            _close(response)
            cand.health.breaker.release()
            raise

    def _failed(self, cand: Candidate, err: GatewayError, route: Route) -> None:
        if cand.byok and not err.retryable:
            # The account's own key was refused or is out of quota: that says nothing about
            # the deployment, so it must not open the breaker everyone else shares.
            cand.health.breaker.release()
            return
        if cand.health.failed(time.monotonic(), err.type):
            log.warning(
                "circuit breaker for %s opened after repeated failures (last: %s)",
                cand.key,
                err.type,
            )
        log.info("upstream attempt %d to %s failed: %s", route.attempts, cand.key, err.type)

    def _annotate(self, err: GatewayError, route: Route) -> GatewayError:
        err.extra_headers[POLICY_HEADER] = route.plan.policy
        err.extra_headers[ATTEMPTS_HEADER] = str(route.attempts)
        if route.candidate is not None:
            err.extra_headers[PROVIDER_HEADER] = route.candidate.model.provider
        return err


async def _whole(response: Response, call: Outbound, idle: float | None) -> Any:
    response.watch_gaps(idle)
    raw = await response.read()  # releases the connection to the pool
    return call.decode(raw)


async def _upstream_error(cand: Candidate, response: Response) -> GatewayError:
    try:
        body = await response.read()
    except (TransportError, TimeoutError):
        body = b""
    finally:
        response.release()
    upstream = cand.upstream
    return upstream.adapter.map_error(upstream.endpoint, response.status, body, response.headers)


def _close(response: Response | None) -> None:
    if response is not None:
        response.close()


def _all_blocked(blocked: Candidate | None, route: Route) -> GatewayError:
    """Every deployment's breaker is open: fail fast instead of adding load."""
    now = time.monotonic()
    wait = blocked.health.breaker.retry_in(now) if blocked is not None else 1.0
    model = blocked.model.id if blocked is not None else "the model"
    return ServiceUnavailable(
        f"Every deployment of '{model}' is failing; the gateway paused calls to them.",
        retry_after=max(1, math.ceil(wait)),
    )


def _nothing_matches(spec: RouteSpec) -> GatewayError:
    wanted = []
    if spec.providers:
        wanted.append(f"providers {', '.join(spec.providers)}")
    if spec.max_cost_per_1m_input is not None:
        wanted.append(f"at most ${spec.max_cost_per_1m_input} per 1M input tokens")
    param = "routing.providers" if spec.providers else "routing.max_cost_per_1m_input"
    return InvalidRequest(
        f"No deployment of {', '.join(spec.names)} matches the routing ({'; '.join(wanted)}).",
        param=param,
    )
