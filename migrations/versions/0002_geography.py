"""Geography: layers with vintages, areas in WGS84 and British National Grid, LSOA deprivation,
postcodes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "layer",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, comment="district, ward, hub, neighbourhood, lsoa"),
        sa.Column("vintage", sa.Text, nullable=False, comment="e.g. 2013 for the 2013-2026 wards"),
        sa.Column("is_current", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("inputs", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("name", "vintage"),
    )
    op.create_index("layer_one_current_vintage", "layer", ["name"], unique=True,
                    postgresql_where=sa.text("is_current"))
    op.create_table(
        "area",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("layer_id", sa.Integer, sa.ForeignKey("layer.id", ondelete="CASCADE"), nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("population", sa.Integer),
        sa.Column("attributes", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("MULTIPOLYGON", 4326, spatial_index=False), nullable=False),
        sa.Column("geom_bng", Geometry("MULTIPOLYGON", 27700, spatial_index=False), nullable=False),
        sa.UniqueConstraint("layer_id", "code"),
    )
    op.create_index("area_geom_gist", "area", ["geom"], postgresql_using="gist")
    op.create_index("area_geom_bng_gist", "area", ["geom_bng"], postgresql_using="gist")
    op.create_table(
        "area_piece",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("area_id", sa.BigInteger, sa.ForeignKey("area.id", ondelete="CASCADE"), nullable=False),
        sa.Column("geom", Geometry("POLYGON", 4326, spatial_index=False), nullable=False),
        comment="Areas cut with ST_Subdivide: small pieces make point-in-polygon fast.",
    )
    op.create_index("area_piece_geom_gist", "area_piece", ["geom"], postgresql_using="gist")
    op.create_index("area_piece_area_id", "area_piece", ["area_id"])
    op.create_table(
        "geography_state",
        sa.Column("id", sa.Boolean, primary_key=True, server_default=sa.true()),
        sa.Column("generation", sa.BigInteger, nullable=False, server_default="0"),
        sa.CheckConstraint("id", name="geography_state_single_row"),
        comment="Bumped by every geography change so in-memory indexes know to reload.",
    )
    op.execute("INSERT INTO geography_state (id, generation) VALUES (true, 0)")
    op.create_table(
        "lsoa_deprivation",
        sa.Column("lsoa_code", sa.Text, primary_key=True),
        sa.Column("lsoa_name", sa.Text, nullable=False),
        sa.Column("population", sa.Integer, comment="mid-2015, the IoD 2019 denominator"),
        sa.Column("imd2019_rank", sa.Integer, nullable=False),
        sa.Column("imd2019_decile", sa.SmallInteger, nullable=False),
        sa.Column("imd2019_domains", postgresql.JSONB, nullable=False,
                  comment="{domain: {rank, decile}} for the seven IoD 2019 domains"),
        sa.Column("imd2025_rank", sa.Integer),
        sa.Column("imd2025_decile", sa.SmallInteger),
        sa.Column("imd2025_score", sa.Float),
        sa.Column("imd2025_domains", postgresql.JSONB),
        sa.Column("imd2025_match", sa.Text, nullable=False,
                  comment="same_code, merged (into one 2021 LSOA) or split (no single decile)"),
        sa.Column("imd2025_lsoa21", postgresql.ARRAY(sa.Text), nullable=False),
    )
    op.create_table(
        "postcode",
        sa.Column("postcode", sa.Text, primary_key=True, comment="normalised: 'HD1 1AA'"),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("easting", sa.Integer, nullable=False),
        sa.Column("northing", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False, comment="live, terminated or unverified"),
        sa.Column("terminated_on", sa.Text, comment="YYYYMM when known"),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("file_ward_code", sa.Text, comment="the file's own ward: for tests, never an answer"),
        sa.Column("geom", Geometry("POINT", 4326, spatial_index=False), nullable=False),
    )
    op.create_index("postcode_geom_gist", "postcode", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("postcode")
    op.drop_table("lsoa_deprivation")
    op.drop_table("geography_state")
    op.drop_table("area_piece")
    op.drop_table("area")
    op.drop_table("layer")
