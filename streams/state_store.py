"""A correlation key's engine state in the Faust table: small records, rewritten when changed.

A key with few signals is one record, the ``KeyState`` as JSON. A key with many — a large
outage, 100,000 alerts for one service — would be one record of megabytes, over Kafka's
message limit, and rewritten whole for every batch. Past ``split_at`` signals the state is
stored as a head record (incidents without their members, checks, pending, the bucket
keys) plus buckets of up to ``per_bucket`` fingerprints each, holding their signals and
memberships. New fingerprints fill the newest bucket, so a storm of new alerts rewrites one
or two buckets per batch, not the whole key. A batch rewrites the head if its bytes changed
and the buckets of the fingerprints the engine touched (``Context.touched``) — nothing for
an exact duplicate. Buckets emptied by retention are deleted; when deletions leave them
sparse the key is laid out afresh.

The head is the commit point. A worker can die between any two of a key's records, and
its successor restores whatever prefix reached the changelog, so buckets are written
copy-on-write: each save of a split key is a generation; its buckets go under new keys
(``token\\x1f<id>.<generation>``), listed first in the key's journal (``token\\x1fw``), and
only then the head naming them, then the deletions of the keys it replaced (listed in the
head as ``retired``). A restore therefore sees the state before or after a save, whole.
Keys a dead worker left behind — written but never named by a head (the journal is ahead
of the head), or replaced but not yet deleted (the head's ``retired``) — are deleted by
the next save. A save that leaves the head as it was (re-sends refreshing their signals'
repeat count and last-seen time) rewrites its buckets in place: each input's effect lies
within its own fingerprint's record then, so whichever of them a successor restores, it
applies the rest again and reaches the same state.

Every record of a key is written while one of that key's own signals-topic messages is the
current event, so all of them land on the changelog partition of the key's partition and
are restored together. Members and signals carry their insertion ``order``, so a restored
state iterates exactly as the live one did (events stay byte-identical across restarts).

Recently used states stay decoded in a bounded cache; the table is the truth.
"""

from collections import OrderedDict
from dataclasses import dataclass, field

import faust
import orjson

from models.context import HEAD
from models.incident import Incident, Member
from models.serde import from_plain
from models.state import KeyState, SignalState
from streams.faust_context import no_event

SEPARATOR = "\x1f"


def bucket_key(token: str, index: int, generation: int | None) -> str:
    """A bucket's record key; ``None``: the layout before buckets were copy-on-write."""
    if generation is None:
        return f"{token}{SEPARATOR}{index}"
    return f"{token}{SEPARATOR}{index}.{generation}"


def journal_key(token: str) -> str:
    return f"{token}{SEPARATOR}w"


def is_head(key: str) -> bool:
    return SEPARATOR not in key


@dataclass
class Stored:
    """What the table holds for one key, decoded: the state and how it was laid out."""

    state: KeyState
    head: bytes = b""
    buckets: dict[int, set[str]] = field(default_factory=dict)  # bucket id → its fingerprints; {}: one record
    where: dict[str, int] = field(default_factory=dict)  # fingerprint → bucket id
    keys: dict[int, str] = field(default_factory=dict)  # bucket id → the record holding it
    generation: int = 0
    leftover: list[str] = field(default_factory=list)  # keys a dead worker may have left: deleted next save

    @property
    def split(self) -> bool:
        return bool(self.buckets)


def _exact(raw: bytes) -> bytes:
    """A copy of exact size: orjson's bytes keep its working buffer (about 4 KB), which the
    table and the cache would otherwise hold for every small record."""
    return bytes(memoryview(raw))


def _head_bytes(state: KeyState, stored: Stored, retired: list[str]) -> bytes:
    """The head record: the whole state, or (split) the state without signals and members."""
    extra = b',"retired":' + orjson.dumps(retired) if retired else b""
    if not stored.split:
        return _exact(orjson.dumps(state)[:-1] + extra + b"}") if extra else _exact(orjson.dumps(state))
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
    layout = {str(i): _generation_of(key) for i, key in sorted(stored.keys.items())}
    return raw[:-1] + b',"buckets":' + orjson.dumps(layout) + b',"generation":%d' % stored.generation + extra + b"}"


def _present(state: KeyState, fp: str) -> bool:
    return fp in state.signals or any(fp in incident.members for incident in state.incidents.values())


def _bucket_bytes(state: KeyState, fps: set[str]) -> bytes:
    signals = {fp: state.signals[fp] for fp in fps if fp in state.signals}
    members: dict[str, dict[str, Member]] = {}
    for incident_id, incident in state.incidents.items():
        held = {fp: incident.members[fp] for fp in fps if fp in incident.members}
        if held:
            members[incident_id] = held
    return _exact(orjson.dumps({"s": signals, "m": members}))


def _in_order(state: KeyState) -> list[str]:
    """Every fingerprint the state holds, signals in their recorded order first."""
    fps = dict.fromkeys(state.signals)
    for incident in state.incidents.values():
        fps.update(dict.fromkeys(incident.members))
    return list(fps)


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


def _layout(token: str, buckets: object) -> dict[int, str]:
    """Bucket id → record key, from a head's ``buckets`` (a list: ids of the in-place layout)."""
    if isinstance(buckets, list):
        return {int(i): bucket_key(token, int(i), None) for i in buckets}
    return {int(i): bucket_key(token, int(i), g) for i, g in (buckets or {}).items()}


def _generation_of(key: str) -> int | None:
    """The generation a bucket key was written in (``None``: the in-place layout)."""
    _, dot, generation = key.rpartition(SEPARATOR)[2].partition(".")
    return int(generation) if dot else None


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
    def __init__(self, table: faust.Table, split_at: int = 32, per_bucket: int = 32, cache_keys: int = 20_000):
        self.table = table
        self.split_at = split_at
        self.per_bucket = per_bucket
        self.cache_keys = cache_keys
        self.cache: OrderedDict[str, Stored] = OrderedDict()

    def forget(self) -> None:
        """Drop decoded states (after a rebalance or a failed batch): the table is read again."""
        self.cache.clear()

    def drop(self, token: str) -> None:
        """Forget one decoded state: it is read from the table next time."""
        self.cache.pop(token, None)

    def tokens(self) -> list[str]:
        with no_event():
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
        with no_event():
            return self._decode(token)

    def _decode(self, token: str) -> Stored:
        raw = self.table.get(token)
        head = _decoded(raw)
        head.pop("due", None)  # recomputed once per load: the policy may have changed since it was stored
        written = raw if isinstance(raw, bytes) else b""  # unknown bytes: the next save rewrites the head
        keys = _layout(token, head.pop("buckets", None))
        generation = int(head.pop("generation", 0))
        leftover = [*head.pop("retired", []), *self._unnamed(token, generation, keys)]
        if not keys:
            return Stored(KeyState.from_dict(head) if head else KeyState(), written, leftover=leftover)
        parts = {i: _decoded(self.table.get(key)) or {"s": {}, "m": {}} for i, key in keys.items()}
        state = _assemble(head, list(parts.values()))
        buckets = {i: {*part["s"], *(fp for held in part["m"].values() for fp in held)} for i, part in parts.items()}
        where = {fp: i for i, fps in buckets.items() for fp in fps}
        return Stored(state, written, buckets, where, keys, generation, leftover)

    def _unnamed(self, token: str, generation: int, keys: dict[int, str]) -> list[str]:
        """Buckets a save wrote before it died, ahead of the head that would have named them."""
        journal = _decoded(self.table.get(journal_key(token)))
        if not journal or journal.get("generation") == generation:
            return []
        named = set(keys.values())
        return [key for key in journal.get("keys", []) if key not in named]

    def _remember(self, token: str, stored: Stored) -> None:
        self.cache[token] = stored
        self.cache.move_to_end(token)
        while len(self.cache) > self.cache_keys:
            self.cache.popitem(last=False)

    def save(self, token: str, state: KeyState, touched: set[str]) -> int:
        """Write what changed of ``token``'s state; the records written (0 for a no-op).

        Call it while a message of ``token``'s partition is the current event.
        """
        if not touched:
            return 0  # exact duplicates only: nothing changed, nothing to write
        stored = self.cache.get(token) or self._read(token)
        signals = len(state.signals)
        retired: list[str] = []
        dirty: set[int] = set()
        if stored.split and signals <= self.split_at // 2:  # back to one record
            retired = [*stored.keys.values(), journal_key(token)]
            stored = Stored(state, stored.head, generation=stored.generation, leftover=stored.leftover)
        elif stored.split and len(stored.buckets) <= 2 * (signals // self.per_bucket + 1):
            dirty = self._place(state, stored, touched)
        elif stored.split or signals > self.split_at:  # split now, or compact sparse buckets
            retired = list(stored.keys.values())
            stored = Stored(state, stored.head, generation=stored.generation, leftover=stored.leftover)
            dirty = self._place(state, stored, set(_in_order(state)))
        stored.state = state
        kept = all(stored.buckets.get(b) and b in stored.keys for b in dirty)  # no bucket made or emptied
        in_place = HEAD not in touched and not retired and kept
        if in_place:
            buckets = {stored.keys[b]: _bucket_bytes(state, stored.buckets[b]) for b in sorted(dirty)}
        else:
            buckets = self._buckets(token, stored, dirty, retired)
        writes: dict[str, bytes | None] = {key: None for key in stored.leftover if key not in buckets}
        if buckets and not in_place:
            names = sorted(buckets)
            writes[journal_key(token)] = _exact(orjson.dumps({"generation": stored.generation, "keys": names}))
        writes.update(buckets)
        if HEAD in touched or not stored.split or (buckets and not in_place) or retired or not stored.head:
            head = _head_bytes(state, stored, retired)
            if head != stored.head:
                writes[token] = stored.head = head
        writes.update((key, None) for key in retired if key not in writes)
        for key, value in writes.items():  # in order: the head after its buckets, before the deletions
            if value is not None:
                self.table[key] = value
            else:
                self.table.pop(key, None)
        stored.leftover = []
        self._remember(token, stored)
        return len(writes)

    def _place(self, state: KeyState, stored: Stored, touched: set[str]) -> set[int]:
        """Move touched fingerprints in or out of their buckets (new ones fill the newest); the
        buckets that changed."""
        dirty: set[int] = set()
        newest = max(stored.buckets, default=-1)
        for fp in touched:
            present = _present(state, fp)
            bucket = stored.where.get(fp)
            if bucket is None and present:
                if newest < 0 or len(stored.buckets[newest]) >= self.per_bucket:
                    newest += 1
                    stored.buckets[newest] = set()
                bucket = stored.where[fp] = newest
                stored.buckets[bucket].add(fp)
            elif bucket is not None and not present:
                stored.buckets[bucket].discard(fp)
                del stored.where[fp]
            if bucket is not None:
                dirty.add(bucket)
        return dirty

    def _buckets(self, token: str, stored: Stored, dirty: set[int], retired: list[str]) -> dict[str, bytes]:
        """The changed buckets' records under a new generation's keys; the keys they replace
        join ``retired``."""
        if not dirty:
            return {}
        stored.generation += 1
        records: dict[str, bytes] = {}
        for bucket in sorted(dirty):
            old = stored.keys.pop(bucket, None)
            if old is not None:
                retired.append(old)
            fps = stored.buckets[bucket]
            if not fps:
                del stored.buckets[bucket]
                continue
            key = stored.keys[bucket] = bucket_key(token, bucket, stored.generation)
            records[key] = _bucket_bytes(state=stored.state, fps=fps)
        return records
