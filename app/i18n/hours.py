"""Opening hours in words in the request's language ('pon.–pt. 09:00–17:00; …'), from an item's
published weekly hours; English keeps app.geo.hours' own wording ('Mon–Fri 9am–5pm; …')."""

from __future__ import annotations

from datetime import time
from typing import Any

from babel.dates import format_time, get_day_names

from app.geo.hours import DAY_NAMES, day_runs
from app.i18n import DEFAULT, current, gettext, locale


def hours_in_words(item: dict[str, Any]) -> str:
    if current().code == DEFAULT:
        return str(item["hours_text"])
    here = locale()
    days = get_day_names("abbreviated", locale=here)  # 0 = Monday, as DAY_NAMES
    names = [str(days[i]) for i in range(7)] + [gettext("bank holidays")]
    by_day: dict[int, str] = {}
    for rule in item.get("opening_hours") or ():
        day = DAY_NAMES.index(rule["day"])
        span = "–".join(
            format_time(time.fromisoformat(rule[edge]), "short", locale=here)
            for edge in ("opens", "closes")
        )
        by_day[day] = f"{by_day[day]}, {span}" if day in by_day else span
    note = item.get("hours_note")
    if not by_day:
        text = gettext("Opening hours not published")
        return f"{text}. {note}" if note else text
    parts = day_runs(by_day, names)
    closed = [names[d] for d in range(7) if d not in by_day]
    if closed:
        parts.append(gettext("closed %(days)s") % {"days": ", ".join(closed)})
    if 7 in by_day:
        parts.append(gettext("bank holidays %(hours)s") % {"hours": by_day[7]})
    else:
        parts.append(gettext("closed on bank holidays"))
    text = "; ".join(parts)
    return f"{text}. {note}" if note else text
