"""When each key of the owned partitions next needs a tick: a min-heap per partition.

A tick pops only the keys that are due, so its cost follows the due keys, not every key
the worker holds. Keys with nothing scheduled have no entry, a partition handed to another
worker is dropped whole, and superseded heap entries are compacted away, so the index
holds one entry per key with a pending timer.
"""

import heapq


class TimerIndex:
    def __init__(self) -> None:
        self.at: dict[int, dict[str, int]] = {}  # partition → token → next due time
        self.heaps: dict[int, list[tuple[int, str]]] = {}

    def __len__(self) -> int:
        return sum(len(times) for times in self.at.values())

    def __contains__(self, token_at: tuple[int, str]) -> bool:
        partition, token = token_at
        return token in self.at.get(partition, ())

    def schedule(self, partition: int, token: str, at: int) -> None:
        """Schedule ``token`` at ``at`` (0: nothing scheduled), replacing what it had."""
        times = self.at.setdefault(partition, {})
        if times.get(token) == at:
            return
        if not at:
            times.pop(token, None)
            return
        times[token] = at
        heap = self.heaps.setdefault(partition, [])
        heapq.heappush(heap, (at, token))
        if len(heap) > 2 * len(times) + 64:  # mostly superseded entries: rebuild
            self.heaps[partition] = [(when, key) for key, when in times.items()]
            heapq.heapify(self.heaps[partition])

    def pop_due(self, partition: int, now: int) -> list[str]:
        """Keys of ``partition`` due at ``now``, earliest first; they leave the index."""
        heap, times = self.heaps.get(partition, []), self.at.get(partition, {})
        due = []
        while heap and heap[0][0] <= now:
            at, token = heapq.heappop(heap)
            if times.get(token) == at:
                del times[token]
                due.append(token)
        return due

    def drop(self, partitions: set[int]) -> None:
        """Forget partitions this worker no longer owns (or must read again)."""
        for partition in partitions:
            self.at.pop(partition, None)
            self.heaps.pop(partition, None)
