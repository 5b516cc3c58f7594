"""Typed settings from the environment; every knob has a default that works on a fresh machine."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/assetmap"


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSETMAP_", extra="ignore", populate_by_name=True)

    # --- database -----------------------------------------------------------------------------
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        validation_alias=_env("DATABASE_URL", "ASSETMAP_DATABASE_URL"),
        description="PostgreSQL URL (postgresql://user@host:port/db); drivers are chosen per use.",
    )
    pool_size: int = Field(10, ge=1, le=100, description="Connections kept open per process.")
    pool_max_overflow: int = Field(5, ge=0, le=100)
    pool_timeout_s: float = Field(5.0, gt=0, description="Wait for a free connection, then 503.")
    connect_timeout_s: float = Field(2.0, gt=0, description="Give up connecting after this.")
    statement_timeout_ms: int = Field(
        10_000, ge=100, description="Every statement the API runs is cancelled after this."
    )
    health_timeout_s: float = Field(2.0, gt=0)
    pool_pre_ping: bool = Field(
        True,
        description="Test each pooled connection before use (one short round trip): after a "
        "database restart no request fails. Off saves the round trip; then a dead connection "
        "fails one request per worker (503) and the pool is renewed.",
    )

    # --- data -------------------------------------------------------------------------------
    data_dir: Path = Field(
        PROJECT_ROOT.parent / "shared" / "kirklees-data",
        validation_alias=_env("ASSETMAP_DATA_DIR"),
        description="The Kirklees open-data bundle, read in place (never copied).",
    )
    boundary_refresh_s: float = Field(
        5.0, gt=0, description="How often a worker checks whether the geography was reloaded."
    )
    asset_index: bool = Field(
        True,
        description="Answer the public reads of assets (nearest, lists, the caller, OGC pages) "
        "from each worker's in-memory index of the assets (kept current one change at a time "
        "by PostgreSQL notifications); off: from PostGIS every time.",
    )
    asset_index_max_assets: int = Field(
        2_000_000,
        ge=0,
        description="Above this many assets the index is not built (each worker holds it in "
        "memory: see docs/scaling.md): PostGIS answers.",
    )
    stale_after_days: int = Field(365, ge=1, description="Unverified this long → stale.")
    key_categories: list[str] = Field(
        ["food_bank", "gp_practice", "pharmacy", "library", "advice", "mental_health",
         "warm_space", "community_centre"],
        description="The categories an area profile finds the nearest of.",
    )  # fmt: skip

    # --- limits -----------------------------------------------------------------------------
    bulk_max_items: int = Field(100_000, ge=1, description="Points or postcodes per bulk lookup.")
    export_max_assets: int = Field(
        200_000, ge=1, description="Assets one export may hold; more are refused with 413."
    )
    bbox_max_degrees: float = Field(20.0, gt=0, description="Largest bbox side, in degrees.")
    submissions_per_hour: int = Field(5, ge=1, description="Public proposals per client per hour.")
    client_salt: str = Field(
        "assetmap", description="Salt for hashing client addresses (set a secret in production)."
    )
    import_max_unzipped_bytes: int = Field(
        200 * 1024 * 1024, ge=1024, description="A zipped upload may unpack to at most this."
    )

    max_body_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Larger request bodies are refused with 413."
    )
    rate_read_per_s: float = Field(
        5000, gt=0, description="Reads per second per client (per worker); generous by design."
    )
    rate_write_per_s: float = Field(10, gt=0, description="Writes per second per client.")
    rate_bulk_per_s: float = Field(2, gt=0, description="Bulk lookups and imports per second.")
    rate_submission_per_s: float = Field(1, gt=0, description="Public proposals per second.")
    rate_burst_factor: float = Field(
        3, ge=1, description="A client may burst to this many seconds' worth of requests."
    )
    trust_forwarded_for: bool = Field(
        False, description="Take the client from X-Forwarded-For (only behind your own proxy)."
    )

    # --- http -------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", validation_alias=_env("HOST", "ASSETMAP_HOST"))
    port: int = Field(8000, ge=1, le=65535, validation_alias=_env("PORT", "ASSETMAP_PORT"))
    workers: int = Field(0, ge=0, description="uvicorn workers; 0 means one per CPU core.")
    log_level: str = Field("info", validation_alias=_env("LOG_LEVEL", "ASSETMAP_LOG_LEVEL"))
    tile_url: str | None = Field(
        None, description="Optional basemap tile URL template; off by default (works offline)."
    )
    tile_attribution: str = Field(
        "Map tiles: see the tile provider's terms", description="Shown with the basemap."
    )
    session_hours: float = Field(8, gt=0, description="How long a page sign-in lasts.")
    secure_cookies: bool = Field(
        False, description="Mark the sign-in cookie Secure (set it when TLS ends at a proxy)."
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
