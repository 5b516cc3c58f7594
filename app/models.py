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
    phone: Mapped[str | None] = mapped_column(Text)
    phone_digits: Mapped[str | None] = mapped_column(Text)
    phone_visibility: Mapped[str] = mapped_column(Text, default="public")
    email: Mapped[str | None] = mapped_column(Text)
    email_visibility: Mapped[str] = mapped_column(Text, default="public")
    website: Mapped[str | None] = mapped_column(Text)
    website_visibility: Mapped[str] = mapped_column(Text, default="public")
    referral: Mapped[str | None] = mapped_column(Text)
    referral_visibility: Mapped[str] = mapped_column(Text, default="public")
    eligibility: Mapped[str | None] = mapped_column(Text)
    languages: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    accessibility: Mapped[str | None] = mapped_column(Text)
    hours_note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="active")
    visibility: Mapped[str] = mapped_column(Text, default="public")
    last_verified: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text, default="api")
    source_ref: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
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
