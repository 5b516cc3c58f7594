"""Lists of assets are in name order: an index on (name, id) gives a page of them without
sorting every match (the public map's list of 100,000 assets).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("asset_name_id", "asset", ["name", "id"])


def downgrade() -> None:
    op.drop_index("asset_name_id", "asset")
