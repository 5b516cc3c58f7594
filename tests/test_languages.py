"""Languages: every English message has a translation in every catalog; the language is chosen by
?lang= > cookie > Accept-Language; pages say which language and direction they are in, offer
the switcher and, for an unreviewed translation, say so once; API errors follow
Accept-Language while their `code` stays the same; numbers and dates follow the language."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from app import i18n
from app.geo.hours import LONDON
from app.visibility import freshness

ROOT = Path(__file__).resolve().parents[1]
TRANSLATED = [code for code in i18n.LANGUAGES if code != i18n.DEFAULT]
PAGES = ["/", "/hub", "/planner", "/submit", "/moderate", "/accessibility",
         "/hub?postcode=WF14+8AN&needs=food_bank&needs=library",
         "/planner?area=ward%3AE05001390&category=food_bank&max_km=2&layer=ward",
         "/?postcode=HD1+1AA&category=library", "/checks", "/referrals", "/referrals/new",
         "/verify", "/hub?postcode=WF14+8AN&needs=food_bank&languages=ur&accessibility=bsl",
         ]  # fmt: skip
NOTICE = {
    "ur": "اس صفحے کا ترجمہ مشین سے کیا گیا ہے",
    "pl": "Ta strona została przetłumaczona maszynowo",
    "pa": "ਇਸ ਸਫ਼ੇ ਦਾ ਅਨੁਵਾਦ ਮਸ਼ੀਨ ਨੇ ਕੀਤਾ ਹੈ",
}


def english_messages() -> set[str]:
    """Every message the code and templates use, extracted the way `make messages` does."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("code", TRANSLATED)
def test_each_catalog_translates_every_message_the_english_pages_use(code: str) -> None:
    path = ROOT / "app" / "i18n" / "locale" / code / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=code)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    messages = english_messages()
    assert len(messages) > 150
    missing = sorted(messages - translated)
    assert not missing, f"{code} lacks {len(missing)} messages (run `make messages`): {missing[:5]}"
    problems = [(m.id, errors) for m, errors in catalog.check()]
    assert not problems, f"{code}: placeholders differ from the English: {problems[:3]}"
    assert "not reviewed" in (catalog.last_translator or "")


def test_the_language_comes_from_the_query_then_the_cookie_then_the_browser(
    client: TestClient,
) -> None:
    client.cookies.clear()
    polish = client.get("/submit", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    assert '<html lang="pl" dir="ltr">' in polish.text
    assert "Dodaj miejsce lub grupę" in polish.text
    assert "set-cookie" not in polish.headers  # a browser default is not a choice to remember

    urdu = client.get("/submit?lang=ur", headers={"Accept-Language": "pl"})
    assert '<html lang="ur" dir="rtl">' in urdu.text
    assert "lang=ur" in urdu.headers["set-cookie"] and "Max-Age" in urdu.headers["set-cookie"]
    assert "Accept-Language" in urdu.headers["vary"]

    remembered = client.get("/submit", headers={"Accept-Language": "pl"})
    assert '<html lang="ur" dir="rtl">' in remembered.text

    overridden = client.get("/submit?lang=en", headers={"Accept-Language": "pl"})
    assert '<html lang="en" dir="ltr">' in overridden.text
    assert "Add a place or group, or correct one" in overridden.text
    client.cookies.clear()
    unknown = client.get("/submit?lang=xx", headers={"Accept-Language": "fr, de;q=0.5"})
    assert '<html lang="en" dir="ltr">' in unknown.text


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("code", TRANSLATED)
def test_every_page_is_translated_with_a_switcher_and_one_honest_notice(
    client: TestClient, path: str, code: str
) -> None:
    client.cookies.clear()
    joiner = "&" if "?" in path else "?"
    page = client.get(f"{path}{joiner}lang={code}")
    client.cookies.clear()
    assert page.status_code == 200
    language = i18n.LANGUAGES[code]
    assert f'<html lang="{code}" dir="{language.dir}">' in page.text
    assert page.text.count(NOTICE[code]) == 1
    switcher = re.search(r'<nav class="languages"[^>]*>(.*?)</nav>', page.text, re.S)
    assert switcher is not None
    for other in i18n.LANGUAGES.values():
        assert f'hreflang="{other.code}"' in switcher.group(1)
        assert other.name in switcher.group(1)
    assert 'aria-current="true">' + language.name in switcher.group(1)
    # the main navigation, in the language
    with i18n.speaking(code):
        for word in ("Find support", "Hub desk", "Planner"):
            assert i18n.gettext(word) in page.text
            assert i18n.gettext(word) != word


def test_english_pages_carry_no_translation_notice(client: TestClient) -> None:
    client.cookies.clear()
    page = client.get("/", headers={"Accept-Language": "en-GB"})
    assert '<html lang="en" dir="ltr">' in page.text
    assert not any(notice in page.text for notice in NOTICE.values())


@pytest.mark.parametrize("code", TRANSLATED)
def test_an_api_error_detail_follows_accept_language_and_its_code_does_not(
    client: TestClient, code: str
) -> None:
    english = client.get("/api/lookup", params={"postcode": "HD9 9ZZ"})
    other = client.get(
        "/api/lookup", params={"postcode": "HD9 9ZZ"}, headers={"Accept-Language": code}
    )
    assert english.status_code == other.status_code == 404
    assert english.json()["code"] == other.json()["code"] == "unknown_postcode"
    assert "HD9 9ZZ is not one we know in Kirklees" in english.json()["detail"]
    assert other.json()["detail"] != english.json()["detail"]
    assert "HD9 9ZZ" in other.json()["detail"]
    assert other.headers["content-language"] == code
    # ?lang= is for pages: the API does not read it
    ignored = client.get("/api/lookup", params={"postcode": "HD9 9ZZ", "lang": code})
    assert ignored.json()["detail"] == english.json()["detail"]


def test_numbers_distances_and_dates_follow_the_language() -> None:
    moment = datetime(2026, 11, 24, 9, 30, tzinfo=LONDON)
    with i18n.speaking("en"):
        assert i18n.km(1234) == "1.2 km"
        assert i18n.number(12345) == "12,345"
    with i18n.speaking("pl"):
        assert i18n.km(1234) == "1,2 km"
        assert i18n.number(12345) == "12\xa0345"
        assert i18n.day_and_time(moment) == "wt., 24 lis, 09:30"
        assert i18n.long_date(moment) == "24 listopada 2026"
    with i18n.speaking("ur"):
        assert "کلومیٹر" in i18n.km(1234)
        assert "نومبر" in i18n.long_date(moment)
    with i18n.speaking("pa"):
        assert "ਨਵੰਬਰ" in i18n.long_date(moment)


def test_accept_language_quality_values_pick_the_best_language_we_have() -> None:
    assert i18n.accepted("fr-FR, ur;q=0.4, pl;q=0.8") == "pl"
    assert i18n.accepted("pa-IN") == "pa"
    assert i18n.accepted("ur;q=0, fr") is None
    assert i18n.accepted("") is None
    assert i18n.choose("PL", "ur", "pa") == "pl"
    assert i18n.choose(None, "ur", "pa") == "ur"
    assert i18n.choose("xx", "yy", "pa") == "pa"


def test_freshness_names_the_month_in_the_language() -> None:
    march = date(2026, 3, 5)
    with i18n.speaking("en"):
        assert freshness(march, False) == "checked March 2026"
        assert freshness(march, True) == "not checked since 2026 — may have changed"
    with i18n.speaking("pl"):
        assert freshness(march, False) == "sprawdzono: marzec 2026"
        assert freshness(None, True) == "jeszcze niesprawdzone — mogło się zmienić"
    with i18n.speaking("ur"):
        assert "مارچ 2026" in freshness(march, False)
    with i18n.speaking("pa"):
        assert "ਮਾਰਚ 2026" in freshness(march, False)


@pytest.mark.parametrize("code", TRANSLATED)
def test_an_entry_page_its_needs_and_the_search_form_speak_the_language(
    client: TestClient, code: str
) -> None:
    client.cookies.clear()
    first = client.get("/api/assets", params={"category": "library"}).json()["items"][0]
    page = client.get(f"/assets/{first['id']}?lang={code}")
    client.cookies.clear()
    assert page.status_code == 200
    assert first["name"] in page.text  # names stay as the source gives them
    with i18n.speaking(code):
        for word in ("Last checked", "Opening hours", "Sources", "Library", "See it on the map"):
            assert i18n.gettext(word) != word
            assert i18n.gettext(word) in page.text
        hub = client.get(f"/hub?lang={code}")
        client.cookies.clear()
        # the needs form: language names from CLDR, features from the catalog
        assert i18n.locale().languages["ur"] in hub.text
        assert i18n.gettext("Step-free access") in hub.text
        assert ">Step-free access<" not in hub.text
