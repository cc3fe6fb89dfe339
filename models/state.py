"""What one correlation key remembers: its incidents, its signals, its checks.

One Faust table entry per key; the engine reads and returns it whole. Everything is plain
data (see ``serde``) so the table's JSON changelog restores it exactly.
"""

from dataclasses import dataclass, field
from enum import StrEnum

import orjson

from models.change import KnownChange
from models.checks import CheckState
from models.flapping import STEADY, FlapState, shared_if_steady
from models.incident import Incident
from models.serde import from_plain, to_plain


@dataclass(slots=True)
class SignalState:
    """The latest known activation of one fingerprint, and where it went."""

    source: str
    kind: str
    service: str
    status: str
    starts_at: int
    ends_at: int
    content_hash: str
    last_seen: int  # when it was last received, re-sends included (the staleness watchdog's clock)
    labels: dict[str, str] = field(default_factory=dict)
    incident_id: str = ""
    suppressed: str = ""
    flap: FlapState = field(default_factory=lambda: STEADY)
    seen: list[str] = field(default_factory=list)  # recent content hashes: re-deliveries are no-ops
    order: int = 0  # when it was first recorded: restores ``KeyState.signals`` in its order
    received: int = 1  # times received, re-sends included: its repeat count
    stated: str = ""  # severity facts it stated outside its labels (``name=value``, \x1f-joined)

    def __post_init__(self) -> None:
        self.flap = shared_if_steady(self.flap)


@dataclass(slots=True)
class KeyState:
    key: str = ""
    incidents: dict[str, Incident] = field(default_factory=dict)
    signals: dict[str, SignalState] = field(default_factory=dict)
    checks: dict[str, CheckState] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)
    changes: dict[str, KnownChange] = field(default_factory=dict)  # recent changes, by id (models.change_flow)
    recorded: int = 0  # signals ever recorded: the next signal's ``order``
    due: int = 0  # never later than the next timer (models.timers.catch_up); 0: not known yet (as loaded)

    def to_dict(self) -> dict:
        return to_plain(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "KeyState":
        return from_plain(cls, data) if data else cls()

    def to_json(self) -> bytes:
        """The stored form: orjson writes dataclasses natively, five times faster than ``to_dict``."""
        return orjson.dumps(self)

    @classmethod
    def from_json(cls, raw: bytes | str | dict | None) -> "KeyState":
        if not raw:
            return cls()
        if isinstance(raw, bytes | bytearray | memoryview | str):
            raw = orjson.loads(raw)
        if not isinstance(raw, dict):
            raise TypeError(f"stored state is a {type(raw).__name__}: {repr(raw)[:200]}")
        return cls.from_dict(raw)


class Outcome(StrEnum):
    """What happened to one input; recorded per signal for noise analysis."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    STALE = "stale"
    SUPPRESSED = "suppressed"
    GATED = "gated"
    IGNORED = "ignored"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    reason: str = ""
    incident_id: str = ""
    fingerprint: str = ""
    unrecognised: tuple[str, ...] = ()  # severity fact values the signal stated that no criterion knows
    content: str = ""  # a duplicate's content hash: the signal log names it instead of hashing again
