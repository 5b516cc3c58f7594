"""The docs the service points people to exist, and what the README shows of an answer is the
answer's shape."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
DOC_PATH = re.compile(r"\bdocs/[\w./-]*\w")


def test_every_docs_path_named_in_the_openapi_text_and_the_readme_exists(
    client: TestClient,
) -> None:
    openapi = client.get("/openapi.json").text
    readme = (ROOT / "README.md").read_text()
    named = set(DOC_PATH.findall(openapi)) | set(DOC_PATH.findall(readme))
    assert "docs/queries.md" in named  # the pattern finds what is there
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert missing == [], missing


def test_the_readme_shows_the_health_answer_with_every_field(client: TestClient) -> None:
    readme = (ROOT / "README.md").read_text()
    shown = re.search(r"`GET /health` answers\s*`(\{.*?\})`", readme, re.S)
    assert shown is not None
    assert set(json.loads(shown.group(1))) == set(client.get("/health").json())
