"""Where an asset reaches (for nearest-first search) and population points (for coverage).

`asset.place_bng` is the service area when there is one, else the point, in British National
Grid: nearest-first search orders by it, so a caller inside a group's area is 0 m from it.
`population_point` spreads each LSOA's population over its residential postcodes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "asset",
        sa.Column(
            "place_bng",
            Geometry("GEOMETRY", 27700, spatial_index=False),
            sa.Computed("ST_Transform(coalesce(service_area, geom), 27700)", persisted=True),
            comment="the service area when it has one, else the point (British National Grid)",
        ),
    )
    op.create_index("asset_place_bng_gist", "asset", ["place_bng"], postgresql_using="gist")
    op.add_column(
        "postcode",
        sa.Column("large_user", sa.Boolean, comment="a business (large user) postcode, 2022"),
    )
    op.create_table(
        "population_point",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("lsoa_code", sa.Text, nullable=False),
        sa.Column("postcode", sa.Text, comment="null: the LSOA's own point (it has no postcode)"),
        sa.Column("population", sa.Integer, nullable=False),
        sa.Column("imd2019_decile", sa.SmallInteger),
        sa.Column("imd2025_decile", sa.SmallInteger),
        sa.Column("geom", Geometry("POINT", 4326, spatial_index=False), nullable=False),
        sa.Column("geom_bng", Geometry("POINT", 27700, spatial_index=False), nullable=False),
        comment="Each LSOA's mid-2015 population shared out over its live residential postcodes",
    )
    op.create_index("population_point_geom_gist", "population_point", ["geom"],
                    postgresql_using="gist")
    op.create_index("population_point_geom_bng_gist", "population_point", ["geom_bng"],
                    postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("population_point")
    op.drop_column("postcode", "large_user")
    op.drop_index("asset_place_bng_gist", "asset")
    op.drop_column("asset", "place_bng")
