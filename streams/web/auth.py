"""API tokens with scopes: who may send inputs, act on incidents, or read.

| scope | allows |
|---|---|
| `ingest` | `POST` of inputs: `/v1/alertmanager`, `/v1/events`, `/v1/checks`, `/v1/reports` |
| `operate` | `POST /v1/incidents/{id}/{action}` (and `read`); a command's `actor` defaults to the token's name |
| `read` | every `GET` under `/v1/` |

Tokens come from ``TOCSIN_API_TOKENS`` (``name:scope+scope:secret`` entries separated by
``;`` or new lines) or from the file ``TOCSIN_API_TOKENS_FILE`` names (same format, ``#``
comments); ``TOCSIN_API_TOKEN`` alone is one token named ``api`` with every scope. Once any
token is configured, a request without a valid one is refused (401) or, with a token
lacking the scope, forbidden (403). Secrets are compared in constant time. ``/healthz``,
``/readyz`` and ``/metrics`` stay open.
"""

import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from faust.web import Request, Response, View

SCOPES = ("ingest", "operate", "read")
IMPLIED = {"operate": {"read"}}


@dataclass(frozen=True)
class Token:
    name: str
    scopes: frozenset[str]
    secret: str

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or any(scope in IMPLIED.get(s, ()) for s in self.scopes)


class TokenError(ValueError):
    pass


def parse_tokens(text: str) -> tuple[Token, ...]:
    """``name:scope+scope:secret`` entries, one per line or ``;``-separated."""
    tokens = []
    for entry in text.replace(";", "\n").splitlines():
        entry = entry.split("#", 1)[0].strip()
        if not entry:
            continue
        name, scopes, secret = (part.strip() for part in [*entry.split(":", 2), "", ""][:3])
        wanted = frozenset(s.strip() for s in scopes.split("+") if s.strip())
        if not name or not secret or not wanted or not wanted <= set(SCOPES):
            raise TokenError(f"token entry {name or entry[:20]!r}: want name:{'+'.join(SCOPES)}:secret")
        tokens.append(Token(name, wanted, secret))
    if len({t.name for t in tokens}) != len(tokens):
        raise TokenError("token names must be unique")
    return tuple(tokens)


def tokens_from_env(environ: dict[str, str] | None = None) -> tuple[Token, ...]:
    env = os.environ if environ is None else environ
    text = env.get("TOCSIN_API_TOKENS", "")
    if env.get("TOCSIN_API_TOKENS_FILE"):
        text += "\n" + Path(env["TOCSIN_API_TOKENS_FILE"]).read_text()
    return parse_tokens(text)


@dataclass(frozen=True)
class Access:
    """The configured tokens; no token configured means an open API (the embedded default)."""

    tokens: tuple[Token, ...] = ()

    @classmethod
    def of(cls, single: str = "", tokens: tuple[Token, ...] = ()) -> "Access":
        everything = (Token("api", frozenset(SCOPES), single),) if single else ()
        return cls(everything + tokens)

    def refusal(self, view: View, request: Request, scope: str) -> Response | None:
        """The 401/403 answer for a request without the scope, or None when it may proceed."""
        status, reason = self.check(request, scope)
        return view.json({"error": reason}, status=status) if status else None

    def check(self, request: Request, scope: str) -> tuple[int, str]:
        """(0, token name) when allowed; (401 or 403, reason) when not."""
        if not self.tokens:
            return 0, ""
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        given = given.strip().encode()
        found = None
        for token in self.tokens:  # every one compared, in constant time each
            if scheme.lower() == "bearer" and hmac.compare_digest(given, token.secret.encode()):
                found = token
        if found is None:
            return 401, "missing or wrong bearer token"
        if not found.allows(scope):
            return 403, f"token {found.name!r} lacks the {scope!r} scope"
        return 0, found.name
