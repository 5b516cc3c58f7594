"""The load client when wrk is absent: `python -m bench.client PATHS --base URL ...` keeps N
HTTP/1.1 connections busy for D seconds, each walking the file of request paths from its own
offset, and prints one JSON line with the same figures as bench/wrk.lua. It runs in its own
process so that it never shares an interpreter with the server or the harness."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

REQUEST_TIMEOUT_S = 10.0


async def _answer(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """Reads one response: its status, body size and whether the connection stays open."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip().lower()
    size = 0
    if fields.get("transfer-encoding") == "chunked":
        while chunk := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(chunk + 2)
            size += chunk
        await reader.readuntil(b"\r\n")
    else:
        size = int(fields.get("content-length", "0"))
        await reader.readexactly(size)
    return status, len(head) + size, fields.get("connection") != "close"


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.status_errors = self.other_errors = self.bytes = 0


async def _connection(
    host: str, port: int, requests: list[bytes], start: int, deadline: float, tally: Tally
) -> None:
    index = start
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while time.monotonic() < deadline:
        request = requests[index % len(requests)]
        index += 1
        began = time.perf_counter()
        keep = False
        try:
            if reader is None or writer is None:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), REQUEST_TIMEOUT_S
                )
            assert reader is not None and writer is not None
            writer.write(request)
            status, size, keep = await asyncio.wait_for(_answer(reader), REQUEST_TIMEOUT_S)
            tally.latencies.append(time.perf_counter() - began)
            tally.bytes += size
            if not 200 <= status < 300:
                tally.status_errors += 1
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            tally.other_errors += 1
        if not keep and writer is not None:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def run(
    base: str, paths: list[str], connections: int, seconds: float, warmup: float = 0.0
) -> dict[str, float]:
    """A warm-up of `warmup` seconds (not counted), then `seconds` measured."""
    if warmup > 0:
        await run(base, paths, connections, warmup)
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = [f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode() for p in paths]
    tally = Tally()
    began = time.monotonic()
    deadline = began + seconds
    step = max(1, len(requests) // connections)
    await asyncio.wait_for(
        asyncio.gather(
            *(_connection(host, port, requests, i * step, deadline, tally)
              for i in range(connections))
        ),
        seconds + 2 * REQUEST_TIMEOUT_S,
    )  # fmt: skip
    duration = time.monotonic() - began
    ordered = sorted(tally.latencies)
    return {
        "requests": len(ordered),
        "duration_us": int(duration * 1e6),
        "status_errors": tally.status_errors,
        "socket_errors": tally.other_errors,
        "p50_us": int(_percentile(ordered, 0.50) * 1e6),
        "p95_us": int(_percentile(ordered, 0.95) * 1e6),
        "p99_us": int(_percentile(ordered, 0.99) * 1e6),
        "max_us": int((ordered[-1] if ordered else 0) * 1e6),
        "mean_us": round(sum(ordered) / len(ordered) * 1e6, 1) if ordered else 0.0,
        "bytes": tally.bytes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", type=Path, help="A file of request paths, one a line")
    parser.add_argument("--base", required=True, help="http://host:port")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=0.0, help="Seconds first, not counted")
    args = parser.parse_args()
    paths = [line for line in args.paths.read_text().splitlines() if line]
    measured = run(args.base, paths, args.connections, args.duration, args.warmup)
    try:
        import uvloop  # uvicorn[standard] brings it: a lighter client

        figures = uvloop.run(measured)
    except ImportError:
        figures = asyncio.run(measured)
    print("BENCH_JSON " + json.dumps(figures))


if __name__ == "__main__":
    main()
