"""Typed settings from the environment; every knob has a default that works on a fresh machine."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

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
    allowed_hosts: list[str] = Field(
        ["localhost", "127.0.0.1", "[::1]", "testserver"],  # testserver: Starlette's test client
        description="Host headers answered when public_url is not set (others: 400); "
        '"*.example.org" allows subdomains, "*" any host. JSON list in the environment.',
    )

    # --- outgoing mail ------------------------------------------------------------------------
    smtp_host: str | None = Field(
        None, description="SMTP server for outgoing mail; unset means mail is off (said plainly)."
    )
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port (587 for STARTTLS, 465 SSL).")
    smtp_tls: Literal["none", "starttls", "ssl"] = Field(
        "none", description="How to secure the SMTP connection."
    )
    smtp_user: str | None = Field(None, description="SMTP login, when the server needs one.")
    smtp_password: str | None = Field(None, description="SMTP password (a secret).")
    smtp_timeout_s: float = Field(10.0, gt=0, description="Give up on the SMTP server after this.")
    mail_from: str = Field(
        "assetmap@localhost", description="The sender address of every message the service sends."
    )
    public_url: str | None = Field(
        None,
        description="The service's address as its users reach it (https://map.example.org), for "
        "links in e-mails; also every request is seen as arriving at its origin, so absolute "
        "links (OGC, paging, ORUK) never reflect a Host header. Unset: the address the request "
        "came to, from allowed_hosts only.",
    )

    # --- environment ----------------------------------------------------------------------------
    environment: Literal["development", "production"] = Field(
        "development",
        validation_alias=_env("ASSETMAP_ENV"),
        description="production refuses to start without the secrets development invents "
        "(ASSETMAP_REFERRAL_KEY).",
    )

    # --- referrals ------------------------------------------------------------------------------
    referral_key: str | None = Field(
        None,
        description="Fernet key(s) for referral client details, comma-separated, newest first "
        "(older ones still decrypt: rotation). Unset in development: a key is generated in "
        "referral_key_file; unset in production: the server refuses to start.",
    )
    referral_key_file: Path = Field(
        PROJECT_ROOT / ".secrets" / "referral.key",
        description="Development only: where the generated referral key is kept.",
    )
    referral_retention_days: int = Field(
        30, ge=0, description="Client details are erased this many days after a referral closes."
    )
    referral_purge_every_h: float = Field(
        24, ge=0, description="How often the server erases expired client details (0: never)."
    )

    # --- self-service confirmation (issue 20) -------------------------------------------------
    link_secret: str | None = Field(
        None,
        description="Key that signs confirmation links (a secret); unset: derived from "
        "client_salt, so set it in production.",
    )
    verify_link_days: int = Field(30, ge=1, le=365, description="A confirmation link expires.")
    verify_send_per_s: float = Field(
        1.0, gt=0, le=50, description="`assetmap verify send` sends at most this many a second."
    )

    @property
    def link_origin(self) -> str:
        """Where links sent outside a request (e-mails from the CLI) point: `public_url`, else
        the address `assetmap serve` listens on."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    # --- text messages (GOV.UK Notify or a compatible API) ------------------------------------
    notify_base_url: str = Field(
        "https://api.notifications.service.gov.uk",
        description="Base URL of the GOV.UK Notify-compatible API that sends text messages.",
    )
    notify_api_key: str | None = Field(
        None, description="Notify API key (a secret); unset means text messages are off."
    )
    notify_sms_template_id: str | None = Field(
        None, description="The Notify SMS template whose whole content is ((body)).", max_length=64
    )
    notify_timeout_s: float = Field(10.0, gt=0, description="Give up on the SMS provider then.")
    shortlist_days: int = Field(
        30, ge=1, le=365, description="How long a sent shortlist's link (/s/{id}) works."
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
