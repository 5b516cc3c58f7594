"""Kept true by the people who run them: who verified each asset and how; self-service
confirmation requests (signed single-use links sent by e-mail); and claims (an organisation asks
to manage a listing, an admin approves).

Revision ID: 0013_verification_and_claims
Revises: 0012_change_feed
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_verification_and_claims"
down_revision: str | None = "0012_change_feed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOW = ("phone", "email", "visit", "self_confirmed", "source")


def upgrade() -> None:
    op.add_column("asset", sa.Column("verified_by", sa.Text, comment="who checked it last"))
    op.add_column("asset", sa.Column("verified_how", sa.Text, comment="how it was checked"))
    op.create_check_constraint(
        "asset_verified_how", "asset",
        "verified_how IS NULL OR verified_how IN (" + ", ".join(f"'{h}'" for h in HOW) + ")",
    )  # fmt: skip
    # An imported date is the source's: the file said so at its vintage.
    op.execute(
        "UPDATE asset SET verified_how = 'source', verified_by = source "
        "WHERE last_verified IS NOT NULL AND source NOT IN ('api', 'submission')"
    )
    op.create_table(
        "verification_request",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("asset_id", sa.BigInteger, sa.ForeignKey("asset.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("nonce", sa.Text, nullable=False, unique=True,
                  comment="random; the link carries it with a signature"),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.Text),
        sa.Column("submission_id", sa.BigInteger, sa.ForeignKey("submission.id")),
        sa.CheckConstraint("outcome IS NULL OR outcome IN ('confirmed', 'changes', 'closed')",
                           name="verification_request_outcome"),
    )  # fmt: skip
    op.create_index("verification_request_asset", "verification_request", ["asset_id", "sent_at"])
    op.create_table(
        "claim",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("asset_id", sa.BigInteger, sa.ForeignKey("asset.id"), nullable=False),
        sa.Column("organisation_id", sa.BigInteger, sa.ForeignKey("organisation.id"),
                  nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("requested_key_id", sa.BigInteger, sa.ForeignKey("api_key.id")),
        sa.Column("note", sa.Text),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.Text),
        sa.Column("decision_note", sa.Text),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="claim_status"),
    )  # fmt: skip
    op.create_index(
        "claim_one_pending", "claim", ["asset_id", "organisation_id"], unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("claim")
    op.drop_table("verification_request")
    op.drop_constraint("asset_verified_how", "asset")
    op.drop_column("asset", "verified_how")
    op.drop_column("asset", "verified_by")
