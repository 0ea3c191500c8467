"""Working days of the PRC holiday calendar. The reference dates are the State Council's
notices (国办发明电〔2018〕15号 for 2019): National Day 1–7 October 2019 off, Sunday 29 September
and Saturday 12 October worked; Spring Festival 4–10 February 2019 off, 2 and 3 February worked."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mastplan.errors import MastplanError
from mastplan.sharing import add_working_days, deadline, is_overdue, is_working_day, working_days

D = dt.date


def test_the_2019_national_day_holiday_and_its_adjusted_weekends():
    assert is_working_day(D(2019, 9, 29))  # a Sunday, worked
    assert is_working_day(D(2019, 10, 12))  # a Saturday, worked
    assert not any(is_working_day(D(2019, 10, d)) for d in range(1, 8))
    assert not is_working_day(D(2019, 10, 13))  # an ordinary Sunday
    # ten working days after Friday 27 September 2019, counted by hand from the notice:
    # 29 Sep, 30 Sep, 8, 9, 10, 11, 12 (Sat), 14, 15, 16 Oct
    assert add_working_days(D(2019, 9, 27), 10) == D(2019, 10, 16)


def test_the_2019_spring_festival():
    assert is_working_day(D(2019, 2, 2)) and is_working_day(D(2019, 2, 3))  # Sat, Sun worked
    assert not any(is_working_day(D(2019, 2, d)) for d in range(4, 11))
    # Friday 1 Feb + 3 working days: 2 Feb (Sat), 3 Feb (Sun), then 11 Feb
    assert add_working_days(D(2019, 2, 1), 3) == D(2019, 2, 11)


def test_deadlines_are_counted_on_chongqing_dates():
    # 16:30 UTC on Friday 27 Sep 2019 is 00:30 on Saturday 28 Sep in Chongqing (a day off)
    late = dt.datetime(2019, 9, 27, 16, 30, tzinfo=dt.UTC)
    early = dt.datetime(2019, 9, 27, 3, 0, tzinfo=dt.UTC)
    assert deadline(early, 10) == D(2019, 10, 16)
    assert deadline(late, 10) == D(2019, 10, 16)  # Saturday 28 is not a working day either
    monday = dt.datetime(2019, 9, 29, 16, 30, tzinfo=dt.UTC)  # 00:30 Monday 30 Sep in Chongqing
    assert deadline(monday, 1) == D(2019, 10, 8)  # the holiday week does not count
    due = dt.datetime(2019, 10, 16, 15, 59, tzinfo=dt.UTC)  # 23:59 on the deadline day
    after = dt.datetime(2019, 10, 16, 16, 0, tzinfo=dt.UTC)  # 00:00 the day after
    assert not is_overdue(early, due, 10)
    assert is_overdue(early, after, 10)
    with pytest.raises(ValueError, match="aware"):
        deadline(dt.datetime(2019, 9, 27, 3, 0), 10)


def test_a_date_outside_the_calendar_is_an_error_not_a_guess():
    with pytest.raises(MastplanError, match=r"2099-01-05.*covers 2004"):
        is_working_day(D(2099, 1, 5))


@settings(max_examples=60, deadline=None)
@given(st.dates(D(2004, 1, 1), D(2025, 12, 1)), st.integers(0, 30))
def test_counting_and_adding_working_days_agree(start, n):
    end = add_working_days(start, n)
    assert working_days(start, end) == n
    assert end == start or is_working_day(end)
    assert (end - start).days >= n  # never fewer calendar days than working days


def test_years_after_the_package_come_from_a_notices_file(tmp_path, monkeypatch):
    # a made-up notice for a year the package does not cover: the rule is what is tested
    # (weekends off unless worked, listed holidays off), not the real calendar of that year
    year = max(d.year for d in __import__("chinese_calendar").holidays) + 1
    first_monday = next(D(year, 1, d) for d in range(1, 8) if D(year, 1, d).weekday() == 0)
    saturday = first_monday + dt.timedelta(days=5)
    path = tmp_path / "notices.yaml"
    path.write_text(f"{year}:\n  holidays: [{first_monday}]\n  workdays: [{saturday}]\n")
    with pytest.raises(MastplanError, match=f"add the State Council's notice for {year}"):
        is_working_day(first_monday)
    monkeypatch.setenv("MASTPLAN_HOLIDAYS", str(path))
    assert not is_working_day(first_monday)
    assert is_working_day(first_monday + dt.timedelta(days=1))
    assert is_working_day(saturday) and not is_working_day(saturday + dt.timedelta(days=1))
    with pytest.raises(MastplanError, match=f"covers 2004–{year - 1}"):
        is_working_day(D(year + 1, 3, 1))
    path.write_text(f"{year}:\n  holidays: [{year + 1}-01-01]\n")
    monkeypatch.setenv("MASTPLAN_HOLIDAYS", str(tmp_path / "other.yaml"))
    with pytest.raises(MastplanError, match="cannot read the holiday notices"):
        is_working_day(first_monday)
    monkeypatch.setenv("MASTPLAN_HOLIDAYS", str(path))
    with pytest.raises(MastplanError, match=f"{year}.holidays: not dates of {year}"):
        is_working_day(D(year, 2, 2))
