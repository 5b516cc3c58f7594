"""One throughput measurement: a warm-up run (not counted), then a measured run, with wrk and
bench/wrk.lua when wrk is installed, else the Python client (bench/client.py), each in its own
process, at a fixed concurrency. Any non-2xx answer or socket error fails the measurement."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.config import PG_BASE, Plan

LUA = Path(__file__).with_name("wrk.lua")
CHECKED_PATHS = 5
SETTLE_S = 12.0  # past the statement timeout (10 s): stuck queries are cancelled by then


class LoadFailed(RuntimeError):
    """Non-2xx answers or socket errors: the figures would not be the route's. They are kept
    (`figures`) so the results can still show what happened."""

    def __init__(self, message: str, figures: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.figures = figures


def succeeded(raw: dict[str, Any], key: str) -> dict[str, Any]:
    """raw[key] when that run succeeded; a KeyError (no ratio from it) when it failed."""
    entry: dict[str, Any] = raw[key]
    if "failed" in entry:
        raise KeyError(
            f"{key} failed ({entry.get('non_2xx')} non-2xx, {entry.get('socket_errors')} socket "
            f"errors in {entry.get('requests')} requests; p50 {entry.get('p50_ms')} ms)"
        )
    return entry


@dataclass(frozen=True)
class Load:
    client: str
    threads: int
    connections: int
    duration_s: float
    warmup_s: float


def load_settings(plan: Plan) -> Load:
    client = plan.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    if client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk), or use --client python")
    return Load(client, plan.threads, plan.connections, plan.duration_s, plan.warmup_s)


def postgres_connections() -> str:
    """How full the PostgreSQL server is: on a shared machine other servers' pools count too,
    and a full server makes the app answer 503."""
    try:
        with psycopg.connect(f"{PG_BASE}/postgres", connect_timeout=3) as conn:
            row = conn.execute(
                "SELECT count(*), current_setting('max_connections') FROM pg_stat_activity"
            ).fetchone()
    except psycopg.OperationalError as exc:
        return f"refused a connection: {str(exc).strip().splitlines()[-1]}"
    return f"{row[0]} of {row[1]} connections in use" if row else "unknown"


def settle(base: str, within_s: float = 60.0) -> None:
    """After a failed run: wait until the server answers /health again (its requests still in
    flight finish or time out), so the next benchmark does not inherit the failure."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                time.sleep(SETTLE_S)
                return
        except httpx.TransportError:
            pass
        time.sleep(1)


def check_paths(base: str, paths: list[str]) -> None:
    """A few of the paths answer 200 before the clock starts (a 4xx would make a fast lie)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        for path in paths[:CHECKED_PATHS]:
            answer = client.get(path)
            if answer.status_code != 200:
                settle(base)
                raise LoadFailed(f"GET {path} answered {answer.status_code}: {answer.text[:300]}")


def measure(base: str, paths: list[str], load: Load, label: str) -> dict[str, Any]:
    """Requests/s and latency percentiles of GET `paths` (walked in order, wrapping)."""
    check_paths(base, paths)
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as f:
        f.write("\n".join(paths) + "\n")
        file = Path(f.name)
    try:
        figures = _run(base, file, load)
    finally:
        file.unlink()
    seconds = figures["duration_us"] / 1e6
    socket_errors = figures.get("socket_errors", 0) + sum(
        figures.get(k, 0) for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    result = {
        "requests": figures["requests"],
        "seconds": round(seconds, 2),
        "requests_per_s": round(figures["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(figures["p50_us"] / 1000, 2),
        "p95_ms": round(figures["p95_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
        "max_ms": round(figures["max_us"] / 1000, 2),
        "mean_ms": round(figures["mean_us"] / 1000, 2),
        "response_bytes": figures.get("bytes", 0),
        "non_2xx": figures["status_errors"],
        "socket_errors": socket_errors,
        "client": load.client,
        "connections": load.connections,
        "paths": len(paths),
    }
    print(
        f"  {label}: {result['requests_per_s']:,.0f} req/s, p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms, {result['non_2xx']} non-2xx, {socket_errors} socket errors",
        file=sys.stderr,
        flush=True,
    )
    if result["non_2xx"] or socket_errors or not result["requests"]:
        result["postgres_connections"] = postgres_connections()
        settle(base)
        raise LoadFailed(
            f"{label}: {result['non_2xx']} non-2xx answers and {socket_errors} socket errors "
            f"in {result['requests']} requests (PostgreSQL: {result['postgres_connections']})",
            result,
        )
    return result


def _run(base: str, paths: Path, load: Load) -> dict[str, Any]:
    """The warm-up (wrk: a run of its own) and the measured run; the measured run's figures."""
    if load.client == "wrk":

        def wrk(seconds: float) -> list[str]:
            return [
                "wrk",
                f"-t{load.threads}",
                f"-c{load.connections}",
                f"-d{seconds:g}s",
                "--timeout",
                "10s",
                "-s",
                str(LUA),
                base,
                "--",
                str(paths),
            ]

        if load.warmup_s > 0:
            subprocess.run(wrk(load.warmup_s), capture_output=True, timeout=load.warmup_s + 60)
        command = wrk(load.duration_s)
    else:
        command = [
            sys.executable,
            "-m",
            "bench.client",
            str(paths),
            "--base",
            base,
            "--connections",
            str(load.connections),
            "--duration",
            str(load.duration_s),
            "--warmup",
            str(load.warmup_s),
        ]
    timeout = load.warmup_s + load.duration_s + 60
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            figures: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            return figures
    raise LoadFailed(
        f"{command[0]} printed no figures:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    )
