"""Logging: JSON lines for log pipelines, readable lines in a terminal.

``TOCSIN_LOG_FORMAT`` is ``json``, ``text`` or ``auto`` (text on a TTY, JSON otherwise);
``TOCSIN_LOG_LEVEL`` sets the level (``info``). Context travels as ``extra=`` fields —
``incident_id``, ``fingerprint``, ``trace_id``, ``event_id`` … — which become top-level keys
in JSON (so Loki/ELK can filter on them) and trailing ``key=value`` pairs in text.

tocsin configures logging itself instead of letting Faust do it: below ``info`` Faust
forces the root logger to DEBUG, and its handler would not write JSON.
"""

import logging
import sys
from typing import TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import OrjsonFormatter

FORMATS = ("auto", "json", "text")
LEVELS = ("debug", "info", "warning", "error")
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
QUIET_LOGGERS = ("aiokafka", "faust", "mode", "streams.transport")  # INFO there is start-up chatter
_RESERVED = frozenset(RESERVED_ATTRS) | {"message", "asctime"}


class TextFormatter(logging.Formatter):
    """The classic line, followed by the record's context fields as ``key=value``."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in _RESERVED)
        return f"{line} [{context}]" if context else line


def json_formatter() -> logging.Formatter:
    return OrjsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )


def resolve_format(name: str, stream: TextIO) -> str:
    if name not in FORMATS:
        raise ValueError(f"log format {name!r}; one of {', '.join(FORMATS)}")
    if name != "auto":
        return name
    return "text" if stream.isatty() else "json"


def configure(log_format: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Send every record to ``stream`` (stderr) in the chosen format, replacing other handlers."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter() if resolve_format(log_format, stream) == "text" else json_formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    if root.level >= logging.INFO:
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
