"""UK postcodes: normalise and validate the format, and find a postcode's location."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.errors import InvalidInput, NotFound
from app.i18n import N_

# Outward code (area letters, district digit, optional digit/letter), then inward code (digit and
# two letters, never C, I, K, M, O or V). GIR 0AA is the one historic exception.
_POSTCODE = re.compile(r"^(GIR0AA|[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][ABD-HJLNP-UW-Z]{2})$")
_SPACES = re.compile(r"\s+")


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
        shown = raw.strip()[:20]
        raise MalformedPostcode(
            f"'{shown}' is not a full UK postcode: expected an outward code, a space, then a digit "
            "and two letters, like HD1 1AA or WF13 1HN."
        )
    return postcode


def unknown_postcode(postcode: str) -> UnknownPostcode:
    return UnknownPostcode(
        N_(
            "Postcode %(postcode)s is well formed but not in this service's postcode files "
            "(Code-Point Open 2025 and the ONS Postcode Directory for HD, WF and Kirklees' BD and "
            "HX areas); check it, or look up by latitude and longitude instead."
        ),
        params={"postcode": postcode},
    )


_FIND = text(
    "SELECT postcode, lat, lon, status, terminated_on, source FROM postcode WHERE postcode = :pc"
)


async def find_postcode(conn: AsyncConnection, postcode: str) -> PostcodePlace:
    """The postcode's place from the database (used when the in-memory index is not ready)."""
    row = (await conn.execute(_FIND, {"pc": postcode})).one_or_none()
    if row is None:
        raise unknown_postcode(postcode)
    return PostcodePlace(*row)
