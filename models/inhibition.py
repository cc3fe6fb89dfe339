"""Inhibition across correlation keys, as silences the engine's sources make.

A firing signal that matches an ``inhibit`` rule's source makes a silence for the rule's
targets (its ``equal`` labels fixed to the source's values; with ``dependents``, only the
services that depend on the source's): from when it fires until it stops. The stream layer
publishes those silences like the API's (``streams.silence_book``), so every key, on every
worker, is muted in order with its inputs — and the signal log shows which source did it.
Within one key, ``models.suppression`` applies the same rules directly.
"""

import hashlib
import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from models.correlation import dependents_of
from models.matchers import Matcher, Matchers, match_all
from models.policy import Inhibition, Policy
from models.signal import SignalStatus
from models.state import KeyState, SignalState

#: A source's silence ends when the source stops firing: until then, the end of time.
FOREVER = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
CREATED_BY = "inhibition"


class Inhibitor(NamedTuple):
    """The silence one source signal asks for under one rule; no ``matchers``: none (it
    stopped firing, or is not a source)."""

    silence_id: str
    matchers: Matchers | None
    comment: str = ""


def inhibitor_id(rule: int, token: str, fingerprint: str) -> str:
    material = f"{rule}\x1f{token}\x1f{fingerprint}".encode()
    return "i" + hashlib.sha256(material).hexdigest()[:15]


def inhibitors(state: KeyState, token: str, fingerprints: Iterable[str], policy: Policy) -> Iterator[Inhibitor]:
    """What each rule asks of each of ``fingerprints`` (the signals a batch changed)."""
    for index, rule in enumerate(policy.inhibitions):
        for fp in fingerprints:
            known = state.signals.get(fp)
            matchers = _targets(rule, known, policy) if known is not None else None
            comment = f"inhibited by {known.labels.get('alertname') or fp} on {known.service}" if matchers else ""
            yield Inhibitor(inhibitor_id(index, token, fp), matchers, comment)


def _targets(rule: Inhibition, known: SignalState, policy: Policy) -> Matchers | None:
    labels = {**known.labels, "service": known.service}
    if known.status != SignalStatus.FIRING or not match_all(rule.source, labels):
        return None
    matchers = rule.target + tuple(Matcher(name, "=", labels.get(name, "")) for name in rule.equal)
    if not rule.dependents:
        return matchers
    users = dependents_of(known.service, policy.dependencies)
    if not users:
        return None
    return (*matchers, Matcher("service", "=~", "|".join(re.escape(u) for u in sorted(users))))
