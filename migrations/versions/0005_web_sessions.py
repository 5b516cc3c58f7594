"""Web sessions for the pages: a hub worker or moderator enters their key once; the browser keeps
only a random token (its SHA-256 is stored here), never the key.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("key_id", sa.BigInteger, sa.ForeignKey("api_key.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("web_session_expires", "web_session", ["expires_at"])


def downgrade() -> None:
    op.drop_table("web_session")
