"""Who is calling: API keys from ``Authorization: Bearer`` or ``x-api-key``, from memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from aigw.errors import AuthenticationError, PermissionDenied
from aigw.server.appkeys import KEYS

if TYPE_CHECKING:
    from aigw.auth.cache import KeyInfo


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return None
    return request.headers.get("x-api-key") or None


async def authenticate(request: web.Request) -> KeyInfo:
    token = bearer_token(request)
    if token is None:
        raise AuthenticationError(
            "Missing API key: send 'Authorization: Bearer sk-aig-...'.", param="authorization"
        )
    keys = request.app[KEYS]
    info = keys.lookup_cached(token)
    if info is None:
        info = await keys.lookup(token)
    if info is None:
        raise AuthenticationError("Invalid or revoked API key.", param="authorization")
    return info


def require_admin(request: web.Request) -> None:
    token = bearer_token(request)
    if token is None:
        raise AuthenticationError("Missing admin key.", param="authorization")
    if not request.app[KEYS].check_admin(token):
        raise PermissionDenied("This endpoint needs the admin key.", param="authorization")
