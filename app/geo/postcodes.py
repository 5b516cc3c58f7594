"""UK postcodes: normalise and validate the format, and find a postcode's location."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.errors import InvalidInput, NotFound
from app.geo.postcode_areas import AREAS, KIRKLEES_AREAS, area_of
from app.i18n import N_

# Outward code (area letters, district digit, optional digit/letter), then inward code (digit and
# two letters, never C, I, K, M, O or V). GIR 0AA is the one historic exception.
_POSTCODE = re.compile(r"^(GIR0AA|[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][ABD-HJLNP-UW-Z]{2})$")
_SPACES = re.compile(r"\s+")
_OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")  # the first half alone, like HD1 or WF13


@dataclass(frozen=True)
class PostcodePlace:
    postcode: str
    lat: float
    lon: float
    status: str  # live, terminated or unverified
    terminated_on: str | None
    source: str
    bng: tuple[float, float] | None = None  # worked out ahead for the in-memory book

    @property
    def note(self) -> str | None:
        if self.status == "terminated":
            when = (
                f" in {self.terminated_on[:4]}-{self.terminated_on[4:]}"
                if self.terminated_on
                else ""
            )
            return f"{self.postcode} was terminated{when}; its last known location was used."
        if self.status == "unverified":
            return (
                f"{self.postcode} is in the ONS directory but not in Code-Point Open 2025; "
                "it may be new or retired."
            )
        return None


class MalformedPostcode(InvalidInput):
    code = "malformed_postcode"


class UnknownPostcode(NotFound):
    code = "unknown_postcode"


def normalise_postcode(raw: str) -> str | None:
    """' hd11aa ' → 'HD1 1AA'; None when it is not a well-formed UK postcode."""
    compact = _SPACES.sub("", raw).upper()
    if not _POSTCODE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


def require_postcode(raw: str) -> str:
    """The normalised postcode, or a 422 a person can act on."""
    postcode = normalise_postcode(raw)
    if postcode is None:
        raise malformed_postcode(raw)
    return postcode


# What a person is told about a postcode the service cannot use: here and only here, for the
# API's `detail`, the pages and the bulk lookup's rows alike (catalog messages, so each reader
# gets them in their language; `code` never changes).
def malformed_postcode(raw: str) -> MalformedPostcode:
    shown = _SPACES.sub(" ", raw.strip())[:20]
    if _OUTWARD.match(_SPACES.sub("", shown).upper()):
        return MalformedPostcode(
            N_("%(postcode)s is only the first half of a postcode: add the rest, e.g. HD1 2QT."),
            params={"postcode": shown.upper()},
        )
    return MalformedPostcode(
        N_("'%(postcode)s' is not a postcode: a postcode looks like HD1 2QT or WF13 1HN."),
        params={"postcode": shown},
    )


def unknown_postcode(postcode: str) -> UnknownPostcode:
    area = area_of(postcode)
    if area is not None and area not in KIRKLEES_AREAS:
        return UnknownPostcode(
            N_(
                "%(postcode)s is not a Kirklees postcode: it is in the %(town)s area (%(area)s). "
                "This service covers Kirklees; try a postcode there."
            ),
            params={"postcode": postcode, "town": AREAS[area], "area": area},
        )
    if area is None:
        return UnknownPostcode(
            N_("%(postcode)s is not a Kirklees postcode. This service covers Kirklees only."),
            params={"postcode": postcode},
        )
    return UnknownPostcode(
        N_(
            "%(postcode)s is not one we know in Kirklees: check it (it may be new, or mistyped), "
            "or try a postcode close by."
        ),
        params={"postcode": postcode},
    )


def malformed_words(raw: str) -> str:
    """The malformed-postcode message in the reader's language."""
    return malformed_postcode(raw).localized()


def unknown_words(postcode: str) -> str:
    """The unknown-postcode message in the reader's language."""
    return unknown_postcode(postcode).localized()


_FIND = text(
    "SELECT postcode, lat, lon, status, terminated_on, source FROM postcode WHERE postcode = :pc"
)


async def find_postcode(conn: AsyncConnection, postcode: str) -> PostcodePlace:
    """The postcode's place from the database (used when the in-memory index is not ready)."""
    row = (await conn.execute(_FIND, {"pc": postcode})).one_or_none()
    if row is None:
        raise unknown_postcode(postcode)
    return PostcodePlace(*row)
