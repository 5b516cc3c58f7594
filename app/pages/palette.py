"""Colours and marker letters: categories (colour never the only cue: each has letters too) and
IMD deciles (viridis, safe for colour-blind readers, dark = most deprived)."""

from __future__ import annotations

CATEGORY_MARKS: dict[str, tuple[str, str]] = {
    "food_bank": ("#d55e00", "F"),
    "mutual_aid_group": ("#cc79a7", "M"),
    "community_centre": ("#0072b2", "C"),
    "library": ("#009e73", "L"),
    "gp_practice": ("#2b8cbe", "G"),
    "pharmacy": ("#e69f00", "P"),
    "vcs_anchor": ("#1b1b1b", "V"),
    "council_hub": ("#5c2d91", "H"),
    "warm_space": ("#b8860b", "W"),
    "advice": ("#8c564b", "A"),
    "youth": ("#117a8b", "Y"),
    "carers": ("#6b8e23", "Ca"),
    "mental_health": ("#1f4e9c", "MH"),
    "faith_group": ("#6f6f6f", "Fa"),
    "other": ("#444444", "O"),
    "dentist": ("#6a3d9a", "D"),
    "post_office": ("#b2182b", "PO"),
    "public_toilets": ("#525252", "T"),
    "social_facility": ("#8c510a", "S"),
}
IMD_COLOURS = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779",
               "#6ece58", "#b5de2b", "#fde725")  # fmt: skip


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ink_on(colour: str) -> str:
    """White or black letters, whichever contrasts more with the colour (WCAG 1.4.3: the marks'
    letters are small bold text, so they need 4.5:1)."""
    light = _luminance(colour)
    return "#fff" if 1.05 / (light + 0.05) >= (light + 0.05) / 0.05 else "#000"


def category_css() -> str:
    """One rule per category for markers and legend swatches (served as /static/categories.css)."""
    rules = [
        f".cat-{code}{{background:{colour};color:{ink_on(colour)};border-color:{colour}}}"
        for code, (colour, _) in CATEGORY_MARKS.items()
    ]
    rules += [f".decile-{d}{{background:{c}}}" for d, c in enumerate(IMD_COLOURS, start=1)]
    return "\n".join(rules) + "\n"
