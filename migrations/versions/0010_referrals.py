"""Referrals: a hub worker passes a caller's need, with their consent, to an organisation that
accepts referrals; its editors accept or decline and the sender sees what happened. The client's
details are one application-encrypted value (Fernet), erased on schedule after the referral
closes; the rest (need, neighbourhood, dates, outcome) stays for the planners' counts.

Revision ID: 0010_referrals
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_referrals"
down_revision: str | None = "0009_drawn_area_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "asset",
        sa.Column("accepts_referrals", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "api_key",
        sa.Column("email", sa.Text, comment="Where this key's holder is told of referrals"),
    )
    op.create_table(
        "referral",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("asset_id", sa.BigInteger, sa.ForeignKey("asset.id", ondelete="SET NULL")),
        sa.Column("organisation_id", sa.BigInteger, sa.ForeignKey("organisation.id"),
                  nullable=False, comment="The receiving organisation, whose editors decide"),
        sa.Column("need", sa.Text, sa.ForeignKey("category.code"), nullable=False),
        sa.Column("neighbourhood_code", sa.Text, comment="The caller's neighbourhood, if given"),
        sa.Column("sender_key_id", sa.BigInteger, sa.ForeignKey("api_key.id")),
        sa.Column("sender_name", sa.Text, nullable=False),
        sa.Column("sender_organisation_id", sa.BigInteger, sa.ForeignKey("organisation.id"),
                  comment="The sender's hub: its other workers see the referral too"),
        sa.Column("client_details", sa.LargeBinary,
                  comment="Fernet token of the client's name, contact, language and the notes; "
                          "NULL once erased"),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="sent"),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.Text),
        sa.Column("closed_at", sa.DateTime(timezone=True), comment="Declined or completed"),
        sa.Column("erased_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "status IN ('sent', 'accepted', 'declined', 'completed')", name="referral_status"
        ),
        sa.CheckConstraint("status <> 'declined' OR reason IS NOT NULL", name="referral_reason"),
    )  # fmt: skip
    op.create_index("referral_inbox", "referral", ["organisation_id", "status"])
    op.create_index("referral_sender_org", "referral", ["sender_organisation_id"])
    op.create_index("referral_sender_key", "referral", ["sender_key_id"])
    op.create_index(
        "referral_to_erase", "referral", ["closed_at"],
        postgresql_where=sa.text("client_details IS NOT NULL AND closed_at IS NOT NULL"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("referral")
    op.drop_column("api_key", "email")
    op.drop_column("asset", "accepts_referrals")
