"""Part of a postcode: an outward code (`HD9`) or a sector (`HD9 3`), answered with the centre
of its live postcodes. Which areas it is in is said only where every one of those postcodes
lies in the same area (app.geo.geography)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.geo.postcodes import MalformedPostcode, unknown_postcode
from app.i18n import N_

_OUTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_SECTOR = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9])$")
_SPACES = re.compile(r"\s+")

# The live postcodes starting so, and the centre of them in British National Grid metres.
_LIVE = text(
    """
    SELECT count(*) AS n, avg(easting) AS easting, avg(northing) AS northing,
           array_agg(lat ORDER BY postcode) AS lats, array_agg(lon ORDER BY postcode) AS lons
    FROM postcode WHERE status = 'live' AND postcode LIKE :pattern
    """
)


@dataclass(frozen=True)
class PartialPostcode:
    text: str  # "HD9" or "HD9 3"
    precision: str  # "outcode" or "sector"
    easting: float  # the centre of its live postcodes
    northing: float
    lats: tuple[float, ...]  # each live postcode's point
    lons: tuple[float, ...]

    @property
    def count(self) -> int:
        return len(self.lats)

    @property
    def note(self) -> str:
        return (
            f"Showing support near the middle of {self.text}: the centre of its {self.count:,} "
            f"live postcode{'s' if self.count != 1 else ''}."
        )


def partial_forms(raw: str) -> list[tuple[str, str]]:
    """What `raw` may be, most likely first: [("outcode", "HD9")], [("sector", "HD9 3")], or
    both for a sector written without its space ("HD93" is the outcode HD93, or HD9 3)."""
    spaced = _SPACES.sub(" ", raw.strip().upper())
    compact = spaced.replace(" ", "")
    forms = []
    if " " not in spaced and _OUTCODE.match(compact):
        forms.append(("outcode", compact))
    if match := _SECTOR.match(spaced if " " in spaced else compact):
        forms.append(("sector", f"{match[1]} {match[2]}"))
    return forms


def _pattern(precision: str, prefix: str) -> str:
    return f"{prefix} %" if precision == "outcode" else f"{prefix}__"


async def find_partial(conn: AsyncConnection, raw: str) -> PartialPostcode:
    """The outward code or sector `raw` names, with its live postcodes; a 422 when it is not
    one, a 404 when no live postcode starts so."""
    forms = partial_forms(raw)
    if not forms:
        raise MalformedPostcode(
            N_(
                "'%(postcode)s' is not a UK postcode: give a full one like HD1 1AA or WF13 1HN, "
                "or its first part (an outward code like HD9) or sector (like HD9 3)."
            ),
            params={"postcode": raw.strip()[:20]},
        )
    for precision, prefix in forms:
        row = (await conn.execute(_LIVE, {"pattern": _pattern(precision, prefix)})).one()
        if row.n:
            return PartialPostcode(
                prefix, precision, float(row.easting), float(row.northing),
                tuple(row.lats), tuple(row.lons),
            )  # fmt: skip
    raise unknown_postcode(forms[0][1])  # in plain words: where it is, if not Kirklees
