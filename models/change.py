"""Change events: a deploy, a config push, a feature flag flipped — what the procedure's
"review recent changes" step looks for.

A change is an engine input of its service's correlation key (so with a dependency graph,
of every service in its component). It opens nothing; an incident of that key that opens
within ``changes.window`` after it, or is open when it arrives, gets a ``change_noted``
event stamped with the change's time (``models.change_flow``).
"""

import hashlib
from dataclasses import asdict, dataclass, field

import orjson


@dataclass(frozen=True, slots=True)
class Change:
    service: str
    summary: str
    at: int
    source: str = ""  # who or what made it: a CI pipeline, a deploy tool, a person
    change_id: str = ""  # the sender's id, or one derived from the content (``with_id``)
    links: dict[str, str] = field(default_factory=dict)  # name → URL (a pull request, a pipeline run)

    def to_dict(self) -> dict:
        return asdict(self)


def change_id_of(service: str, summary: str, at: int, source: str, links: dict[str, str]) -> str:
    """A content-derived id: the same change re-sent is the same change."""
    material = orjson.dumps([service, summary, at, source, links], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(material).hexdigest()[:16]


@dataclass(slots=True)
class KnownChange:
    """A change a key remembers, for incidents that open within the window after it."""

    at: int
    service: str
    summary: str
    source: str = ""
    link: str = ""  # its first link, shown with it
