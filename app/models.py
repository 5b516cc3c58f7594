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
    LargeBinary,
    SmallInteger,
    Text,
    Time,
    UniqueConstraint,
    column,
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
    "register_state",
})  # fmt: skip


def _name_trigrams(name: str) -> Index:
    """The trigram index on lower(name) that fuzzy search uses (0015)."""
    lower_name = func.lower(column("name")).label("lower_name")
    return Index(name, lower_name, postgresql_using="gin",
                 postgresql_ops={"lower_name": "gin_trgm_ops"})  # fmt: skip


class Organisation(Base):
    __tablename__ = "organisation"
    __table_args__ = (_name_trigrams("organisation_name_trgm"),)

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
        Index("asset_languages_gin", "languages", postgresql_using="gin"),
        Index("asset_accessibility_gin", "accessibility", postgresql_using="gin"),
        _name_trigrams("asset_name_trgm"),
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
    drawn_area: Mapped[Any | None] = mapped_column(
        Geometry("MULTIPOLYGON", 4326, spatial_index=False),
        comment="a group's area as drawn; service_area is what the public sees",
    )
    phone: Mapped[str | None] = mapped_column(Text, comment="as given")
    phone_digits: Mapped[str | None] = mapped_column(Text, comment="normalised copy for search")
    phone_visibility: Mapped[str] = mapped_column(Text, default="public")
    email: Mapped[str | None] = mapped_column(Text)
    email_visibility: Mapped[str] = mapped_column(Text, default="public")
    website: Mapped[str | None] = mapped_column(Text)
    website_visibility: Mapped[str] = mapped_column(Text, default="public")
    referral_route: Mapped[str | None] = mapped_column(Text, comment="how to be referred")
    referral_route_visibility: Mapped[str] = mapped_column(Text, default="public")
    eligibility: Mapped[str | None] = mapped_column(Text)
    languages: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    accessibility_note: Mapped[str | None] = mapped_column(Text)
    # needs as typed fields (app/needs.py)
    accessibility: Mapped[list[str]] = mapped_column(
        ARRAY(Text), default=list, comment="controlled list: app.needs.ACCESSIBILITY"
    )
    min_age: Mapped[int | None] = mapped_column(SmallInteger, comment="youngest served")
    max_age: Mapped[int | None] = mapped_column(SmallInteger, comment="oldest served")
    cost: Mapped[str | None] = mapped_column(Text, comment="free, low_cost or paid")
    referral: Mapped[str | None] = mapped_column(Text, comment="open_access or referral_needed")
    hours_note: Mapped[str | None] = mapped_column(
        Text, comment="free-text caveat on the opening hours"
    )
    status: Mapped[str] = mapped_column(Text, default="active")
    visibility: Mapped[str] = mapped_column(Text, default="public")
    last_verified: Mapped[date | None] = mapped_column(Date)
    verified_by: Mapped[str | None] = mapped_column(Text, comment="who checked it last")
    verified_how: Mapped[str | None] = mapped_column(Text, comment="how it was checked")
    source: Mapped[str] = mapped_column(Text, default="api")
    source_ref: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    accepts_referrals: Mapped[bool] = mapped_column(Boolean, default=False)
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
    email: Mapped[str | None] = mapped_column(
        Text, comment="Where this key's holder is told of referrals"
    )
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


class Referral(Base):
    """A caller's need passed to an organisation; `client_details` is a Fernet token
    (app/referrals/crypto.py), never plain text, and NULL once erased."""

    __tablename__ = "referral"
    __table_args__ = (
        Index("referral_inbox", "organisation_id", "status"),
        Index("referral_sender_org", "sender_organisation_id"),
        Index("referral_sender_key", "sender_key_id"),
        Index("referral_to_erase", "closed_at",
              postgresql_where=text("client_details IS NOT NULL AND closed_at IS NOT NULL")),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asset_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("asset.id", ondelete="SET NULL")
    )
    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisation.id"),
        comment="The receiving organisation, whose editors decide",
    )  # fmt: skip
    need: Mapped[str] = mapped_column(Text, ForeignKey("category.code"))
    neighbourhood_code: Mapped[str | None] = mapped_column(
        Text, comment="The caller's neighbourhood, if given"
    )
    sender_key_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("api_key.id"))
    sender_name: Mapped[str] = mapped_column(Text)
    sender_organisation_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("organisation.id"),
        comment="The sender's hub: its other workers see the referral too",
    )  # fmt: skip
    client_details: Mapped[bytes | None] = mapped_column(
        LargeBinary,
        comment="Fernet token of the client's name, contact, language and the notes; "
        "NULL once erased",
    )
    consent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text, default="sent")
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="Declined or completed"
    )
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Source(Base):
    """Where facts come from: a file or feed with its licence and attribution (0011)."""

    __tablename__ = "source"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    publisher: Mapped[str] = mapped_column(Text)
    licence: Mapped[str] = mapped_column(Text, comment="SPDX-style id, e.g. OGL-UK-3.0")
    licence_url: Mapped[str | None] = mapped_column(Text)
    commercial_use: Mapped[bool] = mapped_column(Boolean, default=True)
    attribution: Mapped[str] = mapped_column(Text)
    vintage: Mapped[date | None] = mapped_column(Date, comment="when the source's facts were true")
    url: Mapped[str | None] = mapped_column(Text)
    file: Mapped[str | None] = mapped_column(Text)
    loader: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AssetSource(Base):
    """One source record an asset came from (several when sources were merged)."""

    __tablename__ = "asset_source"
    __table_args__ = (
        UniqueConstraint("source", "ref", name="asset_source_record"),
        Index("asset_source_asset", "asset_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asset_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("asset.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(Text)
    ref: Mapped[str] = mapped_column(Text, comment="the record's id in its source")
    seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), comment="last loaded from its source"
    )
    fields: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, comment="what the source said, to split a merge again"
    )
    match_rule: Mapped[str | None] = mapped_column(
        Text, comment="how it was merged; null: it made the asset"
    )


class AssetChange(Base):
    """One committed version of an asset, numbered in commit order (the change feed, 0012)."""

    __tablename__ = "asset_change"
    __table_args__ = (
        UniqueConstraint("asset_id", "version", name="asset_change_version"),
        Index("asset_change_asset_at", "asset_id", "at"),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, comment="commit order: the feed's cursor"
    )
    asset_id: Mapped[int] = mapped_column(
        BigInteger, comment="no foreign key: kept after a purge, so copies hear of it"
    )
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), comment="when it was committed (the ORUK modified_after clock)"
    )
    visibility: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    organisation_id: Mapped[int | None] = mapped_column(BigInteger)
    was_visibility: Mapped[str | None] = mapped_column(Text, comment="before; null for a new asset")
    was_status: Mapped[str | None] = mapped_column(Text)
    was_organisation_id: Mapped[int | None] = mapped_column(BigInteger)


class VerificationRequest(Base):
    """A self-service confirmation link sent to an entry's contact e-mail (0013)."""

    __tablename__ = "verification_request"
    __table_args__ = (Index("verification_request_asset", "asset_id", "sent_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    asset_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("asset.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(
        Text, unique=True, comment="random; the link carries it with a signature"
    )
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(Text)
    submission_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("submission.id"))


class Claim(Base):
    """An organisation asks to manage a listing; an admin decides (0013)."""

    __tablename__ = "claim"
    __table_args__ = (
        Index("claim_one_pending", "asset_id", "organisation_id", unique=True,
              postgresql_where=text("status = 'pending'")),
    )  # fmt: skip

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
    __table_args__ = (Index("shortlist_expires", "expires_at"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    asset_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    language: Mapped[str] = mapped_column(Text)
    sent_by: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
