"""The auto-router: ``model: "auto"`` (or ``"auto/<modality>"``, or no model) picks the
cheapest pool model that clears the quality floor for the request's complexity, never dearer
than the baseline.

The read (routing/complexity.py) gives a level; each level has a quality floor
(routing/priors.py). Every pool model that is in the catalog, can be called (a provider key,
or the account's own) and accepts what the request needs (images, tools, a JSON schema) is
priced for this request from catalog prices: the estimated prompt and the level's expected
output (or ``max_tokens``). A model is eligible when its prompt cost and its per-token output
rate are at most the baseline's and its estimate plus the route fee is at most the baseline's
estimate: it routes down, never up. ``x-routing`` orders the eligible ones (``rank``); the plan
is that order, so a failing pick falls back to the next. The baseline itself, when callable,
is always the last resort, and no route fee is charged when it answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from aigw.billing.pricing import (
    MICRO_CENTS_PER_CENT,
    cost_micro_cents,
    max_cost_micro_cents,
    micro_cents_to_cents_str,
)
from aigw.core.usage import Usage
from aigw.errors import GatewayError, InvalidRequest, ModelNotFound, ProviderNotConfigured
from aigw.providers.registry import ProviderRegistry
from aigw.routing.complexity import Read, classify, expected_output_tokens
from aigw.routing.deployments import Candidate, Plan
from aigw.routing.priors import AutoConfig, load_auto_config
from aigw.routing.resolve import resolve_model

if TYPE_CHECKING:
    from aigw.catalog.loader import Catalog
    from aigw.catalog.models import Model
    from aigw.config import Settings
    from aigw.providers.byok import ByokKeys
    from aigw.routing.deployments import Deployments

AUTO = "auto"
POLICY = "auto"
BIASES = ("cost", "speed", "quality", "auto")
# Modalities the reference API routes on other endpoints (not chat).
NOT_CHAT = ("image", "video", "tts", "stt", "music", "embedding")
BASELINE_HEADER = "x-baseline-model"
ROUTING_HEADER = "x-routing"
_ONE_MILLION = 1_000_000


def is_auto(name: Any) -> bool:
    return name.__class__ is str and (name == AUTO or name.startswith("auto/"))


def absorb_headers(body: dict[str, Any], headers: Mapping[str, str]) -> None:
    """``x-baseline-model`` and ``x-routing`` headers, unless the body sets the field."""
    for field, header in (("baseline_model", BASELINE_HEADER), ("x-routing", ROUTING_HEADER)):
        value = headers.get(header)
        if value is not None and field not in body:
            body[field] = value


@dataclass(frozen=True, slots=True)
class Option:
    """One callable model, priced for this request (µ¢)."""

    id: str
    cost: int  # the estimate: prompt + expected output
    input_cost: int  # the prompt alone
    output_rate: int  # 1M output tokens at the dearer of output / reasoning rates
    quality: float | None
    speed: float


def price(model: Model, prompt_tokens: int, output_tokens: int) -> tuple[int, int, int]:
    """(estimate, prompt cost, output rate) of ``model`` for this request, in µ¢."""
    estimate = cost_micro_cents(
        model.price, Usage(prompt_tokens=prompt_tokens, completion_tokens=output_tokens)
    )
    prompt_cost = cost_micro_cents(model.price, Usage(prompt_tokens=prompt_tokens))
    rate = max_cost_micro_cents(model.price, prompt_tokens, _ONE_MILLION) - max_cost_micro_cents(
        model.price, prompt_tokens, 0
    )
    return estimate, prompt_cost, rate


def rank(
    options: list[Option],
    baseline: Option,
    *,
    level: str,
    bias: str,
    floor: float,
    headroom: float,
    fee: int,
) -> list[tuple[Option, str]]:
    """The eligible options in the order to try, each with the reason it is there (pure)."""
    base = baseline

    def eligible(o: Option) -> bool:
        if o.id == base.id:
            return True  # no fee when the baseline itself answers
        return (
            o.input_cost <= base.input_cost
            and o.output_rate <= base.output_rate
            and o.cost + fee <= base.cost
        )

    clear = [o for o in options if eligible(o) and o.quality is not None and o.quality >= floor]
    where = f"{level} request, floor {floor:.2f}"
    if bias == "quality":
        order = sorted(clear, key=lambda o: (-(o.quality or 0.0), o.cost, o.id))
        why = f"strongest model at or under the baseline cost ({where})"
    elif bias == "speed":
        order = sorted(clear, key=lambda o: (-o.speed, o.cost, o.id))
        why = f"fastest model clearing the floor ({where})"
    elif bias == "auto" and headroom:
        raised = floor + headroom
        above = sorted(
            (o for o in clear if (o.quality or 0.0) >= raised), key=lambda o: (o.cost, o.id)
        )
        rest = sorted((o for o in clear if o not in above), key=lambda o: (o.cost, o.id))
        order = above + rest
        why = f"cheapest model with quality >= {raised:.2f} ({where} + {headroom:.2f} margin)"
        if not above:
            why = f"cheapest model clearing the floor ({where}; none clears the margin)"
    else:
        order = sorted(clear, key=lambda o: (o.cost, -(o.quality or 0.0), o.id))
        why = f"cheapest model clearing the floor ({where})"
    ranked = [(o, why if i == 0 else f"fallback #{i}: {why}") for i, o in enumerate(order)]
    if not any(o.id == base.id for o in order) and any(o.id == base.id for o in options):
        ranked.append((base, f"baseline: no cheaper model clears the floor ({where})"))
    return ranked


@dataclass(frozen=True, slots=True)
class AutoPick:
    """What the router decided, for the response headers and the route fee."""

    read: Read
    bias: str
    modality: str
    baseline: str
    baseline_cost: int
    fee: int
    options: Mapping[str, tuple[Option, str]]  # model id -> (priced option, reason)

    def fee_for(self, model_id: str) -> int:
        return 0 if model_id == self.baseline else self.fee

    def headers(self, model_id: str) -> dict[str, str]:
        """The ``X-Routing-*`` / ``X-Auto-*`` headers for the model that answered."""
        option, reason = self.options[model_id]
        fee = self.fee_for(model_id)
        quality = "unrated" if option.quality is None else f"{option.quality:.3f}"
        return {
            "X-Auto-Routed": "true",
            "X-Routing-Selected": model_id,
            "X-Routing-Reason": reason,
            "X-Routing-Complexity": self.read.level,
            "X-Routing-Quality": quality,
            "X-Auto-Baseline-Model": self.baseline,
            "X-Auto-Baseline-Cost-Cents": micro_cents_to_cents_str(self.baseline_cost),
            "X-Auto-Route-Fee-Cents": micro_cents_to_cents_str(fee),
            "X-Auto-Savings-Cents": micro_cents_to_cents_str(
                self.baseline_cost - option.cost - fee
            ),
        }


def fee_micro_cents(cents: Decimal) -> int:
    return int((cents * MICRO_CENTS_PER_CENT).to_integral_value(rounding=ROUND_HALF_UP))


class AutoRouter:
    """Turns an auto request into a plan of pool deployments, cheapest eligible first."""

    def __init__(
        self,
        catalog: Catalog,
        deployments: Deployments,
        settings: Settings,
        config: AutoConfig | None = None,
    ) -> None:
        self._catalog = catalog
        self._deployments = deployments
        self.config = config or load_auto_config(settings.auto_router_file, settings.auto_pool)
        self.priors = self.config.priors  # the eval hook: priors.update(model, score)
        self.fee = fee_micro_cents(settings.auto_route_fee_cents)

    def plan(
        self, body: dict[str, Any], account_id: str, byok: ByokKeys, max_attempts: int
    ) -> Plan:
        if body.get("routing") is not None:
            raise InvalidRequest(
                "'routing' cannot be combined with an auto model; name models to use it.",
                param="routing",
            )
        bias = body.get("x-routing", "auto")
        if bias not in BIASES:
            raise InvalidRequest(
                f"'x-routing' must be one of {', '.join(BIASES)}.", param="x-routing"
            )
        read = classify(body)
        modality = self._modality(body["model"], read)
        pool = self.config.modalities[modality]
        baseline = self._baseline(body.get("baseline_model"), pool.baseline)
        prompt, output = read.prompt_tokens, expected_output_tokens(read, body)
        cost, prompt_cost, rate = price(baseline, prompt, output)
        priors = self.priors
        base = Option(
            baseline.id,
            cost,
            prompt_cost,
            rate,
            priors.quality(baseline.id),
            priors.speed(baseline.id),
        )
        options: list[Option] = []
        usable: dict[str, list[Candidate]] = {}
        unconfigured: list[GatewayError] = []
        for model_id in dict.fromkeys((*pool.pool, baseline.id)):
            model = self._catalog.get(model_id)
            if model is None or model.modality != "text" or not _accepts(model, read):
                continue
            if model_id != baseline.id and priors.quality(model_id) is None:
                continue  # unrated models are never auto-picked
            cands = self._callable(model, account_id, byok, unconfigured)
            if not cands:
                continue
            usable[model_id] = cands
            if model_id == baseline.id:
                options.append(base)
                continue
            est, pc, r = price(cands[0].model, prompt, output)
            options.append(
                Option(model_id, est, pc, r, priors.quality(model_id), priors.speed(model_id))
            )
        level = read.level
        ranked = rank(
            options,
            base,
            level=level,
            bias=bias,
            floor=self.config.floors[level],
            headroom=self.config.headroom[level],
            fee=self.fee,
        )
        if not ranked:
            raise self._nothing(modality, read, baseline.id, options, unconfigured)
        candidates = [c for option, _ in ranked for c in usable[option.id]][:max_attempts]
        pick = AutoPick(
            read=read,
            bias=bias,
            modality=modality,
            baseline=baseline.id,
            baseline_cost=cost,
            fee=self.fee,
            options={option.id: (option, why) for option, why in ranked},
        )
        return Plan(POLICY, tuple(candidates), pick)

    def _modality(self, name: str, read: Read) -> str:
        if name == AUTO:
            if read.images and "vision" in self.config.modalities:
                return "vision"
            if read.code and "code" in self.config.modalities:
                return "code"
            return "text"
        modality = name[len(AUTO) + 1 :]
        if modality in self.config.modalities:
            return modality
        known = ", ".join(f"auto/{m}" for m in self.config.modalities)
        if modality in NOT_CHAT:
            raise InvalidRequest(
                f"'{name}' routes {modality} models, which this endpoint does not serve; "
                f"chat auto-routing takes auto, {known}.",
                param="model",
            )
        raise InvalidRequest(f"Unknown auto modality '{name}'; use auto, {known}.", param="model")

    def _baseline(self, value: Any, default: str) -> Model:
        if value is None:
            value = default
        if not isinstance(value, str) or not value:
            raise InvalidRequest("'baseline_model' must be a model id.", param="baseline_model")
        try:
            model = resolve_model(self._catalog, value)
        except ModelNotFound as err:
            raise ModelNotFound(err.message, param="baseline_model") from None
        if model.modality != "text":
            raise InvalidRequest(
                f"'baseline_model' {value!r} is not a chat model.", param="baseline_model"
            )
        return model

    def _callable(
        self, model: Model, account_id: str, byok: ByokKeys, errors: list[GatewayError]
    ) -> list[Candidate]:
        """The model's deployments that can be called now (a key, or the account's own)."""
        try:
            deployments = self._deployments.of(model)
        except GatewayError as err:
            errors.append(err)
            return []
        out: list[Candidate] = []
        for cand in deployments:
            own = byok.pick(account_id, cand.model.provider)
            if own is not None:
                out.append(cand.with_key(own.secret))
                continue
            try:
                ProviderRegistry.require_key(cand.upstream.endpoint)
            except ProviderNotConfigured as err:
                errors.append(err)
                continue
            out.append(cand)
        return out

    def _nothing(
        self,
        modality: str,
        read: Read,
        baseline: str,
        options: list[Option],
        unconfigured: list[GatewayError],
    ) -> GatewayError:
        if not options and unconfigured:
            return ProviderNotConfigured(
                f"No model of the auto/{modality} pool can be called: {unconfigured[0].message}"
            )
        if not options:
            return InvalidRequest(
                f"No model of the auto/{modality} pool accepts this request "
                "(images, tools or a JSON schema); name a model.",
                param="model",
            )
        floor = self.config.floors[read.level]
        return InvalidRequest(
            f"No model of the auto/{modality} pool clears the quality floor {floor:.2f} for a "
            f"{read.level} request at or under the cost of the baseline '{baseline}'; choose a "
            "dearer baseline_model or name a model.",
            param="baseline_model",
        )


def _accepts(model: Model, read: Read) -> bool:
    caps = model.capabilities
    if read.images and not caps.vision:
        return False
    if read.tools and not caps.tools:
        return False
    return not (read.json_schema and not (caps.structured_outputs or caps.json_mode))
