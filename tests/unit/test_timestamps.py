import pytest

from models.timestamps import TimestampError, format_ms, parse_ms


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2025-01-27T14:00:00Z", 1737986400000),
        ("2025-01-27T14:00:00.5Z", 1737986400500),
        ("2025-01-27T14:00:00.123456789Z", 1737986400123),
        ("2025-01-27T15:00:00+01:00", 1737986400000),
    ],
)
def test_parses_rfc3339_with_any_fraction(text: str, ms: int) -> None:
    assert parse_ms(text) == ms


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2025-13-01T00:00:00Z", "1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z"]
)
def test_rejects_malformed_or_insane(text: str) -> None:
    with pytest.raises(TimestampError):
        parse_ms(text)


def test_format_round_trips() -> None:
    assert format_ms(parse_ms("2025-01-27T14:00:00.007Z")) == "2025-01-27T14:00:00.007Z"
