"""Change events: tocsin's own ``{service, summary, timestamp, source, id, links}`` (one, a
list, or ``{"changes": [...]}``) and PagerDuty's change events (``/v2/change/enqueue``:
``{routing_key, payload: {summary, timestamp, source, custom_details}, links}``).

A PagerDuty change's service is the one the policy maps its routing key to
(``pagerduty.routing_keys``), else ``custom_details.service``, else ``payload.source``, as
for PagerDuty alerts. Without a timestamp a change happened when it arrived.
"""

from collections.abc import Mapping

from models.change import Change, change_id_of
from models.errors import Reason, RejectedInput
from models.limits import Limits
from models.links import links_of
from models.parsers.fields import decode_json, each, guarded, require_object, text, timestamp
from models.parsers.pagerduty import NO_ROUTES, Routes, attached_links, payload_service
from models.parsers.result import Parsed


def parse_changes(raw: bytes, limits: Limits, now: int, routes: Routes = NO_ROUTES) -> Parsed:
    """One body or record of changes, in either format."""

    def parse() -> Parsed:
        data = decode_json(raw, limits)
        if isinstance(data, dict) and "changes" in data:
            data = data["changes"]
        if isinstance(data, list):
            return each(data, lambda item: read_change(item, limits, now, routes), limits)
        return Parsed(inputs=[read_change(data, limits, now, routes)])

    return guarded(parse)


def read_change(data: object, limits: Limits, now: int, routes: Routes = NO_ROUTES) -> Change:
    """One change in either format → ``Change``, or ``RejectedInput``."""
    data = require_object(data, "change")
    if "payload" in data:
        return _pagerduty(data, limits, now, routes)
    summary = text(data, "summary", limits)
    at = timestamp(data, "timestamp", required=False, default=0) or timestamp(data, "at", required=False, default=now)
    source, links = text(data, "source", limits, required=False), _links(data.get("links"))
    return _change(text(data, "service", limits), summary, at, source, links, data, limits)


def _pagerduty(event: dict, limits: Limits, now: int, routes: Routes) -> Change:
    payload = require_object(event.get("payload"), "payload")
    route = routes.get(text(event, "routing_key", limits, required=False), {})
    service = route.get("service") or payload_service(payload, limits)
    if not service:
        raise RejectedInput(Reason.MISSING_FIELD, "payload.source (or a mapped routing_key)")
    summary = text(payload, "summary", limits)
    at = timestamp(payload, "timestamp", required=False, default=now)
    links = links_of(attached_links(event))
    return _change(service, summary, at, text(payload, "source", limits, required=False), links, {}, limits)


def _change(service: str, summary: str, at: int, source: str, links: dict, data: Mapping, limits: Limits) -> Change:
    given = text(data, "id", limits, required=False) if data else ""
    return Change(service, summary, at, source, given or change_id_of(service, summary, at, source, links), links)


def _links(value: object) -> dict[str, str]:
    """``links`` as PagerDuty writes them (``[{href, text}]``) or as a name → URL map."""
    if isinstance(value, dict):
        return links_of(value.items())
    if isinstance(value, list):
        return links_of((str(v.get("text") or "link"), v.get("href")) for v in value if isinstance(v, dict))
    if value is None:
        return {}
    raise RejectedInput(Reason.WRONG_TYPE, "links must be a list of {href, text} or a map of name to URL")
