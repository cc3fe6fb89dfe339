"""Scoped API tokens: ingest, operate, read — and a command's actor is the token's name."""

import asyncio
import time

import aiohttp
import orjson
import pytest

from streams.settings import Settings, from_env
from streams.web.auth import TokenError, parse_tokens
from tests.support.stack import events_of, running_tocsin, wait_for

pytestmark = pytest.mark.integration

TOKENS = "alertmanager:ingest:t-ingest; oncall-bot:operate:t-operate; grafana:read:t-read"


def webhook() -> bytes:
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    alert = {"status": "firing", "labels": {"alertname": "Down", "service": "vault"}, "startsAt": started}
    return orjson.dumps({"version": "4", "alerts": [alert]})


def test_each_scope_allows_only_its_routes(settings: Settings, clickhouse) -> None:
    settings = settings.with_(api_tokens=parse_tokens(TOKENS))

    async def call(session, method: str, path: str, token: str = "", body: bytes = b"") -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with session.request(method, settings.base_url + path, data=body, headers=headers) as response:
            return response.status, await response.json(
                content_type=None
            ) if response.status != 200 or path != "/metrics" else {}

    async def scenario() -> None:
        async with running_tocsin(settings, clickhouse), aiohttp.ClientSession() as session:
            post = "/v1/alertmanager"
            assert (await call(session, "POST", post, body=webhook()))[0] == 401
            assert (await call(session, "POST", post, "t-wrong", webhook()))[0] == 401
            status, answer = await call(session, "POST", post, "t-read", webhook())
            assert (status, answer["error"]) == (403, "token 'grafana' lacks the 'ingest' scope")
            assert (await call(session, "POST", post, "t-ingest", webhook()))[0] == 202
            opened = await wait_for(lambda: events_of(clickhouse, settings.database), 30, "opened")
            incident = opened[0]["incident_id"]

            assert (await call(session, "GET", "/v1/incidents", "t-ingest"))[0] == 403
            assert (await call(session, "GET", "/v1/incidents", "t-read"))[0] == 200
            assert (await call(session, "GET", "/v1/incidents", "t-operate"))[0] == 200  # operate can read
            ack = f"/v1/incidents/{incident}/ack"
            assert (await call(session, "POST", ack, "t-read", b"{}"))[0] == 403
            status, answer = await call(session, "POST", ack, "t-operate", b"{}")
            assert (status, answer["events"][0]["actor"]) == (200, "oncall-bot")
            assert (await call(session, "GET", "/healthz"))[0] == 200
            async with session.get(settings.base_url + "/metrics") as response:
                assert response.status == 200

    asyncio.run(scenario())


def test_token_entries_are_checked_up_front(tmp_path) -> None:
    with pytest.raises(TokenError):
        parse_tokens("am:write:secret")
    with pytest.raises(TokenError):
        parse_tokens("am:ingest:a; am:read:b")
    listed = tmp_path / "tokens"
    listed.write_text("# who may do what\nalertmanager:ingest:t1\nops:operate+read:t2\n")
    tokens = from_env({"TOCSIN_API_TOKENS_FILE": str(listed)}).api_tokens
    assert [(t.name, sorted(t.scopes)) for t in tokens] == [("alertmanager", ["ingest"]), ("ops", ["operate", "read"])]
