"""What the API promises: response (and request) models, used for OpenAPI and validation."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class AreaRef(BaseModel):
    code: str = Field(description="ONS or project code, e.g. E05001390 or batley-and-spen")
    name: str


class NeighbourhoodRef(AreaRef):
    population: int | None = Field(description="Residents (mid-2015, IoD 2019 denominators)")


class LsoaRef(AreaRef):
    imd_decile: int | None = Field(description="IMD 2019 decile (1 = most deprived 10% in England)")
    imd2025_decile: int | None = Field(
        description="IoD 2025 decile where the LSOA's code exists in 2021 (or was merged)"
    )


class PlaceUsed(BaseModel):
    postcode: str | None = Field(
        description="The normalised postcode, outward code or sector, when one was given"
    )
    postcode_status: Literal["live", "terminated", "unverified"] | None
    precision: Literal["postcode", "sector", "outcode", "point"] = Field(
        description="How exactly the place was given: a full postcode, a sector (HD9 3) or "
        "outward code (HD9) answered at the centre of its live postcodes, or a point"
    )
    note: str | None = Field(description="A caveat about the postcode, e.g. that it is terminated")
    lat: float
    lon: float
    easting: float = Field(description="British National Grid (EPSG:27700)")
    northing: float


class Lookup(PlaceUsed):
    within_district: bool
    district: AreaRef | None
    ward: AreaRef | None
    hub: AreaRef | None
    neighbourhood: NeighbourhoodRef | None
    lsoa: LsoaRef | None


class RowError(BaseModel):
    code: str
    detail: str


class BulkResult(BaseModel):
    id: Any = Field(description="The input's id, echoed")
    postcode: str | None = None
    lat: float | None
    lon: float | None
    within_district: bool | None
    district: AreaRef | None
    ward: AreaRef | None
    hub: AreaRef | None
    neighbourhood: NeighbourhoodRef | None
    lsoa: LsoaRef | None
    error: RowError | None = Field(description="Why this row has no answer; other rows go on")


class BulkResults(BaseModel):
    items: list[BulkResult]


class BulkPoint(BaseModel):
    id: Any = None
    lat: float | None = None
    lon: float | None = None
    postcode: str | None = None
    easting: float | None = None
    northing: float | None = None


class Layer(BaseModel):
    name: Literal["district", "ward", "hub", "neighbourhood", "lsoa"]
    vintage: str
    current: bool = Field(description="Queries without `vintage` use the current one")
    title: str
    count: int = Field(description="Number of areas")
    population: int | None
    source: str
    method: str
    synthetic: bool
    loaded_at: datetime


class Layers(BaseModel):
    items: list[Layer]


class Feature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str | int | None = None
    properties: dict[str, Any]
    geometry: dict[str, Any] | None


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    attribution: str | None = None


class Category(BaseModel):
    code: str
    label: str
    description: str


class Categories(BaseModel):
    items: list[Category]


class HoursRuleOut(BaseModel):
    day: str = Field(description="monday … sunday, or bank_holiday")
    opens: str
    closes: str


class SourceRef(BaseModel):
    source: str = Field(description="The source's code (GET /api/sources describes it)")
    ref: str = Field(description="The record's id in that source, e.g. an NHS ODS code")
    licence: str | None = Field(description="The source's licence, e.g. OGL-UK-3.0, ODbL-1.0")
    seen_at: str = Field(description="When the record was last loaded from its source")


class AssetItem(BaseModel):
    """An asset, flat: id, name, category, lat, lon first; private fields null unless you may see
    them."""

    id: int
    name: str
    category: str
    lat: float
    lon: float
    category_label: str
    description: str | None
    organisation: str | None
    organisation_id: int | None
    location_approximate: bool = Field(
        description="True for a group shown by its area: the point is inside the area, not a door"
    )
    service_area_code: str | None
    service_area: dict[str, Any] | None = Field(description="GeoJSON of a group's area")
    address: str | None
    phone: str | None = Field(description="As given; null when private and you may not see it")
    email: str | None
    website: str | None
    referral_route: str | None = Field(description="How to be referred (route, form, who to ask)")
    postcode: str | None
    eligibility: str | None
    languages: list[str] = Field(description="Languages spoken, ISO 639-1 codes (e.g. ur, pl)")
    accessibility: list[str] = Field(
        description="Accessibility features: step_free_access, accessible_toilet, hearing_loop, "
        "bsl, large_print, easy_read, quiet_space, accessible_parking"
    )
    accessibility_note: str | None = Field(description="Anything more about access, in words")
    min_age: int | None = Field(description="The youngest served (null: no lower limit known)")
    max_age: int | None = Field(description="The oldest served (null: no upper limit known)")
    cost: Literal["free", "low_cost", "paid"] | None
    referral: Literal["open_access", "referral_needed"] | None = Field(
        description="Whether a referral is needed (null: not known)"
    )
    needs_text: str = Field(
        description="Languages, accessibility, ages, cost and referral in words ('' if none)"
    )
    opening_hours: list[HoursRuleOut]
    opening_exceptions: list[dict[str, Any]]
    hours_text: str = Field(description="The opening hours in words")
    hours_note: str | None
    status: Literal["active", "temporarily_closed", "closed", "archived"]
    visibility: Literal["public", "professional", "hidden"]
    last_verified: str | None
    stale: bool = Field(description="Not verified within the configured period (12 months)")
    freshness: str = Field(
        "",
        description="In words: 'checked March 2026' or 'not checked since 2020 — may have changed'",
    )
    verified_how: str | None = Field(
        None, description="How it was last checked: phone, email, visit, self_confirmed, source"
    )
    source: str = Field(description="The leading source: the one whose re-import updates it")
    source_ref: str | None
    sources: list[SourceRef] = Field(
        default_factory=list, description="Every source record this asset was merged from"
    )
    synthetic: bool = Field(description="An invented example, never a real service")
    accepts_referrals: bool = Field(
        description="Hub workers may send it referrals (POST /api/referrals)"
    )
    version: int
    updated_at: str
    warnings: list[str] | None = Field(
        None,
        description="Only in the answer to a write: what was accepted but may be wrong (a "
        "place beyond Kirklees).",
    )


class SearchHit(BaseModel):
    """An asset (every AssetItem field) or an area (layer, code, area, name, lat, lon)."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["asset", "area"]
    name: str
    lat: float
    lon: float
    score: float = Field(description="0 to 1; 1 when the name contains the words as typed")
    id: int | None = Field(None, description="An asset's id")
    area: str | None = Field(None, description="An area's `layer:code`")


class SearchResults(BaseModel):
    q: str
    items: list[SearchHit]


class AssetPage(BaseModel):
    items: list[AssetItem]
    total: int
    limit: int
    offset: int
    next: str | None


class Change(BaseModel):
    id: int = Field(description="The asset's id")
    change: Literal["created", "updated", "removed"]
    at: str = Field(description="When it was committed")
    version: int


class ChangePage(BaseModel):
    items: list[Change]
    next: str | None = Field(description="The cursor to pass as `after`; null: nothing newer")


class Archived(BaseModel):
    id: int
    status: Literal["archived"]
    version: int


class HistoryEntry(BaseModel):
    at: str
    who: str
    action: str
    version: int | None
    outcome: str
    changes: dict[str, Any]


class History(BaseModel):
    items: list[HistoryEntry]


class SubmissionAccepted(BaseModel):
    id: int
    status: Literal["pending"]
    next_steps: str = Field(description="What happens next, to show the person who proposed it")


class SubmissionItem(BaseModel):
    id: int
    kind: Literal["new", "correction"]
    asset_id: int | None
    proposal: dict[str, Any]
    submitter_name: str | None
    submitter_email: str | None
    note: str | None
    status: Literal["pending", "approved", "rejected"]
    created_at: str
    decided_at: str | None
    decided_by: str | None
    decision_note: str | None
    result_asset_id: int | None


class SubmissionList(BaseModel):
    items: list[SubmissionItem]


class Decision(BaseModel):
    note: str | None = Field(None, max_length=1000)


class ImportError_(BaseModel):
    row: int = Field(description="As a spreadsheet shows it: the header is row 1")
    field: str
    reason: str


class ImportReport(BaseModel):
    source: str
    format: str
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    stored: bool = Field(description="False: nothing was stored (see errors)")
    errors: list[ImportError_]
    ignored_columns: list[str]
    merged: int = Field(0, description="Rows matched to an asset the register holds")
    skipped: int = Field(0, description="Rows left out, each with why in `skips`")
    proposed: int = Field(0, description="Corrections proposed to the moderation queue")
    archived: int = Field(0, description="Assets archived because the source says they closed")
    merges: list[dict[str, Any]] = Field(default_factory=list, description="row, asset, rule")
    skips: list[dict[str, Any]] = Field(default_factory=list, description="row and why")


class NearestItem(AssetItem):
    distance_m: int = Field(description="Metres on the ground from the place (0 inside an area)")
    opening_state: Literal["open", "closed", "unknown"]
    open_now: bool | None = Field(description="Open at the asked time; null when hours unknown")
    opens_at: str | None = Field(description="When it next opens (London time), if closed")
    closes_at: str | None = Field(description="When it closes (London time), if open")


class NearestPage(BaseModel):
    items: list[NearestItem]
    from_: PlaceUsed = Field(alias="from")
    at: str


class CallerItem(NearestItem):
    listed_as: Literal["open", "opens_next", "hours_unknown"]


class CallerNeed(BaseModel):
    category: str
    label: str
    items: list[CallerItem]


class CallerAnswer(Lookup):
    at: str
    needs: list[CallerNeed]


class CoverageRow(BaseModel):
    code: str
    name: str
    population: int
    assets: int
    assets_per_10k: float | None
    population_beyond: int = Field(description="People farther than max_km from the nearest")
    population_beyond_imd_1_2: int = Field(description="Of those, people in IMD deciles 1–2")


class CoverageTotal(BaseModel):
    population: int
    population_beyond: int
    population_beyond_imd_1_2: int


class CoverageTable(BaseModel):
    items: list[CoverageRow]
    total: CoverageTotal
    category: str
    layer: str
    vintage: str
    max_km: float


class DecileShare(BaseModel):
    decile: int | None = Field(description="1 = most deprived 10% in England; null = unknown")
    population: int


class Centre(BaseModel):
    easting: int
    northing: int
    lat: float
    lon: float


class AreaProfile(BaseModel):
    layer: str
    vintage: str
    code: str
    name: str
    population: int
    imd_mix: list[DecileShare] = Field(description="People by IMD 2019 decile")
    imd2025_mix: list[DecileShare] = Field(description="People by IoD 2025 decile")
    assets: dict[str, int] = Field(description="Assets by category")
    assets_per_10k: dict[str, float | None]
    centre: Centre | None = Field(description="Population-weighted centre")
    nearest: dict[str, NearestItem | None] = Field(
        description="From the population-weighted centre: the nearest of each key category"
    )


class ClusterView(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    mode: Literal["clusters", "points"]
    total: int = Field(
        description="Assets in the view; with an opening time, those open then or without "
        "published hours (each cell counts the latter as `unknown`)"
    )
    open_filter_applied: bool


class OgcLink(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class OgcLanding(BaseModel):
    title: str
    description: str
    attribution: str
    links: list[OgcLink]


class OgcConformance(BaseModel):
    conformsTo: list[str]


class OgcCollection(BaseModel):
    id: str
    title: str
    description: str
    attribution: str
    itemType: str
    crs: list[str]
    links: list[OgcLink]
    extent: dict[str, Any] | None = None


class OgcCollections(BaseModel):
    links: list[OgcLink]
    collections: list[OgcCollection]


class OgcFeature(Feature):
    links: list[OgcLink]
    attribution: str


class OgcItems(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    numberMatched: int
    numberReturned: int
    timeStamp: str
    links: list[OgcLink]
    attribution: str
