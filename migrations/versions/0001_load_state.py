"""PostGIS and the record of data loads.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "data_load",
        sa.Column("name", sa.Text, primary_key=True, comment="what was loaded, e.g. geography"),
        sa.Column("fingerprint", sa.Text, nullable=False, comment="hash of inputs and loader"),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("report", postgresql.JSONB, nullable=False, server_default="{}"),
        comment="One row per loaded dataset; a load is skipped when its fingerprint is unchanged.",
    )


def downgrade() -> None:
    op.drop_table("data_load")
    # PostGIS stays: other schemas in the database may use it, and only a superuser can drop it.
