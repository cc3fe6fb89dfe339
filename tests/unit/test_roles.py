"""Roles pick what a process runs: agents, views and topics follow them."""

import pytest

from streams.app import create_app
from streams.roles import consumed_topics, parse_roles
from streams.settings import Settings, from_env
from streams.topics import TopicNames


def test_roles_parse_and_refuse_what_is_unknown_or_empty() -> None:
    assert parse_roles(" ingest , engine ") == {"ingest", "engine"}
    with pytest.raises(ValueError, match="unknown role bogus"):
        parse_roles("ingest,bogus")
    with pytest.raises(ValueError, match="no role"):
        parse_roles(" , ")
    assert from_env({"TOCSIN_ROLES": "sink,api"}).role_set == {"sink", "api"}
    with pytest.raises(ValueError):
        from_env({"TOCSIN_ROLES": "everything"})


INGEST_AGENTS = {"ingest-alerts", "ingest-checks", "ingest-reports", "ingest-commands", "ingest-changes"}


@pytest.mark.parametrize(
    ("roles", "agents", "routes"),
    [
        ("ingest", INGEST_AGENTS, set()),
        ("engine", {"correlate"}, {"/v1/incidents/{incident_id}/state"}),
        ("ingest,engine", {"correlate", *INGEST_AGENTS}, set()),
    ],
)
def test_each_role_brings_its_agents_and_views(roles: str, agents: set[str], routes: set[str]) -> None:
    app = create_app(Settings(broker="kafka://127.0.0.1:1", roles=roles))
    assert {agent.name for agent in app.agents.values()} == agents
    paths = {str(r.resource.canonical) for r in app.web.web_app.router.routes()}
    assert {"/healthz", "/readyz", "/metrics"} <= paths
    assert routes <= paths
    assert "/v1/alertmanager" not in paths  # HTTP input is the api role's


def test_a_process_drains_and_guards_only_the_topics_it_reads() -> None:
    names = TopicNames("t")
    assert consumed_topics(parse_roles("engine"), names) == {"t.signals"}
    assert consumed_topics(parse_roles("sink"), names) == {"t.event-log", "t.signal-log"}
    assert consumed_topics(parse_roles("api"), names) == set()
    assert consumed_topics(parse_roles("ingest"), names) == set(names.inputs)
