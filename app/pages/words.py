"""What the pages say to people, in one place (for plain words now, and translation later)."""

from __future__ import annotations

RING_FIRST = "hours not published — ring first"
RING_FIRST_HEADING = "Hours not published — ring first"
NOTHING_OPEN = "Nothing with published hours is open now here."
HUB_ORDER = (  # filled in from app.geo.caller's rule (app.pages.views.hub_order)
    "In order: open now, nearest first (up to {open}, looking up to {km} km away); then the "
    "closed one that opens soonest; then up to {unknown} whose hours are not published (ring "
    "first), nearest first. So an open place farther away comes before a closed one nearby. "
    "Distances are in a straight line."
)
CHOOSE_A_NEED = "Tick at least one thing the caller needs, then look up the postcode again."
ACCESSIBILITY = "Accessibility statement"
