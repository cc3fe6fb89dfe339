"""CloudEvents made by the CloudEvents SDK (``cloudevents``): HTTP structured, binary and
batch mode, the Kafka protocol binding (binary and structured), and a producer's own event
types mapped by the policy."""

import orjson
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent
from cloudevents.kafka import to_binary as to_kafka_binary
from cloudevents.kafka import to_structured as to_kafka_structured

from models.errors import Reason
from models.limits import DEFAULT_LIMITS
from models.parsers import Parsed
from models.policy import Policy, load_policy
from models.signal import SignalStatus
from models.timestamps import parse_ms
from streams.agents.ingest import PARSERS
from streams.cloudevents_binding import HTTP_PREFIX, KAFKA_PREFIX, structured

NOW = 1_764_500_000_000
MAPPED = load_policy("cloudevents: {types: [{type: 'com.example.alert.*', format: tocsin.signal}]}")


def event(service: str = "pay", kind: str = "com.example.alert.firing") -> CloudEvent:
    attributes = {"type": kind, "source": "/probes/eu", "datacontenttype": "application/json"}
    return CloudEvent(attributes, {"service": service, "title": f"{service} is down", "status": "firing"})


def parse(body: bytes, policy: Policy = MAPPED) -> Parsed:
    """As the ingest agents and the HTTP edge parse ``tocsin.alerts`` input."""
    return PARSERS["alerts"](body, DEFAULT_LIMITS, NOW, policy)


def marshal(data: object) -> bytes:
    return orjson.dumps(data)


def test_a_producers_own_type_is_read_as_the_format_the_policy_maps_it_to() -> None:
    _, body = to_structured(event())
    (signal,) = parse(body).signals
    assert (signal.service, signal.status, signal.title) == ("pay", SignalStatus.FIRING, "pay is down")
    (refused,) = parse(body, load_policy()).rejections
    assert refused.reason is Reason.UNSUPPORTED_TYPE and "cloudevents.types" in refused.detail


def test_the_suffix_still_names_the_format_without_a_mapping() -> None:
    _, body = to_structured(event(kind="com.example.tocsin.signal"))
    assert parse(body, load_policy()).signals[0].service == "pay"


def test_http_binary_mode_reads_the_attributes_from_ce_headers() -> None:
    headers, body = to_binary(event())
    (signal,) = parse(structured(headers.items(), body, HTTP_PREFIX)).signals
    assert signal.service == "pay"
    assert signal.starts_at == parse_ms(headers["ce-time"]) != NOW, "the event's own time, from its header"
    assert structured({"content-type": "application/json"}.items(), body, HTTP_PREFIX) is None


def test_a_batch_is_each_of_its_events_and_a_bad_one_is_refused_with_its_place() -> None:
    events = [orjson.loads(to_structured(event(s))[1]) for s in ("pay", "cart")]
    events.insert(1, {"specversion": "1.0", "id": "x", "source": "/p", "type": "com.example.other"})
    parsed = parse(orjson.dumps(events))
    assert [s.service for s in parsed.signals] == ["pay", "cart"]
    assert [(r.reason, r.index) for r in parsed.rejections] == [(Reason.UNSUPPORTED_TYPE, 1)]


def test_kafka_binary_and_structured_mode() -> None:
    binary = to_kafka_binary(event(), data_marshaller=marshal)
    (signal,) = parse(structured(list(binary.headers.items()), binary.value, KAFKA_PREFIX)).signals
    assert signal.service == "pay"
    whole = to_kafka_structured(event("cart"), data_marshaller=marshal)
    assert structured(list(whole.headers.items()), whole.value, KAFKA_PREFIX) is None, "structured: no ce_ headers"
    assert parse(whole.value).signals[0].service == "cart"
