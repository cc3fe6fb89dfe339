"""Silences over HTTP: ``POST /v1/silences``, ``GET /v1/silences``, ``DELETE /v1/silences/{id}``.

A silence takes effect without a restart, on every worker (``streams.silence_book``).
``POST`` takes Alertmanager's matcher syntax (``{service="db", env=~"staging|dev"}``), a list
of such matchers or Alertmanager's matcher objects, and ``ends_at`` or ``duration`` (with an
optional ``starts_at``); it answers 200 with the silence, 400 with what is wrong. ``DELETE``
expires a silence now (200, or 404 for an unknown id). Making and expiring silences needs
the ``operate`` scope; listing them, ``read``.
"""

import logging
import time
from typing import Any

import faust
import msgspec
from faust.web import Request, Response, View

from models.durations import parse_duration
from models.matchers import parse_any_matchers
from models.silence import Silence, SilenceState, expire, new_silence
from models.timestamps import parse_ms
from streams.silence_book import SilenceBook, as_json, publish
from streams.web.auth import Access
from streams.web.body import BodyTooLarge, read_capped

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 65_536


class SilenceRequest(msgspec.Struct, forbid_unknown_fields=True):
    matchers: Any
    starts_at: str = ""
    ends_at: str = ""
    duration: str = ""
    created_by: str = ""
    comment: str = ""


_REQUEST = msgspec.json.Decoder(SilenceRequest)


def silence_from(body: bytes, now: int, who: str) -> Silence:
    """The silence a request asks for; ``ValueError`` naming what is wrong."""
    try:
        asked = _REQUEST.decode(body)
    except msgspec.DecodeError as exc:
        raise ValueError(f"bad silence: {exc}") from None
    if bool(asked.ends_at) == bool(asked.duration):
        raise ValueError("give ends_at or duration (one of them)")
    starts_at = parse_ms(asked.starts_at) if asked.starts_at else now
    ends_at = parse_ms(asked.ends_at) if asked.ends_at else max(starts_at, now) + parse_duration(asked.duration)
    matchers = parse_any_matchers(asked.matchers)
    return new_silence(matchers, starts_at, ends_at, now, asked.created_by or who or "api", asked.comment)


def register(
    app: faust.App, book: SilenceBook, silences: faust.TopicT, signals: faust.TopicT, partitions: int, access: Access
) -> None:
    async def published(view: View, silence: Silence) -> Response:
        try:
            await publish(silence, silences, signals, partitions)
        except Exception as exc:  # the broker did not take it
            log.warning("silence not published: %r", exc)
            return view.json({"error": "broker unavailable, retry"}, status=503)
        book.put(silence)
        return view.json(as_json(silence, silence.updated_at))

    @app.page("/v1/silences")
    class Silences(View):
        async def post(self, request: Request) -> Response:
            status, who = access.check(request, "operate")
            if status:
                return self.json({"error": who}, status=status)
            try:
                body = await read_capped(request, MAX_BODY_BYTES)
                silence = silence_from(body, int(time.time() * 1000), who)
            except BodyTooLarge:
                return self.json({"error": "payload too large", "limit": MAX_BODY_BYTES}, status=413)
            except ValueError as exc:
                return self.json({"error": str(exc)}, status=400)
            return await published(self, silence)

        async def get(self, request: Request) -> Response:
            if refused := access.refusal(self, request, "read"):
                return refused
            now, wanted = int(time.time() * 1000), request.query.get("state", "")
            if wanted and wanted not in set(SilenceState):
                return self.json({"error": f"state must be one of {', '.join(SilenceState)}"}, status=400)
            listed = [as_json(s, now) for s in book.listed(now) if not wanted or s.state(now) == wanted]
            return self.json({"silences": listed})

    @app.page("/v1/silences/{silence_id}")
    class OneSilence(View):
        async def get(self, request: Request, silence_id: str) -> Response:
            if refused := access.refusal(self, request, "read"):
                return refused
            silence = book.silences.get(silence_id)
            if silence is None:
                return self.json({"error": f"no silence {silence_id}"}, status=404)
            return self.json(as_json(silence, int(time.time() * 1000)))

        async def delete(self, request: Request, silence_id: str) -> Response:
            if refused := access.refusal(self, request, "operate"):
                return refused
            silence = book.silences.get(silence_id)
            if silence is None:
                return self.json({"error": f"no silence {silence_id}"}, status=404)
            now = int(time.time() * 1000)
            ended = expire(silence, now)
            if ended is silence:
                return self.json(as_json(silence, now))
            return await published(self, ended)
