"""What an asset offers beyond its category, as typed fields a search can filter on: the
languages spoken (ISO 639-1 codes), accessibility (a short controlled list), the ages served,
the cost and whether a referral is needed. The vocabularies and how free text maps onto them
live here, once; the SQL and the asset index's masks are app.geo.needs."""

from __future__ import annotations

import re
from collections.abc import Iterable

from app import i18n
from app.i18n import N_, gettext

# The English words (the API's and ORUK's); pages show them through gettext.
ACCESSIBILITY: dict[str, str] = {
    "step_free_access": N_("Step-free access"),
    "accessible_toilet": N_("Accessible toilet"),
    "hearing_loop": N_("Hearing loop"),
    "bsl": N_("British Sign Language (BSL)"),
    "large_print": N_("Large print"),
    "easy_read": N_("Easy read"),
    "quiet_space": N_("Quiet space"),
    "accessible_parking": N_("Accessible parking"),
}
COSTS: dict[str, str] = {"free": N_("Free"), "low_cost": N_("Low cost"), "paid": N_("Paid")}
REFERRALS: dict[str, str] = {
    "open_access": N_("Open access (no referral needed)"),
    "referral_needed": N_("Referral needed"),
}
MAX_AGE = 120

# OpenStreetMap's `wheelchair` tag: these values mean a wheelchair user can get in unaided.
OSM_WHEELCHAIR_STEP_FREE = ("yes", "designated")

# Free-text phrases that say an asset has a feature (for migrating notes and reading imports).
_FEATURE_PHRASES: dict[str, str] = {
    "step_free_access": r"step[- ]?free|level access|wheelchair[- ]accessible|ramped",
    "accessible_toilet": r"(accessible|disabled|changing places) (toilet|wc|loo)",
    "hearing_loop": r"(hearing|induction) loop",
    "bsl": r"\bbsl\b|british sign language",
    "large_print": r"large print",
    "easy_read": r"easy[- ]read",
    "quiet_space": r"quiet (space|room|area)",
    "accessible_parking": r"(accessible|disabled|blue badge) parking",
}
_OPEN_ACCESS = re.compile(
    r"no referral|without (a )?referral|walk[- ]?in|drop[- ]?in|open to (all|anyone|everyone)"
    r"|just turn up|self[- ]refer|register as a patient",
    re.IGNORECASE,
)
_REFERRAL_NEEDED = re.compile(r"referral|referred|voucher", re.IGNORECASE)
_AGE_RANGE = re.compile(r"\b(?:aged?\s*)?(\d{1,3})\s*(?:-|–|to)\s*(\d{1,3})\b", re.IGNORECASE)
_AGE_AT_LEAST = re.compile(
    r"\b(?:over|aged)\s*(\d{1,3})s?\b|\b(\d{1,3})\s*(?:\+|and over|or over|and older|or older)",
    re.IGNORECASE,
)
_AGE_UNDER = re.compile(r"\bunder\s*(\d{1,3})s?\b", re.IGNORECASE)

# ISO 639-1 codes and their English names (from Debian's iso-codes, ISO 639-2 table).
LANGUAGES: dict[str, str] = {
    "aa": "Afar",
    "ab": "Abkhazian",
    "ae": "Avestan",
    "af": "Afrikaans",
    "ak": "Akan",
    "am": "Amharic",
    "an": "Aragonese",
    "ar": "Arabic",
    "as": "Assamese",
    "av": "Avaric",
    "ay": "Aymara",
    "az": "Azerbaijani",
    "ba": "Bashkir",
    "be": "Belarusian",
    "bg": "Bulgarian",
    "bh": "Bihari languages",
    "bi": "Bislama",
    "bm": "Bambara",
    "bn": "Bengali",
    "bo": "Tibetan",
    "br": "Breton",
    "bs": "Bosnian",
    "ca": "Catalan",
    "ce": "Chechen",
    "ch": "Chamorro",
    "co": "Corsican",
    "cr": "Cree",
    "cs": "Czech",
    "cu": "Church Slavic",
    "cv": "Chuvash",
    "cy": "Welsh",
    "da": "Danish",
    "de": "German",
    "dv": "Divehi",
    "dz": "Dzongkha",
    "ee": "Ewe",
    "el": "Greek, Modern (1453-)",
    "en": "English",
    "eo": "Esperanto",
    "es": "Spanish",
    "et": "Estonian",
    "eu": "Basque",
    "fa": "Persian",
    "ff": "Fulah",
    "fi": "Finnish",
    "fj": "Fijian",
    "fo": "Faroese",
    "fr": "French",
    "fy": "Western Frisian",
    "ga": "Irish",
    "gd": "Gaelic",
    "gl": "Galician",
    "gn": "Guarani",
    "gu": "Gujarati",
    "gv": "Manx",
    "ha": "Hausa",
    "he": "Hebrew",
    "hi": "Hindi",
    "ho": "Hiri Motu",
    "hr": "Croatian",
    "ht": "Haitian",
    "hu": "Hungarian",
    "hy": "Armenian",
    "hz": "Herero",
    "ia": "Interlingua (International Auxiliary Language Association)",
    "id": "Indonesian",
    "ie": "Interlingue",
    "ig": "Igbo",
    "ii": "Sichuan Yi",
    "ik": "Inupiaq",
    "io": "Ido",
    "is": "Icelandic",
    "it": "Italian",
    "iu": "Inuktitut",
    "ja": "Japanese",
    "jv": "Javanese",
    "ka": "Georgian",
    "kg": "Kongo",
    "ki": "Kikuyu",
    "kj": "Kuanyama",
    "kk": "Kazakh",
    "kl": "Kalaallisut",
    "km": "Central Khmer",
    "kn": "Kannada",
    "ko": "Korean",
    "kr": "Kanuri",
    "ks": "Kashmiri",
    "ku": "Kurdish",
    "kv": "Komi",
    "kw": "Cornish",
    "ky": "Kirghiz",
    "la": "Latin",
    "lb": "Luxembourgish",
    "lg": "Ganda",
    "li": "Limburgan",
    "ln": "Lingala",
    "lo": "Lao",
    "lt": "Lithuanian",
    "lu": "Luba-Katanga",
    "lv": "Latvian",
    "mg": "Malagasy",
    "mh": "Marshallese",
    "mi": "Maori",
    "mk": "Macedonian",
    "ml": "Malayalam",
    "mn": "Mongolian",
    "mr": "Marathi",
    "ms": "Malay",
    "mt": "Maltese",
    "my": "Burmese",
    "na": "Nauru",
    "nb": "Bokmål, Norwegian",
    "nd": "Ndebele, North",
    "ne": "Nepali",
    "ng": "Ndonga",
    "nl": "Dutch",
    "nn": "Norwegian Nynorsk",
    "no": "Norwegian",
    "nr": "Ndebele, South",
    "nv": "Navajo",
    "ny": "Chichewa",
    "oc": "Occitan (post 1500)",
    "oj": "Ojibwa",
    "om": "Oromo",
    "or": "Oriya",
    "os": "Ossetian",
    "pa": "Panjabi",
    "pi": "Pali",
    "pl": "Polish",
    "ps": "Pushto",
    "pt": "Portuguese",
    "qu": "Quechua",
    "rm": "Romansh",
    "rn": "Rundi",
    "ro": "Romanian",
    "ru": "Russian",
    "rw": "Kinyarwanda",
    "sa": "Sanskrit",
    "sc": "Sardinian",
    "sd": "Sindhi",
    "se": "Northern Sami",
    "sg": "Sango",
    "si": "Sinhala",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sm": "Samoan",
    "sn": "Shona",
    "so": "Somali",
    "sq": "Albanian",
    "sr": "Serbian",
    "ss": "Swati",
    "st": "Sotho, Southern",
    "su": "Sundanese",
    "sv": "Swedish",
    "sw": "Swahili",
    "ta": "Tamil",
    "te": "Telugu",
    "tg": "Tajik",
    "th": "Thai",
    "ti": "Tigrinya",
    "tk": "Turkmen",
    "tl": "Tagalog",
    "tn": "Tswana",
    "to": "Tonga (Tonga Islands)",
    "tr": "Turkish",
    "ts": "Tsonga",
    "tt": "Tatar",
    "tw": "Twi",
    "ty": "Tahitian",
    "ug": "Uighur",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "uz": "Uzbek",
    "ve": "Venda",
    "vi": "Vietnamese",
    "vo": "Volapük",
    "wa": "Walloon",
    "wo": "Wolof",
    "xh": "Xhosa",
    "yi": "Yiddish",
    "yo": "Yoruba",
    "za": "Zhuang",
    "zh": "Chinese",
    "zu": "Zulu",
}

# Other English names people use for a language.
LANGUAGE_ALIASES: dict[str, str] = {
    "punjabi": "pa",
    "greek": "el",
    "farsi": "fa",
    "dari": "fa",
    "mandarin": "zh",
    "cantonese": "zh",
    "kurdish sorani": "ku",
    "sorani": "ku",
    "kurmanji": "ku",
    "spanish": "es",
    "dutch": "nl",
    "scottish gaelic": "gd",
    "gaelic": "gd",
    "romanian": "ro",
    "moldovan": "ro",
    "slovene": "sl",
    "tagalog": "tl",
    "filipino": "tl",
}
_BY_NAME: dict[str, str] = {
    **{name.split(",")[0].split("(")[0].strip().lower(): code for code, name in
       LANGUAGES.items()},
    **LANGUAGE_ALIASES,
}  # fmt: skip


class UnknownTerm(ValueError):
    """A value outside a vocabulary; the message says what is allowed."""


def language_code(value: str) -> str:
    """An ISO 639-1 code from a code or an English name, any case: 'Urdu' → 'ur'."""
    cleaned = value.strip().lower()
    if cleaned in LANGUAGES:
        return cleaned
    if cleaned in _BY_NAME:
        return _BY_NAME[cleaned]
    raise UnknownTerm(
        f"'{value[:40]}' is not a language: use ISO 639-1 codes such as ur (Urdu), pl (Polish), "
        "pa (Punjabi), or their English names"
    )


def term_code(value: str, vocabulary: dict[str, str], what: str) -> str:
    """A vocabulary's code from its code or its label, any case or spacing: 'Step-free access'
    → 'step_free_access'."""
    slug = re.sub(r"[^a-z0-9]+", "_", value.strip().lower()).strip("_")
    if slug in vocabulary:
        return slug
    for code, label in vocabulary.items():
        if re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") == slug:
            return code
    raise UnknownTerm(f"'{value[:40]}' is not {what}: use one of {', '.join(vocabulary)}")


def split_list(value: str) -> list[str]:
    """'ur; pl, pa' → ['ur', 'pl', 'pa'] (a CSV cell or a query parameter)."""
    return [part.strip() for part in re.split(r"[;,|]", value) if part.strip()]


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def features_in(text: str | None) -> list[str]:
    """The accessibility features a free-text note names: 'Step-free entrance, hearing loop'
    → ['step_free_access', 'hearing_loop']."""
    if not text:
        return []
    return [code for code, phrase in _FEATURE_PHRASES.items() if re.search(phrase, text, re.I)]


def referral_in(text: str | None) -> str | None:
    """open_access or referral_needed, when a referral route's words say which."""
    if not text:
        return None
    if _OPEN_ACCESS.search(text):
        return "open_access"
    if _REFERRAL_NEEDED.search(text):
        return "referral_needed"
    return None


def ages_in(text: str | None) -> tuple[int | None, int | None]:
    """(min_age, max_age) an eligibility note states: 'aged 16-25' → (16, 25), 'over 60s' →
    (60, None), 'under 18' → (None, 17); (None, None) when it states none."""
    if not text:
        return None, None
    if match := _AGE_RANGE.search(text):
        low, high = int(match[1]), int(match[2])
        if low <= high <= MAX_AGE:
            return low, high
    low_age = high_age = None
    if match := _AGE_AT_LEAST.search(text):
        low_age = int(match[1] or match[2])
    if match := _AGE_UNDER.search(text):
        high_age = int(match[1]) - 1
    if low_age is not None and low_age > MAX_AGE:
        low_age = None
    if high_age is not None and not 0 <= high_age <= MAX_AGE:
        high_age = None
    return low_age, high_age


def step_free_from_osm(wheelchair: str | None) -> bool:
    """OpenStreetMap's `wheelchair` tag (yes, designated, limited, no) as step-free access."""
    return (wheelchair or "").strip().lower() in OSM_WHEELCHAIR_STEP_FREE


def language_name(code: str) -> str:
    """A code's English name, short: 'el' → 'Greek', 'pa' → 'Panjabi'."""
    name = LANGUAGES.get(code, code)
    return name.split(",")[0].split("(")[0].split(";")[0].strip()


def features_of(values: Iterable[str]) -> tuple[list[str], list[str]]:
    """Accessibility entries from another system: those naming a feature, as codes, and the
    rest, kept as words (features they mention also taken as codes)."""
    codes: list[str] = []
    words: list[str] = []
    for value in values:
        try:
            codes.append(term_code(value, ACCESSIBILITY, "an accessibility feature"))
        except UnknownTerm:
            words.append(value)
            codes.extend(features_in(value))
    return unique(codes), words


def cost_in(text: str | None) -> str | None:
    """A cost code from another system's words, when they say which: 'Free' → free, 'Low
    cost' → low_cost; None when they do not."""
    if not text:
        return None
    try:
        return term_code(text, COSTS, "a cost")
    except UnknownTerm:
        free = re.fullmatch(r"\s*(free|no charge|free of charge)\.?\s*", text, re.I)
        return "free" if free else None


def needs_text(
    languages: Iterable[str],
    accessibility: Iterable[str],
    min_age: int | None,
    max_age: int | None,
    cost: str | None,
    referral: str | None,
) -> str:
    """The needs fields in words, for a page or a phone call: 'Speaks Urdu, Polish · Step-free
    access · Ages 16 to 25 · Free · Referral needed' ('' when none is known)."""
    parts = []
    spoken = [spoken_name(code) for code in languages]
    if spoken:
        parts.append(gettext("Speaks %(languages)s") % {"languages": ", ".join(spoken)})
    parts += [gettext(ACCESSIBILITY[code]) if code in ACCESSIBILITY else code
              for code in accessibility]  # fmt: skip
    if min_age is not None and max_age is not None:
        parts.append(gettext("Ages %(from)s to %(to)s") % {"from": min_age, "to": max_age})
    elif min_age is not None:
        parts.append(gettext("Ages %(age)s and over") % {"age": min_age})
    elif max_age is not None:
        parts.append(gettext("Ages up to %(age)s") % {"age": max_age})
    if cost:
        parts.append(gettext(COSTS[cost]) if cost in COSTS else cost)
    if referral:
        open_access = referral == "open_access"
        parts.append(gettext("No referral needed") if open_access else gettext("Referral needed"))
    return " · ".join(parts)


def spoken_name(code: str) -> str:
    """A language's name in the page's language (CLDR), else its English name."""
    return i18n.language_name(code) or language_name(code)


# Offered first in the pages' "Speaks" choice: languages widely spoken in Kirklees besides
# English (any ISO 639-1 code works in the API).
LANGUAGES_OFFERED = ("ur", "pa", "pl", "gu", "bn", "ar", "ku", "fa", "ps", "ro", "sk", "cs",
                     "so", "ti", "zh", "hi", "uk", "en")  # fmt: skip
