"""An open-loop HTTP load generator: requests leave on a fixed schedule.

Latency is measured from when a request was due, not from when it was sent,
so a slow server cannot hide its queueing (no coordinated omission). Run as
`python -m bench.openloop URL RATE SECONDS BODY_FILE HEADER...` in a process
of its own; prints one JSON line.
"""

import asyncio
import json
import statistics
import sys
import time
from urllib.parse import urlsplit


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def one_request(host: str, port: int, request: bytes) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()  # until the server closes (gunicorn sync workers close)
        return int(status_line.split()[1])
    finally:
        writer.close()


async def run(url: str, rate: float, seconds: float, body: bytes, headers: list[str]) -> dict:
    parts = urlsplit(url)
    head = [
        f"POST {parts.path} HTTP/1.1",
        f"Host: {parts.hostname}:{parts.port}",
        "Connection: close",
        f"Content-Length: {len(body)}",
        "Content-Type: application/json",
        *headers,
    ]
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    latencies, errors = [], 0
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2

    async def fire(due: float):
        nonlocal errors
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        try:
            status = await one_request(parts.hostname, parts.port, request)
        except OSError:
            status = 0
        if 200 <= status < 300:
            latencies.append((time.perf_counter() - due) * 1000)
        else:
            errors += 1

    await asyncio.gather(*(fire(start + i / rate) for i in range(total)))
    elapsed = time.perf_counter() - start
    return {
        "offered_per_s": rate,
        "completed_per_s": round(len(latencies) / elapsed, 1),
        "ok": len(latencies),
        "errors": errors,
        "p50_ms": round(percentile(latencies, 50), 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
    }


if __name__ == "__main__":
    url, rate, seconds, body_file, *headers = sys.argv[1:]
    with open(body_file, "rb") as f:
        body = f.read()
    print(json.dumps(asyncio.run(run(url, float(rate), float(seconds), body, headers))))
