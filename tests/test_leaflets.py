"""GET /leaflets/{layer}/{code}.pdf: an A4 PDF of an area's public support, in the language
asked for; `pdftotext` (poppler-utils) reads back the names, the date and the attribution."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import i18n
from app.geo.hours import LONDON

WARD = "E05001390"  # Batley East: a food bank, a library and GP practices in the seed
PDFTOTEXT = shutil.which("pdftotext")
pytestmark = pytest.mark.skipif(PDFTOTEXT is None, reason="make test installs poppler-utils")


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "leaflet.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [PDFTOTEXT or "pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def public_names(client: TestClient, **params: Any) -> list[str]:
    found = client.get(f"/api/areas/ward/{WARD}/assets", params={"limit": 200, **params}).json()
    return [item["name"] for item in found["items"]]


def today_in(code: str) -> str:
    i18n.use(code)
    try:
        return i18n.long_date(datetime.now(LONDON).date())
    finally:
        i18n.use(i18n.DEFAULT)


def test_a_ward_leaflet_lists_its_public_support_with_the_date_and_attribution(
    client: TestClient, tmp_path: Path
) -> None:
    response = client.get(f"/leaflets/ward/{WARD}.pdf?lang=en")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = " ".join(text_of(response.content, tmp_path).split())
    names = public_names(client)
    assert len(names) >= 3
    for name in names:
        assert " ".join(name.split()) in text
    assert today_in("en") in text
    assert "Contains OS data © Crown copyright" in text
    assert "Support in Batley East" in text
    assert "Food bank" in text and "Library" in text  # grouped by need
    assert "Opening hours not published" in text or "closed on bank holidays" in text
    info = tmp_path / "info.pdf"
    info.write_bytes(response.content)
    details = subprocess.run(["pdfinfo", str(info)], capture_output=True, text=True).stdout
    assert "Tagged:          yes" in details  # headings and lists for screen readers
    assert "A4" in details


def test_the_leaflet_speaks_the_language_asked_for(client: TestClient, tmp_path: Path) -> None:
    polish = " ".join(text_of(client.get(f"/leaflets/ward/{WARD}.pdf?lang=pl").content,
                              tmp_path).split())  # fmt: skip
    assert "Wsparcie: Batley East" in polish
    assert today_in("pl") in polish  # e.g. "7 grudnia 2026"
    assert "Batley Library" in polish  # names stay as the source gives them
    assert "przetłumaczona maszynowo" in polish  # the honest notice, in Polish
    for code in ("ur", "pa"):
        made = client.get(f"/leaflets/ward/{WARD}.pdf", params={"lang": code})
        assert made.status_code == 200 and made.content.startswith(b"%PDF")
        assert "Batley Library" in text_of(made.content, tmp_path)


def test_a_category_narrows_the_leaflet(client: TestClient, tmp_path: Path) -> None:
    text = text_of(client.get(f"/leaflets/ward/{WARD}.pdf?category=library").content, tmp_path)
    libraries = public_names(client, category="library")
    assert libraries and all(name in text for name in libraries)
    others = set(public_names(client)) - set(libraries)
    assert others and not any(name in text for name in others)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        (f"/leaflets/ward/{WARD}.pdf?lang=xx", 422, "unknown_language"),
        (f"/leaflets/ward/{WARD}.pdf?category=nonsense", 422, "unknown_category"),
        (f"/leaflets/lsoa/{WARD}.pdf", 422, "invalid_input"),
        ("/leaflets/ward/E05999999.pdf", 404, "unknown_area"),
    ],
)
def test_bad_leaflet_requests_say_what_to_fix(
    client: TestClient, path: str, status: int, code: str
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.json()["code"] == code


def test_the_planner_and_hub_link_to_leaflets(client: TestClient) -> None:
    planner = client.get(f"/planner?area=ward%3A{WARD}&lang=pl").text
    assert f'href="/leaflets/ward/{WARD}.pdf?lang=pl"' in planner
    hub = client.get("/hub?postcode=WF17+5DA&needs=library&lang=en").text
    assert f'href="/leaflets/ward/{WARD}.pdf?lang=en"' in hub
    client.cookies.clear()
