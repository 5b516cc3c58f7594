"""The hot routes' query strings are read as Starlette reads every other route's
(app.query_models.query_pairs against urllib.parse.parse_qsl, blank values kept)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from app.query_models import query_pairs

QUERIES = [
    "",
    "lat=53.571789&lon=-1.723146&limit=10",
    "postcode=HD3+3UD&needs=food_bank%2Clibrary%2Cgp_practice&at=2026-11-25T11%3A00",
    "category=food_bank&category=library&open_now=true",
    "a=&b&=c&&d==e&",
    "name=caf%C3%A9+%26+bar&x=%ZZ&y=%e2%82&z=100%25",
    "a+b=c+d&%3D=%26&plus=%2B+",
    "q=;semi;colons&r=a;b",
    "lat=53.5%0A&lon=-1.7\x00",
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_pairs_are_parse_qsl_s(query: str) -> None:
    assert query_pairs(query) == parse_qsl(query, keep_blank_values=True)
