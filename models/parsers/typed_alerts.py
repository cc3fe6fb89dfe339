"""The fast path for what Alertmanager and Prometheus send: typed decoding in one C pass.

Nearly every body on the alert path is an Alertmanager webhook (version "4") or a list of
API v2 alerts, with exactly the fields those senders write. msgspec decodes such a body
straight into flat typed objects, checking every field's type and the UTF-8 as it goes;
their shape bounds the nesting, so the depth walk the general parser needs (a third of its
time) is not needed here. The alerts then go through ``alertmanager.parse_alert`` like any
other, so a signal is the same whichever path read it.

Anything else — another field, a wrong type, a bad alert — returns None and the general
parser reads the body again, for its exact per-item reasons: the fast path never decides
a refusal.
"""

import msgspec

from models.limits import Limits
from models.parsers import alertmanager
from models.parsers.result import Parsed

Labels = dict[str, str] | None
Text = str | None


class TypedAlert(msgspec.Struct, forbid_unknown_fields=True):
    """One alert with Alertmanager's own fields; ``get`` reads it as ``parse_alert`` reads a dict."""

    labels: Labels = None
    annotations: Labels = None
    status: Text = None
    startsAt: Text = None  # the senders' field names
    endsAt: Text = None
    generatorURL: Text = None
    fingerprint: Text = None

    def get(self, name: str, default: object = None) -> object:
        return getattr(self, name, default)


class TypedWebhook(msgspec.Struct, forbid_unknown_fields=True):
    """An Alertmanager webhook body, every field it sends."""

    alerts: list[TypedAlert]
    version: Text = None
    groupKey: Text = None
    status: Text = None
    receiver: Text = None
    externalURL: Text = None
    groupLabels: Labels = None
    commonLabels: Labels = None
    commonAnnotations: Labels = None
    truncatedAlerts: int | None = None


_BODY = msgspec.json.Decoder(TypedWebhook | list[TypedAlert])


def parse_typed(raw: bytes, limits: Limits, now: int) -> Parsed | None:
    """The body's signals if it is a plain webhook or API v2 list whose every alert is good;
    None to let the general parser read it."""
    try:
        body = _BODY.decode(raw)
    except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
        return None
    if isinstance(body, list):
        parsed = alertmanager.parse_api_alerts(body, limits, now)
    elif body.version != "4":
        return None
    else:
        parsed = alertmanager.parse_alerts_of(body.alerts, limits, now, alertmanager.SOURCE)
        parsed.group_key = body.groupKey or ""
    return parsed if parsed.ok else None
