"""A realistic synthetic stream: 10k fingerprints over 200 services, with repeats,
resolves, flapping and health checks, as Alertmanager webhooks and check batches."""

import random
from collections.abc import Iterator

import orjson

from models.timestamps import format_ms

SERVICES = 200
FINGERPRINTS_PER_SERVICE = 50
GROUP_SIZE = 10
ZERO = "0001-01-01T00:00:00Z"


def _alert(service: int, n: int, status: str, starts: int, ends: int) -> dict:
    return {
        "status": status,
        "labels": {
            "alertname": f"Alert{n:02d}",
            "service": f"svc-{service:03d}",
            "instance": f"10.0.{service}.{n}",
            "severity": ("critical", "warning", "info")[n % 3],
        },
        "annotations": {"summary": f"alert {n} on svc-{service:03d}"},
        "startsAt": format_ms(starts),
        "endsAt": format_ms(ends) if ends else ZERO,
    }


def alert_messages(inputs: int, start_ms: int, seed: int = 7) -> Iterator[tuple[bytes, bytes, int]]:
    """(key, webhook body, alert count): groups of GROUP_SIZE alerts of one service."""
    rnd = random.Random(seed)
    starts = {}  # (service, n) -> current activation start
    sent = 0
    tick = 0
    while sent < inputs:
        tick += 1
        service = rnd.randrange(SERVICES)
        first = rnd.randrange(0, FINGERPRINTS_PER_SERVICE - GROUP_SIZE)
        now = start_ms + tick
        alerts = []
        for n in range(first, first + GROUP_SIZE):
            key = (service, n)
            roll = rnd.random()
            if key not in starts:
                starts[key] = now
                alerts.append(_alert(service, n, "firing", now, 0))
            elif roll < 0.15:  # resolve; flapping ones come back soon
                alerts.append(_alert(service, n, "resolved", starts.pop(key), now))
            else:  # Alertmanager re-sends the group: repeats
                alerts.append(_alert(service, n, "firing", starts[key], 0))
        sent += len(alerts)
        body = {
            "version": "4",
            "status": "firing",
            "groupKey": f'{{}}:{{service="svc-{service:03d}"}}',
            "alerts": alerts,
        }
        yield f"svc-{service:03d}".encode(), orjson.dumps(body), len(alerts)


def check_messages(count: int, start_ms: int, seed: int = 11) -> Iterator[tuple[bytes, bytes, int]]:
    """Batches of 50 health-check results from two regions; some services fail for a while."""
    rnd = random.Random(seed)
    for batch in range(count // 50):
        results = []
        for i in range(50):
            service = rnd.randrange(SERVICES)
            failing = service % 20 == 0 and batch % 40 < 20
            results.append(
                {
                    "check": "http",
                    "service": f"svc-{service:03d}",
                    "status": "fail" if failing else "pass",
                    "observed_at": format_ms(start_ms + batch * 50 + i),
                    "probe": "bb",
                    "region": ("eu", "us")[i % 2],
                }
            )
        yield b"checks", orjson.dumps({"results": results}), len(results)


def webhook_batches(inputs: int, start_ms: int, sizes: tuple[int, ...] = (10, 100, 1000)) -> list[list[dict]]:
    """The alert stream as Alertmanager groups of 10–1,000 alerts (groups of 10 put together,
    as a ``group_by: [cluster]`` route would), cycling through ``sizes``."""
    groups = [orjson.loads(body)["alerts"] for _, body, _ in alert_messages(inputs, start_ms)]
    batches: list[list[dict]] = []
    index = 0
    while index < len(groups):
        take = sizes[len(batches) % len(sizes)] // GROUP_SIZE
        batches.append([alert for group in groups[index : index + take] for alert in group])
        index += take
    return batches


def as_webhook(alerts: list[dict]) -> str:
    group = '{}:{cluster="bench"}'
    return orjson.dumps({"version": "4", "status": "firing", "groupKey": group, "alerts": alerts}).decode()


def as_api_v2(alerts: list[dict]) -> str:
    """The same alerts as Prometheus posts them to Alertmanager's ``/api/v2/alerts``."""
    keep = ("labels", "annotations", "startsAt", "endsAt")
    return orjson.dumps([{k: a[k] for k in keep if a[k] != ZERO} for a in alerts]).decode()
