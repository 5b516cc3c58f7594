"""Interruptions: an import killed with SIGKILL halfway leaves the database exactly as it was, and
two edits of one asset sent at the same moment end with one winner, one refusal (409 or 412)
and both outcomes in the asset's history."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from app.settings import Settings
from tests.conftest import auth, live_server

# Everything an import can touch. Sequences are left out: PostgreSQL never rolls them back.
TABLES = ("asset", "audit_log", "organisation", "opening_rule", "opening_exception", "data_load",
          "submission", "api_key")  # fmt: skip
ROWS = 2000


def fingerprint(db: Engine) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of every row."""
    with db.connect() as conn:
        return {
            table: tuple(
                conn.execute(
                    text(
                        f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text),"
                        f" '')) FROM {table} t"
                    )
                ).one()
            )
            for table in TABLES
        }  # type: ignore[misc]


def _big_csv(path: Path) -> Path:
    lines = ["source_ref,name,category,lat,lon,synthetic"]
    for i in range(ROWS):
        lat, lon = 53.60 + (i % 80) * 0.001, -1.85 + (i // 80) * 0.002
        lines.append(
            f"k{i},Example Killed Import {i} (synthetic),food_bank,{lat:.4f},{lon:.4f},true"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _open_write_transactions(db: Engine) -> set[int]:
    with db.connect() as conn:
        return set(
            conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
                )
            ).scalars()
        )


@pytest.mark.slow
def test_an_import_killed_halfway_leaves_the_database_exactly_as_before(
    settings: Settings, register: None, db: Engine, tmp_path: Path
) -> None:
    before = fingerprint(db)
    command = [str(Path(sys.executable).parent / "assetmap"), "import", "assets",
               str(_big_csv(tmp_path / "big.csv")), "--source", "test-killed"]  # fmt: skip
    env = {**os.environ, "DATABASE_URL": settings.database_url, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    assert process.stderr is not None
    seen = []
    halfway = f"stored {ROWS // 2}/{ROWS} rows"
    for line in process.stderr:
        seen.append(line.strip())
        if halfway in line:
            break
    assert halfway in seen, seen[-5:]
    writing = _open_write_transactions(db)
    assert writing, "the import should be halfway through its transaction"
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL
    assert process.stdout is not None and "stored." not in process.stdout.read()

    deadline = time.monotonic() + 20  # the server notices the dropped connection and rolls back
    while _open_write_transactions(db) & writing:
        assert time.monotonic() < deadline, "the killed import's transaction is still open"
        time.sleep(0.1)
    assert fingerprint(db) == before
    with db.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM asset WHERE source = 'test-killed'"))
        assert stored.scalar_one() == 0


async def _race(
    base: str, url: str, key: str, bodies: list[dict], headers: list[dict[str, str]]
) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        return list(
            await asyncio.gather(
                *(
                    client.patch(url, json=body, headers={**auth(key), **extra})
                    for body, extra in zip(bodies, headers, strict=True)
                )
            )
        )


MODES = [("version", 409, "version_conflict"), ("if_match", 412, "stale_etag")]


@pytest.mark.slow
def test_two_edits_at_once_one_wins_and_history_shows_both(
    settings: Settings, keys: dict[str, str]
) -> None:
    admin = auth(keys["admin"])
    with live_server(settings) as base, httpx.Client(base_url=base, timeout=30) as client:
        for (how, loser_status, loser_outcome), round_ in [(m, r) for m in MODES for r in range(3)]:
            created = client.post(
                "/api/assets", headers=admin,
                json={"name": "Example Contested Pantry (synthetic)", "category": "food_bank",
                      "postcode": "HD1 1AA", "synthetic": True},
            )  # fmt: skip
            assert created.status_code == 201, created.text
            url = f"/api/assets/{created.json()['id']}"
            names = [f"Example Contested Pantry {side}{round_} (synthetic)" for side in "AB"]
            if how == "version":
                bodies, headers = [{"name": n, "version": 1} for n in names], [{}, {}]
            else:
                bodies, headers = [{"name": n} for n in names], [{"If-Match": '"v1"'}] * 2
            answers = asyncio.run(_race(base, url, keys["admin"], bodies, headers))

            assert sorted(r.status_code for r in answers) == [200, loser_status], how
            winner = next(i for i, r in enumerate(answers) if r.status_code == 200)
            loser = 1 - winner
            assert answers[loser].json()["code"] == loser_outcome
            assert "GET it again" in answers[loser].json()["detail"]
            now = client.get(url).json()
            assert now["name"] == names[winner] and now["version"] == 2

            history = client.get(f"{url}/history", headers=admin).json()["items"]
            outcomes = [(h["action"], h["outcome"]) for h in history]
            assert sorted(outcomes) == sorted(
                [("create", "done"), ("update", "done"), ("update", loser_outcome)]
            )
            refused = next(h for h in history if h["outcome"] == loser_outcome)
            assert refused["changes"]["attempted"]["name"] == names[loser]
