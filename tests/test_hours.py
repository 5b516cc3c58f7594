"""Opening hours in London: Sundays, bank holidays, the clock changes, closures, overnight."""

from __future__ import annotations

from datetime import date, datetime, time

from app.geo.hours import (
    LONDON,
    Closure,
    Rule,
    describe_hours,
    is_bank_holiday,
    london,
    state_at,
)

MON, FRI, SAT, SUN, BANK = 0, 4, 5, 6, 7
WEEKDAYS_9_TO_5 = [Rule(day, time(9), time(17)) for day in range(5)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_no_published_hours_is_never_open() -> None:
    state = state_at([], [], at("2026-11-24T12:00"))
    assert state.state == "unknown" and state.open_now is None and state.opens_at is None


def test_open_and_closing_time_on_a_weekday() -> None:
    state = state_at(WEEKDAYS_9_TO_5, [], at("2026-11-24T10:15"))  # a Tuesday
    assert state.open_now is True
    assert state.closes_at == datetime(2026, 11, 24, 17, tzinfo=LONDON)


def test_a_sunday_is_closed_and_says_when_it_opens() -> None:
    state = state_at(WEEKDAYS_9_TO_5, [], at("2026-11-29T11:00"))  # Sunday
    assert state.state == "closed"
    assert state.opens_at == datetime(2026, 11, 30, 9, tzinfo=LONDON)


def test_bank_holidays_close_unless_there_are_bank_holiday_hours() -> None:
    christmas = at("2026-12-25T10:00")  # a Friday, and a bank holiday in England
    assert is_bank_holiday(christmas.date()) and not is_bank_holiday(date(2026, 12, 23))
    closed = state_at(WEEKDAYS_9_TO_5, [], christmas)
    assert closed.open_now is False
    assert closed.opens_at == datetime(2026, 12, 29, 9, tzinfo=LONDON)  # Boxing Day on Monday 28
    with_hours = [*WEEKDAYS_9_TO_5, Rule(BANK, time(10), time(14))]
    assert state_at(with_hours, [], christmas).open_now is True
    assert state_at(with_hours, [], christmas).closes_at == datetime(
        2026, 12, 25, 14, tzinfo=LONDON
    )


def test_scotland_only_holidays_do_not_close_english_services() -> None:
    st_andrews_day_observed = at("2026-11-30T10:00")  # a bank holiday in Scotland only
    assert state_at(WEEKDAYS_9_TO_5, [], st_andrews_day_observed).open_now is True


def test_an_exception_closes_a_dated_range_and_special_hours_replace_the_day() -> None:
    christmas_week = [Closure(date(2026, 12, 21), date(2026, 12, 24))]
    assert state_at(WEEKDAYS_9_TO_5, christmas_week, at("2026-12-22T12:00")).open_now is False
    special = [Closure(date(2026, 12, 5), date(2026, 12, 5), closed=False, opens=time(10),
                       closes=time(12))]  # fmt: skip
    saturday = state_at(WEEKDAYS_9_TO_5, special, at("2026-12-05T11:00"))
    assert saturday.open_now is True and saturday.closes_at.hour == 12  # type: ignore[union-attr]
    assert state_at([], special, at("2026-12-05T11:00")).open_now is True


def test_overnight_hours_carry_past_midnight() -> None:
    night_shelter = [Rule(FRI, time(22), time(2))]
    early_saturday = state_at(night_shelter, [], at("2026-11-28T01:30"))
    assert early_saturday.open_now is True
    assert early_saturday.closes_at == datetime(2026, 11, 28, 2, tzinfo=LONDON)
    assert state_at(night_shelter, [], at("2026-11-28T02:30")).open_now is False


def test_back_to_back_hours_close_at_the_end_of_the_last() -> None:
    split = [Rule(MON, time(9), time(12)), Rule(MON, time(12), time(17))]
    assert state_at(split, [], at("2026-11-23T11:00")).closes_at == datetime(
        2026, 11, 23, 17, tzinfo=LONDON
    )


def test_the_night_the_clocks_go_back() -> None:
    # 25 October 2026: 02:00 BST becomes 01:00 GMT, so Saturday night lasts an hour longer.
    overnight = [Rule(SAT, time(22), time(6))]
    for moment in ("2026-10-25T01:30:00+01:00", "2026-10-25T01:30:00+00:00"):  # both 01:30s
        state = state_at(overnight, [], at(moment))
        assert state.open_now is True, moment
        assert state.closes_at == at("2026-10-25T06:00:00+00:00")  # 06:00 GMT
    sunday_morning = [Rule(SUN, time(9), time(17))]
    before = state_at(sunday_morning, [], at("2026-10-24T18:00"))  # Saturday evening, BST
    assert before.opens_at == at("2026-10-25T09:00:00+00:00")  # 09:00 GMT, not BST
    assert state_at(sunday_morning, [], at("2026-10-25T08:30:00+00:00")).open_now is False
    assert state_at(sunday_morning, [], at("2026-10-25T09:00:00+00:00")).open_now is True


def test_the_night_the_clocks_go_forward() -> None:
    # 29 March 2026: 01:00 GMT becomes 02:00 BST.
    overnight = [Rule(SAT, time(22), time(6))]
    state = state_at(overnight, [], at("2026-03-29T03:00"))  # naive: London time, BST
    assert state.open_now is True
    assert state.closes_at == at("2026-03-29T06:00:00+01:00")
    sunday = [Rule(SUN, time(9), time(17))]
    assert state_at(sunday, [], at("2026-03-29T08:30:00+00:00")).open_now is True  # 09:30 BST
    assert state_at(sunday, [], at("2026-03-29T07:30:00+00:00")).open_now is False  # 08:30 BST


def test_a_naive_time_is_london_time() -> None:
    assert london(at("2026-07-01T12:00")).utcoffset().total_seconds() == 3600  # type: ignore[union-attr]
    assert london(at("2026-01-01T12:00")).utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_hours_in_words_group_days_and_say_bank_holidays() -> None:
    rules = [*WEEKDAYS_9_TO_5, Rule(SAT, time(10), time(12, 30))]
    assert describe_hours(rules) == (
        "Mon–Fri 9am–5pm; Sat 10am–12:30pm; closed Sun; closed on bank holidays"
    )
    assert describe_hours([], "Ring first") == "Opening hours not published. Ring first"
    assert describe_hours([Rule(FRI, time(22), time(0))]).startswith("Fri 10pm–midnight")
