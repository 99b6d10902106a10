"""Transport failures of upstream calls.

Internal: the router and the relays turn them into the API's errors (``errors.UpstreamError``,
``errors.GatewayTimeout``); a timeout is raised as the builtin ``TimeoutError``.
"""


class TransportError(Exception):
    """The upstream could not be reached, or its answer broke off or was not HTTP."""


class ConnectFailed(TransportError):
    """No connection: refused, unreachable, name not resolved, TLS handshake failed."""


class Disconnected(TransportError):
    """The connection closed before the answer was complete."""


class BadResponse(TransportError):
    """The bytes received are not a valid HTTP/1.1 response."""
