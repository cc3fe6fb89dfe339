"""A sender that posts at a steady pace, in a process of its own, for the latency benchmark.

``python -m tests.bench.paced_sender URL FILE PER_SECOND`` posts the bodies of FILE (a JSON
list of strings) to URL, starting one request every ``1 / PER_SECOND`` seconds whatever the
previous ones are doing (a monitor does not wait for tocsin), and prints
``{"accepted_at": [epoch seconds of each 202], "late_starts": n, "seconds": …}``. An optional
fourth argument, a request count, cycles through the bodies that many times over (a soak).
"""

import asyncio
import sys
import time

import aiohttp
import orjson


async def post(session: aiohttp.ClientSession, url: str, body: bytes) -> float:
    while True:
        async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
            await response.read()
            if response.status in (429, 503):
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status != 202:
                raise RuntimeError(f"{url} answered {response.status}")
            return time.time()


async def send(url: str, bodies: list[bytes], per_second: float, requests: int = 0) -> dict:
    late = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
        started = time.perf_counter()
        tasks = []
        for index in range(requests or len(bodies)):
            delay = started + index / per_second - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.05:
                late += 1
            tasks.append(asyncio.create_task(post(session, url, bodies[index % len(bodies)])))
        accepted = await asyncio.gather(*tasks)
        seconds = time.perf_counter() - started
    return {"accepted_at": accepted, "late_starts": late, "seconds": seconds}


def main() -> None:
    url, path, per_second = sys.argv[1], sys.argv[2], float(sys.argv[3])
    requests = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    with open(path, "rb") as handle:
        bodies = [body.encode() for body in orjson.loads(handle.read())]
    print(orjson.dumps(asyncio.run(send(url, bodies, per_second, requests))).decode(), flush=True)


if __name__ == "__main__":
    main()
