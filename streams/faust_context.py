"""Faust's "current event", set and cleared on purpose (faust-streaming 0.15.x internals).

Faust picks a table write's changelog partition — and, with the RocksDB store, the
partition database a read looks in — from the event being processed. tocsin reads and
writes key states for a whole batch at once, outside Faust's per-event iteration, so it
says which event stands for a key while writing (one of that key's own messages: its
records land on the key's partition) and that none does while reading (the store then
looks in every partition it holds). Faust offers no public API for either; this is the
one module that touches ``faust.streams._current_event``. Keep faust-streaming pinned.
"""

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from faust.streams import _current_event
from faust.types import EventT


@contextmanager
def as_event(event: EventT) -> Iterator[None]:
    """Table writes inside act as if ``event`` were being processed."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


@contextmanager
def no_event() -> Iterator[None]:
    """Table reads inside look in every partition the store holds."""
    token = _current_event.set(None)
    try:
        yield
    finally:
        _current_event.reset(token)
