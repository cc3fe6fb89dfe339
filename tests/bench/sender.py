"""The benchmark's HTTP sender, in a process of its own (as a real sender would be).

``python -m tests.bench.sender URL FILE [CONCURRENCY]`` posts every body of FILE (a JSON
list of strings) to URL over CONCURRENCY connections, retrying 429/503 after their
``Retry-After``, and prints ``{"seconds": …, "requests": …, "retries": …}``.
"""

import asyncio
import sys
import time

import aiohttp
import orjson


async def send(url: str, bodies: list[bytes], concurrency: int) -> dict:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    retries = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal retries
        while not queue.empty():
            body = queue.get_nowait()
            while True:
                async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
                    await response.read()
                    if response.status in (429, 503):
                        retries += 1
                        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                        continue
                    if response.status >= 300:
                        raise RuntimeError(f"{url} answered {response.status}")
                    break

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "requests": len(bodies), "retries": retries}


def main() -> None:
    url, path = sys.argv[1], sys.argv[2]
    concurrency = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    with open(path, "rb") as handle:
        bodies = [body.encode() for body in orjson.loads(handle.read())]
    print(orjson.dumps(asyncio.run(send(url, bodies, concurrency))).decode(), flush=True)


if __name__ == "__main__":
    main()
