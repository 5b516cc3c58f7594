"""`python -m bench`: prepares the benchmark databases, serves them like `make run`, measures,
writes bench/results.json and the table in docs/performance.md.

    python -m bench                         # everything (make bench)
    python -m bench --only lookup,caller    # a subset, merged into the existing results
    python -m bench --smoke --out /tmp/r.json   # tiny sizes, seconds, for the test suite
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from bench import bulk, page, render, report, servers, suites, synthetic, tipg
from bench.config import BENCHMARKS, DOCS, RESULTS, Plan, plan_for
from bench.load import LoadFailed, interleaved, load_settings, postgres_connections, succeeded
from bench.machine import describe
from bench.places import District, live_postcodes

MAIN_BENCHES = {"lookup", "caller", "bulk", "ogc", "clusters", "page", "nearest", "tiles", "index"}
INTERLEAVED = ("lookup", "caller", "nearest", "tiles")  # each measured against trivial


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"Comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--smoke", action="store_true", help="Tiny sizes and 1 s runs (tests)")
    parser.add_argument("--out", type=Path, help="Results file (default bench/results.json)")
    parser.add_argument("--duration", type=float, help="Seconds per measured run")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], help="Load client")
    args = parser.parse_args(argv)
    args.benches = set(BENCHMARKS if not args.only else args.only.split(","))
    unknown = args.benches - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    if args.smoke and (args.out is None or args.out.resolve() == RESULTS):
        parser.error("--smoke writes to a file given with --out, never bench/results.json")
    args.out = args.out or RESULTS
    return args


class Run:
    """What one run gathers: raw figures, ratios, skips, failures and timings."""

    def __init__(self) -> None:
        self.raw: dict[str, Any] = {}
        self.ratios: dict[str, float | None] = {}
        self.skipped: dict[str, str] = {}
        self.failed: dict[str, str] = {}
        self.durations: dict[str, float] = {}
        self.done: list[str] = []
        self.ogc_pages: list[tuple[int, int | None]] = []  # ours, for tipg to match

    @contextmanager
    def bench(self, name: str) -> Iterator[None]:
        """Times a benchmark; a failure is recorded (and fails the run at the end), not raised;
        the figures of a failed run stay in raw[name], marked failed."""
        say(f"== {name}")
        began = time.perf_counter()
        try:
            yield
            self.done.append(name)
        except (LoadFailed, RuntimeError, OSError) as exc:
            self.failed[name] = str(exc)
            if isinstance(exc, LoadFailed) and exc.figures:
                self.raw[name] = {**exc.figures, "failed": str(exc)}
            say(f"!! {name} failed: {exc}")
        finally:
            self.durations[name] = round(time.perf_counter() - began, 1)

    def ratio(self, key: str, compute: Callable[[], float]) -> None:
        try:
            value = compute()
        except (KeyError, ZeroDivisionError, statistics.StatisticsError) as exc:
            self.skipped[key] = f"not measured: {exc.args[0] if exc.args else exc}"
            return
        self.ratios[key] = round(value, 4)


def run(plan: Plan, benches: set[str]) -> dict[str, Any]:
    started = time.perf_counter()
    load = load_settings(plan)
    result = Run()
    sizes = ({plan.main_size} if benches & MAIN_BENCHES else set()) | (
        {"10k", "1m"} if "nearest" in benches else set()
    )
    databases: dict[str, Any] = {}
    with result.bench("prepare"):
        for size in sorted(sizes, key=lambda s: plan.sizes[s]):
            if plan.databases[size] in {m["database"] for m in databases.values()}:
                databases[size] = next(
                    m for m in databases.values() if m["database"] == plan.databases[size]
                )
                continue
            meta = synthetic.prepare(plan.url(size), plan.sizes[size], plan.seed, say)
            databases[size] = {**meta, "database": plan.databases[size]}
    if "prepare" in result.failed:
        raise SystemExit(f"the benchmark databases could not be prepared: {result.failed}")
    result.raw["databases"] = databases
    connections = postgres_connections()
    result.raw["postgres_connections_at_start"] = connections
    say(f"PostgreSQL: {connections}; each server under test opens up to pool + overflow a worker")
    if "1m" in databases:
        result.ratios["load_1m_assets_s"] = databases["1m"]["load_s"]

    main_url = plan.url(plan.main_size if plan.main_size in sizes else next(iter(sizes)))
    rng = np.random.default_rng(plan.seed)
    with psycopg.connect(main_url) as conn:
        district = District.read(conn)
        postcodes = live_postcodes(conn, plan.sample_places, plan.seed)
    lon, lat = district.sample_lonlat(plan.sample_places, rng)
    queries = suites.ogc_queries(
        district.boxes(plan.ogc_boxes, plan.ogc_box_m, rng), plan.ogc_limit
    )
    bulk_lon, bulk_lat = district.sample_lonlat(plan.bulk_points, rng)

    if benches & MAIN_BENCHES:
        with servers.assetmap(plan.url(plan.main_size)) as base:
            _main_benches(
                plan,
                benches,
                load,
                result,
                base,
                (lon, lat),
                postcodes,
                queries,
                district,
                (bulk_lon, bulk_lat),
            )
    if "ogc" in benches:
        _tipg(plan, load, result, queries)
    if "bulk" in benches and "bulk" not in result.failed:
        with result.bench("bulk geopandas"):
            layers = bulk.read_layers(plan.url(plan.main_size))
            result.raw["bulk_geopandas"] = bulk.geopandas_baseline(
                layers, bulk_lon, bulk_lat, plan.bulk_repeats
            )
        result.ratio(
            "bulk_vs_geopandas_ratio",
            lambda: result.raw["bulk_http"]["median_s"] / result.raw["bulk_geopandas"]["median_s"],
        )
    if "nearest" in benches:
        _nearest(plan, load, result, lon, lat)

    output: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "smoke" if plan.smoke else "full",
        "machine": describe(main_url),
        "method": {
            "client": load.client,
            "threads": load.threads,
            "connections": load.connections,
            "duration_s": load.duration_s,
            "rounds": plan.rounds,
            "warmup_s": load.warmup_s,
            "sizes": plan.sizes,
            "databases": plan.databases,
            "bulk_points": plan.bulk_points,
            "bulk_repeats": plan.bulk_repeats,
            "sample_places": plan.sample_places,
            "ogc_boxes": plan.ogc_boxes,
            "ogc_box_m": plan.ogc_box_m,
            "ogc_limit": plan.ogc_limit,
            "throughput_database": plan.databases[plan.main_size],
            "nearest_key": "the worse (larger) of the plain and the category=food_bank ratio",
        },
        **result.ratios,
        "raw": result.raw,
        "skipped": result.skipped,
        "failed": result.failed,
        "durations_s": result.durations,
        "ratios_done": [k for k, v in result.ratios.items() if v is not None],
        "benches_done": result.done,
        "bench_wall_s": round(time.perf_counter() - started, 1),
    }
    return output


def _main_benches(
    plan: Plan,
    benches: set[str],
    load: Any,
    result: Run,
    base: str,
    points: tuple[np.ndarray, np.ndarray],
    postcodes: list[str],
    queries: list[str],
    district: District,
    bulk_points: tuple[np.ndarray, np.ndarray],
) -> None:
    """Everything measured on the main (100k) server."""
    raw = result.raw
    # raw names: nearest at the main size is "nearest_100k" (10k and 1M are the nearest bench's)
    stored = {"nearest": f"nearest_{plan.main_size}"}
    if benches & set(INTERLEAVED):
        with result.bench(", ".join(n for n in INTERLEAVED if n in benches)):
            named = {
                name: paths
                for name, paths in suites.throughput_paths(*points, postcodes, plan.seed).items()
                if name in benches or name == "trivial"
            }
            for name, outcome in interleaved(base, named, load, plan.rounds).items():
                key = stored.get(name, name)
                if isinstance(outcome, LoadFailed):
                    raw[key] = {**(outcome.figures or {}), "failed": str(outcome)}
                    result.failed[key] = str(outcome)
                else:
                    raw[key] = outcome
        for name in INTERLEAVED:
            if name in benches:

                def over_trivial(n: str = stored.get(name, name)) -> float:
                    trivial = succeeded(raw, "trivial")["requests_per_s"]
                    return float(succeeded(raw, n)["requests_per_s"] / trivial)

                result.ratio(f"{name}_vs_trivial_ratio", over_trivial)
    if "index" in benches:
        with result.bench("index"):
            raw["index_apply"] = suites.apply_one_change(
                base, plan.url(plan.main_size), plan.index_changes
            )
        result.ratio("index_apply_one_change_ms", lambda: raw["index_apply"]["p50_ms"])
    if "clusters" in benches:
        with result.bench("clusters"):
            raw.update(suites.clusters(base, load, district.bbox_lonlat()))
    if "page" in benches:
        with result.bench("page"):
            raw["page"] = page.weigh(base)
            raw["page"]["time_to_map"] = render.time_to_map(base, loads=1 if plan.smoke else 3)
        result.ratio(
            "map_first_render_ms", lambda: raw["page"]["time_to_map"]["unthrottled_median_ms"]
        )
    if "ogc" in benches:
        with result.bench("ogc_ours"):
            result.ogc_pages = suites.ogc_pages(base, queries)
            raw["ogc_ours"] = suites.ogc_ours(base, load, queries, result.ogc_pages)
    if "bulk" in benches:
        with result.bench("bulk"):
            raw["bulk_http"] = bulk.over_http(base, *bulk_points, plan.bulk_repeats)


def _tipg(plan: Plan, load: Any, result: Run, queries: list[str]) -> None:
    """tipg on the same pages as ours; skipped in smoke mode, or when it cannot be installed."""
    key = "ogc_items_vs_tipg_ratio"
    if plan.smoke:
        result.skipped[key] = "not run in smoke mode (tipg is not installed for the test suite)"
        result.ratios[key] = None
        return
    if not result.ogc_pages:
        result.skipped[key] = "not measured: our OGC pages could not be read"
        return
    try:
        tipg.ensure_venv()
    except Exception as exc:  # no registry, no tipg: say so rather than fail the whole run
        result.skipped[key] = f"tipg could not be installed: {exc}"
        return
    with result.bench("ogc_tipg"):
        result.raw["ogc_tipg"] = suites.ogc_tipg(
            plan.url(plan.main_size), load, queries, result.ogc_pages
        )
    result.ratio(
        key,
        lambda: (
            succeeded(result.raw, "ogc_ours")["items_per_s"]
            / succeeded(result.raw, "ogc_tipg")["items_per_s"]
        ),
    )


def _nearest(plan: Plan, load: Any, result: Run, lon: np.ndarray, lat: np.ndarray) -> None:
    """10k then 1M, one server at a time (the PostgreSQL server's connections are shared), the
    same points; sizes that share a database (smoke) share a server."""
    with result.bench("nearest"):
        by_database: dict[str, list[str]] = {}
        for size in ("10k", "1m"):
            by_database.setdefault(plan.databases[size], []).append(size)
        measured: dict[str, Any] = {}
        for sizes in by_database.values():
            with servers.assetmap(plan.url(sizes[0])) as base:
                for size in sizes:
                    measured.update(suites.nearest(base, size, load, lon, lat))
                if "1m" in sizes:  # each worker's memory, holding the million assets' index
                    result.ratios["index_worker_rss_mb_1m"] = servers.worker_rss_mb(base)
        result.raw.update(measured)
        failures = [v["failed"] for v in measured.values() if "failed" in v]
        if failures:
            raise LoadFailed("; ".join(failures))
    raw = result.raw
    for name in ("nearest", f"nearest_{suites.NEAREST_CATEGORY}"):
        key = "plain" if name == "nearest" else suites.NEAREST_CATEGORY

        def p50_ratio(n: str = name) -> float:
            return float(succeeded(raw, f"{n}_1m")["p50_ms"] / succeeded(raw, f"{n}_10k")["p50_ms"])

        result.ratio(f"nearest_{key}_1m_vs_10k_p50_ratio", p50_ratio)
    both = [
        result.ratios.get(f"nearest_{k}_1m_vs_10k_p50_ratio")
        for k in ("plain", suites.NEAREST_CATEGORY)
    ]
    if all(v is not None for v in both):
        result.ratios["nearest_1m_vs_10k_p50_ratio"] = max(v for v in both if v is not None)
    else:
        keys = [f"nearest_{k}_1m_vs_10k_p50_ratio" for k in ("plain", suites.NEAREST_CATEGORY)]
        result.skipped["nearest_1m_vs_10k_p50_ratio"] = "; ".join(
            result.skipped[k] for k in keys if k in result.skipped
        )


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    plan = plan_for(args.smoke, args.duration, args.client)
    fresh = run(plan, args.benches)
    if args.only:  # the whole run's wall time stays the last full run's
        fresh["durations_s"]["partial_run"] = fresh.pop("bench_wall_s")
    results = report.merge(report.read(args.out) if args.only else {}, fresh)
    report.write(args.out, results)
    if args.out.resolve() == RESULTS.resolve():
        report.update_docs(DOCS, results)
        say(f"wrote {args.out} and {DOCS}")
    else:
        args.out.with_suffix(".md").write_text(report.markdown(results) + "\n")
        say(f"wrote {args.out}")
    for key, target in results["targets"].items():
        say(f"{key}: {target['value']} (target {target['target']}, met: {target['met']})")
    if results["failed"]:
        say(f"FAILED: {', '.join(results['failed'])}")
        sys.exit(1)
