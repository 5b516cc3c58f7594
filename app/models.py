"""SQLAlchemy models of the write side (the asset register). Alembic owns the schema itself;
these describe the register's tables as migrated, column, comment and index alike
(tests/test_migrations.py compares them with Alembic's compare_metadata). The geography and
load tables are written by their loaders in SQL and are not modelled here (NOT_MODELLED)."""

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
    Index,
    Integer,
    SmallInteger,
    Text,
    Time,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


# Tables the migrations make that no model describes: the loaders and the session store write
# them in SQL. A new table is either modelled or named here (the migrations test checks).
NOT_MODELLED = frozenset({
    "alembic_version", "data_load", "layer", "area", "area_piece", "geography_state",
    "lsoa_deprivation", "postcode", "population_point", "web_session", "spatial_ref_sys",
})  # fmt: skip


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
    __table_args__ = (
        Index("asset_geom_gist", "geom", postgresql_using="gist"),
        Index("asset_geom_bng_gist", "geom_bng", postgresql_using="gist"),
        Index("asset_service_area_gist", "service_area", postgresql_using="gist"),
        Index("asset_search_gin", "search", postgresql_using="gin"),
        Index("asset_category", "category"),
        Index("asset_updated_at", "updated_at"),
        Index("asset_source_ref", "source", "source_ref", unique=True,
              postgresql_where=text("source_ref IS NOT NULL")),
        Index("asset_organisation", "organisation_id"),
        Index("asset_place_bng_gist", "place_bng", postgresql_using="gist"),
        Index("asset_category_place_bng_gist", "category", "place_bng", postgresql_using="gist"),
        Index("asset_name_id", "name", "id"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text, ForeignKey("category.code"))
    description: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("organisation.id"))
    address: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(Text)
    address_visibility: Mapped[str] = mapped_column(Text, default="public")
    geom: Mapped[Any] = mapped_column(
        Geometry("POINT", 4326, spatial_index=False),
        comment="public point; approximate for groups with an area",
    )
    geom_bng: Mapped[Any] = mapped_column(
        Geometry("POINT", 27700, spatial_index=False), Computed("ST_Transform(geom, 27700)")
    )
    location_approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    service_area: Mapped[Any | None] = mapped_column(
        Geometry("MULTIPOLYGON", 4326, spatial_index=False)
    )
    place_bng: Mapped[Any] = mapped_column(
        Geometry("GEOMETRY", 27700, spatial_index=False),
        Computed("ST_Transform(coalesce(service_area, geom), 27700)", persisted=True),
        comment="the service area when it has one, else the point (British National Grid)",
    )
    service_area_code: Mapped[str | None] = mapped_column(
        Text, comment="layer:code when the area is a known area"
    )
    phone: Mapped[str | None] = mapped_column(Text, comment="as given")
    phone_digits: Mapped[str | None] = mapped_column(Text, comment="normalised copy for search")
    phone_visibility: Mapped[str] = mapped_column(Text, default="public")
    email: Mapped[str | None] = mapped_column(Text)
    email_visibility: Mapped[str] = mapped_column(Text, default="public")
    website: Mapped[str | None] = mapped_column(Text)
    website_visibility: Mapped[str] = mapped_column(Text, default="public")
    referral: Mapped[str | None] = mapped_column(Text, comment="how to be referred")
    referral_visibility: Mapped[str] = mapped_column(Text, default="public")
    eligibility: Mapped[str | None] = mapped_column(Text)
    languages: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    accessibility: Mapped[str | None] = mapped_column(Text)
    hours_note: Mapped[str | None] = mapped_column(
        Text, comment="free-text caveat on the opening hours"
    )
    status: Mapped[str] = mapped_column(Text, default="active")
    visibility: Mapped[str] = mapped_column(Text, default="public")
    last_verified: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text, default="api")
    source_ref: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    search: Mapped[Any | None] = mapped_column(
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
    __table_args__ = (Index("opening_rule_asset", "asset_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asset_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("asset.id", ondelete="CASCADE"))
    day: Mapped[int] = mapped_column(SmallInteger, comment="0 Monday … 6 Sunday; 7 bank holidays")
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(
        Time, comment="at or before opens means after midnight (overnight)"
    )


class OpeningException(Base):
    __tablename__ = "opening_exception"
    __table_args__ = (Index("opening_exception_asset", "asset_id", "starts_on"),)

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
    prefix: Mapped[str] = mapped_column(Text, unique=True, comment="public part, to find it")
    secret_hash: Mapped[str] = mapped_column(Text, comment="sha256 of the whole key")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("audit_log_entity", "entity", "entity_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text, comment="key name, import source or cli")
    actor_key_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("api_key.id"))
    action: Mapped[str] = mapped_column(Text)
    entity: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    outcome: Mapped[str] = mapped_column(Text, default="done")


class Submission(Base):
    __tablename__ = "submission"
    __table_args__ = (
        Index("submission_client", "client_hash", "created_at"),
        Index("submission_pending", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    asset_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("asset.id"))
    proposal: Mapped[dict[str, Any]] = mapped_column(JSONB)
    submitter_name: Mapped[str | None] = mapped_column(Text)
    submitter_email: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    client_hash: Mapped[str] = mapped_column(Text, comment="hashed client address")
    status: Mapped[str] = mapped_column(Text, default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(Text)
    decision_note: Mapped[str | None] = mapped_column(Text)
    result_asset_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("asset.id"))
