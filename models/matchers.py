"""Label matchers as Alertmanager writes them: ``value`` (equal), ``"!=value"``,
``"=~regex"`` and ``"!~regex"`` (fully anchored, as in Prometheus); and Alertmanager's matcher
syntax, ``{service="db", env=~"staging|dev"}``, and its API objects (``isRegex``, ``isEqual``)."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = re.fullmatch(self.value, actual) is not None
        return found if self.op == "=~" else not found


Matchers = tuple[Matcher, ...]


def parse_matchers(spec: Mapping[str, object]) -> Matchers:
    """Matchers from ``{label: "value" | "!=v" | "=~re" | "!~re"}``."""
    out = []
    for name, raw in sorted(spec.items()):
        text = str(raw)
        for op in ("=~", "!~", "!="):
            if text.startswith(op):
                value = text[len(op) :]
                if op in ("=~", "!~"):
                    re.compile(value)
                out.append(Matcher(str(name), op, value))
                break
        else:
            out.append(Matcher(str(name), "=", text))
    return tuple(out)


def match_all(matchers: Matchers, labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_ONE = re.compile(rf'\s*({_NAME})\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^,"{{}}]*?)\s*(?:,|$)')


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text[1:-1])
    return text


def _matcher(name: str, op: str, value: str) -> Matcher:
    if op in ("=~", "!~"):
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"bad regex for {name}: {exc}") from None
    return Matcher(name, op, value)


def parse_matcher_text(text: str) -> Matchers:
    """Matchers from Alertmanager's syntax: ``{a="x", b=~"y|z"}`` (braces and quotes optional)."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    out, position = [], 0
    body = body.strip()
    while position < len(body):
        found = _ONE.match(body, position)
        if found is None or found.end() == position:
            raise ValueError(f'not a matcher at {body[position:]!r} (expected name="value", !=, =~ or !~)')
        name, op, raw = found.groups()
        out.append(_matcher(name, op, _unquote(raw)))
        position = found.end()
    if not out:
        raise ValueError("no matchers")
    return tuple(out)


def parse_any_matchers(spec: object) -> Matchers:
    """Matchers as an API client may send them: Alertmanager syntax (one string, or a list of
    strings), Alertmanager API objects (``{name, value, isRegex, isEqual}``) or a label map."""
    if isinstance(spec, str):
        return parse_matcher_text(spec)
    if isinstance(spec, dict):
        return parse_matchers(spec)
    if isinstance(spec, Iterable):
        out: list[Matcher] = []
        for part in spec:
            if isinstance(part, str):
                out += parse_matcher_text(part)
            elif isinstance(part, dict) and "name" in part:
                regex, equal = bool(part.get("isRegex")), part.get("isEqual", True) is not False
                op = ("=~" if equal else "!~") if regex else ("=" if equal else "!=")
                out.append(_matcher(str(part["name"]), op, str(part.get("value", ""))))
            else:
                raise ValueError(f"not a matcher: {part!r}")
        if out:
            return tuple(out)
    raise ValueError('matchers must be a string like {service="db"}, a list of them, or a label map')


def format_matchers(matchers: Matchers) -> str:
    """Alertmanager's syntax for ``matchers``."""
    quoted = (m.value.replace("\\", "\\\\").replace('"', '\\"') for m in matchers)
    return "{" + ", ".join(f'{m.name}{m.op}"{value}"' for m, value in zip(matchers, quoted, strict=True)) + "}"
