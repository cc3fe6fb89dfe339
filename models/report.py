"""``UserReport``: a support ticket, customer complaint or error report about a service."""

import hashlib
from dataclasses import asdict, dataclass
from enum import StrEnum


class ReportChannel(StrEnum):
    TICKET = "ticket"
    COMPLAINT = "complaint"
    ERROR_REPORT = "error-report"


@dataclass(frozen=True, slots=True)
class UserReport:
    service: str
    reporter: str
    summary: str
    reported_at: int
    channel: ReportChannel

    @property
    def report_id(self) -> str:
        """Content-derived id: the same report re-sent is recognised as such."""
        material = f"{self.service}\x1f{self.reporter}\x1f{self.summary}\x1f{self.reported_at}\x1f{self.channel}"
        return hashlib.sha256(material.encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["channel"] = str(self.channel)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "UserReport":
        return cls(**{**data, "channel": ReportChannel(data["channel"])})
