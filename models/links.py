"""Links that travel with a signal and its incident: where it came from, where to silence it,
its dashboard and panel, its runbook, and whatever links and images the sender attached.

A link is ``name → URL``. Names are short and stable so dashboards and chat tools can pick
one (``source``, ``silence``, ``dashboard``, ``panel``, ``runbook``, ``image``; a sender's own
link text otherwise). An incident keeps the first URL it saw under each name, up to
``MAX_LINKS``, so a large outage does not grow its events with every member's links.
"""

from collections.abc import Iterable, Mapping
from itertools import chain

from models.matchers import match_all
from models.policy import Policy
from models.signal import Signal

MAX_LINKS = 20
MAX_REMEMBERED = 10_000
MAX_NAME = 64
MAX_URL = 2048
#: Annotation → link name: Prometheus and Grafana rules carry their runbook this way.
ANNOTATION_LINKS = {"runbook_url": "runbook", "runbook": "runbook", "dashboard_url": "dashboard"}


def links_of(named: Iterable[tuple[str, object]], annotations: Mapping[str, str] = ()) -> dict[str, str]:
    """``{name: url}`` from (name, url) pairs and link annotations: empty, non-string and
    non-http(s) values are left out (a ``javascript:`` URL must not reach a chat tool)."""
    found: dict[str, str] = {}
    # Look up the few link annotations rather than walk every annotation: once per alert parsed.
    linked = [(ANNOTATION_LINKS[k], annotations[k]) for k in ANNOTATION_LINKS if k in annotations]
    for name, url in chain(named, linked):
        if url and isinstance(url, str) and url.startswith(("https://", "http://")) and name:
            if len(found) >= MAX_LINKS:
                break
            found.setdefault(str(name)[:MAX_NAME], url[:MAX_URL])
    return found


def merge_links(held: dict[str, str], new: Mapping[str, str]) -> bool:
    """Add the names ``held`` lacks (first URL wins), up to ``MAX_LINKS``; True if it grew."""
    grew = False
    for name, url in new.items():
        if len(held) >= MAX_LINKS:
            break
        if name not in held:
            held[name] = url
            grew = True
    return grew


def runbook_for(signal: Signal, policy: Policy) -> str:
    """The signal's own runbook (annotation ``runbook_url``), else the policy's first match.

    The match depends only on the labels the runbooks name, so it is remembered by their
    values: a new signal costs a dict lookup, not a regex per runbook (a pure memo, like
    ``models.severity.classify_memo``)."""
    own = signal.annotations.get("runbook_url") or signal.links.get("runbook", "")
    if own:
        return own
    labels = {**signal.labels, "service": signal.service}
    key = tuple(labels.get(name, "") for name in policy.runbook_labels)
    memo = policy.runbook_memo
    found = memo.get(key)
    if found is None:
        found = next((runbook.url for runbook in policy.runbooks if match_all(runbook.match, labels)), "")
        if len(memo) >= MAX_REMEMBERED:
            memo.clear()
        memo[key] = found
    return found
