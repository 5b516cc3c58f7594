"""Soak test (`make soak`): 64 connections held open for 60 seconds against lookup, nearest and
caller on loopback; zero errors allowed; prints throughput and latency percentiles.

A small HTTP/1.1 keep-alive client on asyncio streams (no client library in the way, so the
client spends little of the CPU the server needs). With --start-server it serves the API the way
`make run` does (`assetmap db bootstrap`, `assetmap load all`, `assetmap serve`) on its own port,
and stops it afterwards. Bounded: every request has a timeout and the whole run a deadline.

    python scripts/soak.py --start-server [--connections 64] [--seconds 60]
    python scripts/soak.py --url http://127.0.0.1:8000      # a server you started
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/assetmap"
NEEDS = ["food_bank", "gp_practice", "library", "pharmacy", "advice", "warm_space"]
REQUEST_TIMEOUT_S = 10.0


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, seconds: float, status: int) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        self.statuses[f"{kind} {status}"] += 1
        if status != 200:
            self.errors[f"{kind}: HTTP {status}"] += 1


def postcodes(database_url: str, how_many: int = 2000) -> list[str]:
    """Live Kirklees postcodes to ask about, from the served database."""
    import psycopg

    with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql")) as conn:
        rows = conn.execute(
            "SELECT postcode FROM postcode WHERE status = 'live' ORDER BY random() LIMIT %s",
            (how_many,),
        ).fetchall()
    if not rows:
        sys.exit("no postcodes in the database: run `assetmap load all` first")
    return [row[0] for row in rows]


def requests(host: str, places: list[str], seed: int = 20261123) -> list[tuple[str, bytes]]:
    """A fixed, shuffled mix: a third each of lookup (by postcode or point), nearest and caller."""
    rng = random.Random(seed)
    made: list[tuple[str, bytes]] = []
    for postcode in places:
        lat, lon = rng.uniform(53.57, 53.76), rng.uniform(-1.95, -1.58)
        point = {"lat": f"{lat:.5f}", "lon": f"{lon:.5f}"}
        lookup = {"postcode": postcode} if rng.random() < 0.5 else point
        nearest = {**point, "category": rng.choice(NEEDS), "limit": "5"}
        caller = {"postcode": postcode, "needs": ",".join(rng.sample(NEEDS, 2))}
        for kind, path, params in (("lookup", "/api/lookup", lookup),
                                   ("nearest", "/api/assets/nearest", nearest),
                                   ("caller", "/api/caller", caller)):  # fmt: skip
            target = f"{path}?{urlencode(params)}"
            made.append((kind, (f"GET {target} HTTP/1.1\r\nHost: {host}\r\n"
                                "User-Agent: assetmap-soak\r\n\r\n").encode()))  # fmt: skip
    rng.shuffle(made)
    return made


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Reads one response; returns its status and whether the server keeps the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip().lower()
    if headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection") != "close"


async def connection(
    host: str, port: int, mix: list[tuple[str, bytes]], start: int, deadline: float, tally: Tally
) -> None:
    """One client connection, kept alive, sending requests back to back until the deadline."""
    index = start
    reader = writer = None
    while time.monotonic() < deadline:
        kind, request = mix[index % len(mix)]
        index += 1
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), REQUEST_TIMEOUT_S
                )
            assert reader is not None and writer is not None
            writer.write(request)
            status, keep = await asyncio.wait_for(_read_response(reader), REQUEST_TIMEOUT_S)
            tally.add(kind, time.perf_counter() - started, status)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            tally.errors[f"{kind}: {type(exc).__name__}"] += 1
            keep = False
        if not keep and writer is not None:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def report(tally: Tally, seconds: float, connections: int) -> dict[str, object]:
    everything = [v for values in tally.latencies.values() for v in values]
    total = len(everything)
    rows = {}
    for kind in ("lookup", "nearest", "caller", "all"):
        values = everything if kind == "all" else tally.latencies.get(kind, [])
        rows[kind] = {
            "requests": len(values),
            "per_second": round(len(values) / seconds, 1),
            "p50_ms": round(percentile(values, 0.50) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
            "max_ms": round(max(values, default=0) * 1000, 1),
        }
    errors = sum(tally.errors.values())
    print(f"\nsoak: {connections} connections for {seconds:.1f} s, {total} answers, "
          f"{errors} errors")  # fmt: skip
    print(f"{'':8} {'requests':>9} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind, row in rows.items():
        print(f"{kind:8} {row['requests']:>9} {row['per_second']:>8} {row['p50_ms']:>8} "
              f"{row['p99_ms']:>8} {row['max_ms']:>8}")  # fmt: skip
    for what, count in tally.errors.most_common(10):
        print(f"error: {what} × {count}")
    return {"connections": connections, "seconds": round(seconds, 1), "errors": errors,
            "error_kinds": dict(tally.errors), "results": rows}  # fmt: skip


async def soak(
    base: str, places: list[str], connections: int, seconds: float, warmup: float
) -> dict[str, object]:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    mix = requests(f"{host}:{port}", places)
    step = len(mix) // connections or 1

    async def run_for(duration: float, tally: Tally) -> float:
        started = time.monotonic()
        deadline = started + duration
        workers = [
            connection(host, port, mix, i * step, deadline, tally) for i in range(connections)
        ]
        # Bounded: a stuck connection cannot keep the run going past its deadline.
        await asyncio.wait_for(asyncio.gather(*workers), duration + 2 * REQUEST_TIMEOUT_S)
        return time.monotonic() - started

    if warmup > 0:  # every worker process warms its caches and pool; not counted
        await run_for(warmup, Tally())
    tally = Tally()
    return report(tally, await run_for(seconds, tally), connections)


def _wait_until_ready(base: str, server: subprocess.Popen[bytes], within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("the server stopped before it was ready")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    sys.exit(f"the server at {base} was not ready within {within_s:.0f} s")


def run(coroutine: Coroutine[Any, Any, dict[str, object]]) -> dict[str, object]:
    """On uvloop when it is installed (uvicorn brings it): a lighter client."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="A running server (default: start one, like make run)")
    parser.add_argument("--start-server", action="store_true", help="Serve the API for the run")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SOAK_PORT", "8050")))
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=5, help="Seconds not counted, first")
    parser.add_argument("--json", type=Path, help="Also write the results to this file")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    server = None
    base = args.url or f"http://127.0.0.1:{args.port}"
    if args.start_server:
        env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "warning"}
        for step in (["db", "bootstrap"], ["load", "all"]):
            subprocess.run([str(BIN / "assetmap"), *step], env=env, check=True)
        server = subprocess.Popen([str(BIN / "assetmap"), "serve", "--port", str(args.port)],
                                  env=env)  # fmt: skip
    try:
        if server is not None:
            _wait_until_ready(base, server)
        results = run(
            soak(base, postcodes(database_url), args.connections, args.seconds, args.warmup)
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    sys.exit(1 if results["errors"] else 0)


if __name__ == "__main__":
    main()
