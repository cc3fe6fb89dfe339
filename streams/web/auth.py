"""Optional bearer-token auth for the HTTP API (``TOCSIN_API_TOKEN``).

Health and metrics stay open so probes and Prometheus need no secret.
"""

import hmac

from faust.web import Request


def authorized(request: Request, token: str) -> bool:
    """True when no token is configured or the request bears it (constant-time compare)."""
    if not token:
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
