"""The fingerprint must equal Alertmanager's, or an alert changes identity between systems."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.fingerprint import fingerprint
from tests.conftest import FIXTURES

# Expected values were returned by Alertmanager 0.25.0 (see tests/fixtures/README.md).
RECORDED = json.loads((FIXTURES / "alertmanager-fingerprints.json").read_text())


@pytest.mark.parametrize("case", RECORDED, ids=lambda c: c["fingerprint"])
def test_matches_alertmanager(case: dict) -> None:
    assert fingerprint(case["labels"]) == case["fingerprint"]


def test_empty_label_set_is_the_fnv_offset_basis() -> None:
    assert fingerprint({}) == "cbf29ce484222325"


@given(st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=20), max_size=8))
def test_independent_of_insertion_order(labels: dict[str, str]) -> None:
    reordered = dict(reversed(list(labels.items())))
    assert fingerprint(labels) == fingerprint(reordered)
    assert len(fingerprint(labels)) == 16


def test_separator_keeps_name_value_boundaries() -> None:
    assert fingerprint({"ab": "c"}) != fingerprint({"a": "bc"})
