"""Where an asset is: a point from lat/lon or a postcode, or, for a group, its service area with an
approximate point inside it (never a home address)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.prepared import PreparedGeometry, prep
from shapely.validation import explain_validity
from sqlalchemy.ext.asyncio import AsyncConnection

from app.errors import InvalidInput
from app.geo.areas import area_geometry, district_geometry, place_beyond, postcode_points
from app.geo.privacy import public_area
from app.register.inputs import AssetFields

APPROXIMATE_DECIMALS = 4


class LocationError(InvalidInput):
    code = "invalid_location"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.reason = detail


@dataclass(frozen=True)
class Location:
    point_wkt: str
    approximate: bool
    service_area_wkt: str | None
    service_area_code: str | None
    drawn_area_wkt: str | None = None  # a group's own drawing; service_area_wkt is public


class Gazetteer:
    """Postcodes and known areas for locating assets, with a cache for imports of many rows."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._postcodes: dict[str, tuple[float, float] | None] = {}
        self._district: PreparedGeometry | Literal[False] | None = None  # False: none loaded

    async def prefetch(self, postcodes: Iterable[str]) -> None:
        wanted = sorted({p for p in postcodes if p and p not in self._postcodes})
        if wanted:
            found = await postcode_points(self.conn, wanted)
            self._postcodes.update({p: found.get(p) for p in wanted})

    async def postcode(self, postcode: str) -> tuple[float, float] | None:
        await self.prefetch([postcode])
        return self._postcodes[postcode]

    async def public_area(self, drawn: MultiPolygon | Polygon) -> MultiPolygon | Polygon:
        """What the public may see of a drawn area (app.geo.privacy)."""
        published = shapely.from_wkt(await public_area(self.conn, drawn.wkt))
        assert isinstance(published, MultiPolygon | Polygon)
        return published

    async def beyond_kirklees(self, location: Location) -> str | None:
        """What to warn of a place not within the district ("lies outside Kirklees"), or None:
        a service may cross the border, so this is said, not refused."""
        if self._district is None:
            wkb = await district_geometry(self.conn)
            self._district = prep(shapely.from_wkb(wkb)) if wkb else False
        if self._district is False:
            return None
        wkt = location.drawn_area_wkt or location.service_area_wkt or location.point_wkt
        return place_beyond(self._district, shapely.from_wkt(wkt))

    async def area(self, reference: str) -> MultiPolygon | Polygon | None:
        layer, code = reference.split(":", 1)
        wkb = await area_geometry(self.conn, layer, code)
        return shapely.from_wkb(wkb) if wkb else None


def _drawn_area(geojson: dict[str, object]) -> MultiPolygon | Polygon:
    try:
        geometry = shape(geojson)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise LocationError("service_area", f"is not GeoJSON geometry ({exc})") from None
    if not isinstance(geometry, Polygon | MultiPolygon) or geometry.is_empty:
        raise LocationError("service_area", "must be a non-empty Polygon or MultiPolygon")
    if not geometry.is_valid:
        raise LocationError("service_area", f"is not a valid polygon: {explain_validity(geometry)}")
    min_x, min_y, max_x, max_y = geometry.bounds
    if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        raise LocationError("service_area", "coordinates must be longitude, latitude (WGS84)")
    return geometry


def _multi(area: MultiPolygon | Polygon) -> MultiPolygon:
    return area if isinstance(area, MultiPolygon) else MultiPolygon([area])


async def resolve(fields: AssetFields, category: str, gazetteer: Gazetteer) -> Location | None:
    """The asset's location from whatever the body gives; None when the body gives none."""
    if fields.area or fields.service_area:
        drawn_wkt = None
        if fields.area:
            area = await gazetteer.area(fields.area)
            if area is None:
                raise LocationError("area", f"no current area {fields.area}")
        else:
            assert fields.service_area is not None
            drawn = _drawn_area(fields.service_area)
            drawn_wkt = _multi(drawn).wkt
            area = await gazetteer.public_area(drawn)  # the point too: never inside the drawing
        inside = area.point_on_surface()
        point = shapely.Point(
            round(inside.x, APPROXIMATE_DECIMALS), round(inside.y, APPROXIMATE_DECIMALS)
        )
        if not area.contains(point):
            point = inside
        return Location(point.wkt, True, _multi(area).wkt, fields.area, drawn_wkt)
    if category == "mutual_aid_group":
        return None  # a group's address or postcode never places it
    if fields.lat is not None and fields.lon is not None:
        return Location(shapely.Point(fields.lon, fields.lat).wkt, False, None, None)
    if fields.postcode:
        found = await gazetteer.postcode(fields.postcode)
        if found is None:
            raise LocationError(
                "postcode", f"{fields.postcode} is not in the postcode files; give lat and lon"
            )
        lat, lon = found
        return Location(shapely.Point(lon, lat).wkt, False, None, None)
    return None
