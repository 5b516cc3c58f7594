"""`python -m bench --smoke` runs end to end (its own tiny database, a server started like
`make run`, the Python load client), so the benchmark code cannot rot. Not a timed test: it
checks the shape of the results, never the numbers."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.config import ROOT, SMOKE_DATABASE
from bench.report import BEGIN, END, RATIO_KEYS, TARGETS, merge, update_docs

THROUGHPUT = ["trivial", "lookup", "caller", "nearest_10k", "nearest_1m",
              "nearest_food_bank_10k", "nearest_food_bank_1m", "clusters", "ogc_ours",
              "nearest_100k", "tiles"]  # fmt: skip


@pytest.mark.slow
def test_bench_smoke_writes_every_key_with_positive_ratios(tmp_path: Path) -> None:
    if os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1] == SMOKE_DATABASE:
        pytest.skip(f"{SMOKE_DATABASE} is the suite's own database here: its synthetic assets "
                    "would change what the other tests find")  # fmt: skip
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads(out.read_text())

    assert results["mode"] == "smoke"
    assert results["failed"] == {}
    assert set(TARGETS) <= set(results)
    for key in RATIO_KEYS:
        value = results[key]
        if key == "ogc_items_vs_tipg_ratio" and value is None:
            assert results["skipped"][key]  # tipg is skipped in smoke mode, with a reason
            continue
        assert isinstance(value, float) and math.isfinite(value) and value > 0, (key, value)
    assert results["load_1m_assets_s"] > 0
    assert results["index_worker_rss_mb_1m"] > 0
    assert 0 < results["index_apply_one_change_ms"] <= results["raw"]["index_apply"]["max_ms"]
    assert results["map_first_render_ms"] > 0
    raw = results["raw"]
    for name in THROUGHPUT:
        assert raw[name]["requests"] > 0, name
        assert raw[name]["non_2xx"] == 0 and raw[name]["socket_errors"] == 0, name
        assert raw[name]["p50_ms"] <= raw[name]["p95_ms"] <= raw[name]["p99_ms"], name
    assert len(raw["bulk_http"]["seconds"]) == len(raw["bulk_geopandas"]["seconds"]) == 3
    assert len(raw["lookup"]["rounds_requests_per_s"]) == 2  # interleaved with trivial, caller
    assert raw["page"]["total_bytes"] > raw["page"]["html_bytes"] > 0
    assert raw["databases"]["1m"]["database"] == SMOKE_DATABASE
    assert "lookup_vs_trivial_ratio" in out.with_suffix(".md").read_text()


def test_bench_never_writes_the_committed_results_in_smoke_mode() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 2 and "--out" in done.stderr


def test_bench_only_merges_into_the_previous_results() -> None:
    previous = merge(
        {},
        {
            "lookup_vs_trivial_ratio": 0.5,
            "raw": {"lookup": {"x": 1}},
            "failed": {"ogc": "boom", "nearest_100k": "4 non-2xx", "caller": "kept"},
            "skipped": {"ogc_items_vs_tipg_ratio": "?"},
        },
    )
    again = merge(
        previous,
        {
            "ogc_items_vs_tipg_ratio": 6.0,
            "raw": {"ogc_ours": {"y": 2}},
            "ratios_done": ["ogc_items_vs_tipg_ratio"],
            "benches_done": ["ogc", "nearest"],
        },
    )

    assert again["lookup_vs_trivial_ratio"] == 0.5 and again["ogc_items_vs_tipg_ratio"] == 6.0
    assert set(again["raw"]) == {"lookup", "ogc_ours"}
    assert again["failed"] == {"caller": "kept"} and again["skipped"] == {}
    assert again["targets"]["ogc_items_vs_tipg_ratio"]["met"] is True
    assert again["targets"]["lookup_vs_trivial_ratio"]["met"] is False


def test_bench_docs_table_replaces_only_the_text_between_the_markers(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\nhand-written\n\n{BEGIN}\nold\n{END}\n\n## Optimisations\n")
    update_docs(doc, merge({}, {"caller_vs_trivial_ratio": 0.55}))

    text = doc.read_text()
    assert "old" not in text and "hand-written" in text and text.endswith("## Optimisations\n")
    assert "| `caller_vs_trivial_ratio` | 0.550 | >= 0.5 | yes |" in text
