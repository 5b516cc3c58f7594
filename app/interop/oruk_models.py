"""What the ORUK routes promise, for the OpenAPI document: the Page object and the required
fields of each entity (the full shapes are the standard's published schemas, checked in tests)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class OrukApiInfo(BaseModel):
    version: str = Field(description="HSDS version of this API")
    profile: str = Field(description="The HSDS profile this API follows (Open Referral UK)")
    openapi_url: str = Field(description="This API's OpenAPI document")
    attribution: str


class OrukEntity(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(description="A stable UUID")


class OrukService(OrukEntity):
    name: str
    status: str = Field(description="active, inactive, defunct or temporarily closed")


class OrukServiceAtLocation(OrukEntity):
    service_id: str
    location_id: str


class OrukTerm(OrukEntity):
    name: str
    description: str


class OrukPage(BaseModel):
    """The standard's Page: `size` is the number of entities on this page."""

    total_items: int
    total_pages: int
    page_number: int
    size: int
    first_page: bool
    last_page: bool
    empty: bool
    attribution: str


class OrukServicePage(OrukPage):
    contents: list[OrukService]


class OrukServiceAtLocationPage(OrukPage):
    contents: list[OrukServiceAtLocation]


class OrukTermPage(OrukPage):
    contents: list[OrukTerm]
