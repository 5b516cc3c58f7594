"""The benchmark databases: real Kirklees geography and seed assets (`assetmap db bootstrap`,
`assetmap load all`), plus N synthetic assets loaded with COPY.

Every synthetic row says what it is: `synthetic = true`, `source = 'bench'`, a name like
"Synthetic asset 123456". Points are uniform over the district polygon; categories follow a
mix like the real register's; most are public and active; about half have weekly hours. A
database that already holds exactly N is reused; the build's timings live in `bench.meta`."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg.types.json import Jsonb

from app.geo.assets import DEFAULT_STATUSES
from bench.config import ASSETMAP
from bench.places import District

Say = Callable[[str], None]

# Relative weights; a category the taxonomy gains later gets weight 1.
CATEGORY_WEIGHTS = {
    "food_bank": 5, "mutual_aid_group": 2, "community_centre": 10, "library": 3,
    "gp_practice": 5, "pharmacy": 8, "vcs_anchor": 4, "council_hub": 1, "warm_space": 10,
    "advice": 8, "youth": 8, "carers": 4, "mental_health": 6, "faith_group": 12, "other": 14,
}  # fmt: skip
VISIBILITY_SHARES = {"public": 0.9, "professional": 0.08, "hidden": 0.02}
WITH_HOURS_SHARE = 0.5

WEEKDAYS = range(5)
# Weekly opening patterns (day 0 = Monday) and how often each occurs.
HOURS_PATTERNS: list[tuple[int, list[tuple[int, str, str]]]] = [
    (5, [(d, "09:00", "17:00") for d in WEEKDAYS]),
    (2, [*((d, "09:00", "17:00") for d in WEEKDAYS), (5, "10:00", "13:00")]),
    (2, [(d, "08:30", "18:00") for d in range(6)]),
    (2, [(1, "10:00", "14:00"), (3, "10:00", "14:00")]),
    (1, [(0, "18:00", "21:00"), (2, "18:00", "21:00"), (4, "18:00", "21:00")]),
    (1, [(d, "07:00", "23:00") for d in range(7)]),
]
CHUNK = 50_000
NUMBER_MARK = "987654321"

META_DDL = """
    CREATE SCHEMA IF NOT EXISTS bench;
    CREATE TABLE IF NOT EXISTS bench.meta (key text PRIMARY KEY, value jsonb NOT NULL);
"""
PUBLIC_VIEW = f"""
    CREATE OR REPLACE VIEW bench.public_assets AS
    SELECT id, name, category, geom FROM public.asset
    WHERE visibility = 'public' AND status IN ({", ".join(f"'{s}'" for s in DEFAULT_STATUSES)})
"""


def bootstrap(url: str, say: Say) -> None:
    """`assetmap db bootstrap` and `assetmap load all`, as `make run` does (idempotent)."""
    env = {**os.environ, "DATABASE_URL": url}
    for step in (["db", "bootstrap"], ["load", "all"]):
        say(f"{url.rsplit('/', 1)[-1]}: assetmap {' '.join(step)}")
        if subprocess.run([str(ASSETMAP), *step], env=env).returncode != 0:
            raise SystemExit(
                f"`assetmap {' '.join(step)}` failed on {url} (above); a benchmark database "
                "migrated by another checkout can be dropped, the next run rebuilds it"
            )


def prepare(url: str, assets: int, seed: int, say: Say) -> dict[str, Any]:
    """The database at `url` with exactly `assets` synthetic assets; the build's figures."""
    bootstrap(url, say)
    name = url.rsplit("/", 1)[-1]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(META_DDL)
        conn.execute(PUBLIC_VIEW)
        have = conn.execute("SELECT count(*) FROM asset WHERE source = 'bench'").fetchone()
        meta = conn.execute("SELECT value FROM bench.meta WHERE key = 'synthetic'").fetchone()
        if have and have[0] == assets and meta and meta[0].get("assets") == assets:
            say(f"{name}: reusing its {assets:,} synthetic assets (built {meta[0]['built_at']})")
            return {**meta[0], "reused": True}
        if have and have[0]:
            say(f"{name}: removing {have[0]:,} synthetic assets of another size")
            conn.execute("DELETE FROM asset WHERE source = 'bench'")
        built = load(conn, assets, seed, lambda m: say(f"{name}: {m}"))
        conn.execute(
            "INSERT INTO bench.meta VALUES ('synthetic', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (Jsonb(built),),
        )
    return {**built, "reused": False}


def _droppable_indexes(conn: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that no constraint owns: rebuilt after COPY."""
    rows = conn.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
           WHERE i.indrelid = %s::regclass
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        (table,),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def _weighted(rng: np.random.Generator, choices: dict[str, float], n: int) -> np.ndarray:
    names = list(choices)
    weights = np.array([choices[c] for c in names], dtype=float)
    return np.array(names)[rng.choice(len(names), size=n, p=weights / weights.sum())]


def load(conn: psycopg.Connection, n: int, seed: int, say: Say) -> dict[str, Any]:
    """COPY n synthetic assets and their hours in one transaction, indexes rebuilt after."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed + n)
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")  # no per-row triggers
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        conn.execute("SET LOCAL synchronous_commit = off")
        codes = [r[0] for r in conn.execute("SELECT code FROM category ORDER BY sort_order")]
        search = conn.execute(
            "SELECT setweight(to_tsvector('english', %s), 'A')::text",
            (f"Synthetic asset {NUMBER_MARK}",),
        ).fetchone()
        assert search is not None
        row = conn.execute("SELECT coalesce(max(id), 0) FROM asset").fetchone()
        first_id = int(row[0] if row else 0) + 1

        say(f"generating {n:,} synthetic assets")
        district = District.read(conn)
        lon, lat = district.sample_lonlat(n, rng)
        points = shapely.set_srid(shapely.points(lon, lat), 4326)
        wkb = shapely.to_wkb(points, hex=True, include_srid=True)
        categories = _weighted(rng, {c: CATEGORY_WEIGHTS.get(c, 1) for c in codes}, n)
        visibility = _weighted(rng, VISIBILITY_SHARES, n)
        verified = (np.datetime64("today") - rng.integers(0, 500, n)).astype(str)
        ids = np.arange(first_id, first_id + n)

        indexes = [*_droppable_indexes(conn, "asset"), *_droppable_indexes(conn, "opening_rule")]
        for index_name, _ in indexes:
            conn.execute(f"DROP INDEX {index_name}")

        say(f"copying {n:,} assets")
        tsv = search[0]

        def asset_lines() -> Iterator[str]:
            for start in range(0, n, CHUNK):
                yield "".join(
                    f"{ids[i]}\tSynthetic asset {i + 1}\t{categories[i]}\t{wkb[i]}\tactive\t"
                    f"{visibility[i]}\tbench\tt\t{tsv.replace(NUMBER_MARK, str(i + 1))}\t"
                    f"{verified[i]}\n"
                    for i in range(start, min(n, start + CHUNK))
                )

        columns = "id, name, category, geom, status, visibility, source, synthetic, search, "
        _copy(conn, f"COPY asset ({columns}last_verified) FROM STDIN", asset_lines())
        copied_assets_s = time.perf_counter() - started

        with_hours = ids[rng.random(n) < WITH_HOURS_SHARE]
        weights = np.array([w for w, _ in HOURS_PATTERNS], dtype=float)
        pattern_of = rng.choice(
            len(HOURS_PATTERNS), size=len(with_hours), p=weights / weights.sum()
        )
        rules = sum(len(HOURS_PATTERNS[p][1]) for p in pattern_of)
        say(f"copying {rules:,} opening rules for {len(with_hours):,} assets")

        def rule_lines() -> Iterator[str]:
            for p, (_, pattern) in enumerate(HOURS_PATTERNS):
                chosen = with_hours[pattern_of == p]
                for start in range(0, len(chosen), CHUNK):
                    part = chosen[start : start + CHUNK]
                    yield "".join(
                        f"{i}\t{day}\t{opens}\t{closes}\n"
                        for i in part
                        for day, opens, closes in pattern
                    )

        _copy(conn, "COPY opening_rule (asset_id, day, opens, closes) FROM STDIN", rule_lines())
        copied_s = time.perf_counter() - started

        say(f"rebuilding {len(indexes)} indexes")
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("SELECT setval(pg_get_serial_sequence('asset', 'id'), max(id)) FROM asset")
    indexed_s = time.perf_counter() - started
    say("analyzing")
    conn.execute("ANALYZE asset")
    conn.execute("ANALYZE opening_rule")
    load_s = time.perf_counter() - started
    say(f"{n:,} assets and {rules:,} opening rules loaded in {load_s:.1f} s")
    return {
        "assets": n,
        "opening_rules": int(rules),
        "assets_with_hours": len(with_hours),
        "copy_assets_s": round(copied_assets_s, 2),
        "copy_s": round(copied_s, 2),
        "index_s": round(indexed_s - copied_s, 2),
        "load_s": round(load_s, 2),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _copy(conn: psycopg.Connection, statement: str, chunks: Iterator[str]) -> None:
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for chunk in chunks:
            copy.write(chunk)
