"""Languages: the gettext catalogs, the language of the current request, and formatting by the
language's conventions (Babel). Pages choose the language by ?lang= > cookie > Accept-Language;
the API by Accept-Language alone. See docs/translations.md."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from gettext import NullTranslations
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

log = logging.getLogger("assetmap.i18n")
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
COOKIE = "lang"


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1, also the catalog's directory and the <html lang>
    name: str  # in the language itself, as the switcher shows it
    dir: str  # "ltr" or "rtl"
    reviewed: bool  # has a fluent speaker checked the catalog? (docs/translations.md)
    babel: str  # the Babel locale for dates and numbers


LANGUAGES: dict[str, Language] = {
    "en": Language("en", "English", "ltr", True, "en_GB"),
    "ur": Language("ur", "اردو", "rtl", False, "ur_PK"),
    "pl": Language("pl", "Polski", "ltr", False, "pl_PL"),
    "pa": Language("pa", "ਪੰਜਾਬੀ", "ltr", False, "pa_Guru_IN"),
}
DEFAULT = "en"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT)


def N_(message: str) -> str:
    """Marks a message for the catalogs where it is defined; it is translated where it is shown."""
    return message


def accepted(header: str | None) -> str | None:
    """The first language of an Accept-Language header that we have, by the header's q-values."""
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, position, primary))
    return min(choices)[2] if choices else None


def choose(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    for candidate in (query, cookie):
        if candidate and candidate.lower() in LANGUAGES:
            return candidate.lower()
    return accepted(accept_language) or DEFAULT


def current() -> Language:
    return LANGUAGES[_current.get()]


def use(code: str) -> None:
    """Make `code` the language of the rest of this request (or task)."""
    _current.set(code if code in LANGUAGES else DEFAULT)


@contextmanager
def speaking(code: str) -> Iterator[None]:
    """Another language for the length of a `with` (a message for a caller in their language)."""
    before = _current.get()
    use(code)
    try:
        yield
    finally:
        use(before)


@cache
def catalog(code: str) -> NullTranslations:
    """The compiled catalog (`make install` compiles them); compiled here from the .po in memory
    if a .mo is missing or older, so a checkout that skipped the compile step still speaks."""
    if code == DEFAULT:
        return NullTranslations()
    folder = LOCALE_DIR / code / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as compiled:
            return Translations(compiled, domain=DOMAIN)
    log.warning("catalog %s is not compiled (make install compiles it); compiling in memory", code)
    with po.open("rb") as source:
        messages = read_po(source, locale=code)
    buffer = BytesIO()
    write_mo(buffer, messages)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def gettext(message: str) -> str:
    return catalog(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalog(_current.get()).ngettext(singular, plural, n)


_ = gettext


def locale() -> Locale:
    return Locale.parse(current().babel)


def number(value: float, digits: int = 0) -> str:
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=locale())


def km(metres: float) -> str:
    """A distance in kilometres to one decimal place, the way the language writes numbers."""
    return gettext("%(km)s km") % {"km": number(metres / 1000, 1)}


def day_and_time(moment: datetime) -> str:
    """'Tue 25 Nov, 09:00' by the language's own pattern (English keeps its spoken '9am' form)."""
    here = locale()
    day = format_skeleton("MMMEd", moment, locale=here)
    return f"{day}, {format_time(moment, 'short', locale=here)}"


def long_date(moment: datetime | date) -> str:
    """'7 December 2026', '7 grudnia 2026', for a leaflet's date."""
    return format_date(moment, "long", locale=locale())


def month_and_year(day: date) -> str:
    """'March 2026', 'marzec 2026', 'مارچ 2026': the month's own name in the language."""
    return format_date(day, "LLLL y", locale=locale())


def language_name(code: str) -> str | None:
    """A language's name in this request's language ('ur' → 'urdu' in Polish), from CLDR; None
    in English (the caller keeps its own English names) or where CLDR has no name."""
    if current().code == DEFAULT:
        return None
    return locale().languages.get(code)
