"""The change feed's clock: `asset_change`, one row per committed version of an asset, numbered in
commit order.

A deferred constraint trigger runs at commit: it takes a transaction-level advisory lock, so the
next writer cannot number its changes until this one has committed, and `seq` follows commit
order (a reader paging by `seq` never skips a change that commits late). Each row keeps the
asset's visibility, status and organisation after the change and before it, so the feed can say
`removed` to a principal who could see the asset and no longer can.

Revision ID: 0012_change_feed
Revises: 0011_sources
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_change_feed"
down_revision: str | None = "0011_sources"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FEED_LOCK = 20_261_207  # pg_advisory_xact_lock key: one numbering at a time

FUNCTION = f"""
CREATE FUNCTION record_asset_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    now_row asset%ROWTYPE;
    before asset_change%ROWTYPE;
BEGIN
    SELECT * INTO now_row FROM asset WHERE id = NEW.id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM asset_change
               WHERE asset_id = NEW.id AND version = now_row.version) THEN
        RETURN NULL;  -- this version is numbered already (several statements, one version)
    END IF;
    PERFORM pg_advisory_xact_lock({FEED_LOCK});
    SELECT * INTO before FROM asset_change WHERE asset_id = NEW.id ORDER BY seq DESC LIMIT 1;
    INSERT INTO asset_change (asset_id, version, at, visibility, status, organisation_id,
                              was_visibility, was_status, was_organisation_id)
    VALUES (NEW.id, now_row.version, clock_timestamp(), now_row.visibility, now_row.status,
            now_row.organisation_id, before.visibility, before.status, before.organisation_id);
    RETURN NULL;
END $$
"""


PURGED = f"""
CREATE FUNCTION record_asset_purge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({FEED_LOCK});
    INSERT INTO asset_change (asset_id, version, at, visibility, status, organisation_id,
                              was_visibility, was_status, was_organisation_id)
    VALUES (OLD.id, OLD.version + 1, clock_timestamp(), OLD.visibility, 'purged',
            OLD.organisation_id, OLD.visibility, OLD.status, OLD.organisation_id);
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "asset_change",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True,
                  comment="commit order: the feed's cursor"),
        sa.Column("asset_id", sa.BigInteger, nullable=False, comment="no foreign key: kept "
                  "after a purge, so copies hear of it"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False,
                  comment="when it was committed (the ORUK modified_after clock)"),
        sa.Column("visibility", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("organisation_id", sa.BigInteger),
        sa.Column("was_visibility", sa.Text, comment="before; null for a new asset"),
        sa.Column("was_status", sa.Text),
        sa.Column("was_organisation_id", sa.BigInteger),
        sa.UniqueConstraint("asset_id", "version", name="asset_change_version"),
    )  # fmt: skip
    op.create_index("asset_change_asset_at", "asset_change", ["asset_id", "at"])
    op.execute(FUNCTION)
    op.execute(
        "CREATE CONSTRAINT TRIGGER asset_record_change AFTER INSERT OR UPDATE ON asset "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION record_asset_change()"
    )
    op.execute(PURGED)
    op.execute(
        "CREATE CONSTRAINT TRIGGER asset_record_purge AFTER DELETE ON asset "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION record_asset_purge()"
    )
    # The register as it stands: each asset's current version, in id order.
    op.execute(
        "INSERT INTO asset_change (asset_id, version, at, visibility, status, organisation_id) "
        "SELECT id, version, updated_at, visibility, status, organisation_id FROM asset "
        "ORDER BY id"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER asset_record_purge ON asset")
    op.execute("DROP FUNCTION record_asset_purge()")
    op.execute("DROP TRIGGER asset_record_change ON asset")
    op.execute("DROP FUNCTION record_asset_change()")
    op.drop_table("asset_change")
