"""The error table the model pages show: status and type come from ``aigw.errors`` itself."""

from __future__ import annotations

from dataclasses import dataclass

from aigw import errors
from aigw.catalog.models import Model


@dataclass(frozen=True, slots=True)
class ErrorRow:
    status: int
    type: str
    meaning: str
    retry: bool


_ROWS: tuple[tuple[type[errors.GatewayError], str, bool], ...] = (
    (errors.InvalidRequest, "Malformed JSON or a bad field (named in param)", False),
    (errors.AuthenticationError, "Invalid, missing or revoked API key", False),
    (errors.InsufficientCredits, "Wallet cannot cover the call's maximum cost: top up", False),
    (errors.BudgetExceeded, "A sub-account cap or tag budget would be exceeded", False),
    (errors.PermissionDenied, "The key may not use this endpoint", False),
    (errors.ModelNotFound, "Unknown model id", False),
    (errors.PayloadTooLarge, "Request body too large", False),
    (errors.RateLimited, "Over a per-minute limit; see the Retry-After header", True),
    (errors.ServerError, "The upstream provider failed after retries", True),
    (errors.ServiceUnavailable, "The upstream is saturated after retries", True),
    (errors.ProviderNotConfigured, "The gateway has no key for this provider", False),
    (errors.GatewayTimeout, "The upstream did not answer in time", True),
)


def error_rows(model: Model, *, billing_enabled: bool) -> list[ErrorRow]:
    """The errors a call to ``model`` can meet (no wallet errors when nothing is charged)."""
    free = model.price.is_free or not billing_enabled
    return [
        ErrorRow(cls.status, cls.type, meaning, retry)
        for cls, meaning, retry in _ROWS
        if not (free and cls is errors.InsufficientCredits)
    ]
