"""The chaos verdict counts what it claims: lost, differing copies, order, extras."""

import orjson

from tests.chaos.verdict import out_of_order, verdict


def event(incident: str, seq: int, **extra: object) -> dict:
    return {"event_id": f"{incident}-{seq}", "incident_id": incident, "seq": seq, **extra}


def raw(*events: dict) -> list[bytes]:
    return [orjson.dumps(e) for e in events]


def test_identical_resends_collapse_and_the_rest_is_counted() -> None:
    expected = {e["event_id"]: e for e in (event("a", 1), event("a", 2), event("b", 1), event("b", 2), event("b", 3))}
    published = raw(event("a", 1), event("a", 2), event("a", 1), event("b", 2), event("b", 1, x=1), event("c", 1))
    found = verdict(published, expected)
    assert found["lost"] == 1  # b-3
    assert found["differing"] == 1  # b-1 carries x
    assert found["unexpected"] == 1  # c-1
    assert found["duplicated"] == 0  # a-1 twice, byte-identical
    assert found["out_of_order"] == 1  # b-1 after b-2


def test_a_copy_with_other_content_is_a_duplicate() -> None:
    found = verdict(raw(event("a", 1), event("a", 1, y=2)), {"a-1": event("a", 1)})
    assert (found["duplicated"], found["lost"], found["out_of_order"]) == (1, 0, 0)


def test_order_is_per_incident_on_first_copies() -> None:
    assert out_of_order(raw(event("a", 1), event("b", 1), event("a", 2), event("a", 1), event("b", 2))) == 0
    assert out_of_order(raw(event("a", 2), event("a", 1))) == 1
