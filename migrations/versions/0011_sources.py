"""Sources as first-class records: `source` (name, publisher, licence, attribution, vintage,
file, loader) and `asset_source` (each asset's sources, one row per source record it came from,
with what that source said and how it was matched), plus the categories the newer files need.

Existing assets get their own source row, so every asset lists at least one source.

Revision ID: 0011_sources
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_sources"
down_revision: str | None = "0010_referrals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Short and named for the people who use the map (the OSM and NHS files need them).
CATEGORIES = [
    ("dentist", "Dentist", "NHS dental practice"),
    ("post_office", "Post office", "Post, cash and bill payments"),
    ("public_toilets", "Public toilets", "Toilets open to the public"),
    ("social_facility", "Care and support", "Care homes, day centres, meals and other care"),
]


def upgrade() -> None:
    op.create_table(
        "source",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("publisher", sa.Text, nullable=False),
        sa.Column("licence", sa.Text, nullable=False, comment="SPDX-style id, e.g. OGL-UK-3.0"),
        sa.Column("licence_url", sa.Text),
        sa.Column("commercial_use", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("attribution", sa.Text, nullable=False),
        sa.Column("vintage", sa.Date, comment="when the source's facts were true"),
        sa.Column("url", sa.Text),
        sa.Column("file", sa.Text),
        sa.Column("loader", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "asset_source",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("asset_id", sa.BigInteger, sa.ForeignKey("asset.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("ref", sa.Text, nullable=False, comment="the record's id in its source"),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now(), comment="last loaded from its source"),
        sa.Column("fields", postgresql.JSONB, nullable=False, server_default="{}",
                  comment="what the source said, to split a merge again"),
        sa.Column("match_rule", sa.Text, comment="how it was merged; null: it made the asset"),
        sa.UniqueConstraint("source", "ref", name="asset_source_record"),
    )  # fmt: skip
    op.create_index("asset_source_asset", "asset_source", ["asset_id"])
    op.execute(
        "INSERT INTO asset_source (asset_id, source, ref, seen_at) "
        "SELECT id, source, coalesce(source_ref, 'asset-' || id), created_at FROM asset"
    )
    op.execute(
        "CREATE TRIGGER asset_source_notify_change "
        "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON asset_source "
        "FOR EACH STATEMENT EXECUTE FUNCTION notify_asset_change()"
    )
    start = "(SELECT coalesce(max(sort_order), 0) FROM category)"
    for offset, (code, label, description) in enumerate(CATEGORIES, start=1):
        op.execute(
            sa.text(
                "INSERT INTO category (code, label, description, sort_order) "
                f"VALUES (:code, :label, :description, {start} + {offset}) "
                "ON CONFLICT (code) DO NOTHING"
            ).bindparams(code=code, label=label, description=description)
        )


def downgrade() -> None:
    codes = [code for code, *_ in CATEGORIES]
    op.execute(
        sa.text(
            "DELETE FROM category WHERE code = ANY(:codes) "
            "AND NOT EXISTS (SELECT 1 FROM asset WHERE asset.category = category.code)"
        ).bindparams(codes=codes)
    )
    op.execute("DROP TRIGGER asset_source_notify_change ON asset_source")
    op.drop_table("asset_source")
    op.drop_table("source")
