"""A model's deployments as the router uses them: one ``Candidate`` per place it is served.

Each candidate carries the deployment as a ``Model`` (the catalog id, with the deployment's
provider, upstream id and price), so everything downstream (billing, the request log, the
``model`` field of answers) simply reads ``candidate.model``. Candidates are built once per
model and reused: the single-deployment hot path allocates nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from aigw.errors import GatewayError

if TYPE_CHECKING:
    from aigw.catalog.models import Model
    from aigw.config import Secret
    from aigw.providers.registry import ProviderRegistry, Upstream
    from aigw.routing.auto import AutoPick
    from aigw.routing.health import DeploymentHealth, Health


@dataclass(slots=True, eq=False)
class Candidate:
    """One deployment of one model, ready to call."""

    model: Model
    key: str  # "provider/upstream id": its name in health, metrics and logs
    weight: int
    upstream: Upstream
    health: DeploymentHealth
    byok: bool = False
    solo: Plan | None = None  # the plan of a request that can only go here (cached)

    def with_key(self, secret: Secret) -> Candidate:
        """The same deployment called with the account's own provider key (BYOK)."""
        endpoint = replace(self.upstream.endpoint, api_key=secret)
        upstream = replace(self.upstream, endpoint=endpoint)
        return replace(self, upstream=upstream, byok=True, solo=None)


@dataclass(frozen=True, slots=True)
class Plan:
    """The deployments to try, in order, and the policy that ordered them."""

    policy: str
    candidates: tuple[Candidate, ...]
    auto: AutoPick | None = None  # set on model "auto": the pick, for headers and the fee


def deployment_key(provider: str, upstream_id: str) -> str:
    return f"{provider}/{upstream_id}"


class Deployments:
    """Candidates per catalog model, built on first use and kept."""

    def __init__(self, providers: ProviderRegistry, health: Health, default_policy: str) -> None:
        self._providers = providers
        self._health = health
        self._policy = default_policy
        self._cache: dict[str, tuple[Candidate, ...]] = {}

    def of(self, model: Model) -> tuple[Candidate, ...]:
        found = self._cache.get(model.id)
        if found is None:
            found = self._build(model)
        return found

    def _build(self, model: Model) -> tuple[Candidate, ...]:
        """A deployment whose provider cannot be called (no adapter) is left out; when none
        can be, its error is raised. Only complete sets are cached."""
        targets = [(model, 1)]
        if model.deployments:
            targets = [
                (
                    replace(
                        model,
                        provider=d.provider,
                        upstream_id=d.upstream_id,
                        price=d.price or model.price,
                        deployments=(),
                    ),
                    d.weight,
                )
                for d in model.deployments
            ]
        built: list[Candidate] = []
        errors: list[GatewayError] = []
        for target, weight in targets:
            try:
                upstream = self._providers.upstream(target.provider)
            except GatewayError as err:
                errors.append(err)
                continue
            key = deployment_key(target.provider, target.upstream_id)
            health = self._health.of(key, target.provider)
            candidate = Candidate(target, key, weight, upstream, health)
            candidate.solo = Plan(self._policy, (candidate,))
            built.append(candidate)
        if not built:
            raise errors[0]
        if not errors:
            self._cache[model.id] = tuple(built)
        return tuple(built)
