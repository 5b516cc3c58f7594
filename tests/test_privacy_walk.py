"""Walk every GET route the app serves, in every format, as an anonymous caller: a
professional-only asset, a hidden one, a private phone number, a group's home address and the
small area a group drew round a home must never appear. A route the walk does not know how to
call fails the test, so new routes are covered the day they are added."""

from __future__ import annotations

import itertools
import re
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, text

from app.interop import oruk
from tests.conftest import auth

SECRET_PHONE = "01484 999 111"
SECRET_EMAIL = "private-desk@example.org"
SECRET_ADDRESS = "7 Example Close"
PROFESSIONAL = "Example Refuge Office (synthetic)"
HIDDEN = "Example Safe House (synthetic)"
SHORTLIST = "privacy-walk-list"
# A group that drew a 40 m box round a home at WF17 5DA: a corner must appear neither as a pair of
# numbers in text (to six decimals, as GeoJSON keeps them) nor as the doubles a binary format
# (GeoPackage) would hold.
DRAWN_X, DRAWN_Y = (-1.6344567, -1.6338567), (53.7141234, 53.7145234)
DRAWN_BOX = [[DRAWN_X[0], DRAWN_Y[0]], [DRAWN_X[1], DRAWN_Y[0]], [DRAWN_X[1], DRAWN_Y[1]],
             [DRAWN_X[0], DRAWN_Y[1]], [DRAWN_X[0], DRAWN_Y[0]]]  # fmt: skip
NUMBER = re.compile(r"-?\d+\.\d+")
DRAWN_BYTES = tuple(struct.pack(e, v) for v in (*DRAWN_X, *DRAWN_Y) for e in ("<d", ">d"))
SECRETS = (SECRET_PHONE, "01484999111", SECRET_EMAIL, SECRET_ADDRESS, PROFESSIONAL, HIDDEN)
# The pages read their query strings themselves: the walk asks them what a person would.
PAGE_QUERIES: dict[str, list[dict[str, Any]]] = {
    "/": [{"postcode": "WF17 5DA"}, {"postcode": "WF17 5DA", "category": "advice"},
          {"category": "mutual_aid_group"}, {"category": "advice", "open_now": "true"}],
    "/hub": [{"postcode": "WF17 5DA", "needs": ["advice", "mutual_aid_group"]}],
    "/planner": [{"area": "ward:E05001390", "category": "advice", "max_km": "2"}],
}  # fmt: skip
PUBLIC = ("Example Advice Desk (synthetic)", "Example Close Neighbours (synthetic)",
          "Example Yard Neighbours (synthetic)")  # fmt: skip
NEAR = {"postcode": "WF17 5DA"}  # Batley, where the walk's assets are
# the map tiles holding WF17 5DA: clusters (zoom 11) and each asset (zoom 16)
TILES = [f"/tiles/{layer}/{zxy}.mvt" for layer in ("assets", "ward", "lsoa")
         for zxy in ("11/1014/660", "16/32470/21130")]  # fmt: skip


@pytest.fixture(scope="module")
def walk_assets(client: TestClient, keys: dict[str, str], db: Engine) -> dict[str, int]:
    base = {"category": "advice", "postcode": "WF17 5DA", "synthetic": True,
            "opening_hours": [{"day": d, "opens": "00:00", "closes": "23:59"} for d in
                              ("monday", "tuesday", "wednesday", "thursday", "friday",
                               "saturday", "sunday", "bank_holiday")]}  # fmt: skip
    bodies = {
        "professional": {**base, "name": PROFESSIONAL, "visibility": "professional"},
        "hidden": {**base, "name": HIDDEN, "visibility": "hidden"},
        "private_contacts": {
            **base, "name": "Example Advice Desk (synthetic)", "phone": SECRET_PHONE,
            "phone_visibility": "private", "email": SECRET_EMAIL, "email_visibility": "private",
        },
        "group": {
            **base, "name": "Example Close Neighbours (synthetic)", "category": "mutual_aid_group",
            "area": "ward:E05001390", "address": SECRET_ADDRESS,
        },
        "drawn_group": {
            **base, "name": "Example Yard Neighbours (synthetic)", "category": "mutual_aid_group",
            "service_area": {"type": "Polygon", "coordinates": [DRAWN_BOX]},
        },
    }  # fmt: skip
    made = {}
    for label, body in bodies.items():
        response = client.post("/api/assets", json=body, headers=auth(keys["admin"]))
        assert response.status_code == 201, response.text
        made[label] = response.json()["id"]
    with db.begin() as conn:  # a list sent by a hub worker, naming the hidden entries too
        conn.execute(
            text(
                "INSERT INTO shortlist (id, asset_ids, language, sent_by, channel, expires_at) "
                "VALUES (:id, :ids, 'en', 'test', 'sms', now() + interval '1 day') "
                "ON CONFLICT (id) DO UPDATE SET asset_ids = EXCLUDED.asset_ids, "
                "expires_at = EXCLUDED.expires_at"
            ),
            {"id": SHORTLIST, "ids": list(made.values())},
        )
    return made


def _drawn_corner_in(text: str) -> bool:
    numbers = [float(n) for n in NUMBER.findall(text)]
    pairs = set(itertools.pairwise(numbers))
    return any(
        abs(x - corner_x) < 5e-7 and abs(y - corner_y) < 5e-7
        for x, y in pairs
        for corner_x, corner_y in DRAWN_BOX
    )


def _samples(walk: dict[str, int]) -> dict[str, list[str]]:
    return {
        "asset_id": [str(i) for i in walk.values()],
        "layer": ["district", "ward", "hub", "neighbourhood", "lsoa"],
        "code": ["E05001390"],
        "submission_id": ["1"],
        "referral_id": ["1"],
        "collection_id": ["assets"],
        "shortlist_id": [SHORTLIST],  # holds every walked entry: /s/{id} shows public ones only
        "feature_id": [str(i) for i in walk.values()],
        "id": [  # the ORUK routes' ids: services, services at locations, the taxonomy, a term
            *(
                oruk.entity_id(kind, i)
                for kind in ("service", "service_at_location")
                for i in walk.values()
            ),
            oruk.TAXONOMY_ID,
            oruk.term_id("advice"),
        ],
    }


def _query_names(route: Any) -> set[str]:
    if not isinstance(route, APIRoute):
        return set()
    # declared by FastAPI, as a model of parameters, or in openapi_extra (app/query_models.py)
    names = {p["name"] for p in (route.openapi_extra or {}).get("parameters", [])}
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        for param in dependant.query_params:
            model = param.field_info.annotation
            is_model = isinstance(model, type) and issubclass(model, BaseModel)
            names |= set(model.model_fields) if is_model else {param.name}
        pending.extend(dependant.dependencies)
    return names


def _calls(path: str, route: Any, walk: dict[str, int]) -> Iterator[tuple[str, dict[str, Any]]]:
    if path == "/tiles/{layer}/{z}/{x}/{y}.mvt":
        for tile in TILES:
            for params in ({}, {"category": "advice"}, {"open_now": "true"}):
                yield tile, params
        return
    names = set(re.findall(r"{(\w+)}", path))
    samples = _samples(walk)
    unknown = names - set(samples)
    assert not unknown, f"the privacy walk needs sample values for {unknown} in {path}"
    paths = [path]
    for name in names:
        paths = [p.replace(f"{{{name}}}", v) for p in paths for v in samples[name]]
    if "{layer}" in path and "{code}" in path:
        codes = {"district": "E08000034", "ward": "E05001390", "hub": "batley-and-spen",
                 "neighbourhood": "U63540", "lsoa": "E01011029"}  # fmt: skip
        paths = [
            path.replace("{layer}", layer).replace("{code}", code) for layer, code in codes.items()
        ]
    query = _query_names(route)
    variants: list[dict[str, Any]] = [{}]
    if "postcode" in query:
        variants = [dict(NEAR)]
    if "format" in query:
        formats = ("json", "geojson", "csv", "gpkg")  # each route refuses the ones it lacks
        variants = [{**v, "format": f} for v in variants for f in formats]
    if "q" in query:
        variants += [{**variants[0], "q": "Example"}, {**variants[0], "q": "Refuge"}]
    if "search" in query:
        variants += [{**variants[0], "search": "Example"}, {**variants[0], "search": "Refuge"}]
    if "full" in query:
        variants += [{**variants[0], "full": "true", "per_page": 1000}]
    if "category" in query:
        variants += [
            {**variants[0], "category": category}
            for category in ("advice", "mutual_aid_group", "advice,mutual_aid_group")
        ]
    if "bbox" in query:
        variants += [{"bbox": "-2.05,53.5,-1.55,53.8", "zoom": zoom} for zoom in (11, 17)]
    if "area" in query:
        variants += [{**variants[0], "area": "ward:E05001390"}]
    if "needs" in query:
        variants = [{**v, "needs": "advice,mutual_aid_group"} for v in variants]
    variants += PAGE_QUERIES.get(path, [])
    for path in paths:
        for params in variants:
            yield path, params


def test_anonymous_callers_never_see_private_or_professional_data(
    client: TestClient, walk_assets: dict[str, int]
) -> None:
    routes = [c for c in iter_route_contexts(client.app.routes) if "GET" in (c.methods or ())]
    assert len(routes) >= 10
    answered: dict[str, list[int]] = {}
    public_seen = set()
    for context in routes:
        for path, params in _calls(context.path, context.route, walk_assets):
            response = client.get(path, params=params)
            answered.setdefault(context.path, []).append(response.status_code)
            body = response.text.lower()
            public_seen |= {name for name in PUBLIC if name.lower() in body}
            for secret in SECRETS:
                assert secret.lower() not in body, (path, params, secret)
            assert not _drawn_corner_in(response.text), (path, params, "drawn area")
            for packed in DRAWN_BYTES:
                assert packed not in response.content, (path, params, "drawn area")
    for label in ("professional", "hidden"):
        response = client.get(f"/api/assets/{walk_assets[label]}")
        assert response.status_code == 404, label  # 404, never 403: no hint that it exists
    assert public_seen == set(PUBLIC)  # the walk did reach the assets it guards
    nothing_answered = [p for p, codes in answered.items() if not {200, 401} & set(codes)]
    assert not nothing_answered, f"routes the walk never got an answer from: {nothing_answered}"


def test_the_same_walk_shows_them_to_a_hub_worker(
    client: TestClient, keys: dict[str, str], walk_assets: dict[str, int]
) -> None:
    worker = auth(keys["hub_worker"])
    assert (
        client.get(f"/api/assets/{walk_assets['professional']}", headers=worker).json()["name"]
        == PROFESSIONAL
    )
    desk = client.get(f"/api/assets/{walk_assets['private_contacts']}", headers=worker).json()
    assert desk["phone"] == SECRET_PHONE and desk["email"] == SECRET_EMAIL
    assert client.get(f"/api/assets/{walk_assets['hidden']}", headers=worker).status_code == 404
    admin = auth(keys["admin"])
    assert client.get(f"/api/assets/{walk_assets['hidden']}", headers=admin).status_code == 200
    drawn = client.get(f"/api/assets/{walk_assets['drawn_group']}", headers=admin).json()
    assert drawn["service_area"]["coordinates"] == [[[[round(v, 6) for v in p] for p in DRAWN_BOX]]]
