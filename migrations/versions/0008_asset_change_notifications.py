"""Each API worker keeps an in-memory index of the assets for the hub worker's call
(app/geo/asset_index.py): a committed change to the assets, their hours, organisations or
categories notifies channel `asset_changed`, once per table and transaction (statement-level
triggers; PostgreSQL folds repeats of one payload), so the workers reload before they answer
from the index again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("asset", "opening_rule", "opening_exception", "organisation", "category")


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION notify_asset_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('asset_changed', TG_TABLE_NAME);
            RETURN NULL;
        END $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_notify_change "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION notify_asset_change()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_notify_change ON {table}")
    op.execute("DROP FUNCTION notify_asset_change()")
