"""Changes to an asset or its hours notify channel `asset_changed` with the ids changed
(`assets:12,40`), so each API worker applies those assets' changes to its snapshot of the
register (app/geo/asset_freshness.py) instead of reloading it whole. Statement-level triggers
with transition tables: one notification per statement (PostgreSQL folds repeats of one payload
in a transaction); a statement changing more than MAX_IDS assets, or a TRUNCATE, says `*` (reload
everything). Organisations and categories keep 0008's notification by table name (a reload).
0012's change feed (the deferred `asset_record_change` / `asset_record_purge` triggers) is a
separate set of triggers and is left as it is.
A transaction that changes any of them also moves `register_state.version` on, once, at commit
(a deferred constraint trigger, after 0012's change feed lock): public map tiles carry it in their
ETag (app/routers/tiles.py), so a cached tile is good until the register changes. Bumping it in
the statement would hold the row's lock for the rest of the transaction, and every other writer
of an asset would wait for it (a long import, or a transaction left open, stopped them all).

Revision ID: 0017_read_side
Revises: 0016_shortlists
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017_read_side"
down_revision: str | None = "0016_shortlists"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_IDS = 500  # about 4 KB of ids: within a notification's 8,000 bytes
# each table's 0008/0011 trigger `{table}_notify_change` (a reload) is replaced; asset_source
# (0011) changes an asset's presented `sources`
TABLES = {"asset": "id", "opening_rule": "asset_id", "opening_exception": "asset_id",
          "asset_source": "asset_id"}  # fmt: skip
EVENTS = {
    "insert": ("INSERT", "REFERENCING NEW TABLE AS changed_rows"),
    "update": ("UPDATE", "REFERENCING NEW TABLE AS changed_rows OLD TABLE AS previous_rows"),
    "delete": ("DELETE", "REFERENCING OLD TABLE AS changed_rows"),
}


def _function(table: str, column: str) -> str:
    # the rows changed (an UPDATE's old rows too: an hour moved to another asset changes both)
    rows = f"SELECT {column} AS id FROM changed_rows"
    return f"""
        CREATE FUNCTION notify_{table}_ids() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            n integer;
            ids text;
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                SELECT count(*), string_agg(s.id::text, ',') INTO n, ids FROM (
                    SELECT DISTINCT id FROM ({rows} UNION
                                             SELECT {column} FROM previous_rows) c
                    LIMIT {MAX_IDS + 1}) s;
            ELSE
                SELECT count(*), string_agg(s.id::text, ',') INTO n, ids FROM (
                    SELECT DISTINCT id FROM ({rows}) c LIMIT {MAX_IDS + 1}) s;
            END IF;
            IF n > {MAX_IDS} THEN
                PERFORM pg_notify('asset_changed', '*');
            ELSIF n > 0 THEN
                PERFORM pg_notify('asset_changed', 'assets:' || ids);
            END IF;
            RETURN NULL;
        END $$
    """


FEED_LOCK = 20_261_207  # 0012's lock: taken first at commit by both, so they cannot deadlock

BUMP = f"""
    CREATE FUNCTION bump_register_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('assetmap.register_bumped', true) IS DISTINCT FROM 'on' THEN
            PERFORM pg_advisory_xact_lock({FEED_LOCK});
            UPDATE register_state SET version = version + 1;
            PERFORM set_config('assetmap.register_bumped', 'on', true);  -- this transaction
        END IF;
        RETURN NULL;
    END $$
"""


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE register_state (
            id boolean PRIMARY KEY DEFAULT true CONSTRAINT register_state_single_row CHECK (id),
            version bigint NOT NULL DEFAULT 0
        )
        """
    )
    op.execute("INSERT INTO register_state DEFAULT VALUES")
    op.execute(
        """
        CREATE FUNCTION notify_asset_reload() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE register_state SET version = version + 1;
            PERFORM pg_notify('asset_changed', '*');
            RETURN NULL;
        END $$
        """
    )
    op.execute(BUMP)
    for table, column in TABLES.items():
        op.execute(
            f"CREATE CONSTRAINT TRIGGER {table}_register_version "
            f"AFTER INSERT OR UPDATE OR DELETE ON {table} DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION bump_register_version()"
        )
        op.execute(f"DROP TRIGGER {table}_notify_change ON {table}")
        op.execute(_function(table, column))
        for event, (verb, referencing) in EVENTS.items():
            op.execute(
                f"CREATE TRIGGER {table}_notify_{event} AFTER {verb} ON {table} {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION notify_{table}_ids()"
            )
        op.execute(
            f"CREATE TRIGGER {table}_notify_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION notify_asset_reload()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_register_version ON {table}")
        for event in (*EVENTS, "truncate"):
            op.execute(f"DROP TRIGGER {table}_notify_{event} ON {table}")
        op.execute(f"DROP FUNCTION notify_{table}_ids()")
        op.execute(
            f"CREATE TRIGGER {table}_notify_change "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION notify_asset_change()"
        )
    op.execute("DROP FUNCTION notify_asset_reload()")
    op.execute("DROP FUNCTION bump_register_version()")
    op.execute("DROP TABLE register_state")
