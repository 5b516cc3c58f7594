"""Words that come from data or code rather than a template (category names, layer names, roles,
the map script's words), marked here so the catalogs carry them; shown through gettext."""

from __future__ import annotations

from app.i18n import N_, gettext

CATEGORY_LABELS = (
    N_("Food bank"), N_("Mutual aid group"), N_("Community centre"), N_("Library"),
    N_("GP practice"), N_("Pharmacy"), N_("VCS anchor organisation"),
    N_("Council community hub"), N_("Warm space"), N_("Advice"), N_("Youth"), N_("Carers"),
    N_("Mental health"), N_("Faith group"), N_("Other"), N_("Dentist"), N_("Post office"),
    N_("Public toilets"), N_("Care and support"),
)  # fmt: skip
LAYER_WORDS = (
    N_("ward"), N_("hub"), N_("neighbourhood"), N_("Wards"), N_("Hubs"), N_("LSOAs"),
    N_("Neighbourhoods"), N_("Neighbourhoods (PCNs)"), N_("Kirklees"),
    N_("Deprivation (LSOAs)"),
)  # fmt: skip
ROLES = (N_("anonymous"), N_("hub worker"), N_("editor"), N_("admin"), N_("planner"))
# Statuses shown capitalised on pages (`|capitalize|label`): referrals' and entries'.
STATUSES = (
    N_("Sent"), N_("Accepted"), N_("Declined"), N_("Completed"), N_("Temporarily closed"),
    N_("Closed"), N_("Archived"),
)  # fmt: skip

# The map script's words (app/static/js/assetmap.js reads them as page_data.strings).
SCRIPT_MESSAGES = (
    N_(" (example, not a real service)"), N_("Serves an area; no address is published."),
    N_("Phone"), N_("Website"), N_("Referral: "), N_("Not verified"), N_(" since "),
    N_("Checked "), N_("Suggest a correction"), N_("Details and sources"), N_("Support"),
    N_(" places here: zoom in"),
    N_("Zoom in to see only what is open now; all %(n)s places in view are shown."),
    N_("Mutual aid groups (areas)"), N_("People by IMD 2019 decile (1 = most deprived)"),
    N_("Decile"), N_("People"), N_("unknown"), N_("Support in the area"), N_("Kind"),
    N_("Number"), N_("per 10,000 people"), N_("Nearest to where people live"),
    N_(" people (mid-2015)."), N_("km"), N_("Pan north"), N_("Pan south"), N_("Pan west"),
    N_("Pan east"), N_("Move the map"), N_("Printable leaflet of the support here (PDF, A4)"),
    N_("hours not published — ring first"), N_("%(n)s with hours not published — ring first"),
    N_("Open now: %(n)s in view."),
    N_("%(n)s more have no published hours: ring first (marked with a dashed ring)."),
)  # fmt: skip


def script_strings() -> dict[str, str]:
    """English → this request's language, for the words the map script writes."""
    return {message: gettext(message) for message in (*SCRIPT_MESSAGES, *LAYER_WORDS)}
