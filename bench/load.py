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
    outcome = interleaved(base, {label: paths}, load, rounds=1)[label]
    if isinstance(outcome, LoadFailed):
        raise outcome
    return outcome


def interleaved(
    base: str, named: dict[str, list[str]], load: Load, rounds: int
) -> dict[str, dict[str, Any] | LoadFailed]:
    """Several path sets measured in turn, `rounds` times round (each a share of the duration),
    after one warm-up each: a machine that gets busier or quieter meanwhile weighs on every set
    alike. Requests/s over all rounds; percentiles the request-weighted mean of the rounds'.
    Each set's result, or its LoadFailed (non-2xx answers or socket errors)."""
    files: dict[str, Path] = {}
    try:
        for name, paths in named.items():
            check_paths(base, paths)
            with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as f:
                f.write("\n".join(paths) + "\n")
                files[name] = Path(f.name)
        for file in files.values():
            if load.warmup_s > 0:
                _run(base, file, load, load.warmup_s)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in named}
        for _ in range(rounds):
            for name, file in files.items():
                runs[name].append(_run(base, file, load, load.duration_s / rounds))
    finally:
        for file in files.values():
            file.unlink()
    return {name: _summary(base, name, runs[name], load, len(named[name])) for name in named}


def _summary(
    base: str, label: str, runs: list[dict[str, Any]], load: Load, paths: int
) -> dict[str, Any] | LoadFailed:
    requests = sum(r["requests"] for r in runs)
    seconds = sum(r["duration_us"] for r in runs) / 1e6

    def weighted_ms(key: str) -> float:
        total = sum(r[key] * r["requests"] for r in runs)
        return round(total / requests / 1000, 2) if requests else 0.0

    socket_errors = sum(
        r.get(k, 0)
        for r in runs
        for k in ("socket_errors", "connect_errors", "read_errors", "write_errors", "timeouts")
    )
    result: dict[str, Any] = {
        "requests": requests,
        "seconds": round(seconds, 2),
        "requests_per_s": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": weighted_ms("p50_us"),
        "p95_ms": weighted_ms("p95_us"),
        "p99_ms": weighted_ms("p99_us"),
        "max_ms": round(max(r["max_us"] for r in runs) / 1000, 2),
        "mean_ms": weighted_ms("mean_us"),
        "response_bytes": sum(r.get("bytes", 0) for r in runs),
        "non_2xx": sum(r["status_errors"] for r in runs),
        "socket_errors": socket_errors,
        "client": load.client,
        "connections": load.connections,
        "paths": paths,
    }
    if len(runs) > 1:
        result["rounds_requests_per_s"] = [
            round(r["requests"] / (r["duration_us"] / 1e6), 1) for r in runs
        ]
    print(
        f"  {label}: {result['requests_per_s']:,.0f} req/s, p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms, {result['non_2xx']} non-2xx, {socket_errors} socket errors",
        file=sys.stderr,
        flush=True,
    )
    if result["non_2xx"] or socket_errors or not result["requests"]:
        result["postgres_connections"] = postgres_connections()
        settle(base)
        return LoadFailed(
            f"{label}: {result['non_2xx']} non-2xx answers and {socket_errors} socket errors "
            f"in {result['requests']} requests (PostgreSQL: {result['postgres_connections']})",
            result,
        )
    return result


def _run(base: str, paths: Path, load: Load, seconds: float) -> dict[str, Any]:
    """One run of `seconds` (wrk, or the Python client in its own process); its figures."""
    if load.client == "wrk":
        command = [
            "wrk", f"-t{load.threads}", f"-c{load.connections}", f"-d{seconds:g}s",
            "--timeout", "10s", "-s", str(LUA), base, "--", str(paths),
        ]  # fmt: skip
    else:
        command = [
            sys.executable, "-m", "bench.client", str(paths), "--base", base,
            "--connections", str(load.connections), "--duration", str(seconds),
        ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            figures: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            return figures
    raise LoadFailed(
        f"{command[0]} printed no figures:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    )
