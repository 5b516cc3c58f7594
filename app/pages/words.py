"""What the pages say to people, in one place: catalog messages (marked with N_), translated
where they are shown (`_(words.X)` in a template, `gettext(words.X)` in code)."""

from __future__ import annotations

from app.i18n import N_

RING_FIRST = N_("hours not published — ring first")
RING_FIRST_HEADING = N_("Hours not published — ring first")
NOTHING_OPEN = N_("Nothing with published hours is open now here.")
HUB_ORDER = N_(  # filled in from app.geo.caller's rule (app.pages.views.hub_order)
    "In order: open now, nearest first (up to %(open)s, looking up to %(km)s km away); then the "
    "closed one that opens soonest; then up to %(unknown)s whose hours are not published (ring "
    "first), nearest first. So an open place farther away comes before a closed one nearby. "
    "Distances are in a straight line."
)
CHOOSE_A_NEED = N_("Tick at least one thing the caller needs, then look up the postcode again.")
