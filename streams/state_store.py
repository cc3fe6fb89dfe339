"""A correlation key's engine state in the Faust table: small records, rewritten when changed.

A key with few signals is one record, the ``KeyState`` as JSON. A key with many — a large
outage, 100,000 alerts for one service — would be one record of megabytes, over Kafka's
message limit, and rewritten whole for every batch. Past ``split_at`` signals the state is
stored as a head record (incidents without their members, checks, pending) plus buckets
(``token\\x1f<i>``) that each hold the signals and memberships of the fingerprints hashing to
them, about ``per_bucket`` each. A batch rewrites the head if its bytes changed and the
buckets of the fingerprints the engine touched (``Context.touched``) — nothing for an
exact duplicate.

Every record of a key is written while one of that key's own signals-topic messages is the
current event, so all of them land on the changelog partition of the key's partition and
are restored together. Members and signals carry their insertion ``order``, so a restored
state iterates exactly as the live one did (events stay byte-identical across restarts).

Recently used states stay decoded in a bounded cache; the table is the truth.
"""

import zlib
from collections import OrderedDict
from dataclasses import dataclass, field

import faust
import orjson

from models.incident import Incident, Member
from models.serde import from_plain
from models.state import KeyState, SignalState

SEPARATOR = "\x1f"


def bucket_key(token: str, index: int) -> str:
    return f"{token}{SEPARATOR}{index}"


def is_head(key: str) -> bool:
    return SEPARATOR not in key


def bucket_of(fp: str, buckets: int) -> int:
    return zlib.crc32(fp.encode()) % buckets


@dataclass
class Stored:
    """What the table holds for one key, decoded: the state and how it was laid out."""

    state: KeyState
    head: bytes = b""
    buckets: int = 0  # 0: the whole state is the head record
    index: list[set[str]] = field(default_factory=list)  # bucket → its fingerprints


def _head_bytes(state: KeyState, buckets: int) -> bytes:
    """The head record: the whole state, or (split) the state without signals and members."""
    if not buckets:
        return orjson.dumps(state)
    signals, members = state.signals, {i: inc.members for i, inc in state.incidents.items()}
    try:
        state.signals = {}
        for incident in state.incidents.values():
            incident.members = {}
        raw = orjson.dumps(state)
    finally:
        state.signals = signals
        for incident_id, held in members.items():
            state.incidents[incident_id].members = held
    return raw[:-1] + b',"buckets":' + str(buckets).encode() + b"}"


def _present(state: KeyState, fp: str) -> bool:
    return fp in state.signals or any(fp in incident.members for incident in state.incidents.values())


def _bucket_bytes(state: KeyState, fps: set[str]) -> bytes:
    signals = {fp: state.signals[fp] for fp in fps if fp in state.signals}
    members: dict[str, dict[str, Member]] = {}
    for incident_id, incident in state.incidents.items():
        held = {fp: incident.members[fp] for fp in fps if fp in incident.members}
        if held:
            members[incident_id] = held
    return orjson.dumps({"s": signals, "m": members})


def _all_fingerprints(state: KeyState) -> set[str]:
    fps = set(state.signals)
    for incident in state.incidents.values():
        fps.update(incident.members)
    return fps


def _index(state: KeyState, buckets: int) -> list[set[str]]:
    index: list[set[str]] = [set() for _ in range(buckets)]
    for fp in _all_fingerprints(state):
        index[bucket_of(fp, buckets)].add(fp)
    return index


def _decoded(raw: object) -> dict:
    """A stored record as a dict (Faust's recovery may hand back the value already decoded)."""
    if isinstance(raw, dict):
        return raw
    if not raw:
        return {}
    value = orjson.loads(raw)
    if not isinstance(value, dict):
        raise TypeError(f"stored state is a {type(value).__name__}: {repr(raw)[:200]}")
    return value


def _assemble(head: dict, parts: list[dict]) -> KeyState:
    """A split state from its head and buckets, signals and members in their original order."""
    state = KeyState.from_dict(head)
    signals = [(fp, from_plain(SignalState, s)) for part in parts for fp, s in part["s"].items()]
    for fp, signal in sorted(signals, key=lambda item: item[1].order):
        state.signals[fp] = signal
    by_incident: dict[str, list[tuple[str, Member]]] = {}
    for part in parts:
        for incident_id, held in part["m"].items():
            by_incident.setdefault(incident_id, []).extend((fp, from_plain(Member, m)) for fp, m in held.items())
    for incident_id, held in by_incident.items():
        incident: Incident | None = state.incidents.get(incident_id)
        if incident is not None:
            incident.members = dict(sorted(held, key=lambda item: item[1].order))
    return state


class StateStore:
    def __init__(self, table: faust.Table, split_at: int = 256, per_bucket: int = 256, cache_keys: int = 20_000):
        self.table = table
        self.split_at = split_at
        self.per_bucket = per_bucket
        self.cache_keys = cache_keys
        self.cache: OrderedDict[str, Stored] = OrderedDict()

    def forget(self) -> None:
        """Drop decoded states (after a rebalance or a failed batch): the table is read again."""
        self.cache.clear()

    def tokens(self) -> list[str]:
        return [key for key in list(self.table) if is_head(key)]

    def load(self, token: str) -> KeyState:
        return self._stored(token).state

    def _stored(self, token: str) -> Stored:
        stored = self.cache.get(token)
        if stored is not None:
            self.cache.move_to_end(token)
            return stored
        stored = self._read(token)
        self._remember(token, stored)
        return stored

    def _read(self, token: str) -> Stored:
        raw = self.table.get(token)
        head = _decoded(raw)
        if not head:
            return Stored(KeyState())
        written = raw if isinstance(raw, bytes) else b""  # unknown bytes: the next save rewrites the head
        buckets = int(head.pop("buckets", 0) or 0)
        if not buckets:
            return Stored(KeyState.from_dict(head), written)
        parts = [_decoded(self.table.get(bucket_key(token, i))) or {"s": {}, "m": {}} for i in range(buckets)]
        state = _assemble(head, parts)
        return Stored(state, written, buckets, _index(state, buckets))

    def _remember(self, token: str, stored: Stored) -> None:
        self.cache[token] = stored
        self.cache.move_to_end(token)
        while len(self.cache) > self.cache_keys:
            self.cache.popitem(last=False)

    def save(self, token: str, state: KeyState, touched: set[str]) -> int:
        """Write what changed of ``token``'s state; the records written (0 for a no-op).

        Call it while a message of ``token``'s partition is the current event.
        """
        stored = self.cache.get(token) or self._read(token)
        buckets = self._layout(len(state.signals), stored.buckets)
        writes: dict[str, bytes | None] = {}
        if buckets != stored.buckets:
            writes.update(self._relayout(token, state, stored.buckets, buckets))
            index = _index(state, buckets) if buckets else []
        else:
            index = stored.index
            dirty: set[int] = set()
            for fp in touched if buckets else ():
                bucket = bucket_of(fp, buckets)
                (index[bucket].add if _present(state, fp) else index[bucket].discard)(fp)
                dirty.add(bucket)
            for bucket in sorted(dirty):
                writes[bucket_key(token, bucket)] = _bucket_bytes(state, index[bucket])
        head = _head_bytes(state, buckets)
        if head != stored.head:
            writes[token] = head
        for key, value in writes.items():
            if value is None:
                del self.table[key]
            else:
                self.table[key] = value
        self._remember(token, Stored(state, head, buckets, index))
        return len(writes)

    def _layout(self, signals: int, buckets: int) -> int:
        """Buckets for a key of ``signals`` signals: none while small, doubling as it grows."""
        if signals <= (self.split_at // 2 if buckets else self.split_at):
            return 0
        wanted = max(1, buckets)
        while signals > wanted * self.per_bucket * 2:
            wanted *= 2
        return wanted

    def _relayout(self, token: str, state: KeyState, old: int, new: int) -> dict[str, bytes | None]:
        writes: dict[str, bytes | None] = {bucket_key(token, i): None for i in range(new, old)}
        for bucket, fps in enumerate(_index(state, new) if new else []):
            writes[bucket_key(token, bucket)] = _bucket_bytes(state, fps)
        return writes
