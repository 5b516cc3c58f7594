"""Servers under test, each in its own process group: the API exactly as `make run` serves it
(`assetmap serve`, default workers and settings, only the database differs) and tipg."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.config import ASSETMAP

READY_WITHIN_S = 180.0  # a million assets take a while to index
SERVED: dict[str, int] = {}  # base URL → the server's process group


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    name: str, command: Sequence[str], env: dict[str, str], ready_path: str
) -> Iterator[str]:
    """Runs `command` (which must listen on the port in env["BENCH_PORT"]) until the block ends;
    yields its base URL once `ready_path` answers 200. Its log goes to a temporary file, shown
    when it fails to start."""
    base = f"http://127.0.0.1:{env['BENCH_PORT']}"
    with tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log") as log:
        server = subprocess.Popen(
            list(command), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_until_ready(name, base + ready_path, server, Path(log.name))
            SERVED[base] = server.pid
            yield base
        finally:
            SERVED.pop(base, None)
            _stop(server)


def _wait_until_ready(name: str, url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"{name} did not answer {url} within {READY_WITHIN_S:.0f} s:\n{tail}")


def _wait_for_asset_index(base: str, settled_answers: int = 10) -> None:
    """Until /health says the asset index is built (or off) `settled_answers` times running:
    the workers answer in turn, and one still loading would spend the cores being measured."""
    deadline, settled = time.monotonic() + READY_WITHIN_S, 0
    while settled < settled_answers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the asset index at {base} did not settle in {READY_WITHIN_S} s")
        state = httpx.get(f"{base}/health", timeout=5).json().get("asset_index")
        settled = settled + 1 if state in ("current", "off") else 0
        time.sleep(0.1)


def worker_rss_mb(base: str) -> float:
    """The largest resident memory (MB) of the processes of the server at `base`: a worker's,
    each holding its own indexes."""
    group, largest = SERVED[base], 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != group:  # the process group
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                largest = max(largest, int(line.split()[1]))
    return round(largest / 1024, 1)


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@contextmanager
def assetmap(database_url: str) -> Iterator[str]:
    """`assetmap serve --port P` on the benchmark database, like `make run`."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "BENCH_PORT": str(port)}
    command = [str(ASSETMAP), "serve", "--port", str(port)]
    with serving(f"assetmap-{database_url.rsplit('/', 1)[-1]}", command, env, "/health") as base:
        _wait_for_asset_index(base)
        yield base
