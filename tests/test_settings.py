"""Settings are read from the environment by concern, reached flat, and refused with a line naming
the variable to fix when they disagree (production without its secrets above all)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from app.main import create_app
from app.settings import (
    DatabaseSettings,
    HttpSettings,
    Settings,
    SettingsRefused,
    explain,
    get_settings,
    variable_of,
)

ROOT = Path(__file__).resolve().parents[1]
FERNET_KEY = "x6Bv8oO8u3xO9sVbcHNXHwr1PG3Fkq1AAiHAVz1tbYs="
SECRETS = {
    "ASSETMAP_REFERRAL_KEY": FERNET_KEY,
    "ASSETMAP_CLIENT_SALT": "a-long-random-salt",
    "ASSETMAP_LINK_SECRET": "another-long-random-secret",
}


def _problems(**env: str) -> list[str]:
    """The lines an operator is shown for these variables (pytest's monkeypatch sets them)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with pytest.raises(ValidationError) as refused:
            Settings()
    return explain(refused.value)


def test_every_variable_reaches_its_flat_attribute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.example:5433/elsewhere")
    monkeypatch.setenv("ASSETMAP_POOL_SIZE", "3")
    monkeypatch.setenv("ASSETMAP_DATA_DIR", "/srv/bundle")
    monkeypatch.setenv("ASSETMAP_BULK_MAX_ITEMS", "7")
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("HOST", "192.0.2.7")
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("ASSETMAP_SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("ASSETMAP_REFERRAL_RETENTION_DAYS", "9")
    monkeypatch.setenv("ASSETMAP_VERIFY_LINK_DAYS", "12")
    monkeypatch.setenv("ASSETMAP_SHORTLIST_DAYS", "4")
    monkeypatch.setenv("ASSETMAP_ALLOWED_HOSTS", '["map.example.org"]')
    settings = Settings()
    assert settings.database_url == "postgresql://someone@db.example:5433/elsewhere"
    assert settings.pool_size == 3
    assert settings.data_dir == Path("/srv/bundle")
    assert settings.bulk_max_items == 7
    assert (settings.port, settings.host, settings.log_level) == (8123, "192.0.2.7", "warning")
    assert settings.smtp_host == "mail.example.org"
    assert settings.referral_retention_days == 9
    assert (settings.verify_link_days, settings.shortlist_days) == (12, 4)
    assert settings.allowed_hosts == ["map.example.org"]
    assert settings.link_origin == "http://192.0.2.7:8123"
    # each concern reads the same variables on its own
    assert DatabaseSettings().pool_size == 3
    assert HttpSettings().port == 8123


def test_the_prefixed_names_of_the_aliased_settings_work_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("DATABASE_URL", "PORT", "HOST", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASSETMAP_DATABASE_URL", "postgresql://x@y:5432/z")
    monkeypatch.setenv("ASSETMAP_PORT", "8124")
    monkeypatch.setenv("ASSETMAP_HOST", "::1")
    monkeypatch.setenv("ASSETMAP_LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.database_url == "postgresql://x@y:5432/z"
    assert (settings.port, settings.host, settings.log_level) == (8124, "::1", "debug")


def test_get_settings_reads_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    try:
        monkeypatch.setenv("ASSETMAP_POOL_SIZE", "4")
        first = get_settings()
        monkeypatch.setenv("ASSETMAP_POOL_SIZE", "5")
        assert get_settings() is first and first.pool_size == 4
    finally:
        get_settings.cache_clear()


def test_every_setting_is_one_field_of_one_concern() -> None:
    owned: dict[str, str] = {}
    for concern in Settings.__bases__:
        assert len(concern.model_fields) > 1, concern.__name__
        for name in concern.model_fields:
            assert name not in owned, (name, owned.get(name), concern.__name__)
            owned[name] = concern.__name__
    assert set(owned) == set(Settings.model_fields)


def test_production_refuses_the_public_salt_and_names_every_missing_secret() -> None:
    problems = _problems(ASSETMAP_ENV="production")
    assert len(problems) == 1
    said = problems[0]
    assert said.startswith("ASSETMAP_ENV=production refuses to start")
    for name in SECRETS:
        assert name in said


def test_production_starts_with_its_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSETMAP_ENV", "production")
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    assert Settings().environment == "production"
    monkeypatch.setenv("ASSETMAP_CLIENT_SALT", "assetmap")
    with pytest.raises(ValidationError, match="ASSETMAP_CLIENT_SALT is the public default"):
        Settings()


def test_production_refuses_one_secret_for_two_jobs() -> None:
    same = {**SECRETS, "ASSETMAP_LINK_SECRET": SECRETS["ASSETMAP_CLIENT_SALT"]}
    problems = _problems(ASSETMAP_ENV="production", **same)
    assert problems == [
        "ASSETMAP_ENV=production refuses to start: ASSETMAP_LINK_SECRET equals "
        "ASSETMAP_CLIENT_SALT: give each its own secret"
    ]


def test_development_keeps_its_defaults() -> None:
    settings = Settings()
    assert settings.environment == "development" and settings.client_salt == "assetmap"


def test_create_app_refuses_production_settings_made_in_code(settings: Settings) -> None:
    production = settings.model_copy(
        update={"environment": "production", "referral_key": FERNET_KEY}
    )  # model_copy skips validators: create_app checks again
    with pytest.raises(SettingsRefused, match="ASSETMAP_CLIENT_SALT"):
        create_app(production)


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ("ASSETMAP_SMTP_USER", "ASSETMAP_SMTP_PASSWORD"),
        ("ASSETMAP_SMTP_PASSWORD", "ASSETMAP_SMTP_USER"),
        ("ASSETMAP_NOTIFY_API_KEY", "ASSETMAP_NOTIFY_SMS_TEMPLATE_ID"),
        ("ASSETMAP_NOTIFY_SMS_TEMPLATE_ID", "ASSETMAP_NOTIFY_API_KEY"),
    ],
)
def test_half_a_login_is_refused_naming_both_halves(given: str, missing: str) -> None:
    [problem] = _problems(**{given: "s3cret-value"})
    assert problem.startswith(f"{given} is set but {missing} is not")
    assert "s3cret-value" not in problem


@pytest.mark.parametrize("name", ["ASSETMAP_PUBLIC_URL", "ASSETMAP_TILE_URL",
                                  "ASSETMAP_NOTIFY_BASE_URL"])  # fmt: skip
@pytest.mark.parametrize("value", ["map.example.org", "/map", "ftp://map.example.org", "https://"])
def test_a_url_setting_must_be_absolute_http(name: str, value: str) -> None:
    [problem] = _problems(**{name: value})
    assert problem.startswith(f"{name}: {name} must be an absolute http(s) URL")


def test_absolute_urls_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSETMAP_PUBLIC_URL", "https://map.example.org/")
    monkeypatch.setenv("ASSETMAP_TILE_URL", "https://{s}.tile.example.org/{z}/{x}/{y}.png")
    settings = Settings()
    assert settings.link_origin == "https://map.example.org"
    assert settings.tile_url == "https://{s}.tile.example.org/{z}/{x}/{y}.png"


def test_an_invalid_value_is_named_by_the_variable_given_and_never_repeated() -> None:
    problems = _problems(PORT="eighty", ASSETMAP_POOL_SIZE="0", ASSETMAP_SMTP_TLS="s3cret")
    assert sorted(p.split(":")[0] for p in problems) == [
        "ASSETMAP_POOL_SIZE", "ASSETMAP_SMTP_TLS", "PORT"]  # fmt: skip
    assert not any("eighty" in p or "s3cret" in p for p in problems)


def test_the_cli_says_what_to_fix_in_a_line_each(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.cli import cli

    monkeypatch.setenv("ASSETMAP_ENV", "production")
    monkeypatch.setenv("ASSETMAP_POOL_SIZE", "0")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["keys", "list"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "error: ASSETMAP_POOL_SIZE: Input should be greater than or equal to 1"
    ]


def _documented() -> str:
    return (ROOT / "README.md").read_text() + "".join(
        page.read_text() for page in sorted((ROOT / "docs").glob("*.md"))
    )


def test_every_setting_is_documented_and_every_documented_one_exists() -> None:
    text = _documented()
    variables = {variable_of(name) for name in Settings.model_fields}
    assert sorted(v for v in variables if f"`{v}`" not in text and f"{v}`" not in text) == []
    named = set(re.findall(r"\bASSETMAP_[A-Z0-9_]*[A-Z0-9]\b(?!_\*)", text))
    assert sorted(named - variables) == []


def _bounded_defaults(openapi: dict[str, Any]) -> list[tuple[str, str, Any, Any, Any]]:
    found = []
    for path, operations in openapi["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if "default" in schema and ("maximum" in schema or "minimum" in schema):
                    found.append((path, parameter["name"], schema.get("minimum"),
                                  schema["default"], schema.get("maximum")))  # fmt: skip
    return found


def test_every_parameters_default_lies_within_its_bounds(settings: Settings) -> None:
    """Default ≤ maximum (and ≥ minimum) for every bounded query parameter: FastAPI never
    checks a default against its own bounds."""
    bounded = _bounded_defaults(create_app(settings).openapi())
    assert any(name == "limit" for _, name, *_ in bounded)  # the check sees the limits
    outside = [
        b for b in bounded
        if (b[2] is not None and b[3] < b[2]) or (b[4] is not None and b[3] > b[4])
    ]  # fmt: skip
    assert outside == []
