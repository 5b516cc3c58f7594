"""tipg (developmentseed's OGC API Features server) as the baseline for our OGC items: in its
own virtualenv, bench/.tipg-venv (git-ignored; its pins may clash with ours), served by uvicorn
with as many workers as ours, over the view bench.public_assets (the public tier only)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.servers import free_port, serving

VENV = Path(__file__).with_name(".tipg-venv")
REQUIREMENT = "tipg==1.6.1"
COLLECTION = "bench.public_assets"


def ensure_venv() -> Path:
    """The venv's python, installing tipg and uvicorn the first time."""
    python = VENV / "bin" / "python"
    marker = VENV / ".installed"
    if not marker.exists() or marker.read_text() != REQUIREMENT:
        print(f"installing {REQUIREMENT} into {VENV}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", REQUIREMENT, "uvicorn"], check=True
        )
        marker.write_text(REQUIREMENT)
    return python


def workers() -> int:
    """The same count as `assetmap serve` uses by default."""
    from app.settings import get_settings

    return get_settings().workers or os.cpu_count() or 1


@contextmanager
def tipg(database_url: str) -> Iterator[str]:
    python = ensure_venv()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TIPG_DB_SCHEMAS": '["bench"]',
        "TIPG_DB_TABLES": f'["{COLLECTION}"]',
        "BENCH_PORT": str(port),
    }
    command = [
        str(python),
        "-m",
        "uvicorn",
        "tipg.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers()),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with serving("tipg", command, env, "/healthz") as base:
        yield base
