"""What one run measures with: database sizes, durations, concurrency, sample counts.

`FULL` is `make bench`; `SMOKE` is the test suite's quick pass (tiny sizes, one database)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
ASSETMAP = BIN / "assetmap"
# The PostgreSQL server of DATABASE_URL (the benchmark databases live beside the app's).
PG_BASE = os.environ.get("BENCH_PG_BASE") or os.environ.get(
    "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/assetmap"
).rsplit("/", 1)[0].replace("postgresql+psycopg:", "postgresql:")
RESULTS = ROOT / "bench" / "results.json"
DOCS = ROOT / "docs" / "performance.md"

BENCHMARKS = ("lookup", "caller", "bulk", "nearest", "ogc", "clusters", "page", "tiles", "index")


@dataclass(frozen=True)
class Plan:
    """Sizes name the databases: `sizes["1m"]` synthetic assets in `databases["1m"]`."""

    smoke: bool
    sizes: dict[str, int]
    databases: dict[str, str]
    duration_s: float = 15.0
    warmup_s: float = 5.0
    threads: int = 2
    connections: int = 32
    rounds: int = 3  # trivial, lookup and caller measured in turn, this many times round
    bulk_points: int = 100_000
    bulk_repeats: int = 3
    sample_places: int = 2000
    ogc_boxes: int = 200
    ogc_box_m: float = 2000.0
    ogc_limit: int = 100
    index_changes: int = 40  # changes committed one by one, each timed until a worker holds it
    client: str = "auto"  # auto (wrk when installed), wrk, python
    seed: int = 20261130

    def url(self, size: str) -> str:
        return f"{PG_BASE}/{self.databases[size]}"

    @property
    def main_size(self) -> str:
        """The database the throughput, bulk and OGC benchmarks use."""
        return "100k"


FULL = Plan(
    smoke=False,
    sizes={"10k": 10_000, "100k": 100_000, "1m": 1_000_000},
    databases={
        "10k": "assetmap_bench_10k",
        "100k": "assetmap_bench_100k",
        "1m": "assetmap_bench_1m",
    },
)

SMOKE_DATABASE = "assetmap_bench_smoke_test"
SMOKE = Plan(
    smoke=True,
    sizes={"10k": 300, "100k": 300, "1m": 300},
    databases={"10k": SMOKE_DATABASE, "100k": SMOKE_DATABASE, "1m": SMOKE_DATABASE},
    duration_s=1.0,
    warmup_s=0.3,
    threads=1,
    connections=4,
    rounds=2,
    bulk_points=2000,
    sample_places=200,
    ogc_boxes=20,
    ogc_box_m=4000.0,
    ogc_limit=20,
    index_changes=5,
    client="python",
)


def plan_for(smoke: bool, duration: float | None, client: str | None) -> Plan:
    plan = SMOKE if smoke else FULL
    if duration is not None:
        plan = replace(plan, duration_s=duration, warmup_s=min(plan.warmup_s, duration))
    if client is not None:
        plan = replace(plan, client=client)
    return plan
