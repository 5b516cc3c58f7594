"""The UK's postcode areas (the letters a postcode starts with) by the town they are named
after, so a postcode from elsewhere can be answered with where it is."""

from __future__ import annotations

import re

KIRKLEES_AREAS = ("HD", "WF", "BD", "HX")  # the areas this service's postcode files cover

AREAS = {
    "AB": "Aberdeen", "AL": "St Albans", "B": "Birmingham", "BA": "Bath", "BB": "Blackburn",
    "BD": "Bradford", "BH": "Bournemouth", "BL": "Bolton", "BN": "Brighton", "BR": "Bromley",
    "BS": "Bristol", "BT": "Belfast", "CA": "Carlisle", "CB": "Cambridge", "CF": "Cardiff",
    "CH": "Chester", "CM": "Chelmsford", "CO": "Colchester", "CR": "Croydon",
    "CT": "Canterbury", "CV": "Coventry", "CW": "Crewe", "DA": "Dartford", "DD": "Dundee",
    "DE": "Derby", "DG": "Dumfries", "DH": "Durham", "DL": "Darlington", "DN": "Doncaster",
    "DT": "Dorchester", "DY": "Dudley", "E": "East London", "EC": "Central London",
    "EH": "Edinburgh", "EN": "Enfield", "EX": "Exeter", "FK": "Falkirk", "FY": "Blackpool",
    "G": "Glasgow", "GL": "Gloucester", "GU": "Guildford", "HA": "Harrow", "HD": "Huddersfield",
    "HG": "Harrogate", "HP": "Hemel Hempstead", "HR": "Hereford", "HS": "the Outer Hebrides",
    "HU": "Hull", "HX": "Halifax", "IG": "Ilford", "IP": "Ipswich", "IV": "Inverness",
    "KA": "Kilmarnock", "KT": "Kingston upon Thames", "KW": "Kirkwall", "KY": "Kirkcaldy",
    "L": "Liverpool", "LA": "Lancaster", "LD": "Llandrindod Wells", "LE": "Leicester",
    "LL": "Llandudno", "LN": "Lincoln", "LS": "Leeds", "LU": "Luton", "M": "Manchester",
    "ME": "Rochester", "MK": "Milton Keynes", "ML": "Motherwell", "N": "North London",
    "NE": "Newcastle upon Tyne", "NG": "Nottingham", "NN": "Northampton", "NP": "Newport",
    "NR": "Norwich", "NW": "North West London", "OL": "Oldham", "OX": "Oxford",
    "PA": "Paisley", "PE": "Peterborough", "PH": "Perth", "PL": "Plymouth", "PO": "Portsmouth",
    "PR": "Preston", "RG": "Reading", "RH": "Redhill", "RM": "Romford", "S": "Sheffield",
    "SA": "Swansea", "SE": "South East London", "SG": "Stevenage", "SK": "Stockport",
    "SL": "Slough", "SM": "Sutton", "SN": "Swindon", "SO": "Southampton", "SP": "Salisbury",
    "SR": "Sunderland", "SS": "Southend-on-Sea", "ST": "Stoke-on-Trent",
    "SW": "South West London", "SY": "Shrewsbury", "TA": "Taunton", "TD": "Galashiels",
    "TF": "Telford", "TN": "Tonbridge", "TQ": "Torquay", "TR": "Truro", "TS": "Cleveland",
    "TW": "Twickenham", "UB": "Southall", "W": "West London", "WA": "Warrington",
    "WC": "Central London", "WD": "Watford", "WF": "Wakefield", "WN": "Wigan",
    "WR": "Worcester", "WS": "Walsall", "WV": "Wolverhampton", "YO": "York",
    "ZE": "Shetland",
}  # fmt: skip

_AREA = re.compile(r"^[A-Z]{1,2}")


def area_of(postcode: str) -> str | None:
    """The letters a postcode starts with ('LS' for 'LS1 4AP'), when they are a known area."""
    found = _AREA.match(postcode.upper())
    return found.group(0) if found and found.group(0) in AREAS else None
