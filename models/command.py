"""``Command``: what a human (or chatops bot) does to an incident, with who did it."""

import hashlib
from dataclasses import asdict, dataclass
from enum import StrEnum


class Action(StrEnum):
    ACK = "ack"
    ASSIGN = "assign"
    SEVERITY = "severity"
    NOTE = "note"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"
    NOTIFIED = "notified"  # the notify role delivered a notification (``models.notification``)


class Role(StrEnum):
    """The seed's response team."""

    INCIDENT_COMMANDER = "incident_commander"
    TECHNICAL_LEAD = "technical_lead"
    COMMUNICATIONS = "communications"
    OPERATIONS = "operations"


@dataclass(frozen=True, slots=True)
class Command:
    action: Action
    incident_id: str
    actor: str
    at: int
    role: str = ""
    assignee: str = ""
    severity: str = ""  # P0..P3, or "auto" to clear a human override
    text: str = ""
    postmortem_url: str = ""
    channel: str = ""  # notified: where it went; ``text`` is the notification id
    subject: str = ""  # notified: what it told ("escalated step 2", "resolved")

    @property
    def command_id(self) -> str:
        """Content-derived id: a re-delivered command is recognised and ignored. A notification
        delivered twice (at least once) is one: its id alone names it."""
        if self.action is Action.NOTIFIED:
            return hashlib.sha256(f"notified\x1f{self.text}".encode()).hexdigest()[:16]
        material = "\x1f".join(
            [
                self.action,
                self.incident_id,
                self.actor,
                str(self.at),
                self.role,
                self.assignee,
                self.severity,
                self.text,
                self.postmortem_url,
                self.channel,
                self.subject,
            ]
        )
        return hashlib.sha256(material.encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["action"] = str(self.action)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Command":
        return cls(**{**data, "action": Action(data["action"])})
