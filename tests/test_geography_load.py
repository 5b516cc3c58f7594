"""The real bundle loads into layers that are complete, valid, tiled and correctly populated."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app.settings import Settings
from boundaries.loader import load_geography
from boundaries.spec import SpecError, read_hubs

DESIGN_HUBS = {
    "Batley and Spen": {"Batley East", "Batley West", "Birstall and Birkenshaw", "Cleckheaton",
                        "Heckmondwike", "Liversedge and Gomersal"},
    "Dewsbury and Mirfield": {"Dewsbury East", "Dewsbury South", "Dewsbury West", "Mirfield"},
    "Huddersfield": {"Almondbury", "Ashbrow", "Crosland Moor and Netherton", "Dalton",
                     "Greenhead", "Lindley", "Newsome"},
    "Kirklees Rural": {"Colne Valley", "Denby Dale", "Golcar", "Holme Valley North",
                       "Holme Valley South", "Kirkburton"},
}  # fmt: skip


def _counts(db: Engine) -> dict[str, int]:
    with db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT l.name, count(a.id) FROM layer l JOIN area a ON a.layer_id = l.id "
                "WHERE l.is_current GROUP BY l.name"
            )
        )
        return {name: count for name, count in rows}


def _bundle_population(settings: Settings) -> int:
    with (settings.data_dir / "imd2019_kirklees_lsoa11.csv").open() as handle:
        return sum(int(row["pop_mid2015"]) for row in csv.DictReader(handle))


def test_every_layer_is_loaded_with_every_area(geography: None, db: Engine) -> None:
    assert _counts(db) == {"district": 1, "ward": 23, "hub": 4, "neighbourhood": 9, "lsoa": 259}


def test_all_geometries_are_valid_and_the_three_bad_lsoas_were_repaired(
    geography: None, db: Engine
) -> None:
    with db.connect() as conn:
        invalid = conn.execute(
            text("SELECT count(*) FROM area WHERE NOT ST_IsValid(geom) OR NOT ST_IsValid(geom_bng)")
        ).scalar()
        repaired = conn.execute(
            text("SELECT inputs->'repaired_with_st_makevalid' FROM layer WHERE name = 'lsoa'")
        ).scalar()
    assert invalid == 0
    assert sorted(repaired) == ["E01011076", "E01011085", "E01011117"]


def test_hubs_are_the_wards_design_lists(geography: None, db: Engine) -> None:
    with db.connect() as conn:
        rows = conn.execute(
            text(
                """
                SELECT h.name, w.name FROM area h
                JOIN layer hl ON hl.id = h.layer_id AND hl.name = 'hub' AND hl.is_current
                JOIN area w
                  ON w.code IN (SELECT jsonb_array_elements_text(h.attributes->'members'))
                JOIN layer wl ON wl.id = w.layer_id AND wl.name = 'ward' AND wl.is_current
                """
            )
        ).all()
    found: dict[str, set[str]] = {}
    for hub, ward in rows:
        found.setdefault(hub, set()).add(ward)
    assert found == DESIGN_HUBS


def test_hubs_cover_the_district_exactly(geography: None, db: Engine) -> None:
    _assert_tiles_district(db, "hub")


def test_neighbourhoods_tile_the_district_without_gaps_or_overlaps(
    geography: None, db: Engine
) -> None:
    _assert_tiles_district(db, "neighbourhood")


def _assert_tiles_district(db: Engine, layer: str) -> None:
    with db.connect() as conn:
        gap, outside, overlap, total, district = conn.execute(
            text(
                """
                WITH n AS (SELECT a.geom FROM area a JOIN layer l ON l.id = a.layer_id
                           WHERE l.name = :layer AND l.is_current),
                     d AS (SELECT a.geom FROM area a JOIN layer l ON l.id = a.layer_id
                           WHERE l.name = 'district' AND l.is_current)
                SELECT ST_Area(ST_Difference(d.geom, (SELECT ST_Union(geom) FROM n))::geography),
                       ST_Area(ST_Difference((SELECT ST_Union(geom) FROM n), d.geom)::geography),
                       (SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)
                        FROM n a JOIN n b ON a.geom < b.geom AND ST_Intersects(a.geom, b.geom)),
                       (SELECT sum(ST_Area(geom::geography)) FROM n),
                       ST_Area(d.geom::geography)
                FROM d
                """
            ),
            {"layer": layer},
        ).one()
    assert gap < 1.0, f"{gap:.2f} m² of the district is in no {layer}"
    assert outside < 1.0, f"{outside:.2f} m² of {layer}s lie outside the district"
    assert overlap < 1.0, f"{layer}s overlap by {overlap:.2f} m²"
    assert abs(total - district) / district < 1e-6


def test_neighbourhood_populations_are_30k_to_60k_and_sum_to_the_district(
    geography: None, db: Engine, settings: Settings
) -> None:
    with db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.code, a.population, a.attributes FROM area a JOIN layer l "
                "ON l.id = a.layer_id WHERE l.name = 'neighbourhood' AND l.is_current"
            )
        ).all()
        district = conn.execute(
            text(
                "SELECT a.population FROM area a JOIN layer l ON l.id = a.layer_id "
                "WHERE l.name = 'district' AND l.is_current"
            )
        ).scalar()
    assert len(rows) == 9
    assert all(code.startswith("U") for code, _, _ in rows)  # named after their PCN's code
    for code, population, _ in rows:
        assert 30_000 <= population <= 60_000, (code, population)
    total = _bundle_population(settings)
    assert sum(population for _, population, _ in rows) == total == district == 432_855
    lsoas = [lsoa for _, _, attributes in rows for lsoa in attributes["lsoas"]]
    assert len(lsoas) == len(set(lsoas)) == 259  # every LSOA in exactly one neighbourhood


def test_footprint_method_and_inputs_are_stored_with_the_layer(geography: None, db: Engine) -> None:
    with db.connect() as conn:
        method, inputs, current = conn.execute(
            text("SELECT method, inputs, is_current FROM layer "
                 "WHERE name = 'neighbourhood' AND vintage = '2019'")
        ).one()  # fmt: skip
    assert "nearest active member practice" in method and not current
    assert inputs["practices_excluded"].keys() == {"B85622", "B85638", "Y06659", "Y07275"}
    assert len(inputs["assignment"]) == 259


def test_the_2026_membership_is_the_current_neighbourhood_vintage(
    geography: None, db: Engine
) -> None:
    with db.connect() as conn:
        inputs, current = conn.execute(
            text("SELECT inputs, is_current FROM layer "
                 "WHERE name = 'neighbourhood' AND vintage = '2026'")
        ).one()  # fmt: skip
        codes = conn.execute(
            text("SELECT l.vintage, count(*) FROM area a JOIN layer l ON l.id = a.layer_id "
                 "WHERE l.name = 'neighbourhood' GROUP BY l.vintage ORDER BY l.vintage")
        ).all()  # fmt: skip
    assert current and inputs["practices"] == "gp_practice_pcn_membership_kirklees_2026-04.csv"
    assert inputs["member_practices_used"] == 64 and inputs["practices_excluded"] == {}
    assert len(inputs["assignment"]) == 259
    assert [tuple(row) for row in codes] == [("2019", 9), ("2026", 9)]


def test_imd2025_joins_by_code_and_says_what_happened_to_the_others(
    geography: None, db: Engine
) -> None:
    with db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT lsoa_code, imd2025_match, imd2025_decile, imd2025_lsoa21 "
                "FROM lsoa_deprivation"
            )
        ).all()
    by_match: dict[str, list[tuple[str, int | None, list[str]]]] = {}
    for code, match, decile, children in rows:
        by_match.setdefault(match, []).append((code, decile, children))
    assert len(by_match["same_code"]) == 255
    assert sorted(by_match["merged"]) == [
        ("E01011171", 5, ["E01034588"]),
        ("E01011172", 5, ["E01034588"]),
    ]
    assert sorted(by_match["split"]) == [
        ("E01011209", None, ["E01034586", "E01034587"]),
        ("E01033542", None, ["E01034584", "E01034585"]),
    ]


def test_a_second_load_of_an_unchanged_bundle_does_nothing(
    geography: None, settings: Settings
) -> None:
    assert load_geography(settings, report=lambda _: None).skipped


def test_a_reload_never_shows_half_a_layer(geography: None, db: Engine, settings: Settings) -> None:
    full = _counts(db)
    seen: list[dict[str, int]] = []
    loader = threading.Thread(
        target=load_geography, args=(settings,), kwargs={"report": lambda _: None, "force": True}
    )
    loader.start()
    while loader.is_alive():
        seen.append(_counts(db))
    loader.join()
    assert len(seen) > 3
    assert all(counts == full for counts in seen)


def test_a_bad_bundle_row_names_file_row_and_field_and_changes_nothing(
    geography: None, db: Engine, settings: Settings, tmp_path: Path
) -> None:
    for source in settings.data_dir.iterdir():
        if source.is_file():
            (tmp_path / source.name).symlink_to(source)
    broken = tmp_path / "postcodes_onspd_2025-11_hd_wf_kirklees.csv"
    broken.unlink()
    lines = (settings.data_dir / broken.name).read_text().splitlines()
    lines[4] = lines[4].replace(lines[4].split(",")[2], "north-ish", 1)
    broken.write_text("\n".join(lines) + "\n")
    with db.connect() as conn:
        before = conn.execute(text("SELECT generation FROM geography_state")).scalar()
    with pytest.raises(
        SpecError, match=r"postcodes_onspd_2025-11_hd_wf_kirklees.csv row 5, field lat"
    ):
        load_geography(settings.model_copy(update={"data_dir": tmp_path}), report=lambda _: None)
    with db.connect() as conn:
        after = conn.execute(text("SELECT generation FROM geography_state")).scalar()
    assert before == after
    assert _counts(db) == {"district": 1, "ward": 23, "hub": 4, "neighbourhood": 9, "lsoa": 259}


def test_the_loader_names_a_ward_in_no_hub_or_in_two(tmp_path: Path) -> None:
    wards = {"W1": "North", "W2": "South", "W3": "East"}
    hubs = tmp_path / "hubs.csv"
    hubs.write_text("hub_name,ward_code,ward_name\nA,W1,North\nB,W2,South\n")
    with pytest.raises(SpecError, match=r"in none: East \(W3\)"):
        read_hubs(hubs, wards)
    hubs.write_text("hub_name,ward_code,ward_name\nA,W1,North\nB,W1,North\nB,W2,South\nB,W3,East\n")
    with pytest.raises(SpecError, match=r"North \(W1\) in A and B"):
        read_hubs(hubs, wards)


def test_a_missing_bundle_folder_says_which_setting_to_fix(settings: Settings) -> None:
    with pytest.raises(SpecError, match="ASSETMAP_DATA_DIR"):
        load_geography(settings.model_copy(update={"data_dir": Path("/nonexistent")}))
