"""bench/results.json (merged, so `--only` updates part of it) and the table in
docs/performance.md between its markers; the hand-written sections around them stay."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"

# key: (comparison, target, what it compares)
TARGETS: dict[str, tuple[str, float, str]] = {
    "lookup_vs_trivial_ratio": (">=", 0.75, "req/s of /api/lookup ÷ req/s of /health/live"),
    "caller_vs_trivial_ratio": (">=", 0.5, "req/s of /api/caller ÷ req/s of /health/live"),
    "nearest_vs_trivial_ratio": (
        ">=",
        0.5,
        "req/s of /api/assets/nearest?lat&lon&limit=10 at 100k assets ÷ req/s of /health/live",
    ),
    "tiles_vs_trivial_ratio": (
        ">=",
        0.3,
        "req/s of random asset tiles z10–z16 over Kirklees at 100k assets ÷ /health/live's",
    ),
    "bulk_vs_geopandas_ratio": (
        "<=",
        0.75,
        "median s of POST /api/lookup/bulk ÷ median s of geopandas sjoin",
    ),
    "nearest_1m_vs_10k_p50_ratio": (
        "<=",
        1.2,
        "p50 of /api/assets/nearest at 1M assets ÷ at 10k (worse of plain, food_bank)",
    ),
    "ogc_items_vs_tipg_ratio": (">=", 5.0, "items/s of our OGC items ÷ tipg's, same bbox pages"),
    "map_first_render_ms": (
        "<=",
        900.0,
        "ms from / to the first markers at 100k assets in headless Chromium, unthrottled",
    ),
    "index_apply_one_change_ms": (
        "<=",
        50.0,
        "p50 ms from a committed change to one asset until a worker's index holds it",
    ),
    "bench_wall_s": ("<=", 1500.0, "wall seconds of the whole run (make bench: under 25 min)"),
}
RATIO_KEYS = [k for k in TARGETS if k.endswith("_ratio")]


def met(key: str, value: Any) -> bool | None:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    comparison, target, _ = TARGETS[key]
    return value >= target if comparison == ">=" else value <= target


def merge(previous: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`new` over `previous`, section by section: a benchmark run again replaces its own keys."""
    merged = {**previous, **{k: v for k, v in new.items() if not isinstance(v, dict)}}
    for section in ("raw", "skipped", "failed", "durations_s", "machine", "method"):
        merged[section] = {**previous.get(section, {}), **new.get(section, {})}
    for key in new.get("ratios_done", []):  # a ratio measured now is no longer skipped or failed
        merged["skipped"].pop(key, None)
    for bench in new.get("benches_done", []):  # with its sizes' rows (nearest_100k, …)
        for failed in [k for k in merged["failed"] if k == bench or k.startswith(f"{bench}_")]:
            merged["failed"].pop(failed)
    merged.pop("ratios_done", None)
    merged.pop("benches_done", None)
    merged["targets"] = {
        key: {
            "target": f"{c} {t:g}",
            "what": what,
            "value": merged.get(key),
            "met": met(key, merged.get(key)),
        }
        for key, (c, t, what) in TARGETS.items()
    }
    return merged


def read(path: Path) -> dict[str, Any]:
    if path.exists():
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded
    return {}


def write(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


THROUGHPUT_ROWS = [
    ("trivial", "GET /health/live"),
    ("lookup", "GET /api/lookup?lat&lon"),
    ("caller", "GET /api/caller?postcode&needs=food_bank,library,gp_practice&at"),
    ("nearest_10k", "GET /api/assets/nearest?lat&lon&limit=10, 10k assets"),
    ("nearest_1m", "… the same, 1M assets"),
    ("nearest_food_bank_10k", "… &category=food_bank, 10k assets"),
    ("nearest_food_bank_1m", "… &category=food_bank, 1M assets"),
    ("nearest_100k", "GET /api/assets/nearest?lat&lon&limit=10, 100k assets"),
    ("tiles", "GET /tiles/assets/{z}/{x}/{y}.mvt, z10–z16 at random, 100k assets"),
    ("clusters", "GET /api/assets/clusters, whole district, zoom 11"),
    ("ogc_ours", "GET /ogc/collections/assets/items?bbox&limit"),
    ("ogc_tipg", "tipg GET /collections/bench.public_assets/items?bbox&limit"),
]


def markdown(results: dict[str, Any]) -> str:
    """The generated part of docs/performance.md."""
    raw, machine, method = (
        results.get("raw", {}),
        results.get("machine", {}),
        results.get("method", {}),
    )
    commit = (machine.get("git_commit") or "—")[:12]
    dirty = " (with uncommitted changes)" if machine.get("git_dirty") else ""
    lines = [
        f"Measured {results.get('generated_at', '—')} ({results.get('mode', 'full')} run) at "
        f"commit `{commit}`{dirty}; whole run {_fmt(results.get('bench_wall_s'), 0)} s.",
        "",
        f"Machine: {machine.get('cpus', '—')} × {machine.get('cpu_model', '—')}, "
        f"{machine.get('memory_gib', '—')} GiB, PostgreSQL {machine.get('postgresql', '—')}, "
        f"PostGIS {machine.get('postgis', '—')}, Python {machine.get('python', '—')}.",
        f"Load: {method.get('client', '—')} with {method.get('threads', '—')} threads and "
        f"{method.get('connections', '—')} connections, {_fmt(method.get('warmup_s'))} s warm-up "
        f"(not counted), then {_fmt(method.get('duration_s'))} s measured, per row (trivial, "
        f"lookup and caller interleaved in {method.get('rounds', 1)} rounds).",
        "",
        "| key | value | target | met |",
        "|---|---:|---|---|",
    ]
    for key, target in results.get("targets", {}).items():
        value = target.get("value")
        note = results.get("skipped", {}).get(key)
        shown = _fmt(value, 3 if key.endswith("ratio") else 0)
        lines.append(
            f"| `{key}` | {shown}{f' ({note})' if note and value is None else ''} | "
            f"{target['target']} | {_fmt(target.get('met'))} |"
        )
    for key in (
        "nearest_plain_1m_vs_10k_p50_ratio",
        "nearest_food_bank_1m_vs_10k_p50_ratio",
        "load_1m_assets_s",
        "index_worker_rss_mb_1m",
    ):
        if key in results:
            digits = 1 if key.endswith(("_s", "_mb_1m")) else 3
            lines.append(f"| `{key}` | {_fmt(results[key], digits)} | raw | |")
    lines += [
        "",
        "| what | req/s | p50 ms | p95 ms | p99 ms | requests | non-2xx | items/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in THROUGHPUT_ROWS:
        row = raw.get(key)
        if row:
            failed = " **(failed)**" if "failed" in row else ""
            lines.append(
                f"| {label}{failed} | {_fmt(row.get('requests_per_s'), 1)} | "
                f"{_fmt(row.get('p50_ms'))} | {_fmt(row.get('p95_ms'))} | "
                f"{_fmt(row.get('p99_ms'))} | {_fmt(row.get('requests'))} | "
                f"{_fmt(row.get('non_2xx'))} | {_fmt(row.get('items_per_s'), 0)} |"
            )
    bulk, gp = raw.get("bulk_http"), raw.get("bulk_geopandas")
    if bulk:
        lines += [
            "",
            f"Bulk lookup of {_fmt(bulk['points'])} points over HTTP: "
            f"{', '.join(_fmt(s, 2) for s in bulk['seconds'])} s (median "
            f"{_fmt(bulk['median_s'], 2)} s; {_fmt(bulk['request_bytes'])} bytes in, "
            f"{_fmt(bulk['response_bytes'])} bytes out).",
        ]
    if gp:
        lines += [
            "",
            f"geopandas {gp.get('geopandas', '')} in-process, same points, ward + LSOA + "
            f"neighbourhood: {', '.join(_fmt(s, 2) for s in gp['seconds'])} s (median "
            f"{_fmt(gp['median_s'], 2)} s).",
        ]
    page = raw.get("page")
    if page:
        lines += [
            "",
            f"Page `/`: {_fmt(page['requests'])} requests, {_fmt(page['total_bytes'])} "
            f"bytes decoded, {_fmt(page['total_sent_bytes'])} bytes sent with gzip "
            f"(HTML {_fmt(page['html_bytes'])} bytes).",
        ]
        shown = page.get("time_to_map")
        if shown:
            lines += [
                "",
                f"Time to a rendered map (`/` in headless Chromium, navigation to the first "
                f"clusters on the map, 100k assets, median of {shown['loads']}): "
                f"{_fmt(shown['unthrottled_median_ms'])} ms unthrottled, "
                f"{_fmt(shown['slow_phone_median_ms'])} ms as a slow phone (CPU 4× slower, "
                f"{shown['slow_phone']['latency_ms']} ms round trips, 1.6 Mbit/s down).",
            ]
    databases = raw.get("databases", {})
    if databases:
        lines += [
            "",
            "| database | synthetic assets | opening rules | load s (COPY, indexes, "
            "ANALYZE) | reused |",
            "|---|---:|---:|---:|---|",
        ]
        for size, meta in databases.items():
            lines.append(
                f"| {size} ({meta.get('database', '')}) | {_fmt(meta.get('assets'))} | "
                f"{_fmt(meta.get('opening_rules'))} | {_fmt(meta.get('load_s'))} | "
                f"{_fmt(meta.get('reused'))} |"
            )
    for bench, message in results.get("failed", {}).items():
        lines += ["", f"**Failed: {bench}**: {message}"]
    return "\n".join(lines)


def update_docs(path: Path, results: dict[str, Any]) -> None:
    """Replaces the text between the markers; adds them at the end when missing."""
    text = path.read_text() if path.exists() else ""
    block = f"{BEGIN}\n{markdown(results)}\n{END}"
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
    path.write_text(text)
