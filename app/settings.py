"""Typed settings from the environment, one class per concern, composed into `Settings`; every
knob has a default that works on a fresh machine, and start-up refuses settings that disagree."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROWS_KEPT = 150_000  # assets' rows each worker holds for showing (the asset index's default)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/assetmap"
PUBLIC_CLIENT_SALT = "assetmap"  # the default salt: public (it is in this file), so never secret


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def _both_or_neither(first: tuple[str, str | None], second: tuple[str, str | None],
                     why: str) -> None:  # fmt: skip
    """Two variables that only work together: one set without the other is refused."""
    (first_name, first_value), (second_name, second_value) = first, second
    if bool(first_value) != bool(second_value):
        given, missing = (first_name, second_name) if first_value else (second_name, first_name)
        raise ValueError(f"{given} is set but {missing} is not: {why}")


def _absolute_http_url(variable: str, value: str | None, example: str) -> str | None:
    """`value` when it is an absolute http(s) URL (or unset); else an error naming `variable`."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"{variable} must be an absolute http(s) URL such as {example}, with scheme and host"
        )
    return value


class Concern(BaseSettings):
    """What every group shares: `ASSETMAP_` names, unknown variables ignored, and errors that
    never repeat the value given (a misplaced secret stays out of the log)."""

    model_config = SettingsConfigDict(
        env_prefix="ASSETMAP_", extra="ignore", populate_by_name=True, hide_input_in_errors=True
    )


class DatabaseSettings(Concern):
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        validation_alias=_env("DATABASE_URL", "ASSETMAP_DATABASE_URL"),
        description="PostgreSQL URL (postgresql://user@host:port/db); drivers are chosen per use.",
    )
    pool_size: int = Field(10, ge=1, le=100, description="Connections kept open per process.")
    pool_max_overflow: int = Field(
        5, ge=0, le=100, description="Connections opened past pool_size under load, then closed."
    )
    pool_timeout_s: float = Field(
        5.0, gt=0, description="Wait in the queue for a free connection this long, then 503."
    )
    connect_timeout_s: float = Field(2.0, gt=0, description="Give up connecting after this.")
    statement_timeout_ms: int = Field(
        10_000, ge=100, description="Every statement the API runs is cancelled after this."
    )
    health_timeout_s: float = Field(2.0, gt=0, description="/health answers degraded after this.")
    pool_pre_ping: bool = Field(
        True,
        description="Test each pooled connection before use (one short round trip): after a "
        "database restart no request fails. Off saves the round trip; then a dead connection "
        "fails one request per worker (503) and the pool is renewed.",
    )


class DataSettings(Concern):
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
    asset_index_rows_kept: int = Field(
        ROWS_KEPT,
        ge=0,
        description="The most assets' rows (what an item shows) each worker holds; after a "
        "whole load it reads them all ahead when they fit in 80% of it, so no call pays a "
        "database read for them (about 2.2 KB each: docs/scaling.md).",
    )
    stale_after_days: int = Field(365, ge=1, description="Unverified this long → stale.")
    key_categories: list[str] = Field(
        ["food_bank", "gp_practice", "pharmacy", "library", "advice", "mental_health",
         "warm_space", "community_centre"],
        min_length=1,
        description="The categories an area profile finds the nearest of.",
    )  # fmt: skip


class LimitSettings(Concern):
    bulk_max_items: int = Field(100_000, ge=1, description="Points or postcodes per bulk lookup.")
    export_max_assets: int = Field(
        200_000, ge=1, description="Assets one export may hold; more are refused with 413."
    )
    bbox_max_degrees: float = Field(20.0, gt=0, description="Largest bbox side, in degrees.")
    submissions_per_hour: int = Field(5, ge=1, description="Public proposals per client per hour.")
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


class HttpSettings(Concern):
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
    public_url: str | None = Field(
        None,
        description="The service's address as its users reach it (https://map.example.org), for "
        "links in e-mails; also every request is seen as arriving at its origin, so absolute "
        "links (OGC, paging, ORUK) never reflect a Host header. Unset: the address the request "
        "came to, from allowed_hosts only.",
    )

    @field_validator("public_url")
    @classmethod
    def _public_url_absolute(cls, value: str | None) -> str | None:
        return _absolute_http_url("ASSETMAP_PUBLIC_URL", value, "https://map.example.org")

    @field_validator("tile_url")
    @classmethod
    def _tile_url_absolute(cls, value: str | None) -> str | None:
        example = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
        return _absolute_http_url("ASSETMAP_TILE_URL", value, example)

    @property
    def link_origin(self) -> str:
        """Where links sent outside a request (e-mails from the CLI) point: `public_url`, else
        the address `assetmap serve` listens on."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


class MailSettings(Concern):
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

    @model_validator(mode="after")
    def _smtp_login_whole(self) -> Self:
        _both_or_neither(
            ("ASSETMAP_SMTP_USER", self.smtp_user), ("ASSETMAP_SMTP_PASSWORD", self.smtp_password),
            "an SMTP login needs both (or neither, for a server that takes mail without one)",
        )  # fmt: skip
        return self


class TextMessageSettings(Concern):
    """Text messages through GOV.UK Notify or a compatible API, and the shortlists they send."""

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

    @field_validator("notify_base_url")
    @classmethod
    def _notify_url_absolute(cls, value: str) -> str:
        example = "https://api.notifications.service.gov.uk"
        return _absolute_http_url("ASSETMAP_NOTIFY_BASE_URL", value, example) or value

    @model_validator(mode="after")
    def _notify_whole(self) -> Self:
        _both_or_neither(
            ("ASSETMAP_NOTIFY_API_KEY", self.notify_api_key),
            ("ASSETMAP_NOTIFY_SMS_TEMPLATE_ID", self.notify_sms_template_id),
            "text messages need both (or neither: texts off)",
        )
        return self


class ReferralSettings(Concern):
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


class ConfirmationSettings(Concern):
    """Self-service confirmation links (issue 20)."""

    link_secret: str | None = Field(
        None,
        description="Key that signs confirmation links (a secret); unset: derived from "
        "client_salt in development, refused in production.",
    )
    verify_link_days: int = Field(30, ge=1, le=365, description="A confirmation link expires.")
    verify_send_per_s: float = Field(
        1.0, gt=0, le=50, description="`assetmap verify send` sends at most this many a second."
    )


class EnvironmentSettings(Concern):
    environment: Literal["development", "production"] = Field(
        "development",
        validation_alias=_env("ASSETMAP_ENV"),
        description="production refuses to start without the secrets development invents or "
        "makes do without (ASSETMAP_REFERRAL_KEY, ASSETMAP_CLIENT_SALT, ASSETMAP_LINK_SECRET).",
    )
    client_salt: str = Field(
        PUBLIC_CLIENT_SALT,
        description="Salt for hashing client addresses (a secret: production refuses the default).",
    )


class Settings(
    DatabaseSettings,
    DataSettings,
    LimitSettings,
    HttpSettings,
    MailSettings,
    TextMessageSettings,
    ReferralSettings,
    ConfirmationSettings,
    EnvironmentSettings,
):
    """Every setting, read flat (`settings.pool_size`); the checks across concerns live here."""

    @model_validator(mode="after")
    def _production_secrets(self) -> Self:
        refuse_unsafe(self)
        return self


def production_problems(settings: Settings) -> list[str]:
    """What production lacks: each secret development invents (or shares) must be given."""
    if settings.environment != "production":
        return []
    problems = []
    if not settings.referral_key:
        problems.append(
            "ASSETMAP_REFERRAL_KEY is not set: give the Fernet key that encrypts referral "
            "client details (make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'), kept secret and backed up apart from the "
            "database"
        )
    if settings.client_salt == PUBLIC_CLIENT_SALT:
        problems.append(
            "ASSETMAP_CLIENT_SALT is the public default: set a long random secret (python -c "
            "'import secrets; print(secrets.token_urlsafe(32))')"
        )
    if not settings.link_secret:
        problems.append(
            "ASSETMAP_LINK_SECRET is not set: set a long random secret to sign confirmation "
            "links (in development they are signed with a key derived from the client salt)"
        )
    elif settings.link_secret == settings.client_salt:
        problems.append(
            "ASSETMAP_LINK_SECRET equals ASSETMAP_CLIENT_SALT: give each its own secret"
        )
    return problems


class SettingsRefused(ValueError):
    """Production without its secrets (a ValueError: as settings are read, pydantic reports it
    like any other invalid setting)."""


def refuse_unsafe(settings: Settings) -> None:
    """Refuse production without its secrets: as settings are read, and again in create_app
    for settings made in code (`model_copy` skips validators)."""
    problems = production_problems(settings)
    if problems:
        raise SettingsRefused("ASSETMAP_ENV=production refuses to start: " + "; ".join(problems))


def variable_of(name: str) -> str:
    """The environment variable behind an error's location: an alias as given (`PORT`), or a
    field's name (its first alias, else ASSETMAP_ + the name)."""
    info = Settings.model_fields.get(name)
    if info is None:
        return name.upper()
    alias = info.validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return f"ASSETMAP_{name.upper()}"


def explain(error: ValidationError) -> list[str]:
    """One line per problem, naming the environment variable (never repeating its value)."""
    lines = []
    for problem in error.errors():
        message = problem["msg"].removeprefix("Value error, ")
        loc = problem["loc"]
        lines.append(f"{variable_of(str(loc[0]))}: {message}" if loc else message)
    return lines


@lru_cache
def get_settings() -> Settings:
    return Settings()
