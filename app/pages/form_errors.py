"""The /submit form's mistakes, all found at once and said in plain words, each tied to its
field (for the error summary at the top of the page and the message beside the field)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.errors import AppError
from app.geo.postcodes import malformed_words, normalise_postcode
from app.i18n import N_, gettext
from app.register.inputs import AssetCreate, AssetFields

LABELS = {  # the form's own labels (submit.html), so a message names the field as shown
    "asset_id": N_("Entry number"), "name": N_("Name"), "category": N_("Kind of support"),
    "description": N_("What it offers"), "address": N_("Address"), "postcode": N_("Postcode"),
    "area": N_("Area it serves"), "phone": N_("Phone"), "email": N_("Email"),
    "website": N_("Website"), "hours_note": N_("Opening hours"),
    "submitter_name": N_("Your name"), "submitter_email": N_("Your email"),
    "note": N_("Anything else"),
}  # fmt: skip
SAID = {  # plain words for what the register's own checks say
    "email": N_("Enter an email address like name@example.org."),
    "submitter_email": N_("Enter your email address like name@example.org, or leave it empty."),
    "website": N_("Enter the website address in full, like https://example.org."),
    "phone": N_("Enter a phone number using digits, like 01484 123456."),
}
FOR_CODE = {"unknown_asset": "asset_id", "unknown_category": "category"}


@dataclass(frozen=True)
class FormError:
    field: str  # the id of the field it is about ("" for the form as a whole)
    message: str


def _plain(error: dict[str, Any]) -> tuple[str, str] | None:
    loc = error.get("loc") or ()
    field = str(loc[0]) if loc else ""
    if field not in LABELS or error["type"] == "missing":
        return None  # what is missing is said by check(), in words for this form
    if field in SAID:
        return field, gettext(SAID[field])
    label = gettext(LABELS[field])
    limit = (error.get("ctx") or {}).get("max_length")
    if limit is not None:
        return field, gettext("%(field)s must be %(n)s characters or fewer.") % {
            "field": label,
            "n": limit,
        }
    said = str(error["msg"]).removeprefix("Value error, ")
    return field, gettext("%(field)s: %(problem)s.") % {"field": label, "problem": said}


def check(raw: dict[str, str], proposal: dict[str, Any]) -> list[FormError]:
    """Every mistake in the form, in the order the fields come."""
    found: dict[str, str] = {}
    correction = raw.get("kind") == "correction"
    asset_id = raw.get("asset_id", "").strip()
    if correction and not asset_id.isdigit():
        found["asset_id"] = gettext("Enter the number of the entry to correct, like 42.")
    if not correction:
        if not proposal.get("name"):
            found["name"] = gettext("Enter the name of the place or group.")
        if not proposal.get("category"):
            found["category"] = gettext("Choose the kind of support.")
        if not (proposal.get("postcode") or proposal.get("area")):
            found["postcode"] = gettext("Enter a postcode, or choose the area a group serves.")
    postcode = proposal.get("postcode")
    if postcode and normalise_postcode(postcode) is None:
        found["postcode"] = malformed_words(postcode)
    try:
        (AssetFields if correction else AssetCreate).model_validate(proposal)
    except ValidationError as exc:
        for error in exc.errors():
            said = _plain(dict(error))
            if said and said[0] not in found:
                found[said[0]] = said[1]
    email = raw.get("submitter_email", "").strip()
    if email and "@" not in email:
        found["submitter_email"] = gettext(SAID["submitter_email"])
    return [FormError(f, found[f]) for f in LABELS if f in found]


def from_app_error(error: AppError) -> FormError:
    return FormError(FOR_CODE.get(error.code, ""), error.localized())
