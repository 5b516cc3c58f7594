"""Opening hours: weekly rules plus dated exceptions and England's bank holidays, evaluated in
Europe/London across the clock changes, and said in words.

Rules are (day, opens, closes) with day 0 = Monday … 6 = Sunday and 7 = bank holidays; `closes`
at or before `opens` means after midnight. On a bank holiday the day-7 rules apply (none: closed).
An exception (a dated range) replaces the day's rules: closed, or special hours. An asset with no
rules and no special hours has unknown hours and is never "open".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import holidays
import orjson

LONDON = ZoneInfo("Europe/London")
BANK_HOLIDAY = 7
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
             "bank_holiday")  # fmt: skip
SHORT_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Bank holidays")
LOOKAHEAD_DAYS = 14


@dataclass(frozen=True)
class Rule:
    day: int
    opens: time
    closes: time

    def as_dict(self) -> dict[str, str]:
        return {
            "day": DAY_NAMES[self.day],
            "opens": self.opens.strftime("%H:%M"),
            "closes": self.closes.strftime("%H:%M"),
        }


@dataclass(frozen=True)
class Closure:
    """A dated exception: closed, or open only `opens`–`closes`, from starts_on to ends_on."""

    starts_on: date
    ends_on: date
    closed: bool = True
    opens: time | None = None
    closes: time | None = None

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


def _time(value: Any) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def rules_from_rows(rows: Iterable[Sequence[Any]] | None) -> list[Rule]:
    return [Rule(int(day), _time(opens), _time(closes)) for day, opens, closes in rows or ()]


def closures_from_rows(rows: Iterable[dict[str, Any]] | None) -> list[Closure]:
    return [
        Closure(
            _date(row["starts_on"]),
            _date(row["ends_on"]),
            bool(row["closed"]),
            _time(row["opens"]) if row.get("opens") else None,
            _time(row["closes"]) if row.get("closes") else None,
        )
        for row in rows or ()
    ]


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def london(moment: datetime) -> datetime:
    """An aware time in London; a naive one is taken to be London time already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=LONDON)
    return moment.astimezone(LONDON)


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=LONDON).astimezone(UTC)


def intervals_on(
    day: date, rules: Sequence[Rule], closures: Sequence[Closure]
) -> list[tuple[datetime, datetime]]:
    """The opening intervals (UTC) that start on this local date."""
    closure = next((c for c in closures if c.covers(day)), None)
    if closure is not None:
        if closure.closed or closure.opens is None or closure.closes is None:
            return []
        pairs = [(closure.opens, closure.closes)]
    else:
        wanted = BANK_HOLIDAY if is_bank_holiday(day) else day.weekday()
        pairs = [(r.opens, r.closes) for r in rules if r.day == wanted]
    intervals = []
    for opens, closes in sorted(pairs):
        end_day = day + timedelta(days=1) if closes <= opens else day
        intervals.append((_at(day, opens), _at(end_day, closes)))
    return intervals


@dataclass(frozen=True)
class OpeningState:
    state: Literal["open", "closed", "unknown"]
    open_now: bool | None
    opens_at: datetime | None
    closes_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self._said)

    @cached_property
    def _said(self) -> dict[str, Any]:  # states are cached and shared: said once each
        return {
            "opening_state": self.state,
            "open_now": self.open_now,
            "opens_at": self.opens_at.astimezone(LONDON).isoformat() if self.opens_at else None,
            "closes_at": self.closes_at.astimezone(LONDON).isoformat() if self.closes_at else None,
        }

    @cached_property
    def json_members(self) -> bytes:
        """`as_dict()` as the members of a JSON object (no braces), to splice into an item."""
        return orjson.dumps(self._said)[1:-1]


UNKNOWN = OpeningState("unknown", None, None, None)


def has_hours(rules: Sequence[Rule], closures: Sequence[Closure]) -> bool:
    return bool(rules) or any(not c.closed for c in closures)


def state_at(rules: Sequence[Rule], closures: Sequence[Closure], moment: datetime) -> OpeningState:
    """Open or closed at `moment`, when it closes or next opens; unknown without published hours."""
    if not has_hours(rules, closures):
        return UNKNOWN
    now = london(moment).astimezone(UTC)
    today = london(moment).date()
    intervals: list[tuple[datetime, datetime]] = []
    for offset in range(-1, LOOKAHEAD_DAYS + 1):
        intervals.extend(intervals_on(today + timedelta(days=offset), rules, closures))
    intervals.sort()
    for start, end in intervals:
        if start <= now < end:
            # carry on through back-to-back intervals (09:00–12:00 then 12:00–17:00)
            for next_start, next_end in intervals:
                if next_start <= end < next_end:
                    end = next_end
            return OpeningState("open", True, None, end)
    upcoming = [start for start, _ in intervals if start > now]
    return OpeningState("closed", False, min(upcoming) if upcoming else None, None)


def clock_words(value: time) -> str:
    """10am, 12:30pm, midnight."""
    if value == time(0, 0):
        return "midnight"
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def day_runs(by_day: Mapping[int, str], names: Sequence[str]) -> list[str]:
    """'Mon–Wed 10am–1pm', one part per run of weekdays (0–6) with the same hours; `names` are
    the days' names in the reader's language."""
    parts: list[str] = []
    day = 0
    while day < 7:
        if day not in by_day:
            day += 1
            continue
        end = day
        while end + 1 < 7 and by_day.get(end + 1) == by_day[day]:
            end += 1
        label = names[day] if end == day else f"{names[day]}–{names[end]}"
        parts.append(f"{label} {by_day[day]}")
        day = end + 1
    return parts


def describe_hours(rules: Sequence[Rule], note: str | None = None) -> str:
    """Hours in words, to read out on the phone: 'Mon 1pm–5pm; Tue and Wed 10am–1pm; …'."""
    if not rules:
        text = "Opening hours not published"
        return f"{text}. {note}" if note else text
    by_day: dict[int, str] = {}
    for day in range(8):
        spans = [f"{clock_words(r.opens)}–{clock_words(r.closes)}" for r in rules if r.day == day]
        if spans:
            by_day[day] = ", ".join(spans)
    parts = day_runs(by_day, SHORT_NAMES)
    closed_days = [SHORT_NAMES[d] for d in range(7) if d not in by_day]
    if closed_days:
        parts.append("closed " + ", ".join(closed_days))
    parts.append(
        f"bank holidays {by_day[BANK_HOLIDAY]}"
        if BANK_HOLIDAY in by_day
        else "closed on bank holidays"
    )
    text = "; ".join(parts)
    return f"{text}. {note}" if note else text


def published_hours(rules_json: Any, note: str | None) -> tuple[list[dict[str, str]], str]:
    """An asset row's weekly hours as items and in words. Many assets share their hours, and a
    page of a hundred asks for the same few again and again: the work is cached per hours."""
    opening, text = _published_hours(_rules_key(rules_json), note)
    return [dict(rule) for rule in opening], text


@lru_cache(maxsize=4096)
def _published_hours(
    rows: tuple[tuple[Any, ...], ...], note: str | None
) -> tuple[tuple[dict[str, str], ...], str]:
    rules = rules_from_rows(rows)
    return tuple(rule.as_dict() for rule in rules), describe_hours(rules, note)


def london_today() -> date:
    return datetime.now(LONDON).date()


HoursKey = tuple[tuple[tuple[Any, ...], ...], tuple[tuple[tuple[str, Any], ...], ...]]


def hours_key(rules_json: Any, exceptions_json: Any) -> HoursKey:
    """An asset's rules and exceptions (as the read query gives them), hashable: the key of the
    opening-state cache, and what app.geo.asset_index keeps per distinct set of hours."""
    closures_key = tuple(tuple(row.items()) for row in _loads(exceptions_json) or ())
    return _rules_key(rules_json), closures_key


def state_of(rules_json: Any, exceptions_json: Any, moment: datetime) -> OpeningState:
    """The opening state of an asset row (its rules and exceptions as the read query gives them)."""
    return state_for(hours_key(rules_json, exceptions_json), moment)


def state_for(key: HoursKey, moment: datetime) -> OpeningState:
    """The opening state for hours given as `hours_key` made them.

    Hours in whole minutes give the same state all through a minute, so states are cached per
    (hours, minute): a nearest-support answer asks the same few dozen rows over and over, and
    many assets share their hours."""
    state = _state_in_minute(*key, _minute(moment))
    if state is None:  # hours with seconds in them: evaluated at the moment itself
        rules_key, closures_key = key
        rules, closures = rules_from_rows(rules_key), closures_from_rows(map(dict, closures_key))
        return state_at(rules, closures, moment)
    return state


def in_whole_minutes(key: HoursKey) -> bool:
    """Whether these hours (as `hours_key` made them) change state only on the minute, so that a
    state holds all through one (hours given as HH:MM always do)."""
    rules_key, closures_key = key
    return _whole_minutes(rules_from_rows(rules_key), closures_from_rows(map(dict, closures_key)))


def minute_of(moment: datetime) -> datetime:
    """The minute `moment` is in (UTC), as the opening-state cache keys it."""
    return _minute(moment)


@lru_cache(maxsize=256)
def _minute(moment: datetime) -> datetime:
    return london(moment).astimezone(UTC).replace(second=0, microsecond=0)


@lru_cache(maxsize=8192)
def _state_in_minute(
    rules_key: tuple[tuple[Any, ...], ...],
    closures_key: tuple[tuple[tuple[str, Any], ...], ...],
    minute: datetime,
) -> OpeningState | None:
    rules, closures = rules_from_rows(rules_key), closures_from_rows(map(dict, closures_key))
    if not _whole_minutes(rules, closures):
        return None
    return state_at(rules, closures, minute)


def _whole_minutes(rules: Sequence[Rule], closures: Sequence[Closure]) -> bool:
    times = [t for r in rules for t in (r.opens, r.closes)]
    times += [t for c in closures for t in (c.opens, c.closes) if t is not None]
    return all(t.second == 0 and t.microsecond == 0 for t in times)


def _rules_key(rules_json: Any) -> tuple[tuple[Any, ...], ...]:
    """A row's weekly rules as given ([day, opens, closes] each), hashable for the caches."""
    return tuple(map(tuple, _loads(rules_json) or ()))


def _loads(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value
