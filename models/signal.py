"""``Signal``: the one normalized shape every alert-like input becomes before correlation."""

import hashlib
from dataclasses import asdict, dataclass, field
from enum import StrEnum

import orjson


class SignalStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class SignalKind(StrEnum):
    ALERT = "alert"
    CHECK = "check"
    REPORT = "report"


@dataclass(frozen=True, slots=True)
class Signal:
    """A normalized observation that something is (or is no longer) wrong.

    Times are epoch milliseconds taken from the monitor's own report (event time);
    ``ends_at`` is 0 when the monitor gave no end. ``fingerprint`` is the identity (the
    Alertmanager fingerprint, a hashed ``dedup_key`` or configured fields); ``severity`` is
    the source's own word (critical, error, warning, info) normalized to lower case.
    """

    source: str
    fingerprint: str
    status: SignalStatus
    starts_at: int
    ends_at: int
    service: str
    title: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    generator_url: str = ""
    severity: str = ""
    kind: SignalKind = SignalKind.ALERT
    links: dict[str, str] = field(default_factory=dict)  # models.links: name → URL

    @property
    def at(self) -> int:
        """The event time this signal reports: its end when resolved, else its start."""
        if self.status is SignalStatus.RESOLVED and self.ends_at:
            return self.ends_at
        return self.starts_at

    @property
    def content_hash(self) -> str:
        """Hash of everything but identity: equal hashes mean an exact duplicate."""
        material = orjson.dumps(
            [self.status, self.starts_at, self.ends_at, self.title, self.severity, self.labels, self.annotations],
            option=orjson.OPT_SORT_KEYS,
        )
        return hashlib.sha256(material).hexdigest()[:16]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["status"] = str(self.status)
        data["kind"] = str(self.kind)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Signal":
        return cls(**{**data, "status": SignalStatus(data["status"]), "kind": SignalKind(data.get("kind", "alert"))})


@dataclass(frozen=True, slots=True)
class SignalAck:
    """A source acknowledged one of its signals (PagerDuty ``event_action: acknowledge``).

    It acknowledges the incident that holds the signal, on the sender's behalf.
    """

    source: str
    fingerprint: str
    service: str
    at: int
    actor: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SignalAck":
        return cls(**data)
