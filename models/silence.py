"""Silences: label matchers muting signals for a time window, as Alertmanager's do.

A silence mutes a firing signal while it is active at the signal's arrival time (the
engine's ``now``), so an alert still firing when its silence ends is evaluated again then
(``models.signal_flow.reconsider``). Silences come from the policy file and, at run time,
from the API (``POST /v1/silences``); both are plain data with an id derived from their
content, so a replay sees the same ones.
"""

import hashlib
from dataclasses import dataclass, replace
from enum import StrEnum

from models.matchers import Matchers, match_all


class SilenceState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Silence:
    silence_id: str
    matchers: Matchers
    starts_at: int
    ends_at: int
    created_by: str = ""
    comment: str = ""
    updated_at: int = 0  # when it was created or last changed (expired early): the newer wins

    def active(self, at: int) -> bool:
        return self.starts_at <= at < self.ends_at

    def state(self, at: int) -> SilenceState:
        if at < self.starts_at:
            return SilenceState.PENDING
        return SilenceState.ACTIVE if at < self.ends_at else SilenceState.EXPIRED

    def mutes(self, labels: dict[str, str], at: int) -> bool:
        return self.active(at) and match_all(self.matchers, labels)

    @property
    def reason(self) -> str:
        """The suppression reason a muted signal records: it names the silence."""
        return f"silence {self.silence_id}: {self.comment or 'matched'}"


def silence_id_of(reason: str) -> str:
    """The silence a suppression ``reason`` names ("" if it names none)."""
    if not reason.startswith("silence "):
        return ""
    return reason[len("silence ") :].split(":", 1)[0]


def new_silence(
    matchers: Matchers, starts_at: int, ends_at: int, now: int, created_by: str = "", comment: str = ""
) -> Silence:
    """A silence created at ``now``: a start in the past means now (as Alertmanager does);
    its id covers what it says and when it was made, so a retried request makes the same one."""
    starts_at = max(starts_at, now)
    if ends_at <= starts_at:
        raise ValueError("a silence must end after it starts (and after now)")
    material = "\x1f".join(
        [*(f"{m.name}{m.op}{m.value}" for m in matchers), str(starts_at), str(ends_at), created_by, comment, str(now)]
    )
    silence_id = hashlib.sha256(material.encode()).hexdigest()[:16]
    return Silence(silence_id, matchers, starts_at, ends_at, created_by, comment, updated_at=now)


def policy_silence(matchers: Matchers, starts_at: int, ends_at: int, comment: str = "") -> Silence:
    """A silence declared in the policy file: its id is its content's."""
    material = "\x1f".join([*(f"{m.name}{m.op}{m.value}" for m in matchers), str(starts_at), str(ends_at), comment])
    silence_id = "p" + hashlib.sha256(material.encode()).hexdigest()[:15]
    return Silence(silence_id, matchers, starts_at, ends_at, "policy", comment)


def expire(silence: Silence, now: int) -> Silence:
    """``silence`` ended at ``now`` (no change if it already has)."""
    if silence.ends_at <= now:
        return silence
    return replace(silence, ends_at=max(now, silence.starts_at), updated_at=now)


def newer(known: Silence | None, incoming: Silence) -> bool:
    """Whether ``incoming`` replaces ``known`` (a re-delivery or an older version does not)."""
    return known is None or (incoming.updated_at, -incoming.ends_at) > (known.updated_at, -known.ends_at)
