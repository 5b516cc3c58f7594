"""Free-text search tolerant of case and spelling slips: pg_trgm, with trigram indexes on the
lower-cased names of assets, organisations and areas (app/geo/search.py).

Revision ID: 0015_trigram_search
Revises: 0014_asset_needs
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_trigram_search"
down_revision: str | None = "0014_asset_needs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("asset_name_trgm", "asset"),
    ("organisation_name_trgm", "organisation"),
    ("area_name_trgm", "area"),
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table in INDEXES:
        op.execute(f"CREATE INDEX {name} ON {table} USING gin (lower(name) gin_trgm_ops)")


def downgrade() -> None:
    for name, _ in INDEXES:
        op.execute(f"DROP INDEX {name}")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
