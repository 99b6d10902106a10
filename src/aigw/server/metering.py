"""What one request cost and how it went: the request-log record built along the hot path."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aigw.billing.pricing import cost_micro_cents, micro_cents_to_cents_str, micro_cents_to_usd
from aigw.core.usage import Usage
from aigw.errors import GatewayError
from aigw.limits.base import Limit
from aigw.replays.capture import MAX_CAPTURE
from aigw.store.request_bodies import BodyEntry
from aigw.store.request_log import RequestLogEntry

if TYPE_CHECKING:
    from aigw.auth.cache import KeyInfo
    from aigw.billing.service import Billing
    from aigw.billing.wallet import Reservation
    from aigw.catalog.models import Model
    from aigw.routing.router import Route
    from aigw.store.request_log import RequestLogWriter

MAX_TAG = 64
CLIENT_CLOSED = 499  # nginx's convention for "client went away before the answer"


@dataclass(slots=True)
class Meter:
    """Collects the facts of one request and writes its log record exactly once."""

    request_id: str
    client_request_id: str | None = None
    started: float = field(default_factory=time.perf_counter)
    wall_started: float = field(default_factory=time.time)
    key: KeyInfo | None = None
    tag: str | None = None
    model: Model | None = None
    model_name: str | None = None
    streamed: bool = False
    status: int = 200
    error_type: str | None = None
    usage: Usage | None = None
    cost: int = 0
    first_byte: float | None = None
    written: bool = False
    billing: Billing | None = None
    reservation: Reservation | None = None
    byok: bool = False
    charged: int = 0
    billed: bool = False
    prompt_estimate: int = 0
    limits: list[Limit] = field(default_factory=list)
    rate_headers: dict[str, str] = field(default_factory=dict)
    route: Route | None = None  # the router's attempts: which deployment answered, how fast
    surcharge: int = 0  # a gateway fee on top of the call's price (the auto-route fee)
    # Kept for replays and shadow traffic (replays/): the client's body and the bytes of the
    # answer it received; None when not kept. References only: nothing is copied here.
    request_body: bytes | None = None
    output: list[bytes] | None = None
    output_bytes: int = 0

    def price(self, usage: Usage | None) -> int:
        self.usage = usage
        self.cost = cost_micro_cents(self.model.price, usage) if self.model and usage else 0
        return self.cost

    def cost_fields(self) -> dict[str, Any]:
        return {"cost": micro_cents_to_usd(self.cost)}

    def cost_headers(self) -> dict[str, str]:
        headers = {"X-Cost-Cents": micro_cents_to_cents_str(self.cost)}
        if self.usage is not None and self.usage.cached_tokens:
            headers["X-Cached-Input-Units"] = str(self.usage.cached_tokens)
        return headers

    def estimate_usage(self, produced_tokens: int) -> Usage:
        """What the call produced when the upstream reported no usage (cut streams, clients
        that hung up): the prompt estimated from its size, the output from chunks seen."""
        return Usage(prompt_tokens=self.prompt_estimate, completion_tokens=max(0, produced_tokens))

    async def bill(self) -> None:
        """Settle the reservation to the actual cost and commit the charge (once)."""
        if self.billed:
            return
        self.billed = True
        if self.billing is None or self.key is None:
            return
        usage = self.usage or Usage()
        self.charged, fee = self.billing.charge_for(
            self.cost, byok=self.byok, total_tokens=usage.total_tokens
        )
        if self.surcharge:
            self.charged, fee = self.charged + self.surcharge, fee + self.surcharge
        entry = await self.billing.settle(
            self.reservation,
            self.key,
            request_id=self.request_id,
            charged=self.charged,
            fee=fee,
            tag=self.tag,
        )
        await self.billing.commit(entry, self.reservation)

    async def release(self) -> None:
        """A failed call costs nothing: give the reservation back."""
        if not self.billed and self.billing is not None:
            self.billed = True
            await self.billing.release(self.reservation)

    def keep(self, data: bytes) -> None:
        """Keep a piece of the answer as sent (when kept at all), up to ``MAX_CAPTURE``."""
        if self.output is not None:
            self.output_bytes += len(data)
            if self.output_bytes > MAX_CAPTURE:
                self.output = None
            else:
                self.output.append(data)

    def mark_first_byte(self) -> None:
        if self.first_byte is None:
            self.first_byte = time.perf_counter()

    def fail(self, err: GatewayError) -> None:
        self.status = err.status
        self.error_type = err.type

    def crashed(self) -> None:
        """An exception that is not a ``GatewayError``: a 500, unless the status already says
        what happened (a client that hung up)."""
        if self.status == 200:
            self.status, self.error_type = 500, "server_error"

    def write(self, log: RequestLogWriter) -> None:
        if self.written:
            return
        self.written = True
        usage = self.usage or Usage()
        now = time.perf_counter()
        log.record(
            RequestLogEntry(
                id=self.request_id,
                created_at=int(self.wall_started * 1000),
                account_id=self.key.account_id if self.key else None,
                key_id=self.key.key_id if self.key else None,
                tag=self.tag,
                model=self.model.id if self.model else self.model_name,
                provider=self.model.provider if self.model else None,
                status=self.status,
                error_type=self.error_type,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cached_tokens=usage.cached_tokens,
                reasoning_tokens=usage.reasoning_tokens,
                cost_micro_cents=self.cost,
                latency_ms=round((now - self.started) * 1000, 3),
                ttft_ms=(
                    round((self.first_byte - self.started) * 1000, 3)
                    if self.first_byte is not None
                    else None
                ),
                streamed=self.streamed,
                client_request_id=self.client_request_id,
                sub_account_id=self.key.sub_account_id if self.key else None,
                charged_micro_cents=self.charged,
                byok=self.byok,
            )
        )
        if self.request_body is not None and self.key is not None:
            log.record_body(
                BodyEntry(
                    self.request_id,
                    self.key.account_id,
                    int(self.wall_started * 1000),
                    self.request_body,
                    self.output,
                    self.streamed,
                )
            )
