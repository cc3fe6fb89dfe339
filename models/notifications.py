"""The ``notifications`` policy section: channels, and per-incident routes with escalation.

A route is chosen per incident, first match wins, on what an incident is: its severity,
service and title. It says

- ``escalation``: who is paged when, from detection, while nobody has acknowledged
  (``models.escalation`` emits each step once, as an ``escalated`` event);
- ``updates``: status-update reminders while the incident is open (``update_due``);
- ``on``: which lifecycle events are announced to the route's audience — ``notify`` when
  given, else the channels of its first escalation step.

Channels are where notifications go: a generic JSON ``webhook`` or a ``slack``-compatible
incoming webhook, with an optional text ``template`` (``models.notification``).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from string import Formatter

from models.durations import parse_duration
from models.matchers import Matchers, parse_matchers

CHANNEL_TYPES = ("webhook", "slack")
#: Lifecycle kinds a route may announce; escalation and update events have their own audience.
ANNOUNCEABLE = (
    "opened",
    "acknowledged",
    "severity_changed",
    "role_assigned",
    "note_added",
    "resolved",
    "reopened",
    "closed",
    "sla_breached",
    "postmortem_due",
    "change_noted",
    "flapping_started",
    "flapping_stopped",
)
#: What a route's ``match`` may name: the incident's own fields.
MATCH_FIELDS = ("severity", "service", "title")
#: What a channel's ``template`` may name (``models.notification.fields``).
TEMPLATE_FIELDS = (
    "kind",
    "what",
    "incident_id",
    "title",
    "severity",
    "status",
    "service",
    "services",
    "at",
    "runbook",
    "ack",
    "link",
    "step",
    "channel",
)
ROUTE_KEYS = ("match", "escalation", "updates", "on", "notify")


@dataclass(frozen=True)
class Channel:
    name: str
    type: str
    url: str
    template: str = ""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Step:
    """Page ``notify`` ``after`` detection; with ``repeat``, again every ``repeat`` until acked."""

    after_ms: int
    notify: tuple[str, ...]
    repeat_ms: int = 0


@dataclass(frozen=True)
class Updates:
    every_ms: int
    notify: tuple[str, ...]


@dataclass(frozen=True)
class Route:
    match: Matchers
    escalation: tuple[Step, ...] = ()
    updates: Updates | None = None
    on: frozenset[str] = frozenset()
    notify: tuple[str, ...] = ()

    @property
    def audience(self) -> tuple[str, ...]:
        """Who hears of the lifecycle events in ``on``."""
        return self.notify or (self.escalation[0].notify if self.escalation else ())


@dataclass(frozen=True)
class Delivery:
    """Retries: capped exponential backoff from ``first_s`` to ``cap_s``; after ``give_up_s``
    of failing, the notification goes to the dead-letter topic. Each attempt waits at most
    ``timeout_s`` for an answer."""

    timeout_s: float = 5.0
    first_s: float = 0.2
    cap_s: float = 5.0
    give_up_s: float = 600.0


@dataclass(frozen=True)
class Notifications:
    channels: dict[str, Channel] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    public_url: str = ""  # where people reach tocsin's API: ack links in notifications
    delivery: Delivery = Delivery()

    def route_for(self, fields: Mapping[str, str]) -> tuple[int, Route] | None:
        """The first route matching an incident's ``fields`` (``MATCH_FIELDS``), with its index."""
        for index, route in enumerate(self.routes):
            if all(m.matches(fields) for m in route.match):
                return index, route
        return None


def parse_notifications(data: Mapping | None) -> Notifications:
    """The ``notifications`` section; ``ValueError`` naming the offending key."""
    data = data or {}
    channels = {str(name): _channel(str(name), spec) for name, spec in (data.get("channels") or {}).items()}
    routes = tuple(_route(i, spec, channels) for i, spec in enumerate(data.get("routes") or []))
    retry = data.get("delivery") or {}
    delivery = Delivery(
        cap_s=parse_duration(retry.get("max_backoff", "5s")) / 1000,
        give_up_s=parse_duration(retry.get("give_up", "10m")) / 1000,
    )
    return Notifications(channels, routes, str(data.get("public_url") or "").rstrip("/"), delivery)


def _channel(name: str, spec: object) -> Channel:
    if not isinstance(spec, Mapping):
        raise ValueError(f"notifications.channels.{name}: a mapping {{type, url}}")
    kind, url = str(spec.get("type", "webhook")), str(spec.get("url", ""))
    if kind not in CHANNEL_TYPES:
        raise ValueError(f"notifications.channels.{name}.type: one of {', '.join(CHANNEL_TYPES)}, not {kind!r}")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"notifications.channels.{name}.url: an http(s) URL, not {url!r}")
    template = str(spec.get("template") or "")
    _check_template(f"notifications.channels.{name}.template", template)
    headers = tuple((str(k), str(v)) for k, v in (spec.get("headers") or {}).items())
    return Channel(name, kind, url, template, headers)


def _check_template(where: str, template: str) -> None:
    try:
        names = [f for _, f, _, _ in Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    unknown = sorted({n for n in names if n not in TEMPLATE_FIELDS})
    if unknown:
        raise ValueError(f"{where}: unknown field {', '.join(unknown)}; known: {', '.join(TEMPLATE_FIELDS)}")


def _route(index: int, spec: object, channels: dict[str, Channel]) -> Route:
    where = f"notifications.routes[{index}]"
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: a mapping")
    # YAML 1.1 reads a bare ``on`` key as the boolean true.
    spec = {("on" if key is True else key): value for key, value in spec.items()}
    unknown = sorted(str(k) for k in spec if k not in ROUTE_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key {', '.join(unknown)}; known: {', '.join(ROUTE_KEYS)}")
    steps = tuple(_step(f"{where}.escalation[{i}]", s, channels) for i, s in enumerate(spec.get("escalation") or []))
    if [s.after_ms for s in steps] != sorted(s.after_ms for s in steps):
        raise ValueError(f"{where}.escalation: steps must be in order of `after`")
    updates = spec.get("updates")
    on = frozenset(str(kind) for kind in spec.get("on") or [])
    if on - set(ANNOUNCEABLE):
        unknown = ", ".join(sorted(on - set(ANNOUNCEABLE)))
        raise ValueError(f"{where}.on: unknown {unknown}; known: {', '.join(ANNOUNCEABLE)}")
    route = Route(
        match=_match(where, spec.get("match") or {}),
        escalation=steps,
        updates=_updates(f"{where}.updates", updates, channels) if updates else None,
        on=on,
        notify=_names(f"{where}.notify", spec.get("notify"), channels),
    )
    if on and not route.audience:
        raise ValueError(f"{where}.on: nobody to tell; give `notify` or an escalation step")
    return route


def _match(where: str, spec: Mapping) -> Matchers:
    unknown = sorted(str(k) for k in spec if k not in MATCH_FIELDS)
    if unknown:
        raise ValueError(f"{where}.match: unknown field {', '.join(unknown)}; known: {', '.join(MATCH_FIELDS)}")
    as_text = {k: ("=~" + "|".join(map(str, v)) if isinstance(v, list) else v) for k, v in spec.items()}
    return parse_matchers(as_text)


def _names(where: str, names: object, channels: dict[str, Channel]) -> tuple[str, ...]:
    listed = tuple(str(n) for n in ([names] if isinstance(names, str) else names or []))
    unknown = [n for n in listed if n not in channels]
    if unknown:
        raise ValueError(f"{where}: unknown channel {', '.join(unknown)}; known: {', '.join(channels) or 'none'}")
    return listed


def _step(where: str, spec: object, channels: dict[str, Channel]) -> Step:
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: a mapping {{after, notify, repeat}}")
    notify = _names(f"{where}.notify", spec.get("notify"), channels)
    if not notify:
        raise ValueError(f"{where}.notify: name at least one channel")
    return Step(parse_duration(spec.get("after", 0)), notify, parse_duration(spec.get("repeat", 0)))


def _updates(where: str, spec: object, channels: dict[str, Channel]) -> Updates:
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: a mapping {{every, notify}}")
    every = parse_duration(spec.get("every", 0))
    notify = _names(f"{where}.notify", spec.get("notify"), channels)
    if not every or not notify:
        raise ValueError(f"{where}: give `every` (a duration) and `notify` (channels)")
    return Updates(every, notify)
