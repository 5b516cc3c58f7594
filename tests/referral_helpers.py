"""Shared set-up for the referral tests: keys for two hubs, and an asset that takes referrals."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.db import create_api_engine
from app.settings import Settings
from tests.conftest import auth

ORG_A = "Example Organisation A (synthetic)"
HUB_NORTH = "Example North Hub (synthetic)"
HUB_SOUTH = "Example South Hub (synthetic)"
CLIENT = {"name": "Zebedee Quillfeather", "contact": "07700 900123", "preferred_language": "Urdu"}


KeySpec = tuple[str, str | None, str | None]  # role, organisation, e-mail


def make_keys(settings: Settings, wanted: dict[str, KeySpec]) -> dict[str, str]:
    """label → key, for (role, organisation, e-mail) each."""
    from app.register.keys import create_key

    async def make() -> dict[str, str]:
        engine = create_api_engine(settings)
        made = {}
        try:
            for label, (role, organisation, email) in wanted.items():
                async with async_sessionmaker(engine).begin() as session:
                    _, key = await create_key(
                        session,
                        f"test {label}",
                        role,
                        organisation,
                        email,  # type: ignore[arg-type]
                    )
                made[label] = key
        finally:
            await engine.dispose()
        return made

    return asyncio.run(make())


def referral_asset(client: TestClient, editor_key: str, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Example Referral Pantry (synthetic)",
        "category": "food_bank",
        "postcode": "HD1 1AA",
        "email": "pantry@example.org",
        "accepts_referrals": True,
        "synthetic": True,
        **fields,
    }
    response = client.post("/api/assets", json=body, headers=auth(editor_key))
    assert response.status_code == 201, response.text
    return response.json()


def referral_body(asset_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "asset_id": asset_id,
        "need": "food_bank",
        "client": CLIENT,
        "notes": "Zebedee has two children; call after 4pm",
        "consent": True,
        **fields,
    }


def raw_details(db: Engine, referral_id: int) -> bytes | None:
    with db.connect() as conn:
        value = conn.execute(
            text("SELECT client_details FROM referral WHERE id = :id"), {"id": referral_id}
        ).scalar_one()
    return bytes(value) if value is not None else None
