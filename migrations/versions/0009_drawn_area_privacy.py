"""A group's drawn area no longer gives away a home: `asset.drawn_area` keeps what was drawn
(shown only to those who may see the group's address), and `service_area` becomes the public
area, the LSOAs the drawing touches (app/geo/privacy.py), which every read and search uses. The
group's point moves inside the public area.

Revision ID: 0009_drawn_area_privacy
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from app.geo.privacy import public_area_sql

revision: str = "0009_drawn_area_privacy"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "asset",
        sa.Column(
            "drawn_area",
            Geometry("MULTIPOLYGON", 4326, spatial_index=False),
            comment="a group's area as drawn; service_area is what the public sees",
        ),
    )
    op.execute(
        "UPDATE asset SET drawn_area = service_area "
        "WHERE service_area IS NOT NULL AND service_area_code IS NULL"
    )
    op.execute(
        f"UPDATE asset a SET service_area = {public_area_sql('a.drawn_area')} "
        "WHERE a.drawn_area IS NOT NULL"
    )
    op.execute(
        "UPDATE asset SET geom = ST_PointOnSurface(service_area) WHERE drawn_area IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("UPDATE asset SET service_area = drawn_area WHERE drawn_area IS NOT NULL")
    op.drop_column("asset", "drawn_area")
