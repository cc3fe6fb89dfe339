"""``Signal``: the one normalized shape every input becomes before correlation."""

from dataclasses import asdict, dataclass, field
from enum import StrEnum


class SignalStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Signal:
    """A normalized observation that something is (or is no longer) wrong.

    Times are epoch milliseconds taken from the monitor's own report (event time);
    ``ends_at`` is 0 when the monitor gave no end.
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

    @property
    def at(self) -> int:
        """The event time this signal reports: its end when resolved, else its start."""
        if self.status is SignalStatus.RESOLVED and self.ends_at:
            return self.ends_at
        return self.starts_at

    def to_dict(self) -> dict:
        data = asdict(self)
        data["status"] = str(self.status)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Signal":
        return cls(**{**data, "status": SignalStatus(data["status"])})
