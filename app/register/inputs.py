"""The flat asset body shared by POST/PATCH, imports and submissions, with its validation."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.geo.postcodes import normalise_postcode
from app.needs import (
    ACCESSIBILITY,
    COSTS,
    MAX_AGE,
    REFERRALS,
    language_code,
    split_list,
    term_code,
    unique,
)

Visibility = Literal["public", "professional", "hidden"]
ContactVisibility = Literal["public", "private"]
Status = Literal["active", "temporarily_closed", "closed"]
Cost = Literal["free", "low_cost", "paid"]
Referral = Literal["open_access", "referral_needed"]
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
BANK_HOLIDAY = "bank_holiday"
DayName = Literal[
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "bank_holiday"
]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_AREA = re.compile(r"^(ward|hub|neighbourhood|lsoa|district):[A-Za-z0-9_-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean_text(value: Any) -> Any:
    """Trim, and treat blank as absent; a control character (NUL and the like; tabs and line
    breaks are text) is refused, as in a query string, never silently dropped."""
    if isinstance(value, str):
        found = _CONTROL.search(value)
        if found:
            character = "NUL" if found.group() == "\x00" else f"U+{ord(found.group()):04X}"
            raise ValueError(f"contains a control character ({character}); send plain text")
        return value.strip() or None
    return value


Text = Annotated[str | None, BeforeValidator(_clean_text)]
ShortText = Annotated[
    Annotated[str, StringConstraints(max_length=300)] | None, BeforeValidator(_clean_text)
]
LongText = Annotated[
    Annotated[str, StringConstraints(max_length=5000)] | None, BeforeValidator(_clean_text)
]


class HoursRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: DayName = Field(description="monday … sunday, or bank_holiday")
    opens: time = Field(description="Local (Europe/London) time, e.g. 10:00")
    closes: time = Field(description="At or before `opens` means it closes after midnight")

    @field_validator("day", mode="before")
    @classmethod
    def _day(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            short = {d[:3]: d for d in DAYS} | {"ph": BANK_HOLIDAY, "bank holiday": BANK_HOLIDAY}
            return short.get(value, value)
        return value


class HoursException(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_on: date
    ends_on: date | None = Field(None, description="Inclusive; defaults to starts_on")
    closed: bool = True
    opens: time | None = None
    closes: time | None = None
    note: ShortText = None

    @model_validator(mode="after")
    def _consistent(self) -> HoursException:
        if self.ends_on is None:
            self.ends_on = self.starts_on
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        if not self.closed and (self.opens is None or self.closes is None):
            raise ValueError("special hours need opens and closes (or closed: true)")
        return self


class AssetFields(BaseModel):
    """Every field an asset can be given; all optional (PATCH sends only what changes)."""

    model_config = ConfigDict(extra="forbid", str_max_length=5000)

    name: Annotated[
        Annotated[str, StringConstraints(max_length=200)] | None, BeforeValidator(_clean_text)
    ] = None
    category: Annotated[str | None, BeforeValidator(_clean_text)] = Field(
        None, description="A category code from GET /api/categories, e.g. food_bank"
    )
    description: LongText = None
    organisation: ShortText = Field(None, description="The organisation's name")
    address: ShortText = None
    postcode: Annotated[str | None, BeforeValidator(_clean_text)] = None
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    area: Annotated[str | None, BeforeValidator(_clean_text)] = Field(
        None, description="A known area as the service area, `layer:code`, e.g. ward:E05001390"
    )
    service_area: dict[str, Any] | None = Field(
        None, description="A drawn service area: GeoJSON Polygon or MultiPolygon (WGS84, 2-D)"
    )
    address_visibility: ContactVisibility | None = None
    phone: ShortText = Field(None, description="Stored and shown as given")
    phone_visibility: ContactVisibility | None = None
    email: ShortText = None
    email_visibility: ContactVisibility | None = None
    website: ShortText = None
    website_visibility: ContactVisibility | None = None
    referral_route: LongText = Field(
        None, description="How to be referred (route, form, who to ask)"
    )
    referral_route_visibility: ContactVisibility | None = None
    eligibility: LongText = None
    languages: list[Annotated[str, Field(max_length=60)]] | None = Field(
        None,
        max_length=50,
        description="Languages spoken: ISO 639-1 codes (e.g. `ur`, `pl`, `pa`) or English "
        "names, stored as codes",
    )
    accessibility: list[Annotated[str, Field(max_length=60)]] | None = Field(
        None, max_length=20, description=f"Accessibility features: {', '.join(ACCESSIBILITY)}"
    )
    accessibility_note: LongText = Field(None, description="Anything more about access, in words")
    min_age: int | None = Field(None, ge=0, le=MAX_AGE, description="The youngest served")
    max_age: int | None = Field(None, ge=0, le=MAX_AGE, description="The oldest served")
    cost: Cost | None = Field(None, description="free, low_cost or paid")
    referral: Referral | None = Field(
        None, description="open_access, or referral_needed (see referral_route for how)"
    )
    opening_hours: list[HoursRule] | None = Field(None, max_length=100)
    opening_exceptions: list[HoursException] | None = Field(None, max_length=500)
    hours_note: ShortText = None
    status: Status | None = None
    visibility: Visibility | None = None
    last_verified: date | None = None
    source_ref: ShortText = None
    synthetic: bool | None = None
    accepts_referrals: bool | None = Field(
        None,
        description="Hub workers may send it referrals (POST /api/referrals); the asset needs an "
        "organisation, whose editors receive them",
    )

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str | None) -> str | None:
        if value is None:
            return None
        postcode = normalise_postcode(value)
        if postcode is None:
            raise ValueError(f"'{value[:16]}' is not a UK postcode (like HD1 1AA)")
        return postcode

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("is not an email address")
        return value

    @field_validator("website")
    @classmethod
    def _website(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("http://", "https://")):
            if "." in value and " " not in value:
                return f"https://{value}"
            raise ValueError("must be a web address (https://…)")
        return value

    @field_validator("area")
    @classmethod
    def _area(cls, value: str | None) -> str | None:
        if value is not None and not _AREA.match(value):
            raise ValueError("must be layer:code, e.g. ward:E05001390")
        return value

    @field_validator("service_area")
    @classmethod
    def _service_area(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if value.get("type") not in ("Polygon", "MultiPolygon"):
            raise ValueError("must be a GeoJSON Polygon or MultiPolygon")
        if has_third_dimension(value.get("coordinates")):
            raise ValueError("has 3-D coordinates; send longitude and latitude only")
        return value

    @field_validator("languages", "accessibility", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return split_list(value) if isinstance(value, str) else value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else unique(map(language_code, value))

    @field_validator("accessibility")
    @classmethod
    def _accessibility(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return unique(term_code(v, ACCESSIBILITY, "an accessibility feature") for v in value)

    @field_validator("cost", mode="before")
    @classmethod
    def _cost(cls, value: Any) -> Any:
        return term_code(value, COSTS, "a cost") if isinstance(value, str) and value else value

    @field_validator("referral", mode="before")
    @classmethod
    def _referral(cls, value: Any) -> Any:
        if isinstance(value, str) and value:
            return term_code(value, REFERRALS, "a referral rule")
        return value

    @field_validator("min_age", "max_age", mode="before")
    @classmethod
    def _blank_age(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _pairs(self) -> AssetFields:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon")
        if self.area and self.service_area:
            raise ValueError("give area or service_area, not both")
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age is more than max_age")
        return self


class AssetCreate(AssetFields):
    """A new asset: a name, a category and a location (lat/lon, postcode, or an area)."""

    name: Annotated[str, BeforeValidator(_clean_text), Field(min_length=1, max_length=200)]
    category: Annotated[str, BeforeValidator(_clean_text), Field(min_length=1)] = Field(
        description="A category code from GET /api/categories, e.g. food_bank"
    )

    @model_validator(mode="after")
    def _located(self) -> AssetCreate:
        if self.lat is None and not self.postcode and not self.area and not self.service_area:
            raise ValueError("say where it is: lat and lon, a postcode, or an area")
        if self.category == "mutual_aid_group" and not (self.area or self.service_area):
            raise ValueError(
                "a mutual aid group is shown by its area: give area (e.g. ward:E05001390) or "
                "service_area, never only a home address"
            )
        return self


class AssetPatch(AssetFields):
    version: int | None = Field(None, description="The version you edited (or send If-Match)")


def has_third_dimension(coordinates: Any) -> bool:
    if isinstance(coordinates, list) and coordinates and isinstance(coordinates[0], int | float):
        return len(coordinates) > 2
    if isinstance(coordinates, list):
        return any(has_third_dimension(c) for c in coordinates)
    return False


def phone_digits(phone: str | None) -> str | None:
    """A normalised copy for search: digits only, +44 written as 0."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("44") and phone.strip().startswith("+"):
        digits = "0" + digits[2:]
    return digits or None
