"""POST /api/lookup/bulk: order, per-row errors, CSV in and out, limits, and ward agreement."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text


def test_results_come_back_in_order_with_the_input_ids(client: TestClient) -> None:
    items = [
        {"id": "a", "postcode": "HD1 1AA"},
        {"id": 2, "lat": 53.7965, "lon": -1.5478},  # Leeds
        {"id": "c", "lat": 53.7137, "lon": -1.6329},  # Batley
        {"id": "d", "easting": 414538, "northing": 416902},
    ]
    response = client.post("/api/lookup/bulk", json=items)
    assert response.status_code == 200
    rows = response.json()["items"]
    assert [row["id"] for row in rows] == ["a", 2, "c", "d"]
    assert rows[0]["ward"]["name"] == "Newsome" and rows[0]["postcode"] == "HD1 1AA"
    assert rows[1]["within_district"] is False and rows[1]["ward"] is None
    assert rows[1]["error"] is None  # outside the district is an answer, not an error
    assert rows[2]["hub"]["name"] == "Batley and Spen"
    assert rows[3]["ward"] == rows[0]["ward"]


def test_a_bad_row_gets_its_own_error_and_the_others_go_on(client: TestClient) -> None:
    items = [
        {"id": 1, "postcode": "HD1"},
        {"id": 2, "postcode": "HD9 9ZZ"},
        {"id": 3, "lat": "north", "lon": -1.7},
        {"id": 4, "lat": 95, "lon": -1.7},
        {"id": 5},
        "not an object",
        {"id": 7, "lat": 53.648, "lon": -1.781},
    ]
    rows = client.post("/api/lookup/bulk", json={"items": items}).json()["items"]
    assert [r["error"]["code"] if r["error"] else None for r in rows] == [
        "malformed_postcode", "unknown_postcode", "invalid_coordinates", "invalid_coordinates",
        "location_required", "invalid_item", None,
    ]  # fmt: skip
    assert rows[6]["ward"]["name"] == "Newsome"


def test_csv_in_gives_csv_out_and_a_bom_is_accepted(client: TestClient) -> None:
    body = "\ufeffid,postcode\r\n1,hd1 1aa\r\n2,WF17 5DA\r\n3,nonsense\r\n".encode()
    response = client.post("/api/lookup/bulk", content=body, headers={"content-type": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[-1].startswith("# Contains OS data")
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[:-1]))))
    assert [r["ward_name"] for r in rows] == ["Newsome", "Batley East", ""]
    assert rows[2]["error"].startswith("'nonsense' is not a postcode")


def test_a_multipart_csv_upload_works(client: TestClient) -> None:
    files = {"file": ("points.csv", b"id,lat,lon\np1,53.648,-1.781\n", "text/csv")}
    response = client.post("/api/lookup/bulk", files=files)
    assert response.status_code == 200
    assert "Newsome" in response.text


def test_csv_with_the_wrong_delimiter_or_columns_is_a_clear_422(client: TestClient) -> None:
    semicolons = client.post(
        "/api/lookup/bulk",
        content=b"id;lat;lon\n1;53.6;-1.7\n",
        headers={"content-type": "text/csv"},
    )
    assert semicolons.status_code == 422
    assert "semicolons" in semicolons.json()["detail"]
    no_location = client.post(
        "/api/lookup/bulk", content=b"id,name\n1,x\n", headers={"content-type": "text/csv"}
    )
    assert no_location.status_code == 422
    assert "needs a column postcode" in no_location.json()["detail"]


def test_more_than_100000_items_is_a_413_with_a_message(client: TestClient) -> None:
    items = [{"id": i, "lat": 53.6, "lon": -1.7} for i in range(100_001)]
    response = client.post("/api/lookup/bulk", json=items)
    assert response.status_code == 413
    assert "100,000" in response.json()["detail"]


def test_a_body_that_is_not_a_list_is_a_422(client: TestClient) -> None:
    for body in (b"{}", b'"x"', b"[1,2", b""):
        response = client.post(
            "/api/lookup/bulk", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, body


def test_wards_agree_with_code_point_open_for_at_least_99_5_percent(
    client: TestClient, db: Engine
) -> None:
    with db.connect() as conn:
        rows = conn.execute(
            text(
                """
                SELECT p.postcode, p.file_ward_code FROM postcode p
                WHERE p.status = 'live' AND p.file_ward_code IN (
                    SELECT a.code FROM area a JOIN layer l ON l.id = a.layer_id
                    WHERE l.name = 'ward' AND l.is_current)
                ORDER BY p.postcode
                """
            )
        ).all()
    assert len(rows) >= 1000
    items = [{"id": postcode, "postcode": postcode} for postcode, _ in rows]
    results = client.post("/api/lookup/bulk", json=items).json()["items"]
    disagreements = [
        (postcode, expected, (result["ward"] or {}).get("code"))
        for (postcode, expected), result in zip(rows, results, strict=True)
        if (result["ward"] or {}).get("code") != expected
    ]
    agreement = 1 - len(disagreements) / len(rows)
    print(f"\nward agreement {agreement:.4%} on {len(rows)} postcodes; differ: {disagreements}")
    assert agreement >= 0.995
