"""Load every layer of the bundle in one transaction, so a reload never shows half a layer.

Run by `assetmap load geography` (and so by `make run` / `make test`); skipped when neither the
bundle, the project's definitions nor this loader changed since the last load.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, text

from app.db import create_sync_engine
from app.geo import footprints, store
from app.geo import population as population_points
from app.geo.store import AreaRow, LayerRecord
from app.settings import Settings
from boundaries import bundle
from boundaries.spec import (
    HERE,
    BundleSpec,
    LayerSpec,
    check_bundle,
    fingerprint,
    load_spec,
    read_hubs,
)

LOADER_VERSION = "geography-4"  # 4: the 2026 PCN membership as a second neighbourhood vintage
Report = Callable[[str], None]


@dataclass
class LoadReport:
    skipped: bool = False
    layers: dict[str, int] = field(default_factory=dict)
    repaired: dict[str, list[str]] = field(default_factory=dict)
    postcodes: int = 0
    population_points: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "layers": self.layers,
            "repaired": self.repaired,
            "postcodes": self.postcodes,
            "population_points": self.population_points,
            "seconds": round(self.seconds, 2),
        }


class Progress:
    """Numbered steps with timings, so a long load shows where it is."""

    def __init__(self, report: Report, steps: int) -> None:
        self.report, self.steps, self.done = report, steps, 0
        self.started = time.perf_counter()

    def step(self, message: str) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.started
        self.report(f"[{self.done}/{self.steps} {elapsed:5.1f}s] {message}")


def _record(spec: LayerSpec, inputs: dict[str, Any]) -> LayerRecord:
    return LayerRecord(spec.name, spec.vintage, spec.title, spec.source, spec.method, inputs)


def _load_file_layer(
    conn: Connection,
    spec: LayerSpec,
    data_dir: Path,
    population: dict[str, int] | None = None,
) -> tuple[int, list[str]]:
    assert spec.file and spec.code_field and spec.name_field
    features = bundle.read_features(data_dir / spec.file, spec.code_field, spec.name_field)
    layer_id = store.replace_layer(conn, _record(spec, {"file": spec.file}))
    rows = [AreaRow(f.code, f.name, f.wkb, (population or {}).get(f.code)) for f in features]
    repaired = store.insert_areas(conn, layer_id, rows)
    if repaired:
        store.set_layer_inputs(conn, layer_id, {"repaired_with_st_makevalid": repaired})
    return layer_id, repaired


def _deprivation_rows(
    conn: Connection,
    spec: BundleSpec,
    data_dir: Path,
    lsoa_layer_id: int,
    imd2019: list[bundle.Imd2019],
) -> list[dict[str, Any]]:
    """IoD 2019 by LSOA 2011, with IoD 2025 joined by code; see docs/geography.md for the rest."""
    imd2025 = {r.lsoa21_code: r for r in bundle.read_imd2025(data_dir / spec.deprivation.imd2025)}
    codes2011 = {r.lsoa_code for r in imd2019}
    new_codes = set(imd2025) - codes2011
    new_features = [
        (f.code, f.wkb)
        for f in bundle.read_features(
            data_dir / spec.deprivation.lsoa2021, "lsoa21_code", "lsoa21_name"
        )
        if f.code in new_codes
    ]
    parents = store.lsoa2021_parents(conn, lsoa_layer_id, new_features)
    rows = []
    for r in imd2019:
        twin = imd2025.get(r.lsoa_code)
        children = [] if twin else parents.get(r.lsoa_code, [])
        deciles = {imd2025[c].decile for c in children}
        if twin:
            match, source = "same_code", twin
        elif len(children) == 1:
            match, source = "merged", imd2025[children[0]]
        else:  # split between 2021 LSOAs (or unmatched): no single 2025 decile
            match, source = "split", None
        rows.append(
            {
                "lsoa_code": r.lsoa_code,
                "lsoa_name": r.lsoa_name,
                "population": r.population,
                "imd2019_rank": r.rank,
                "imd2019_decile": r.decile,
                "imd2019_domains": r.domains,
                "imd2025_rank": source.rank if source else None,
                "imd2025_decile": source.decile if source else None,
                "imd2025_score": source.score if source else None,
                "imd2025_domains": source.domains if source else {"split_deciles": sorted(deciles)},
                "imd2025_match": match,
                "imd2025_lsoa21": [r.lsoa_code] if twin else children,
            }
        )
    return rows


def _load_hubs(conn: Connection, spec: LayerSpec, ward_layer_id: int) -> int:
    assert spec.definition
    hubs = read_hubs(HERE / spec.definition, store.area_codes(conn, ward_layer_id))

    layer_id = store.replace_layer(conn, _record(spec, {"definition": spec.definition}))
    store.insert_unions(
        conn, layer_id, ward_layer_id, [(h.code, h.name, h.ward_codes) for h in hubs]
    )
    return layer_id


def _load_neighbourhoods(
    conn: Connection, spec: LayerSpec, data_dir: Path, lsoa_layer_id: int, district_layer_id: int
) -> tuple[int, dict[str, Any]]:
    assert spec.pcns and (spec.practices or spec.membership)
    pcns = bundle.read_pcns(data_dir / spec.pcns)
    if spec.membership:
        practices, excluded = bundle.read_membership(data_dir / spec.membership)
    else:
        assert spec.practices
        practices, excluded = bundle.footprint_practices(
            bundle.read_practices(data_dir / spec.practices)
        )
    practices = [p for p in practices if p.pcn_code in {pcn.code for pcn in pcns}]
    assignments = footprints.assign_lsoas(conn, lsoa_layer_id, practices)
    inputs = {
        "pcns": spec.pcns,
        "practices": spec.membership or spec.practices,
        "lsoa_vintage": spec.from_vintage,
        "member_practices_used": len(practices),
        "practices_excluded": excluded,
        "assignment": {
            a.lsoa_code: [a.pcn_code, a.practice_code, round(a.distance_m)] for a in assignments
        },
    }
    layer_id = store.replace_layer(conn, _record(spec, inputs), make_current=spec.current)
    footprints.build_footprints(
        conn,
        layer_id,
        lsoa_layer_id,
        district_layer_id,
        assignments,
        practices,
        {pcn.code: pcn.name for pcn in pcns},
    )
    return layer_id, inputs


def _stored_fingerprint(conn: Connection) -> str | None:
    return conn.execute(text("SELECT fingerprint FROM data_load WHERE name = 'geography'")).scalar()


def load_geography(settings: Settings, report: Report = print, force: bool = False) -> LoadReport:
    """Load or reload every layer, the deprivation table and the postcodes, atomically."""
    spec = load_spec()
    data_dir = settings.data_dir
    check_bundle(spec, data_dir)
    wanted = fingerprint(spec, data_dir, LOADER_VERSION)
    result = LoadReport()
    started = time.perf_counter()
    engine = create_sync_engine(settings)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('assetmap:geography'))"))
            if not force and _stored_fingerprint(conn) == wanted:
                report("geography is up to date (bundle and definitions unchanged)")
                result.skipped = True
                return result
            steps = 7 + len(spec.layers_named("neighbourhood"))
            _load_all(conn, spec, data_dir, result, Progress(report, steps))
            result.seconds = time.perf_counter() - started
            conn.execute(
                text(
                    """
                    INSERT INTO data_load (name, fingerprint, loaded_at, report)
                    VALUES ('geography', :fp, now(), CAST(:report AS jsonb))
                    ON CONFLICT (name) DO UPDATE
                    SET fingerprint = excluded.fingerprint, loaded_at = now(),
                        report = excluded.report
                    """
                ),
                {"fp": wanted, "report": orjson.dumps(result.as_dict()).decode()},
            )
            store.bump_generation(conn)
    finally:
        engine.dispose()
    summary = ", ".join(f"{n} {name}" for name, n in result.layers.items())
    report(f"loaded {summary} and {result.postcodes} postcodes in {result.seconds:.1f}s")
    return result


def _load_all(
    conn: Connection, spec: BundleSpec, data_dir: Path, result: LoadReport, progress: Progress
) -> None:
    def layer_done(name: str, layer_id: int) -> int:
        store.subdivide(conn, layer_id)
        result.layers[name] = len(store.area_codes(conn, layer_id))
        return layer_id

    progress.step("reading IoD 2019 (population and deprivation by LSOA)")
    imd2019 = bundle.read_imd2019(data_dir / spec.deprivation.imd2019)
    population = {r.lsoa_code: r.population for r in imd2019}

    progress.step("district outline")
    district_id, _ = _load_file_layer(conn, spec.layer_named("district"), data_dir)
    layer_done("district", district_id)

    progress.step("LSOAs (repairing invalid polygons) and deprivation")
    lsoa_id, repaired = _load_file_layer(conn, spec.layer_named("lsoa"), data_dir, population)
    result.repaired["lsoa"] = repaired
    layer_done("lsoa", lsoa_id)
    store.replace_deprivation(conn, _deprivation_rows(conn, spec, data_dir, lsoa_id, imd2019))

    progress.step("postcodes: Code-Point Open, then the ONS directory")
    rows = bundle.read_postcodes(
        data_dir / spec.postcodes.live,
        data_dir / spec.postcodes.directory,
        data_dir / spec.postcodes.history,
    )
    result.postcodes = store.replace_postcodes(
        conn,
        (
            (
                r.postcode,
                r.lat,
                r.lon,
                r.easting,
                r.northing,
                r.status,
                r.terminated_on,
                r.source,
                r.file_ward_code,
                r.large_user,
            )
            for r in rows
        ),
    )

    progress.step("population points: each LSOA over its residential postcodes")
    result.population_points = population_points.build_points(conn, lsoa_id)
    population_points.set_populations(conn, district_id)

    progress.step("wards")
    ward_id, repaired = _load_file_layer(conn, spec.layer_named("ward"), data_dir)
    result.repaired["ward"] = repaired
    layer_done("ward", ward_id)
    population_points.set_populations(conn, ward_id)

    progress.step("hubs: unions of their wards")
    layer_done("hub", _load_hubs(conn, spec.layer_named("hub"), ward_id))

    for vintage in spec.layers_named("neighbourhood"):  # 2019, then 2026 (current)
        progress.step(f"neighbourhoods: PCN footprints ({vintage.vintage})")
        neighbourhood_id, _ = _load_neighbourhoods(conn, vintage, data_dir, lsoa_id, district_id)
        layer_done("neighbourhood", neighbourhood_id)


def load_layer_file(
    settings: Settings,
    layer: LayerRecord,
    path: Path,
    code_field: str,
    name_field: str,
    make_current: bool = False,
    report: Report = print,
) -> int:
    """Load one more vintage of a layer from a GeoJSON file beside the others (e.g. new wards).

    Areas get populations from the current LSOAs; the vintage becomes current only when asked.
    """
    features = bundle.read_features(path, code_field, name_field)
    engine = create_sync_engine(settings)
    try:
        with engine.begin() as conn:
            layer_id = store.replace_layer(conn, layer, make_current=make_current)
            repaired = store.insert_areas(
                conn, layer_id, [AreaRow(f.code, f.name, f.wkb) for f in features]
            )
            store.subdivide(conn, layer_id)
            population_points.set_populations(conn, layer_id)
            store.bump_generation(conn)
    finally:
        engine.dispose()
    report(
        f"loaded {len(features)} areas as {layer.name} {layer.vintage}"
        + (f" (repaired {', '.join(repaired)})" if repaired else "")
        + (" — now the current vintage" if make_current else "")
    )
    return layer_id


def drop_layer(settings: Settings, name: str, vintage: str) -> bool:
    engine = create_sync_engine(settings)
    try:
        with engine.begin() as conn:
            dropped = store.drop_layer(conn, name, vintage)
            if dropped:
                store.bump_generation(conn)
            return dropped
    finally:
        engine.dispose()
