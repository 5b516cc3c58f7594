"""Shortlists a hub worker sends to a caller (by SMS or e-mail) and the short link /s/{id} shows:
the chosen assets and the language, never the caller's number or address; erased 30 days on.

Revision ID: 0016_shortlists
Revises: 0008 (0008_asset_change_notifications)
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016_shortlists"
down_revision: str | None = "0015_trigram_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shortlist",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("asset_ids", postgresql.ARRAY(sa.BigInteger), nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("sent_by", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("channel IN ('sms', 'email')", name="shortlist_channel"),
        sa.CheckConstraint("cardinality(asset_ids) BETWEEN 1 AND 20", name="shortlist_size"),
    )
    op.create_index("shortlist_expires", "shortlist", ["expires_at"])


def downgrade() -> None:
    op.drop_table("shortlist")
