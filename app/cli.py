"""The `assetmap` command: thin over the same functions the API uses."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.settings import get_settings

T = TypeVar("T")

cli = typer.Typer(
    help="Kirklees asset map: database, data loads, imports, keys, server.", no_args_is_help=True
)
db_cli = typer.Typer(
    help="The database: bootstrap, migrate, back up, restore.", no_args_is_help=True
)
cli.add_typer(db_cli, name="db")


@cli.callback()
def _settings_first() -> None:
    # every command reads the settings: an invalid one stops it here, each problem in a line
    # naming its variable, rather than in a traceback halfway through
    from pydantic import ValidationError

    from app.settings import explain

    try:
        get_settings()
    except ValidationError as exc:
        for line in explain(exc):
            _say(f"error: {line}")
        raise typer.Exit(1) from None


def _say(message: str) -> None:
    typer.echo(message, err=True)


@contextmanager
def _exit_on(*errors: type[Exception]) -> Iterator[None]:
    """An error the operator can act on: its message, and exit status 1 (no traceback)."""
    try:
        yield
    except errors as exc:
        _say(f"error: {exc}")
        raise typer.Exit(1) from exc


@db_cli.command("bootstrap")
def db_bootstrap() -> None:
    """Start PostgreSQL, install PostGIS, create the database and migrate (idempotent)."""
    from app.bootstrap import BootstrapError, bootstrap

    with _exit_on(BootstrapError):
        version = bootstrap(get_settings(), _say)
    _say(f"database ready (PostGIS {version})")


@db_cli.command("upgrade")
def db_upgrade(target: str = typer.Argument("head", help="Alembic revision")) -> None:
    """Migrate the schema to TARGET (default head); does nothing when already there."""
    from app.migrate import upgrade

    upgrade(get_settings(), _say, target)


@db_cli.command("downgrade")
def db_downgrade(target: str = typer.Argument(..., help="Alembic revision, or 'base'")) -> None:
    """Migrate the schema down to TARGET."""
    from app.migrate import downgrade

    downgrade(get_settings(), target)


@db_cli.command("dump")
def db_dump(
    file: Path = typer.Argument(..., dir_okay=False, help="Where to write the backup"),
) -> None:
    """Back up the whole database to FILE (pg_dump's custom format, the server's version)."""
    from app.backup import BackupError, dump

    with _exit_on(BackupError):
        size = dump(get_settings(), file)
    _say(f"wrote {file} ({size:,} bytes)")


@db_cli.command("restore")
def db_restore(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A file from `db dump`"),
    force: bool = typer.Option(False, "--force", help="Replace a database that holds data"),
) -> None:
    """Restore FILE into the configured database, in one transaction (created when missing)."""
    from app.backup import BackupError, restore

    with _exit_on(BackupError):
        restore(get_settings(), file, force)
    _say(f"restored {file}")


load_cli = typer.Typer(help="Load the data bundle (skipped when unchanged).", no_args_is_help=True)
cli.add_typer(load_cli, name="load")


@load_cli.command("geography")
def load_geography(
    force: bool = typer.Option(False, "--force", help="Reload even when nothing changed"),
) -> None:
    """Load every layer, deprivation and postcodes from ASSETMAP_DATA_DIR in one transaction."""
    from boundaries.loader import load_geography as load
    from boundaries.spec import SpecError

    with _exit_on(SpecError):
        load(get_settings(), _say, force=force)


def _load_assets(force: bool, only: list[str], report_file: Path | None) -> None:
    import orjson

    from app.db import create_api_engine
    from app.register.seed import SeedError
    from app.register.seed import load_seed as seed

    async def main() -> list[Any]:
        engine = create_api_engine(get_settings())
        try:
            return await seed(engine, get_settings().data_dir, _say, force, only)
        finally:
            await engine.dispose()

    try:
        reports = asyncio.run(main())
    except SeedError as exc:
        _say(f"error: {exc}")
        raise typer.Exit(1) from exc
    if report_file is not None:
        body = [r.as_dict() for r in reports]
        report_file.write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2))
        _say(f"wrote the report (every merge and skip, with why) to {report_file}")


@load_cli.command("assets")
def load_assets(
    force: bool = typer.Option(False, "--force", help="Re-import even when nothing changed"),
    source: list[str] = typer.Option(
        [], "--source", help="Only this source (repeatable), e.g. osm-kirklees-2023-07"
    ),
    report_file: Path = typer.Option(
        None, "--report", dir_okay=False, help="Write the full report (JSON) here"
    ),
) -> None:
    """Import the real assets in the bundle, each source all-or-nothing, merged into one asset
    per place: food banks, libraries, GP practices, pharmacies, dentists, mutual aid groups and
    OpenStreetMap community amenities."""
    _load_assets(force, source, report_file)


@load_cli.command("seed")
def load_seed(
    force: bool = typer.Option(False, "--force", help="Re-import even when nothing changed"),
) -> None:
    """The same as `load assets` (kept for scripts that use it)."""
    _load_assets(force, [], None)


@load_cli.command("all")
def load_all(
    force: bool = typer.Option(False, "--force", help="Reload even when nothing changed"),
) -> None:
    """The geography, then the seed assets (what `make run` loads)."""
    load_geography(force)
    load_seed(force)


@load_cli.command("layer")
def load_layer(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A GeoJSON file"),
    name: str = typer.Option(..., help="Layer: district, ward, hub, neighbourhood or lsoa"),
    vintage: str = typer.Option(..., help="e.g. 2026 for the wards used from May 2026"),
    code_field: str = typer.Option(..., help="Property holding each area's code"),
    name_field: str = typer.Option(..., help="Property holding each area's name"),
    title: str = typer.Option("", help="A title for the layer list"),
    source: str = typer.Option(..., help="Where the file comes from (shown to users)"),
    current: bool = typer.Option(False, "--current", help="Make it the default vintage"),
    synthetic: bool = typer.Option(False, "--synthetic", help="Made up, for tests or demos"),
) -> None:
    """Load one more vintage of a layer beside the others (e.g. the May 2026 wards)."""
    from app.geo.areas import LAYER_NAMES
    from app.geo.store import LayerRecord
    from boundaries.loader import load_layer_file
    from boundaries.spec import SpecError

    if name not in LAYER_NAMES:
        _say(f"error: --name must be one of {', '.join(LAYER_NAMES)}")
        raise typer.Exit(2)
    record = LayerRecord(
        name,
        vintage,
        title or f"{name} ({vintage})",
        source,
        "loaded from a file",
        {"file": file.name},
        synthetic,
    )
    try:
        load_layer_file(get_settings(), record, file, code_field, name_field, current, _say)
    except SpecError as exc:
        _say(f"error: {exc}")
        raise typer.Exit(1) from exc


keys_cli = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")
assets_cli = typer.Typer(help="Admin actions on assets.", no_args_is_help=True)
cli.add_typer(assets_cli, name="assets")


def _run(coroutine_factory: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one database transaction of the async write side from the command line."""
    from app.db import create_api_engine

    async def main() -> T:
        engine = create_api_engine(get_settings())
        try:
            async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
                return await coroutine_factory(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@keys_cli.command("create")
def keys_create(
    role: str = typer.Option(..., help="admin, editor, hub_worker or planner"),
    name: str = typer.Option(..., help='Who holds it, e.g. "Huddersfield hub desk"'),
    organisation: str = typer.Option(None, help="The organisation (required for an editor)"),
    email: str = typer.Option(None, help="Where its holder is told of referrals (optional)"),
) -> None:
    """Make a key; it is printed once, alone on the last line, and stored only as a hash."""
    from app.register.keys import create_key

    try:
        row, key = _run(lambda session: create_key(session, name, role, organisation, email))  # type: ignore[arg-type]
    except ValueError as exc:
        _say(f"error: {exc}")
        raise typer.Exit(2) from exc
    typer.echo(f"created key {row.id} ({row.prefix}) for {name}, role {role}.")
    typer.echo("Copy it now: it is stored only as a hash and is not shown again.")
    typer.echo(key)


@keys_cli.command("list")
def keys_list() -> None:
    """Every key: id, prefix, role, holder, organisation, created, revoked."""
    from app.register.keys import list_keys

    for key in _run(list_keys):
        revoked = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        typer.echo(
            f"{key.id}\t{key.prefix}\t{key.role}\t{key.name}\t{key.organisation or '-'}\t"
            f"{key.created_at:%Y-%m-%d}\t{revoked}"
        )


@keys_cli.command("revoke")
def keys_revoke(key: str = typer.Argument(..., help="The key's id or prefix")) -> None:
    """Revoke a key; the next request with it is refused."""
    from app.register.keys import revoke_key

    if not _run(lambda session: revoke_key(session, key)):
        _say(f"error: no active key {key}")
        raise typer.Exit(1)
    _say(f"revoked {key}")


import_cli = typer.Typer(help="Import assets from files.", no_args_is_help=True)
cli.add_typer(import_cli, name="import")


@import_cli.command("assets")
def import_assets(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV, GeoJSON, JSON, GPKG, SHP/ZIP"
    ),
    source: str = typer.Option(..., help="Where the rows come from; re-imports upsert by it"),
    file_format: str | None = typer.Option(
        None,
        "--format",
        help="csv, geojson, geopackage, shapefile, oruk or givefood; by default the extension "
        "and content say",
    ),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Store the good rows anyway"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
    merge: bool = typer.Option(
        False, "--merge", help="Match new rows to assets the register holds (one place, one asset)"
    ),
) -> None:
    """Validate every row, then store them in one transaction (nothing if any row is bad)."""
    import orjson

    from app.db import create_api_engine
    from app.errors import AppError
    from app.register.files import read_rows
    from app.register.imports import MergePolicy, check_source, import_rows
    from app.register.write import Actor

    settings = get_settings()

    def progress(phase: str, done: int, total: int) -> None:
        _say(f"{phase} {done}/{total} rows")

    async def main() -> Any:
        engine = create_api_engine(settings)
        try:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            kind, rows = read_rows(file, settings.import_max_unzipped_bytes, file_format)
            _say(f"read {len(rows)} rows from {file.name} ({kind})")
            actor = Actor.system(f"import:{source}")
            return await import_rows(
                sessions, rows, check_source(source), actor, kind, skip_invalid, progress,
                MergePolicy() if merge else None,
            )  # fmt: skip
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(main())
    except AppError as exc:
        _say(f"error: {exc.detail}")
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        for error in report.errors:
            typer.echo(f"row {error.row}, {error.field}: {error.reason}")
        for warning in report.warnings:
            typer.echo(f"row {warning.row}, {warning.field}: warning: {warning.reason}")
        for merged in report.merges:
            typer.echo(f"row {merged.get('row')}: merged into asset {merged['asset_id']} "
                       f"({merged['rule']})")  # fmt: skip
        typer.echo(
            f"{report.rows} rows: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.rejected} rejected"
            + (f", {report.merged} merged" if merge else "")
            + "; "
            + ("stored." if report.stored else "nothing stored.")
        )
    if not report.stored:
        raise typer.Exit(1)


@assets_cli.command("purge")
def assets_purge(
    asset_id: int = typer.Argument(..., help="The asset's id"),
    yes: bool = typer.Option(False, "--yes", help="Really delete it for good"),
) -> None:
    """Delete an asset for good (DELETE in the API only archives); the audit trail keeps it."""
    from app.register.write import Actor, purge_asset

    if not yes:
        _say("error: purging cannot be undone; add --yes")
        raise typer.Exit(2)
    if not _run(lambda session: purge_asset(session, asset_id, Actor.system("cli"))):
        _say(f"error: no asset {asset_id}")
        raise typer.Exit(1)
    _say(f"purged asset {asset_id}")


referrals_cli = typer.Typer(
    help="Referrals: erase client details on schedule or request; subject access.",
    no_args_is_help=True,
)
cli.add_typer(referrals_cli, name="referrals")


@referrals_cli.command("purge")
def referrals_purge(
    referral_id: int = typer.Option(
        None, "--id", help="Erase this referral's client details now (on request), open or not"
    ),
) -> None:
    """Erase client details: of referrals closed over the retention period ago (the server also
    does this daily), or of one referral with --id. Need, dates and statuses stay."""
    from app.referrals.retention import erase_expired, erase_one

    settings = get_settings()
    if referral_id is not None:
        if not _run(lambda session: erase_one(session, referral_id, "cli")):
            _say(f"error: referral {referral_id} does not exist or holds no client details")
            raise typer.Exit(1)
        _say(f"erased the client details of referral {referral_id}")
        return
    days = settings.referral_retention_days
    count = _run(lambda session: erase_expired(session, days, "cli"))
    _say(f"erased the client details of {count} referrals closed over {days} days ago")


@referrals_cli.command("export")
def referrals_export(
    client_contact: str = typer.Option(
        ..., "--client-contact", help="The person's phone number or e-mail, as they gave it"
    ),
) -> None:
    """A subject access request: every referral holding this contact, with its details, as
    JSON on stdout (the export is audited). Send it to the person securely."""
    import orjson

    from app.referrals.crypto import ClientCipher
    from app.referrals.retention import export_for_contact

    cipher = ClientCipher.from_settings(get_settings())
    found = _run(lambda session: export_for_contact(session, cipher, client_contact, "cli"))
    typer.echo(orjson.dumps({"referrals": found}, option=orjson.OPT_INDENT_2).decode())
    _say(f"{len(found)} referrals hold this contact")


verify_cli = typer.Typer(help="Ask organisations to confirm their entries.", no_args_is_help=True)
cli.add_typer(verify_cli, name="verify")


@verify_cli.command("send")
def verify_send(
    older_than: str = typer.Option(
        "12m", "--older-than", help="Not checked for this long: 30d, 12m, 2y"
    ),
    area: str = typer.Option(None, "--area", help="Only this area, e.g. ward:E05001390"),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="At most this many"),
    rate: float = typer.Option(
        None, "--rate", min=0.01, max=50, help="Messages a second (default from settings)"
    ),
) -> None:
    """E-mail each entry with a contact e-mail a signed, single-use link (expiring) to confirm
    it is still right, propose changes, or say it has closed. Oldest checked first."""
    from app.db import create_api_engine
    from app.errors import AppError
    from app.geo.areas import find_area
    from app.mail import MailOff, mail_is_on
    from app.register.confirmation import parse_age, send_requests

    settings = get_settings()
    if not mail_is_on(settings):
        _say(f"error: {MailOff()}; nothing was sent")
        raise typer.Exit(1)
    try:
        age = parse_age(older_than)
    except ValueError as exc:
        _say(f"error: --older-than {exc}")
        raise typer.Exit(2) from exc

    async def main() -> Any:
        engine = create_api_engine(settings)
        try:
            area_id = None
            if area:
                layer, _, code = area.partition(":")
                async with engine.connect() as conn:
                    area_id = (await find_area(conn, layer, code)).id
            return await send_requests(
                engine, settings, age, area_id, limit, rate or settings.verify_send_per_s, _say
            )
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(main())
    except AppError as exc:
        _say(f"error: {exc.detail}")
        raise typer.Exit(1) from exc
    _say(f"{report.sent} sent, {report.failed} not sent, of {report.candidates} entries due")
    if report.failed:
        raise typer.Exit(1)


@cli.command("serve")
def serve(
    port: int = typer.Option(None, help="Port (default: PORT or 8000)"),
    host: str = typer.Option(None, help="Interface (default 127.0.0.1)"),
    workers: int = typer.Option(None, help="Worker processes (default: one per core)"),
) -> None:
    """Serve the API with uvicorn in the foreground."""
    import os

    import uvicorn

    from app.referrals.crypto import BadKey, ClientCipher, MissingKey

    settings = get_settings()
    with _exit_on(MissingKey, BadKey):  # say why in one line, before any worker starts
        ClientCipher.from_settings(settings)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers or os.cpu_count() or 1,
        access_log=False,  # our own request log never records query strings
        log_level=settings.log_level.lower(),
        proxy_headers=False,
    )


def main() -> None:
    cli(prog_name="assetmap")


if __name__ == "__main__":
    main()
