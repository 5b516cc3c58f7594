"""Nearest of one category among a million assets: a GiST index on (category, place_bng), so a
KNN search for a rare category walks only that category's entries (btree_gist gives GiST the
text equality).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        "CREATE INDEX asset_category_place_bng_gist ON asset USING gist (category, place_bng)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX asset_category_place_bng_gist")
