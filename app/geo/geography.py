"""The geography a request needs: where a postcode or coordinate is, and which areas hold it.

Answers come from the in-memory boundary index when it is loaded, and from PostGIS otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from app.geo.areas import UnknownVintage
from app.geo.boundary_index import Areas, BoundaryIndex, Snapshot, within_district_only
from app.geo.lookup import lookup_point_sql
from app.geo.partial_postcodes import PartialPostcode, find_partial
from app.geo.postcodes import PostcodePlace, find_postcode, normalise_postcode, unknown_postcode
from app.geo.projection import from_bng, to_bng

if TYPE_CHECKING:
    from app.db import Connect


@dataclass(frozen=True)
class Place:
    """The point a question is about, and how it was given."""

    lat: float
    lon: float
    easting: float
    northing: float
    postcode: PostcodePlace | None = None
    partial: PartialPostcode | None = None  # an outward code or sector: its centre

    @property
    def precision(self) -> str:
        """How exactly the place was given: postcode, sector, outcode or point."""
        if self.postcode is not None:
            return "postcode"
        return self.partial.precision if self.partial is not None else "point"

    @property
    def label(self) -> str | None:
        """The postcode, outward code or sector given, if any."""
        if self.postcode is not None:
            return self.postcode.postcode
        return self.partial.text if self.partial is not None else None

    @classmethod
    def at(cls, lat: float, lon: float) -> Place:
        return cls(lat, lon, *to_bng(lat, lon))

    @classmethod
    def of_partial(cls, partial: PartialPostcode) -> Place:
        lat, lon = from_bng(partial.easting, partial.northing)
        return cls(lat, lon, partial.easting, partial.northing, partial=partial)

    @classmethod
    def at_grid(cls, easting: float, northing: float) -> Place:
        return cls(*from_bng(easting, northing), easting, northing)

    @classmethod
    def of_postcode(cls, place: PostcodePlace) -> Place:
        bng = place.bng or to_bng(place.lat, place.lon)
        return cls(place.lat, place.lon, *bng, postcode=place)

    def describe(self) -> dict[str, Any]:
        """The postcode and coordinates used, as every answer about a place reports them."""
        note = self.postcode.note if self.postcode else None
        return {
            "postcode": self.label,
            "postcode_status": self.postcode.status if self.postcode else None,
            "precision": self.precision,
            "note": self.partial.note if self.partial else note,
            "lat": self.lat,
            "lon": self.lon,
            "easting": self.easting,
            "northing": self.northing,
        }


class Geography:
    def __init__(self, connect: Connect, index: BoundaryIndex) -> None:
        """`connect`: a connection in the pool's queue, for when the index is not loaded."""
        self.connect, self.index = connect, index

    async def postcode(self, postcode: str) -> Place:
        snapshot = self.index.snapshot
        if snapshot is not None:
            found = snapshot.postcodes.get(postcode)
            if found is None:
                raise unknown_postcode(postcode)
            return Place.of_postcode(found)
        async with self.connect() as conn:
            return Place.of_postcode(await find_postcode(conn, postcode))

    async def place_of_postcode(self, raw: str) -> Place:
        """A full postcode's place, or an outward code's or sector's centre (HD9, HD9 3)."""
        postcode = normalise_postcode(raw)
        if postcode is not None:
            return await self.postcode(postcode)
        async with self.connect() as conn:
            return Place.of_partial(await find_partial(conn, raw))

    async def postcode_book(self) -> dict[str, PostcodePlace]:
        """Every postcode's place, for bulk geocoding (from the in-memory index)."""
        return (await self._snapshot()).postcodes

    async def _snapshot(self) -> Snapshot:
        if self.index.snapshot is None:
            await self.index.refresh()
        assert self.index.snapshot is not None
        return self.index.snapshot

    def check_vintage(self, vintage: str | None) -> None:
        snapshot = self.index.snapshot
        if vintage and snapshot is not None and not snapshot.has_vintage(vintage):
            raise UnknownVintage(
                f"No layer has vintage '{vintage}'; vintages: {', '.join(snapshot.vintages())}."
            )

    async def areas_at(self, place: Place, vintage: str | None = None) -> Areas:
        self.check_vintage(vintage)
        if place.partial is not None:
            return await self._areas_holding(place.partial, vintage)
        snapshot = self.index.snapshot
        if snapshot is not None:
            if place.postcode is not None and vintage is None:
                known = snapshot.postcode_areas.get(place.postcode.postcode)
                if known is not None:
                    return dict(known)
            return snapshot.lookup(place.lat, place.lon, vintage)
        async with self.connect() as conn:
            found = await lookup_point_sql(conn, place.lat, place.lon, vintage)
        names = ("district", "ward", "hub", "neighbourhood", "lsoa")
        return within_district_only({name: found.get(name) for name in names})

    async def areas_of_points(
        self, lats: np.ndarray, lons: np.ndarray, vintage: str | None = None
    ) -> dict[str, list[dict[str, Any] | None]]:
        self.check_vintage(vintage)
        return (await self._snapshot()).lookup_many(lats, lons, vintage)

    async def _areas_holding(self, partial: PartialPostcode, vintage: str | None) -> Areas:
        """Per layer, the one area every live postcode of an outward code or sector lies in;
        None where they lie in more than one (or any lies outside Kirklees)."""
        lats, lons = np.array(partial.lats, dtype=float), np.array(partial.lons, dtype=float)
        by_layer = await self.areas_of_points(lats, lons, vintage)
        found: dict[str, Any] = {}
        for layer, areas in by_layer.items():
            codes = {area["code"] if area else None for area in areas}
            found[layer] = areas[0] if len(codes) == 1 and None not in codes else None
        return within_district_only(found)
