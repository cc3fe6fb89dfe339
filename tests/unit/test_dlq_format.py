"""The DLQ's ``rejections`` header lists every refused index in a few bytes."""

import orjson

from models.errors import Reason, Rejection
from streams.dlq import _ranges, summary


def test_indices_are_listed_as_ranges() -> None:
    assert _ranges([7, 1, 2, 3, 9, 10]) == "1-3,7,9-10"
    assert _ranges([]) == ""


def test_a_thousand_rejections_fit_a_small_header() -> None:
    rejections = [Rejection(Reason.BAD_TIMESTAMP, f"startsAt {i!r} is not RFC 3339", i) for i in range(1, 1000)]
    rejections.append(Rejection(Reason.WRONG_TYPE, "labels must be an object", 1000))
    header = summary(rejections)
    listed = orjson.loads(header)
    assert listed["items"] == {"bad_timestamp": "1-999", "wrong_type": "1000"}
    assert listed["count"] == 1000 and len(listed["details"]) == 20
    assert len(header) < 3000


def test_one_rejection_is_said_once() -> None:
    assert orjson.loads(summary([Rejection(Reason.INVALID_JSON, "unexpected end of data")])) == {
        "count": 1,
        "whole": ["invalid_json"],
    }
