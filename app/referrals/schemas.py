"""The referral API's answers, for the OpenAPI document (the routes build plain dicts)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.referrals.flow import Status


class ReferralItem(BaseModel):
    """A referral without the client's details (nothing here is personal)."""

    id: int
    status: Status
    need: str = Field(description="A category code")
    asset_id: int | None = Field(description="null if the entry was since deleted")
    asset_name: str | None
    organisation: str = Field(description="The receiving organisation")
    neighbourhood: str | None = Field(description="The caller's neighbourhood code, if given")
    sender: str = Field(description="The sending key's holder")
    direction: str = Field(description="received (editors) or sent (hub workers)")
    reason: str | None = Field(description="Why it was declined (or a note on the decision)")
    created_at: str
    updated_at: str
    decided_at: str | None
    decided_by: str | None
    closed_at: str | None = Field(description="When it was declined or completed")
    client_erased: bool = Field(description="The client's details have been erased")


class ClientOut(BaseModel):
    name: str
    contact: str
    preferred_language: str | None


class ReferralDetail(ReferralItem):
    client: ClientOut | None = Field(description="null once erased; reading it is audited")
    notes: str | None


class ReferralCounts(BaseModel):
    sent: int
    accepted: int
    declined: int
    completed: int


class ReferralList(BaseModel):
    items: list[ReferralItem] = Field(description="Empty for admins and planners")
    counts: ReferralCounts = Field(
        description="Of your own referrals (editors, hub workers), or of all (admins, planners)"
    )


class ReportRow(BaseModel):
    code: str | None
    name: str | None
    total: int
    sent: int
    accepted: int
    declined: int
    completed: int
    declined_share: float | None = Field(description="Declined of those decided")


class ReasonCount(BaseModel):
    reason: str
    count: int


class ReferralReport(BaseModel):
    since: str
    until: str
    total: int
    by_outcome: ReferralCounts
    declined_share: float | None
    by_need: list[ReportRow]
    by_neighbourhood: list[ReportRow]
    decline_reasons: list[ReasonCount]
    note: str
