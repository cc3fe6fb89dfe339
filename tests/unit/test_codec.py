"""Engine inputs on ``tocsin.signals``: encoded the same way whatever encoder writes them."""

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from models.change import Change
from models.check import CheckResult, CheckStatus
from models.command import Action, Command
from models.matchers import parse_matchers
from models.report import ReportChannel, UserReport
from models.signal import Signal, SignalAck, SignalKind, SignalStatus
from models.silence import Silence
from streams.codec import _TAGS, decode_item, encode_item

text = st.text(max_size=20)
labels = st.dictionaries(text, text, max_size=4)
millis = st.integers(min_value=0, max_value=7_258_118_400_000)
signals = st.builds(
    Signal,
    source=text,
    fingerprint=text,
    status=st.sampled_from(SignalStatus),
    starts_at=millis,
    ends_at=millis,
    service=text,
    title=text,
    labels=labels,
    annotations=labels,
    generator_url=text,
    severity=text,
    kind=st.sampled_from(SignalKind),
    links=labels,
)
checks = st.builds(
    CheckResult,
    check=text,
    service=text,
    status=st.sampled_from(CheckStatus),
    observed_at=millis,
    latency_ms=st.none() | st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53),
)
others = st.sampled_from(
    [
        SignalAck("pagerduty", "fp", "cart", 1, "ann"),
        UserReport("cart", "ann", "checkout fails — «ü»", 5, ReportChannel.COMPLAINT),
        Command(Action.ACK, "inc-1", "ann", 7, text="on it"),
        Change("cart", "deploy v2", 9, "github", "ch-1", {"pr": "https://x"}),
        Silence("s-1", parse_matchers({"service": "cart", "env": "=~prod.*"}), 1, 2, "ann", "maintenance", 1),
    ]
)


@settings(max_examples=300)
@given(st.one_of(signals, checks, others))
def test_inputs_encode_as_orjson_wrote_them_and_decode_back(item) -> None:
    """Records and signal-log payloads written by earlier versions (orjson) and now hold the
    same JSON (a float may be spelled differently: ``1e16`` or ``1e+16``) and decode back."""
    assert orjson.loads(encode_item(item)) == orjson.loads(orjson.dumps([_TAGS[type(item)], item]))
    assert decode_item(encode_item(item)) == item


@settings(max_examples=300)
@given(signals)
def test_signals_encode_to_the_very_bytes_orjson_wrote(item: Signal) -> None:
    assert encode_item(item) == orjson.dumps(["signal", item])
