"""Colours and marker letters: categories (colour never the only cue: each has letters too) and
IMD deciles (viridis, safe for colour-blind readers, dark = most deprived)."""

from __future__ import annotations

CATEGORY_MARKS: dict[str, tuple[str, str]] = {
    "food_bank": ("#e06400", "F"),
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
    "carers": ("#7a9e2a", "Ca"),
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


INK, WHITE = "#1b1b1b", "#ffffff"
LEAST_CONTRAST = 4.5  # WCAG 2.2 AA for the markers' small bold letters


def luminance(colour: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_on(colour: str) -> str:
    """Ink or white letters on a category's colour: whichever reads better."""
    return INK if contrast(colour, INK) > contrast(colour, WHITE) else WHITE


def category_css() -> str:
    """One rule per category for markers and legend swatches (served as /static/categories.css)."""
    rules = [
        f".cat-{code}{{background:{colour};color:{text_on(colour)};border-color:{colour}}}"
        for code, (colour, _) in CATEGORY_MARKS.items()
    ]
    rules += [f".decile-{d}{{background:{c}}}" for d, c in enumerate(IMD_COLOURS, start=1)]
    return "\n".join(rules) + "\n"
