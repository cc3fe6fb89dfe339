"""Label matchers as Alertmanager writes them: ``value`` (equal), ``"!=value"``,
``"=~regex"`` and ``"!~regex"`` (fully anchored, as in Prometheus)."""

import re
from collections.abc import Mapping
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
