"""Correlation: which incident a signal belongs to, and which failing service is the likely cause.

Everything that can land in one incident shares a correlation key, because the key decides
the partition that owns the incident's state (one owner per incident, no coordination).

- The key is the ``service`` label, else ``job``, else ``alertname`` (configurable), or the
  values of a source's ``group_by`` labels.
- With a dependency graph, services in one connected part share one key (the part's
  alphabetically first service), so a database outage and the API errors it causes become
  one incident. The root-cause candidate is the deepest failing dependency: a failing
  service none of whose own dependencies fail, on which the most failing services depend.
- Commands address incidents by id, so an incident id starts with the key's token: the
  stream layer routes a command to the key's partition from the id alone.
"""

import hashlib
from collections.abc import Iterable, Mapping
from functools import cache

DEFAULT_KEY_LABELS: tuple[str, ...] = ("service", "job", "alertname")
UNKNOWN_SERVICE = "unknown"
TOKEN_LENGTH = 12


def service_of(labels: Mapping[str, str], key_labels: tuple[str, ...] = DEFAULT_KEY_LABELS) -> str:
    """Return the service a label set names, by the first non-empty key label."""
    for name in key_labels:
        value = labels.get(name)
        if value:
            return value
    return UNKNOWN_SERVICE


def key_token(key: str) -> str:
    """Short stable token of a correlation key: the partition key and incident-id prefix."""
    return hashlib.sha256(key.encode()).hexdigest()[:TOKEN_LENGTH]


def token_of_incident(incident_id: str) -> str:
    """The key token an incident id starts with (see ``incident_id_for``)."""
    return incident_id.split("-", 1)[0]


def incident_id_for(key: str, fingerprint: str, starts_at: int) -> str:
    """Derive an incident id from the key and the signal that opened it."""
    digest = hashlib.sha256(f"{key}\x1f{fingerprint}\x1f{starts_at}".encode()).hexdigest()[:10]
    return f"{key_token(key)}-{digest}"


@cache
def _components(dependencies: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    """service → its connected part's representative (alphabetically first service)."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for service, deps in dependencies:
        for dep in deps:
            a, b = find(service), find(dep)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {node: find(node) for node in list(parent)}


def _frozen(dependencies: Mapping[str, Iterable[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((k, tuple(sorted(v))) for k, v in dependencies.items()))


def key_for_service(service: str, dependencies: Mapping[str, Iterable[str]]) -> str:
    """The correlation key of a service, merged with its dependency graph part."""
    if not dependencies:
        return service
    return _components(_frozen(dependencies)).get(service, service)


def grouping_key(labels: Mapping[str, str], group_by: tuple[str, ...]) -> str:
    """The key from explicit ``group_by`` labels: ``name=value`` pairs joined by commas."""
    return ",".join(f"{name}={labels.get(name, '')}" for name in group_by)


def root_cause(failing: Iterable[str], dependencies: Mapping[str, Iterable[str]]) -> str:
    """The deepest failing dependency among ``failing`` services, or "" if there is no graph."""
    failing = set(failing)
    if not dependencies or len(failing) < 2:
        return ""
    deps = {k: set(v) for k, v in dependencies.items()}
    leaves = [s for s in failing if not (deps.get(s, set()) & failing)]
    dependents = {leaf: sum(1 for s in failing if leaf in _reach(deps, s)) for leaf in leaves}
    best = max(sorted(dependents), key=lambda s: dependents[s], default="")
    return best if dependents.get(best) else ""


def dependents_of(service: str, dependencies: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """The services that depend on ``service``, directly or through others."""
    return _dependents(_frozen(dependencies)).get(service, frozenset())


@cache
def _dependents(dependencies: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, frozenset[str]]:
    users: dict[str, set[str]] = {}
    for service, deps in dependencies:
        for dep in deps:
            users.setdefault(dep, set()).add(service)
    return {service: frozenset(_reach(users, service) - {service}) for service in users}


def _reach(edges: Mapping[str, Iterable[str]], start: str) -> set[str]:
    """Every node reachable from ``start`` along ``edges`` (``start`` only if on a cycle)."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        for node in edges.get(stack.pop(), ()):
            if node not in seen:
                seen.add(node)
                stack.append(node)
    return seen
