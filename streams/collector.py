"""The cyclic garbage collector, tuned for a stream processor's allocation pattern.

A batch allocates tens of thousands of short-lived containers (decoded inputs, rows,
events) while the engine's hot state holds hundreds of thousands of long-lived ones.
With CPython's default first-generation threshold (700 allocations) a collection runs
every few dozen alerts and each older-generation pass walks the hot state: profiled on
``make bench`` (``bench_http``), 15–18 % of the process's time went to the collector,
smeared over whatever code allocated. tocsin's own objects are acyclic, so raising the
threshold only lets garbage cycles (from libraries) live a little longer.
"""

import gc

#: Allocations between first-generation collections; then every 20th and 100th for the older.
THRESHOLDS = (50_000, 20, 100)


def tune() -> None:
    """Collect less often: once per few batches rather than every few dozen inputs."""
    if gc.get_threshold()[0] < THRESHOLDS[0]:
        gc.set_threshold(*THRESHOLDS)
