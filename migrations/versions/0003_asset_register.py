"""The asset register: organisations, the category taxonomy, assets with opening hours, API keys,
the audit trail and the public submissions queue.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATEGORIES = [
    ("food_bank", "Food bank", "Emergency food parcels, often by referral"),
    ("mutual_aid_group", "Mutual aid group", "Neighbours helping neighbours in an area"),
    ("community_centre", "Community centre", "A place for local groups and activities"),
    ("library", "Library", "Books, computers, warm space and information"),
    ("gp_practice", "GP practice", "NHS general practice"),
    ("pharmacy", "Pharmacy", "Medicines and health advice"),
    ("vcs_anchor", "VCS anchor organisation", "A voluntary sector anchor organisation"),
    ("council_hub", "Council community hub", "One of the council's community hubs"),
    ("warm_space", "Warm space", "Somewhere warm and welcoming to spend time"),
    ("advice", "Advice", "Money, benefits, housing or legal advice"),
    ("youth", "Youth", "Services and activities for young people"),
    ("carers", "Carers", "Support for unpaid carers"),
    ("mental_health", "Mental health", "Mental health and wellbeing support"),
    ("faith_group", "Faith group", "Support offered by a faith community"),
    ("other", "Other", "Other community support"),
]

# Search text: the asset's name, description and its organisation's name.
SEARCH_FUNCTIONS = """
CREATE FUNCTION asset_search_text(a asset) RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('english', coalesce(a.name, '')), 'A')
        || setweight(to_tsvector('english', coalesce(
               (SELECT o.name FROM organisation o WHERE o.id = a.organisation_id), '')), 'B')
        || setweight(to_tsvector('english', coalesce(a.description, '')), 'C')
$$;
CREATE FUNCTION asset_search_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := asset_search_text(NEW);
    RETURN NEW;
END $$;
CREATE TRIGGER asset_search BEFORE INSERT OR UPDATE ON asset
    FOR EACH ROW EXECUTE FUNCTION asset_search_trigger();
CREATE FUNCTION organisation_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE asset SET search = asset_search_text(asset) WHERE organisation_id = NEW.id;
    RETURN NEW;
END $$;
CREATE TRIGGER organisation_search AFTER UPDATE OF name ON organisation
    FOR EACH ROW EXECUTE FUNCTION organisation_renamed();
"""


def _visibility(name: str) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False, server_default="public")


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("website", sa.Text),
        sa.Column("charity_number", sa.Text),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "category",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("sort_order", sa.Integer, nullable=False),
    )
    op.bulk_insert(
        sa.table("category", sa.column("code"), sa.column("label"), sa.column("description"),
                 sa.column("sort_order")),
        [{"code": c, "label": l, "description": d, "sort_order": i}
         for i, (c, l, d) in enumerate(CATEGORIES)],
    )
    op.create_table(
        "asset",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("category", sa.Text, sa.ForeignKey("category.code"), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("organisation_id", sa.BigInteger, sa.ForeignKey("organisation.id")),
        sa.Column("address", sa.Text),
        sa.Column("postcode", sa.Text),
        _visibility("address_visibility"),
        sa.Column("geom", Geometry("POINT", 4326, spatial_index=False), nullable=False,
                  comment="public point; approximate for groups with an area"),
        sa.Column("geom_bng", Geometry("POINT", 27700, spatial_index=False),
                  sa.Computed("ST_Transform(geom, 27700)", persisted=True)),
        sa.Column("location_approximate", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("service_area", Geometry("MULTIPOLYGON", 4326, spatial_index=False)),
        sa.Column("service_area_code", sa.Text, comment="layer:code when the area is a known area"),
        sa.Column("phone", sa.Text, comment="as given"),
        sa.Column("phone_digits", sa.Text, comment="normalised copy for search"),
        _visibility("phone_visibility"),
        sa.Column("email", sa.Text),
        _visibility("email_visibility"),
        sa.Column("website", sa.Text),
        _visibility("website_visibility"),
        sa.Column("referral", sa.Text, comment="how to be referred"),
        _visibility("referral_visibility"),
        sa.Column("eligibility", sa.Text),
        sa.Column("languages", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("accessibility", sa.Text),
        sa.Column("hours_note", sa.Text, comment="free-text caveat on the opening hours"),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        sa.Column("visibility", sa.Text, nullable=False, server_default="public"),
        sa.Column("last_verified", sa.Date),
        sa.Column("source", sa.Text, nullable=False, server_default="api"),
        sa.Column("source_ref", sa.Text),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("search", postgresql.TSVECTOR),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("archived_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('active', 'temporarily_closed', 'closed', 'archived')",
                           name="asset_status"),
        sa.CheckConstraint("visibility IN ('public', 'professional', 'hidden')",
                           name="asset_visibility"),
        *[
            sa.CheckConstraint(f"{field}_visibility IN ('public', 'private')",
                               name=f"asset_{field}_visibility")
            for field in ("address", "phone", "email", "website", "referral")
        ],
    )
    op.create_index("asset_geom_gist", "asset", ["geom"], postgresql_using="gist")
    op.create_index("asset_geom_bng_gist", "asset", ["geom_bng"], postgresql_using="gist")
    op.create_index("asset_service_area_gist", "asset", ["service_area"], postgresql_using="gist")
    op.create_index("asset_search_gin", "asset", ["search"], postgresql_using="gin")
    op.create_index("asset_category", "asset", ["category"])
    op.create_index("asset_updated_at", "asset", ["updated_at"])
    op.create_index("asset_source_ref", "asset", ["source", "source_ref"], unique=True,
                    postgresql_where=sa.text("source_ref IS NOT NULL"))
    op.create_index("asset_organisation", "asset", ["organisation_id"])
    op.execute(SEARCH_FUNCTIONS)

    op.create_table(
        "opening_rule",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("asset_id", sa.BigInteger, sa.ForeignKey("asset.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("day", sa.SmallInteger, nullable=False,
                  comment="0 Monday … 6 Sunday; 7 bank holidays"),
        sa.Column("opens", sa.Time, nullable=False),
        sa.Column("closes", sa.Time, nullable=False,
                  comment="at or before opens means after midnight (overnight)"),
        sa.CheckConstraint("day BETWEEN 0 AND 7", name="opening_rule_day"),
    )
    op.create_index("opening_rule_asset", "opening_rule", ["asset_id"])
    op.create_table(
        "opening_exception",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("asset_id", sa.BigInteger, sa.ForeignKey("asset.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("opens", sa.Time),
        sa.Column("closes", sa.Time),
        sa.Column("note", sa.Text),
        sa.CheckConstraint("ends_on >= starts_on", name="opening_exception_dates"),
        sa.CheckConstraint("closed OR (opens IS NOT NULL AND closes IS NOT NULL)",
                           name="opening_exception_hours"),
    )
    op.create_index("opening_exception_asset", "opening_exception", ["asset_id", "starts_on"])

    op.create_table(
        "api_key",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("organisation_id", sa.BigInteger, sa.ForeignKey("organisation.id")),
        sa.Column("prefix", sa.Text, nullable=False, unique=True, comment="public part, to find it"),
        sa.Column("secret_hash", sa.Text, nullable=False, comment="sha256 of the whole key"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("role IN ('admin', 'editor', 'hub_worker', 'planner')", name="api_key_role"),
        sa.CheckConstraint("role <> 'editor' OR organisation_id IS NOT NULL",
                           name="api_key_editor_has_organisation"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("actor", sa.Text, nullable=False, comment="key name, import source or cli"),
        sa.Column("actor_key_id", sa.BigInteger, sa.ForeignKey("api_key.id")),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("entity_id", sa.BigInteger),
        sa.Column("version", sa.Integer),
        sa.Column("changes", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("outcome", sa.Text, nullable=False, server_default="done"),
    )
    op.create_index("audit_log_entity", "audit_log", ["entity", "entity_id", "at"])
    op.create_table(
        "submission",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("asset_id", sa.BigInteger, sa.ForeignKey("asset.id")),
        sa.Column("proposal", postgresql.JSONB, nullable=False),
        sa.Column("submitter_name", sa.Text),
        sa.Column("submitter_email", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("client_hash", sa.Text, nullable=False, comment="hashed client address"),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.Text),
        sa.Column("decision_note", sa.Text),
        sa.Column("result_asset_id", sa.BigInteger, sa.ForeignKey("asset.id")),
        sa.CheckConstraint("kind IN ('new', 'correction')", name="submission_kind"),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="submission_status"),
        sa.CheckConstraint("kind = 'new' OR asset_id IS NOT NULL", name="submission_correction_asset"),
    )
    op.create_index("submission_client", "submission", ["client_hash", "created_at"])
    op.create_index("submission_pending", "submission", ["status", "created_at"])


def downgrade() -> None:
    op.drop_table("submission")
    op.drop_table("audit_log")
    op.drop_table("api_key")
    op.drop_table("opening_exception")
    op.drop_table("opening_rule")
    op.execute("DROP TRIGGER IF EXISTS organisation_search ON organisation")
    op.execute("DROP FUNCTION IF EXISTS organisation_renamed()")
    op.execute("DROP TRIGGER IF EXISTS asset_search ON asset")
    op.execute("DROP FUNCTION IF EXISTS asset_search_trigger()")
    op.execute("DROP FUNCTION IF EXISTS asset_search_text(asset)")
    op.drop_table("asset")
    op.drop_table("category")
    op.drop_table("organisation")
