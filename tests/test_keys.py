"""API keys from the CLI: shown once, stored as a hash, revoked from the very next request."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import auth


def test_a_key_is_printed_alone_on_the_last_line_and_stored_only_as_a_hash(
    client: TestClient, db: Engine, keys: dict[str, str]
) -> None:
    result = CliRunner().invoke(
        cli, ["keys", "create", "--role", "hub_worker", "--name", "Huddersfield hub desk"]
    )
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("am_") and " " not in key and len(key) > 30
    with db.connect() as conn:
        stored = conn.execute(text("SELECT prefix, secret_hash FROM api_key")).all()
    assert all(key.split(".")[1] not in (prefix + digest) for prefix, digest in stored)
    assert key.split(".")[0] in [prefix for prefix, _ in stored]
    professional = client.post(
        "/api/assets",
        json={"name": "Example Hub Desk Only (synthetic)", "category": "council_hub",
              "postcode": "HD1 2EY", "visibility": "professional", "synthetic": True},
        headers=auth(keys["admin"]),
    ).json()  # fmt: skip
    url = f"/api/assets/{professional['id']}"
    assert client.get(url, headers=auth(key)).status_code == 200
    assert client.get(url).status_code == 404

    revoked = CliRunner().invoke(cli, ["keys", "revoke", key.split(".")[0]])
    assert revoked.exit_code == 0, revoked.output
    refused = client.get(url, headers=auth(key))
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_key"
    listing = CliRunner().invoke(cli, ["keys", "list"]).output
    line = next(row for row in listing.splitlines() if key.split(".")[0] in row)
    assert "Huddersfield hub desk" in line and "revoked" in line


def test_a_key_with_a_wrong_secret_is_refused(client: TestClient, keys: dict[str, str]) -> None:
    prefix = keys["admin"].split(".")[0]
    response = client.get("/api/assets", headers=auth(f"{prefix}.not-the-secret"))
    assert response.status_code == 401


def test_an_editor_key_needs_an_organisation() -> None:
    result = CliRunner().invoke(cli, ["keys", "create", "--role", "editor", "--name", "x"])
    assert result.exit_code == 2 and "--organisation" in result.output
    bad_role = CliRunner().invoke(cli, ["keys", "create", "--role", "boss", "--name", "x"])
    assert bad_role.exit_code == 2 and "role must be one of" in bad_role.output
