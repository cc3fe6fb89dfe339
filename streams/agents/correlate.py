"""Correlate agent: the incident engine on Faust, state in a table keyed by key token.

It folds a batch of messages (``take_events``): each touched key's state is read once,
every input and timer tick of the batch is applied in offset order, then

1. lifecycle events are published (one per record on ``tocsin.incidents``, in batches of
   ClickHouse rows on ``tocsin.event-log``), with service-status changes and the signal
   log, and acknowledged,
2. only then is what changed of each touched key's state written to the table
   (``streams.state_store``: small records, none for an exact duplicate).

An input that makes the engine raise is dead-lettered and the batch is folded again
without it from the stored states, so no half-applied input reaches the table or the
topics. A publish that fails is retried (backoff, no limit) before anything is
acknowledged: the batch is never lost and never half-published.

A crash between 1 and 2 replays the batch against the old state and re-emits
byte-identical events (same ``event_id``), which downstream collapses. A crash after 2 but
before the offsets commit replays inputs the state already holds, and the engine treats
those as no-ops. Timer ticks travel through the same topic (one per owned partition), so
they are ordered with the inputs and replayed like them; a breach is recorded in the state
and emitted once, whatever restarts or rebalances happen.
"""

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

import faust
import orjson
from faust.types import EventT
from tenacity import AsyncRetrying, wait_random_exponential

from models.command import Command
from models.engine import muted_by, recheck, step_in_place, tick_in_place
from models.errors import Reason, Rejection
from models.inhibition import CREATED_BY, FOREVER, inhibitors
from models.lifecycle import EventKind, LifecycleEvent
from models.policy import Policy
from models.service_status import changed_statuses, service_statuses
from models.silence import Silence, expire
from models.state import Decision, KeyState, Outcome
from models.timers import scheduled
from models.timestamps import format_ms
from sinks.clickhouse.writer import event_row
from streams import metrics, signal_log, tracing
from streams.codec import TICK, decode, encode_tick
from streams.dlq import dead_letter
from streams.faust_context import as_event
from streams.outcomes import CommandOutcome, Outcomes
from streams.produce import hand_over
from streams.routing import partition_of
from streams.row_records import row_records
from streams.silence_book import SilenceBook
from streams.silence_book import publish as publish_silence
from streams.state_store import StateStore
from streams.timer_index import TimerIndex

log = logging.getLogger(__name__)

#: How key tokens are encoded as table keys; ``streams.routing.partition_of`` hashes the same
#: JSON bytes, so a key's signals-topic partition and changelog partition match.
KEY_SERIALIZER = "json"


TABLE = "incidents-by-key"


def changelog_topic(app_id: str) -> str:
    return f"{app_id}-{TABLE}-changelog"


def incident_table(app: faust.App, partitions: int) -> faust.Table:
    # The changelog partition is the partition of the signals-topic message being processed
    # (``commit_states`` makes one of the key's own messages current), so a key's head and
    # bucket records all land on the partition that owns the key and are restored together.
    return app.Table(
        TABLE,
        partitions=partitions,
        schema=faust.Schema(key_type=str, key_serializer=KEY_SERIALIZER, value_serializer="raw"),
    )


@dataclass
class Batch:
    """The working set of one batch: states read once, events and rejections in order."""

    states: dict[str, KeyState] = field(default_factory=dict)
    touched: dict[str, set[str]] = field(default_factory=dict)  # token → fingerprints changed
    before: dict[str, dict] = field(default_factory=dict)
    carriers: dict[str, EventT] = field(default_factory=dict)
    events: list[LifecycleEvent] = field(default_factory=list)
    arrivals: list[int] = field(default_factory=list)
    refused: list[tuple[EventT, dict, Decision]] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)
    open_before: Counter = field(default_factory=Counter)
    traces: dict[str, str] = field(default_factory=dict)  # event id → trace id of its input
    commands: list[tuple[str, CommandOutcome]] = field(default_factory=list)  # settled once published
    unrecognised: Counter = field(default_factory=Counter)  # severity facts no criterion knows, by fact
    latest: int = 0  # the latest arrival or tick time the batch applied
    silences: list[Silence] = field(default_factory=list)  # inhibitions made or ended (models.inhibition)


class Correlator:
    def __init__(self, store: StateStore, policy: Policy, partitions: int, book: SilenceBook | None = None) -> None:
        # Hot state: the engine works on the store's decoded states in place, so a batch pays
        # JSON only for what it changed. They always equal what the table holds after a batch;
        # a failed batch or a rebalance drops them and the table is read again.
        self.store = store
        self.base_policy = policy
        self.book = book or SilenceBook()
        self._policy = (-1, policy)
        self.partitions = partitions
        self.timers = TimerIndex()
        self.scanned: set[int] = set()

    @property
    def policy(self) -> Policy:
        """The policy with the silences known now (rebuilt only when one changed)."""
        version, policy = self._policy
        if version != self.book.version:
            policy = self.base_policy.with_silences(self.book.silences)
            self._policy = (self.book.version, policy)
        return policy

    def forget_partitions(self, partitions: set[int]) -> None:
        """After a rebalance or a failed batch, rescan before trusting the timer index or cache."""
        self.scanned -= partitions
        self.timers.drop(partitions)
        self.store.forget()

    def load(self, batch: Batch, token: str, carrier: EventT) -> KeyState:
        if token not in batch.states:
            state = self.store.load(token)
            batch.states[token] = state
            batch.touched[token] = set()
            batch.before[token] = service_statuses(state)
            batch.open_before += open_by_severity({token: state})
        batch.carriers[token] = carrier
        return batch.states[token]

    def apply_inputs(self, batch: Batch, event: EventT, message: dict) -> None:
        record_trace = tracing.from_kafka(event.message.headers)
        index = 0  # an input's place in its record: part of its signal-log id
        arrivals: set[int] = set()
        policy = self.policy
        for token, key, items, now, trace in message["groups"]:
            if not token:  # silences: every partition gets them
                index = self.apply_silences(batch, event, items, now, index)
                continue
            trace_id = trace or record_trace
            state = self.load(batch, token, event)
            touched = batch.touched[token]
            where = signal_log.Where(token, key, event.message.partition, event.message.offset)
            for item in items:
                emitted, decision = step_in_place(state, item, now, policy, key=key, touched=touched)
                if emitted:
                    batch.events += emitted
                    if trace_id:
                        batch.traces.update((e.event_id, trace_id) for e in emitted)
                batch.log.append(signal_log.record(item, decision, now, index, where))
                index += 1
                if isinstance(item, Command):
                    batch.commands.append((item.command_id, CommandOutcome(decision, emitted)))
                if decision.outcome is Outcome.REJECTED:
                    batch.refused.append((event, item.to_dict(), decision))
                if decision.unrecognised:
                    batch.unrecognised.update(fact.split("=", 1)[0] for fact in decision.unrecognised)
            arrivals.add(now)
        batch.arrivals += sorted(arrivals)  # one per source record the message carries
        batch.latest = max(batch.latest, message["now"], *arrivals)

    def apply_silences(self, batch: Batch, event: EventT, silences: list[Silence], now: int, index: int) -> int:
        """Learn each silence, log it, and for one that has ended let what it muted through now.

        Returns the next input's place in the record (the rechecks' log rows come after it).
        """
        partition, offset = event.message.partition, event.message.offset
        for silence in silences:
            self.book.put(silence)
            where = signal_log.Where("", "", partition, offset)
            batch.log.append(signal_log.record(silence, Decision(Outcome.ACCEPTED), now, index, where))
            index += 1
            if silence.ends_at > now:
                continue
            for token in self._muted(partition, silence.silence_id, batch):
                state, changed = self.load(batch, token, event), set()
                events = recheck(state, now, self.policy, touched=changed)
                if changed:
                    batch.touched[token] |= changed
                    batch.events += events
                    where = signal_log.Where(token, state.key, partition, offset)
                    batch.log.append(signal_log.tick_record(now, where, len(events), index))
                    index += 1
        return index

    def _muted(self, partition: int, silence_id: str, batch: Batch) -> list[str]:
        """Keys of ``partition`` with a signal ``silence_id`` mutes: a walk of the partition's
        keys, paid only when a silence is expired early."""
        return [
            token
            for token in self.store.tokens()
            if partition_of(token, self.partitions) == partition
            and muted_by(batch.states.get(token) or self.store.load(token), silence_id)
        ]

    def inhibitions(self, batch: Batch) -> list[Silence]:
        """The silences the batch's changed signals make or end under the ``inhibit`` rules."""
        policy, now, changes = self.policy, batch.latest, []
        if not policy.inhibitions:
            return changes
        for token, fingerprints in batch.touched.items():
            for silence_id, matchers, comment in inhibitors(batch.states[token], token, fingerprints, policy):
                known = self.book.silences.get(silence_id)
                active = known is not None and known.ends_at > now
                if matchers and not active:
                    changes.append(Silence(silence_id, matchers, now, FOREVER, CREATED_BY, comment, updated_at=now))
                elif not matchers and active:
                    changes.append(expire(known, now))
        return changes

    def apply_tick(self, batch: Batch, event: EventT, now: int) -> None:
        batch.latest = max(batch.latest, now)
        partition = event.message.partition
        if partition not in self.scanned:
            self._scan(partition)
        for token in self.timers.pop_due(partition, now):
            state, changed = self.load(batch, token, event), set()
            events = tick_in_place(state, now, self.policy, touched=changed)
            if changed:
                batch.touched[token] |= changed
                batch.events += events
                where = signal_log.Where(token, state.key, partition, event.message.offset)
                batch.log.append(signal_log.tick_record(now, where, len(events)))

    def _scan(self, partition: int) -> None:
        for token in self.store.tokens():
            if partition_of(token, self.partitions) == partition:
                self.timers.schedule(partition, token, scheduled(self.store.load(token), self.policy))
        self.scanned.add(partition)

    def commit_states(self, batch: Batch, owned: set[int]) -> int:
        """Write what changed of each touched key, as if while processing one of its messages.

        Keys of partitions handed to another worker while the batch ran are not written: the
        new owner may have restored them already, and a late write would land in the
        changelog after its own. Their input was not committed, so the new owner applies it
        again (publishing the same events, same ids).
        """
        writes = 0
        for token, state in batch.states.items():
            carrier = batch.carriers[token]
            partition = carrier.message.partition  # the key's own: its inputs and ticks arrive there
            if partition not in owned:
                self.store.drop(token)
                metrics.STATE_WRITES_SKIPPED.inc()
                continue
            with as_event(carrier):  # the changelog partition follows it
                writes += self.store.save(token, state, batch.touched[token])
            if batch.touched[token] or (partition, token) not in self.timers:  # unchanged state, unchanged timers
                self.timers.schedule(partition, token, scheduled(state, self.policy))
        metrics.STATE_WRITES.inc(writes)
        return writes


def status_changes(batch: Batch) -> list[tuple[str, str]]:
    changes: dict[str, str] = {}
    for token, state in batch.states.items():
        changes.update({s: str(v) for s, v in changed_statuses(batch.before[token], service_statuses(state)).items()})
    return sorted(changes.items())


def record_metrics(batch: Batch) -> None:
    """Counted once the batch is published: a batch folded again after a failure counts once."""
    inputs = (entry["outcome"] for entry in batch.log if entry["input"] != signal_log.TICK)
    for outcome, count in Counter(inputs).items():
        metrics.ENGINE_INPUTS.labels(outcome).inc(count)
    for fact, count in batch.unrecognised.items():
        metrics.UNRECOGNISED_FACTS.labels(fact).inc(count)
    for event in batch.events:
        metrics.LIFECYCLE_EVENTS.labels(str(event.kind), event.severity).inc()
        if event.kind is EventKind.ACKNOWLEDGED:
            metrics.RESPONSE_SECONDS.labels(event.severity).observe((event.acknowledged_at - event.detected_at) / 1000)
        elif event.kind is EventKind.RESOLVED:
            metrics.RESOLUTION_SECONDS.labels(event.severity).observe((event.resolved_at - event.detected_at) / 1000)
    wall = time.time() * 1000
    for arrival in batch.arrivals:
        metrics.PROCESSING_SECONDS.observe(max(0.0, (wall - arrival) / 1000))


#: A member joining or resolving: most of a large outage's events, so logged at DEBUG only —
#: the incident's timeline (``tocsin.incidents``, ClickHouse) keeps every one.
PER_SIGNAL = frozenset({EventKind.SIGNAL_ADDED, EventKind.SIGNAL_RESOLVED})


def log_events(batch: Batch) -> None:
    """One line per incident-level lifecycle event: the audit trail operators search by incident.

    At INFO a 1,000-alert storm logs its incidents' steps, not a line per alert (which cost 6 %
    of an engine's time in ``bench_http``'s two-process run); DEBUG logs every event."""
    if not log.isEnabledFor(logging.INFO):
        return
    every = log.isEnabledFor(logging.DEBUG)
    for event in batch.events:
        per_signal = event.kind in PER_SIGNAL
        if per_signal and not every:
            continue
        context = {
            "incident_id": event.incident_id,
            "event_id": event.event_id,
            "kind": str(event.kind),
            "severity": event.severity,
            "service": event.service,
            "fingerprint": event.fingerprint,
            "trace_id": batch.traces.get(event.event_id, ""),
        }
        log.log(
            logging.DEBUG if per_signal else logging.INFO,
            "incident %s %s (%s, %s)",
            event.incident_id,
            event.kind,
            event.severity,
            event.service,
            extra=context,
        )


def refused_by_record(refused: list[tuple[EventT, dict, Decision]]) -> list[tuple[EventT, list[tuple[dict, Decision]]]]:
    """The engine's refusals grouped by the record that carried them: one DLQ record each."""
    grouped: dict[int, tuple[EventT, list[tuple[dict, Decision]]]] = {}
    for event, item, decision in refused:
        grouped.setdefault(id(event), (event, []))[1].append((item, decision))
    return list(grouped.values())


def open_by_severity(states: dict[str, KeyState]) -> Counter:
    return Counter(i.severity for s in states.values() for i in s.incidents.values() if i.status.is_open)


class Poisoned(Exception):
    """The engine raised on ``event``: it is dead-lettered and the batch folded without it."""

    def __init__(self, event: EventT, cause: Exception) -> None:
        super().__init__(repr(cause))
        self.event = event
        self.cause = cause


def register(
    app: faust.App,
    signals: faust.TopicT,
    incidents: faust.TopicT,
    event_log: faust.TopicT,
    status: faust.TopicT,
    log_topic: faust.TopicT,
    dlq: faust.TopicT,
    store: StateStore,
    policy: Policy,
    partitions: int,
    *,
    batch_size: int = 500,
    batch_seconds: float = 0.02,
    tick_seconds: float = 1.0,
    max_backoff: float = 30.0,
    outcomes: Outcomes | None = None,
    book: SilenceBook | None = None,
    silences: faust.TopicT,
) -> Correlator:
    correlator = Correlator(store, policy, partitions, book)

    async def publish(batch: Batch) -> None:
        published = [e.to_dict() for e in batch.events]
        events = [(e["incident_id"].encode(), orjson.dumps(e), None, None) for e in published]
        futures = await hand_over(incidents, events)
        rows = row_records([event_row(e) for e in published])
        futures += await hand_over(event_log, [(None, value, None, None) for value in rows])
        updated = format_ms(max(batch.arrivals)) if batch.arrivals else None
        changes = [
            (service.encode(), orjson.dumps({"service": service, "status": value, "updated_at": updated}), None, None)
            for service, value in status_changes(batch)
        ]
        futures += await hand_over(status, changes)
        futures += await hand_over(log_topic, [(None, value, None, None) for value in row_records(batch.log)])
        for future in futures:
            await future
        for silence in batch.silences:
            await publish_silence(silence, silences, signals, partitions)
            correlator.book.put(silence)
        for event, refused in refused_by_record(batch.refused):
            rejections = [
                Rejection(Reason.UNKNOWN_INCIDENT, f"no incident {d.incident_id} here", index, item)
                for index, (item, d) in enumerate(refused)
            ]
            await dead_letter(dlq, orjson.dumps([item for item, _ in refused]), rejections, event)

    async def publish_until_done(batch: Batch) -> None:
        """Publish, retrying with capped backoff: the batch is acknowledged only once out."""
        async for attempt in AsyncRetrying(
            wait=wait_random_exponential(multiplier=0.1, max=max_backoff),
            before_sleep=lambda state: log.warning("publish failed, retrying: %r", state.outcome.exception()),
            reraise=True,
        ):
            with attempt:
                await publish(batch)
        record_metrics(batch)
        log_events(batch)

    def fold_once(events: list[EventT], skipped: set[int]) -> Batch:
        batch = Batch()
        for event in events:
            if id(event) in skipped:
                continue
            try:
                message = decode(event.value, event.key)
                if message.get("type") == TICK:
                    correlator.apply_tick(batch, event, message["now"])
                else:
                    correlator.apply_inputs(batch, event, message)
            except Exception as exc:
                raise Poisoned(event, exc) from exc
        return batch

    async def fold(events: list[EventT]) -> Batch:
        """Apply the batch; on an engine error, dead-letter that record and start over without it."""
        skipped: set[int] = set()
        while True:
            try:
                return fold_once(events, skipped)
            except Poisoned as poisoned:
                event = poisoned.event
                log.error(
                    "correlate failed on %s@%d: %r", event.message.partition, event.message.offset, poisoned.cause
                )
                correlator.forget_partitions(set(range(partitions)))  # part of the batch is applied: read again
                skipped.add(id(event))
                await dead_letter(dlq, event.value, Rejection(Reason.INTERNAL_ERROR, repr(poisoned.cause)), event)

    @app.agent(signals, name="correlate")
    async def correlate(stream: faust.StreamT) -> None:
        async for events in stream.take_events(batch_size, within=batch_seconds):
            batch = await fold(events)
            batch.silences = correlator.inhibitions(batch)
            await publish_until_done(batch)
            correlator.commit_states(batch, owned_partitions())
            # The table's changelog records are only buffered (Faust's send_soon) and the batch's
            # offsets become committable when this loop goes on: a worker killed in between would
            # leave offsets ahead of the changelog its successor restores from.
            await app.producer.flush()
            if outcomes is not None:
                for command_id, outcome in batch.commands:
                    outcomes.settle(command_id, outcome)
            after = open_by_severity(batch.states)
            for severity in set(batch.open_before) | set(after):
                metrics.OPEN_INCIDENTS.labels(severity).inc(after[severity] - batch.open_before[severity])

    @app.timer(interval=tick_seconds, name="tick")
    async def send_ticks() -> None:
        """One tick per owned partition: timers flow through Kafka, ordered with the inputs."""
        if getattr(app, "tocsin_draining", False):
            return
        owned = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == signals.get_topic_name()}
        now = int(time.time() * 1000)
        for partition in sorted(owned):
            await signals.send(value=encode_tick(now), partition=partition)

    def owned_partitions() -> set[int]:
        return {tp.partition for tp in app.consumer.assignment() if tp.topic == signals.get_topic_name()}

    @app.on_partitions_revoked.connect
    async def on_revoked(sender: object, revoked: set, **kwargs: object) -> None:
        correlator.forget_partitions({tp.partition for tp in revoked if tp.topic == signals.get_topic_name()})

    @app.on_partitions_assigned.connect
    async def on_assigned(sender: object, assigned: set, **kwargs: object) -> None:
        """Read assigned keys from the table: a batch that ended after the revocation may have
        cached states another worker has changed since."""
        correlator.forget_partitions({tp.partition for tp in assigned if tp.topic == signals.get_topic_name()})

    return correlator
