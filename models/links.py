"""Links that travel with a signal and its incident: where it came from, where to silence it,
its dashboard and panel, its runbook, and whatever links and images the sender attached.

A link is ``name → URL``. Names are short and stable so dashboards and chat tools can pick
one (``source``, ``silence``, ``dashboard``, ``panel``, ``runbook``, ``image``; a sender's own
link text otherwise). An incident keeps the first URL it saw under each name, up to
``MAX_LINKS``, so a large outage does not grow its events with every member's links.
"""

from collections.abc import Iterable, Mapping

from models.matchers import match_all
from models.policy import Runbook
from models.signal import Signal

MAX_LINKS = 20
MAX_NAME = 64
MAX_URL = 2048
#: Annotation → link name: Prometheus and Grafana rules carry their runbook this way.
ANNOTATION_LINKS = {"runbook_url": "runbook", "runbook": "runbook", "dashboard_url": "dashboard"}


def links_of(named: Iterable[tuple[str, object]], annotations: Mapping[str, str] = ()) -> dict[str, str]:
    """``{name: url}`` from (name, url) pairs and link annotations: empty, non-string and
    non-http(s) values are left out (a ``javascript:`` URL must not reach a chat tool)."""
    found: dict[str, str] = {}
    pairs = [*named, *((ANNOTATION_LINKS[k], v) for k, v in dict(annotations).items() if k in ANNOTATION_LINKS)]
    for name, url in pairs:
        if len(found) >= MAX_LINKS:
            break
        if isinstance(url, str) and url.startswith(("https://", "http://")) and name:
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


def runbook_for(signal: Signal, runbooks: Iterable[Runbook]) -> str:
    """The signal's own runbook (annotation ``runbook_url``), else the policy's first match."""
    own = signal.annotations.get("runbook_url") or signal.links.get("runbook", "")
    if own:
        return own
    labels = {**signal.labels, "service": signal.service}
    return next((runbook.url for runbook in runbooks if match_all(runbook.match, labels)), "")
