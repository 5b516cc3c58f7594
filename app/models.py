"""SQLAlchemy models of the write side (the asset register). Alembic owns the schema itself."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    FetchedValue,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    Text,
    Time,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    website: Mapped[str | None] = mapped_column(Text)
    charity_number: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Category(Base):
    __tablename__ = "category"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    sort_order: Mapped[int] = mapped_column(Integer)


class Asset(Base):
    __tablename__ = "asset"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text, ForeignKey("category.code"))
    description: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("organisation.id"))
    address: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(Text)
    address_visibility: Mapped[str] = mapped_column(Text, default="public")
    geom: Mapped[Any] = mapped_column(Geometry("POINT", 4326, spatial_index=False))
    geom_bng: Mapped[Any] = mapped_column(
        Geometry("POINT", 27700, spatial_index=False), Computed("ST_Transform(geom, 27700)")
    )
    location_approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    service_area: Mapped[Any | None] = mapped_column(
        Geometry("MULTIPOLYGON", 4326, spatial_index=False)
    )
    service_area_code: Mapped[str | None] = mapped_column(Text)
    drawn_area: Mapped[Any | None] = mapped_column(
        Geometry("MULTIPOLYGON", 4326, spatial_index=False)
    )
    phone: Mapped[str | None] = mapped_column(Text)
    phone_digits: Mapped[str | None] = mapped_column(Text)
    phone_visibility: Mapped[str] = mapped_column(Text, default="public")
    email: Mapped[str | None] = mapped_column(Text)
    email_visibility: Mapped[str] = mapped_column(Text, default="public")
    website: Mapped[str | None] = mapped_column(Text)
    website_visibility: Mapped[str] = mapped_column(Text, default="public")
    referral_route: Mapped[str | None] = mapped_column(Text)
    referral_route_visibility: Mapped[str] = mapped_column(Text, default="public")
    eligibility: Mapped[str | None] = mapped_column(Text)
    languages: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    accessibility_note: Mapped[str | None] = mapped_column(Text)
    # needs as typed fields (app/needs.py)
    accessibility: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    min_age: Mapped[int | None] = mapped_column(SmallInteger)
    max_age: Mapped[int | None] = mapped_column(SmallInteger)
    cost: Mapped[str | None] = mapped_column(Text)
    referral: Mapped[str | None] = mapped_column(Text)
    hours_note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="active")
    visibility: Mapped[str] = mapped_column(Text, default="public")
    last_verified: Mapped[date | None] = mapped_column(Date)
    verified_by: Mapped[str | None] = mapped_column(Text)
    verified_how: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, default="api")
    source_ref: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    accepts_referrals: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    search: Mapped[Any] = mapped_column(
        TSVECTOR, server_default=FetchedValue(), server_onupdate=FetchedValue()
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    rules: Mapped[list[OpeningRule]] = relationship(
        cascade="all, delete-orphan",
        order_by="(OpeningRule.day, OpeningRule.opens)",
        lazy="selectin",
    )
    exceptions: Mapped[list[OpeningException]] = relationship(
        cascade="all, delete-orphan", order_by="OpeningException.starts_on", lazy="selectin"
    )


class OpeningRule(Base):
    __tablename__ = "opening_rule"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asset_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("asset.id", ondelete="CASCADE"))
    day: Mapped[int] = mapped_column(SmallInteger)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class OpeningException(Base):
    __tablename__ = "opening_exception"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asset_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("asset.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(Boolean, default=True)
    opens: Mapped[time | None] = mapped_column(Time)
    closes: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str | None] = mapped_column(Text)


class ApiKey(Base):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    organisation_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("organisation.id"))
    prefix: Mapped[str] = mapped_column(Text, unique=True)
    secret_hash: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    actor_key_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("api_key.id"))
    action: Mapped[str] = mapped_column(Text)
    entity: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    outcome: Mapped[str] = mapped_column(Text, default="done")


class Submission(Base):
    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    asset_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("asset.id"))
    proposal: Mapped[dict[str, Any]] = mapped_column(JSONB)
    submitter_name: Mapped[str | None] = mapped_column(Text)
    submitter_email: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    client_hash: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(Text)
    decision_note: Mapped[str | None] = mapped_column(Text)
    result_asset_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("asset.id"))


class Referral(Base):
    """A caller's need passed to an organisation; `client_details` is a Fernet token
    (app/referrals/crypto.py), never plain text, and NULL once erased."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asset_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("asset.id", ondelete="SET NULL")
    )
    organisation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organisation.id"))
    need: Mapped[str] = mapped_column(Text, ForeignKey("category.code"))
    neighbourhood_code: Mapped[str | None] = mapped_column(Text)
    sender_key_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("api_key.id"))
    sender_name: Mapped[str] = mapped_column(Text)
    sender_organisation_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("organisation.id")
    )
    client_details: Mapped[bytes | None] = mapped_column(LargeBinary)
    consent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text, default="sent")
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Source(Base):
    """Where facts come from: a file or feed with its licence and attribution (0011)."""

    __tablename__ = "source"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    publisher: Mapped[str] = mapped_column(Text)
    licence: Mapped[str] = mapped_column(Text)
    licence_url: Mapped[str | None] = mapped_column(Text)
    commercial_use: Mapped[bool] = mapped_column(Boolean, default=True)
    attribution: Mapped[str] = mapped_column(Text)
    vintage: Mapped[date | None] = mapped_column(Date)
    url: Mapped[str | None] = mapped_column(Text)
    file: Mapped[str | None] = mapped_column(Text)
    loader: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AssetSource(Base):
    """One source record an asset came from (several when sources were merged)."""

    __tablename__ = "asset_source"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asset_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("asset.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(Text)
    ref: Mapped[str] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    fields: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    match_rule: Mapped[str | None] = mapped_column(Text)


class AssetChange(Base):
    """One committed version of an asset, numbered in commit order (the change feed, 0012)."""

    __tablename__ = "asset_change"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asset_id: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    visibility: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    organisation_id: Mapped[int | None] = mapped_column(BigInteger)
    was_visibility: Mapped[str | None] = mapped_column(Text)
    was_status: Mapped[str | None] = mapped_column(Text)
    was_organisation_id: Mapped[int | None] = mapped_column(BigInteger)


class VerificationRequest(Base):
    """A self-service confirmation link sent to an entry's contact e-mail (0013)."""

    __tablename__ = "verification_request"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asset_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("asset.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(Text, unique=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(Text)
    submission_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("submission.id"))


class Claim(Base):
    """An organisation asks to manage a listing; an admin decides (0013)."""

    __tablename__ = "claim"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asset_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("asset.id"))
    organisation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organisation.id"))
    requested_by: Mapped[str] = mapped_column(Text)
    requested_key_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("api_key.id"))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(Text)
    decision_note: Mapped[str | None] = mapped_column(Text)


class Shortlist(Base):
    """What a hub worker sent a caller: asset ids and language only (never the number or
    address it went to); /s/{id} shows it until `expires_at`, then it is erased."""

    __tablename__ = "shortlist"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    asset_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    language: Mapped[str] = mapped_column(Text)
    sent_by: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
