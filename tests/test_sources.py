"""Sources merged into one record per place: what the bundle's newer files load as, each merge
rule, disagreements as proposed corrections, reversible merges, attribution and the licence
filter on exports."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.db import create_api_engine
from app.register.imports import MergePolicy, import_rows
from app.register.merge import contained, similarity, tokens
from app.register.rows import Row
from app.register.write import Actor
from app.settings import Settings
from tests.conftest import auth


def _all(client: TestClient, headers: dict[str, str] | None = None, **params: str) -> list[dict]:
    query = {"limit": "1000", **params}
    return client.get("/api/assets", params=query, headers=headers or {}).json()["items"]


def _rows(settings: Settings, name: str) -> list[dict[str, str]]:
    with (settings.data_dir / name).open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _import(settings: Settings, rows: list[dict[str, Any]], source: str) -> Any:
    async def run() -> Any:
        engine = create_api_engine(settings)
        try:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            numbered = [Row(n, r) for n, r in enumerate(rows, start=2)]
            return await import_rows(
                sessions, numbered, source, Actor.system(source), "csv", policy=MergePolicy()
            )
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_every_asset_lists_its_sources_with_licence(client: TestClient) -> None:
    items = _all(client)
    assert items and all(i["sources"] for i in items)
    licences = {s["licence"] for i in items for s in i["sources"]}
    assert {"OGL-UK-3.0", "ODbL-1.0", "CC-BY-NC-SA-4.0", "Unlicense"} <= licences
    source = items[0]["sources"][0]
    assert set(source) == {"source", "ref", "licence", "seen_at"}


def test_open_pharmacies_and_dentists_load_and_closed_ones_are_history(
    client: TestClient, settings: Settings, keys: dict[str, str]
) -> None:
    pharmacies = _rows(settings, "pharmacies_kirklees_ods_edispensary_2025-04.csv")
    open_codes = {r["org_code"] for r in pharmacies if r["status_code"] == "A"}
    closed_codes = {r["org_code"] for r in pharmacies if r["status_code"] == "C"}
    listed = _all(client, category="pharmacy")
    ods = {s["ref"] for i in listed for s in i["sources"] if s["source"].startswith("nhs-ods")}
    assert len(open_codes) == 96 and ods == open_codes
    assert not ods & closed_codes  # never current support
    dentists = _all(client, category="dentist")
    assert len([d for d in dentists if d["source"] == "nhs-ods-egdpprac-2024-05"]) == 60
    # ODS names that are only an address read as a dental practice at that address
    assert any(d["name"] == "Dental practice, 23-25 Henrietta Street, Batley" for d in dentists)


def test_an_nhs_organisation_that_closes_is_archived(
    client: TestClient, settings: Settings, keys: dict[str, str]
) -> None:
    from app.register.loaders import Loaded

    source = "nhs-ods-test-closing"
    row = {"source_ref": "FZZ99", "ods_code": "FZZ99", "name": "Example Closing Pharmacy "
           "(synthetic)", "category": "pharmacy", "lat": "53.65", "lon": "-1.78",
           "synthetic": "true"}  # fmt: skip
    assert _import(settings, [row], source).created == 1

    async def close() -> Any:
        engine = create_api_engine(settings)
        try:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            loaded = Loaded(closed={"FZZ99": "closed 2025-03-01 (NHS ODS status C): history"})
            policy = MergePolicy(loaded.merge_only, loaded.closed, [(2, "closed")])
            return await import_rows(sessions, [], source, Actor.system(source), "csv",
                                     policy=policy)  # fmt: skip
        finally:
            await engine.dispose()

    report = asyncio.run(close())
    assert report.archived == 1 and report.stored
    found = [
        i
        for i in _all(client, auth(keys["admin"]), status="archived", category="pharmacy")
        if i["source_ref"] == "FZZ99"
    ]
    assert len(found) == 1 and found[0]["status"] == "archived"
    assert not [i for i in _all(client, category="pharmacy") if i["source_ref"] == "FZZ99"]


def test_batley_food_bank_is_one_asset_at_its_new_address_with_its_history(
    client: TestClient, keys: dict[str, str]
) -> None:
    batley = [b for b in _all(client, category="food_bank") if "Batley" in b["name"]]
    assert len(batley) == 1
    bank = batley[0]
    assert bank["postcode"] == "WF17 8PD" and "Admiral House" in bank["address"]
    assert {s["source"] for s in bank["sources"]} == {"givefood", "givefood-2026-08"}
    history = client.get(f"/api/assets/{bank['id']}/history", headers=auth(keys["admin"]))
    said = str(history.json()["items"])
    assert "WF17 5DT" in said and "WF17 8PD" in said


def test_mutual_aid_groups_are_areas_checked_in_2020_and_never_named_after_a_person(
    client: TestClient, keys: dict[str, str], settings: Settings
) -> None:
    groups = _all(client, category="mutual_aid_group")
    wiki = [g for g in groups if g["source"] == "mutualaidwiki-2020-05"]
    rows = _rows(settings, "mutual_aid_groups_kirklees_mutualaidwiki_2020-05.csv")
    merged = sum(len(g["sources"]) - 1 for g in wiki)
    assert len(wiki) + merged == len(rows) == 45 and merged >= 5  # the file names some twice
    assert all(g["location_approximate"] and g["service_area_code"].startswith("ward:")
               and g["address"] is None and g["postcode"] is None for g in wiki)  # fmt: skip
    assert all(g["last_verified"].startswith("2020") and g["stale"] for g in wiki)
    assert all(g["freshness"] == "not checked since 2020 — may have changed" for g in wiki)
    assert not [g for g in wiki if g["name"] == "Chris Walsh"]  # one group under a person's name
    fixby = next(g for g in wiki if g["name"] == "Fixby/Cowcliffe News And Info")
    assert len(fixby["sources"]) == 2
    dewsbury = [g for g in wiki if g["name"].startswith("Dewsbury South")]
    assert len(dewsbury) == 1 and len(dewsbury[0]["sources"]) == 3


def test_osm_rows_merge_into_the_nhs_and_library_rows_and_add_community_places(
    client: TestClient,
) -> None:
    everything = _all(client)
    osm_led = [i for i in everything if i["source"] == "osm-kirklees-2023-07"]
    assert {i["category"] for i in osm_led} <= {
        "faith_group", "community_centre", "post_office", "public_toilets", "social_facility"
    }  # fmt: skip
    assert len([i for i in osm_led if i["category"] == "faith_group"]) > 150
    merged = [
        i for i in everything
        if i["source"] != "osm-kirklees-2023-07"
        and any(s["source"] == "osm-kirklees-2023-07" for s in i["sources"])
    ]  # fmt: skip
    assert {i["category"] for i in merged} >= {"gp_practice", "pharmacy", "library"}


def test_the_match_rule_on_names() -> None:
    assert tokens("BOOTS UK LIMITED") == tokens("Boots Pharmacy") == ("boots",)
    assert similarity(tokens("Dewsbury South Coronavirus Community Action Group"),
                      tokens("Dewsbury South Covid-19 Community Action Group")) == 1.0  # fmt: skip
    assert similarity(tokens("Lepton Volunteers"), tokens("Slaithwaite Mutual Aid")) < 0.6
    assert contained(tokens("Kirkgate Surgery"), tokens("The Kirkgate Surgery, Birstall"))


def test_each_merge_rule_disagreements_and_a_split(
    client: TestClient, settings: Settings, keys: dict[str, str], db: Engine
) -> None:
    first = _import(settings, [
        {"source_ref": "a1", "name": "Example Hall (synthetic)", "category": "community_centre",
         "lat": "53.6450", "lon": "-1.7850", "phone": "01484 000001", "synthetic": "true"},
        {"source_ref": "a2", "name": "Example Charity Shop (synthetic)", "category": "food_bank",
         "lat": "53.6000", "lon": "-1.7000", "charity_number": "999001", "synthetic": "true"},
    ], "test-merge-a")  # fmt: skip
    assert first.created == 2 and first.stored
    second = _import(settings, [
        # name and distance: 40 m away, the same name
        {"source_ref": "b1", "name": "The Example Hall (synthetic)", "category": "community_centre",
         "lat": "53.64536", "lon": "-1.7850", "phone": "01484 000002", "synthetic": "true"},
        # the same charity number, far away and otherwise named
        {"source_ref": "b2", "name": "Example Pantry (synthetic)", "category": "food_bank",
         "lat": "53.7000", "lon": "-1.6000", "charity_number": "999 001", "synthetic": "true"},
        # the same name but 2 km away: another place
        {"source_ref": "b3", "name": "Example Hall (synthetic)", "category": "community_centre",
         "lat": "53.6630", "lon": "-1.7850", "synthetic": "true"},
    ], "test-merge-b")  # fmt: skip
    assert (second.created, second.merged) == (1, 2), second.merges
    rules = {m["row"]: m["rule"] for m in second.merges}
    assert rules[2].startswith("names 1.00 alike, ") and rules[2].endswith(" m apart")
    assert 30 <= int(rules[2].split(", ")[1].split()[0]) <= 50
    assert rules[3] == "same charity number 999001"
    hall_id = next(m["asset_id"] for m in second.merges if m["row"] == 2)
    hall = client.get(f"/api/assets/{hall_id}").json()
    assert hall["phone"] == "01484 000001"  # never a silent overwrite
    assert [s["source"] for s in hall["sources"]] == ["test-merge-a", "test-merge-b"]
    queue = client.get("/api/submissions", headers=auth(keys["admin"])).json()["items"]
    proposed = [s for s in queue if s["asset_id"] == hall_id]
    assert len(proposed) == 1 and proposed[0]["submitter_name"] == "source test-merge-b"
    assert proposed[0]["proposal"] == {"phone": "01484 000002"}
    again = _import(settings, [
        {"source_ref": "b1", "name": "The Example Hall (synthetic)", "category": "community_centre",
         "lat": "53.64536", "lon": "-1.7850", "phone": "01484 000002", "synthetic": "true"},
    ], "test-merge-b")  # fmt: skip
    assert (again.created, again.merged, again.unchanged, again.proposed) == (0, 0, 1, 0)
    # an editor (here an admin) splits the merge again: the record is an asset of its own
    split = client.post(
        f"/api/assets/{hall_id}/sources/split",
        json={"source": "test-merge-b", "ref": "b1"},
        headers=auth(keys["admin"]),
    )
    assert split.status_code == 201, split.text
    alone = split.json()
    assert alone["name"] == "The Example Hall (synthetic)" and alone["phone"] == "01484 000002"
    assert [s["source"] for s in client.get(f"/api/assets/{hall_id}").json()["sources"]] == [
        "test-merge-a"
    ]
    last = _import(settings, [
        {"source_ref": "b1", "name": "The Example Hall (synthetic)", "category": "community_centre",
         "lat": "53.64536", "lon": "-1.7850", "phone": "01484 000002", "synthetic": "true"},
    ], "test-merge-b")  # fmt: skip
    assert (last.merged, last.unchanged) == (0, 1)  # stays split
    with db.begin() as conn:
        actions = (
            conn.execute(
                text("SELECT action FROM audit_log WHERE entity = 'asset' AND entity_id = :id"),
                {"id": hall_id},
            )
            .scalars()
            .all()
        )
    assert "merge" in actions and "split" in actions


def test_exports_carry_the_attribution_of_their_rows_and_filter_by_licence(
    client: TestClient,
) -> None:
    groups = client.get(
        "/api/exports/assets", params={"format": "csv", "category": "mutual_aid_group"}
    )
    assert groups.status_code == 200
    lines = groups.text.strip().splitlines()
    assert any("Mutual Aid Wiki (mutualaid.wiki), CC BY-NC-SA 4.0" in line for line in lines)
    rows = [r for r in csv.DictReader(io.StringIO(groups.text)) if not r["id"].startswith("#")]
    wiki = [r for r in rows if r["source"].startswith("mutualaidwiki")]  # others: tests' own
    assert wiki and all("CC-BY-NC-SA-4.0" in r["licences"] for r in wiki)
    commercial = client.get(
        "/api/exports/assets",
        params={"format": "geojson", "category": "mutual_aid_group,faith_group",
                "licence": "commercial"},
    ).json()  # fmt: skip
    real = [  # other tests add groups of their own, named "(synthetic)" (an ORUK round trip
        f
        for f in commercial["features"]  # does not keep the flag)
        if not f["properties"]["synthetic"] and "(synthetic)" not in f["properties"]["name"]
    ]
    cats = {f["properties"]["category"] for f in real}
    assert cats == {"faith_group"}
    assert "© OpenStreetMap contributors (ODbL)" in commercial["attribution"]
    assert "Mutual Aid Wiki" not in commercial["attribution"]
    bad = client.get("/api/exports/assets", params={"licence": "GPL"})
    assert bad.status_code == 422 and "commercial" in bad.json()["detail"]


def test_oruk_and_ogc_name_the_licences(client: TestClient) -> None:
    page = client.get("/oruk/services", params={"taxonomy_term_id": "mutual_aid_group"}).json()
    assert "CC BY-NC-SA 4.0" in page["attribution"]
    ogc = client.get("/ogc/collections/assets/items", params={"limit": 5}).json()
    assert "ODbL" in ogc["attribution"] and "CC BY-NC-SA 4.0" in ogc["attribution"]


def test_an_entry_page_shows_details_sources_freshness_and_a_prefilled_correction(
    client: TestClient, keys: dict[str, str]
) -> None:
    bank = next(b for b in _all(client, category="food_bank") if "Batley" in b["name"])
    page = client.get(f"/assets/{bank['id']}")
    assert page.status_code == 200
    html = page.text
    assert "Batley Food Bank" in html and "WF17 8PD" in html and "Opening hours" in html
    assert "Give Food food banks (August 2026 update)" in html and "Unlicense" in html
    assert "not checked yet" in html.lower() or "checked" in html.lower()
    assert f"/submit?kind=correction&amp;asset_id={bank['id']}&amp;name=Batley+Food+Bank" in html
    assert "food banks from Give Food" in html  # the attribution of what it shows
    group = next(g for g in _all(client, category="mutual_aid_group"))
    shown = client.get(f"/assets/{group['id']}").text
    assert "CC-BY-NC-SA-4.0" in shown and "Mutual Aid Wiki (mutualaid.wiki)" in shown
    hidden = client.post(
        "/api/assets",
        json={"name": "Example Private Refuge (synthetic)", "category": "other", "lat": 53.65,
              "lon": -1.78, "visibility": "hidden", "synthetic": True},
        headers=auth(keys["admin"]),
    ).json()  # fmt: skip
    missing = client.get(f"/assets/{hidden['id']}")
    assert missing.status_code == 404 and "Example Private Refuge" not in missing.text
