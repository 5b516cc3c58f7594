"""Needs as typed fields of an asset: languages as ISO 639-1 codes, accessibility as a short
controlled list, the ages served (min_age, max_age), cost (free, low_cost, paid) and referral
(open_access, referral_needed). The free text they replace stays, renamed: the accessibility
note (`accessibility_note`) and the referral route (`referral_route`, with its visibility).

The typed values are read from that text where its words say so: features from the note,
whether a referral is needed from the route, ages from the eligibility note, language names
as their codes (names it does not know are kept as they were).

Revision ID: 0014_asset_needs
Revises: 0010_referrals
Create Date: 2026-12-07
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014_asset_needs"
down_revision: str | None = "0013_verification_and_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCESSIBILITY = (
    "step_free_access",
    "accessible_toilet",
    "hearing_loop",
    "bsl",
    "large_print",
    "easy_read",
    "quiet_space",
    "accessible_parking",
)
# The same phrases as app.needs (copied: a migration must not change when the app does).
FEATURE_PHRASES = {
    "step_free_access": r"step[- ]?free|level access|wheelchair[- ]accessible|ramped",
    "accessible_toilet": r"(accessible|disabled|changing places) (toilet|wc|loo)",
    "hearing_loop": r"(hearing|induction) loop",
    "bsl": r"\mbsl\M|british sign language",
    "large_print": r"large print",
    "easy_read": r"easy[- ]read",
    "quiet_space": r"quiet (space|room|area)",
    "accessible_parking": r"(accessible|disabled|blue badge) parking",
}
OPEN_ACCESS = (
    r"no referral|without (a )?referral|walk[- ]?in|drop[- ]?in"
    r"|open to (all|anyone|everyone)|just turn up|self[- ]refer|register as a patient"
)
REFERRAL_NEEDED = r"referral|referred|voucher"
AGE_PATTERNS = {
    "range_low": r"(?i)(\d{1,3})\s*(?:-|–|to)\s*\d{1,3}",
    "range_high": r"(?i)\d{1,3}\s*(?:-|–|to)\s*(\d{1,3})",
    "over": r"(?i)\m(?:over|aged)\s*(\d{1,3})",
    "plus": r"(?i)(\d{1,3})\s*(?:\+|and over|or over|and older|or older)",
    "under": r"(?i)\munder\s*(\d{1,3})",
}
# Kirklees' community languages and a few more, by their English names.
LANGUAGE_NAMES = {
    "english": "en", "urdu": "ur", "punjabi": "pa", "panjabi": "pa", "polish": "pl",
    "gujarati": "gu", "bengali": "bn", "arabic": "ar", "kurdish": "ku", "farsi": "fa",
    "persian": "fa", "pashto": "ps", "romanian": "ro", "slovak": "sk", "czech": "cs",
    "hindi": "hi", "tigrinya": "ti", "somali": "so", "french": "fr", "spanish": "es",
    "portuguese": "pt", "lithuanian": "lt", "latvian": "lv", "russian": "ru",
    "ukrainian": "uk", "chinese": "zh", "mandarin": "zh", "cantonese": "zh", "turkish": "tr",
    "italian": "it", "german": "de", "hungarian": "hu", "bulgarian": "bg", "tamil": "ta",
    "welsh": "cy", "amharic": "am", "swahili": "sw", "vietnamese": "vi", "greek": "el",
}  # fmt: skip


def upgrade() -> None:
    op.alter_column("asset", "accessibility", new_column_name="accessibility_note")
    op.alter_column("asset", "referral", new_column_name="referral_route")
    op.alter_column("asset", "referral_visibility", new_column_name="referral_route_visibility")
    op.execute(
        "ALTER TABLE asset RENAME CONSTRAINT asset_referral_visibility "
        "TO asset_referral_route_visibility"
    )
    allowed = ", ".join(f"'{code}'" for code in ACCESSIBILITY)
    op.add_column(
        "asset",
        sa.Column(
            "accessibility",
            postgresql.ARRAY(sa.Text),
            nullable=False,
            server_default="{}",
            comment="controlled list: app.needs.ACCESSIBILITY",
        ),
    )
    op.add_column("asset", sa.Column("min_age", sa.SmallInteger, comment="youngest served"))
    op.add_column("asset", sa.Column("max_age", sa.SmallInteger, comment="oldest served"))
    op.add_column("asset", sa.Column("cost", sa.Text, comment="free, low_cost or paid"))
    op.add_column("asset", sa.Column("referral", sa.Text, comment="open_access or referral_needed"))
    op.create_check_constraint(
        "asset_accessibility", "asset", f"accessibility <@ ARRAY[{allowed}]::text[]"
    )
    op.create_check_constraint(
        "asset_ages",
        "asset",
        "(min_age IS NULL OR min_age BETWEEN 0 AND 120) AND "
        "(max_age IS NULL OR max_age BETWEEN 0 AND 120) AND "
        "(min_age IS NULL OR max_age IS NULL OR min_age <= max_age)",
    )
    op.create_check_constraint("asset_cost", "asset", "cost IN ('free', 'low_cost', 'paid')")
    op.create_check_constraint(
        "asset_referral", "asset", "referral IN ('open_access', 'referral_needed')"
    )
    op.create_index("asset_languages_gin", "asset", ["languages"], postgresql_using="gin")
    op.create_index("asset_accessibility_gin", "asset", ["accessibility"], postgresql_using="gin")

    bind = op.get_bind()
    features = " || ".join(
        f"CASE WHEN accessibility_note ~* :{code} THEN ARRAY['{code}'] ELSE '{{}}'::text[] END"
        for code in FEATURE_PHRASES
    )
    bind.execute(
        sa.text(
            f"UPDATE asset SET accessibility = {features} WHERE accessibility_note IS NOT NULL"
        ),
        FEATURE_PHRASES,
    )
    bind.execute(
        sa.text(
            "UPDATE asset SET referral = CASE WHEN referral_route ~* :open THEN 'open_access' "
            "WHEN referral_route ~* :needed THEN 'referral_needed' END "
            "WHERE referral_route IS NOT NULL"
        ),
        {"open": OPEN_ACCESS, "needed": REFERRAL_NEEDED},
    )
    # 'aged 16-25' → 16, 25; 'over 60s', '18+' → 60, 18 and over; 'under 18' → up to 17
    bind.execute(
        sa.text(
            """
            WITH parsed AS (
                SELECT id,
                       substring(eligibility FROM :range_low)::int AS lo,
                       substring(eligibility FROM :range_high)::int AS hi,
                       coalesce(substring(eligibility FROM :over),
                                substring(eligibility FROM :plus))::int AS at_least,
                       substring(eligibility FROM :under)::int AS under
                FROM asset WHERE eligibility ~ '[0-9]'
            )
            UPDATE asset a SET
                min_age = CASE WHEN p.lo IS NOT NULL AND p.lo <= p.hi AND p.hi <= 120 THEN p.lo
                               WHEN p.at_least <= 120 THEN p.at_least END,
                max_age = CASE WHEN p.lo IS NOT NULL AND p.lo <= p.hi AND p.hi <= 120 THEN p.hi
                               WHEN p.under BETWEEN 1 AND 121
                                    AND (p.at_least IS NULL OR p.at_least < p.under)
                               THEN p.under - 1 END
            FROM parsed p WHERE a.id = p.id
            """
        ),
        AGE_PATTERNS,
    )
    bind.execute(
        sa.text(
            """
            UPDATE asset a SET languages = ARRAY(
                SELECT coalesce(n.code, lower(l.name))
                FROM unnest(a.languages) WITH ORDINALITY AS l(name, i)
                LEFT JOIN jsonb_each_text(CAST(:names AS jsonb)) AS n(name, code)
                    ON n.name = lower(trim(l.name))
                ORDER BY l.i)
            WHERE cardinality(a.languages) > 0
            """
        ).bindparams(sa.bindparam("names", type_=sa.Text)),
        {"names": json.dumps(LANGUAGE_NAMES)},
    )


def downgrade() -> None:
    op.drop_index("asset_accessibility_gin", "asset")
    op.drop_index("asset_languages_gin", "asset")
    for name in ("asset_referral", "asset_cost", "asset_ages", "asset_accessibility"):
        op.drop_constraint(name, "asset")
    for column in ("referral", "cost", "max_age", "min_age", "accessibility"):
        op.drop_column("asset", column)
    op.execute(
        "ALTER TABLE asset RENAME CONSTRAINT asset_referral_route_visibility "
        "TO asset_referral_visibility"
    )
    op.alter_column("asset", "referral_route_visibility", new_column_name="referral_visibility")
    op.alter_column("asset", "referral_route", new_column_name="referral")
    op.alter_column("asset", "accessibility_note", new_column_name="accessibility")
