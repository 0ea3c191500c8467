"""Working days of the PRC official holiday calendar, for the owners' answer deadlines.

Holidays and the adjusted working weekends (调休) come from the maintained ``chinesecalendar``
package (the State Council's yearly notices). A date outside the years it covers is an error,
never a silent guess from weekdays; a newer notice's years can be added in a file
(``MASTPLAN_HOLIDAYS``) until the package catches up. Deadlines are counted on dates in China
Standard Time (UTC+8): a request submitted at 23:00 UTC on a Sunday was submitted on Monday in
Chongqing.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import chinese_calendar

from mastplan.errors import MastplanError
from mastplan.io.yaml_files import load_yaml

__all__ = [
    "CST",
    "add_working_days",
    "as_utc",
    "deadline",
    "is_overdue",
    "is_working_day",
    "local_date",
    "today",
    "working_days",
]

#: China Standard Time (no daylight saving).
CST = dt.timezone(dt.timedelta(hours=8), "CST")


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day (adjusted weekends are, holidays are not).

    Years the package does not cover yet come from the notices file named by
    ``MASTPLAN_HOLIDAYS`` (see :func:`load_notices`), else the question is an error.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        pass
    notices = load_notices(os.environ.get(HOLIDAYS_ENV))
    if day.year in notices:
        holidays, workdays = notices[day.year]
        return day in workdays or (day.weekday() < 5 and day not in holidays)
    years = _years()
    raise MastplanError(
        f"{day.isoformat()}: the PRC holiday calendar (chinesecalendar "
        f"{chinese_calendar.__version__}) covers {years[0]}–{years[-1]}; update the package, or "
        f"add the State Council's notice for {day.year} to the file {HOLIDAYS_ENV} names"
    )


Notices = dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]]


def load_notices(path: str | None) -> Notices:
    """The holiday notices of years newer than the package, from a YAML file::

        2027:
          notice: 国办发明电〔2026〕N号
          holidays: [2027-01-01, ...]   # days off, weekends among them not needed
          workdays: [2027-02-07, ...]   # adjusted working weekends (调休)

    A year in the file is taken as complete. ``None``: no file, no extra years.
    """
    if not path:
        return {}
    return _notices(path, load_yaml(path, "the holiday notices") or {})


def _notices(path: str, data: Any) -> Notices:
    """The notices of the file's content, checked."""
    if not isinstance(data, dict):
        raise MastplanError(f"{path}: must map years to their notices")
    out = {}
    for year, notice in data.items():
        if isinstance(year, bool) or not isinstance(year, int) or not isinstance(notice, dict):
            raise MastplanError(f"{path}: {year!r}: must be a year with holidays and workdays")
        days = []
        for key in ("holidays", "workdays"):
            values = notice.get(key) or []
            bad = [v for v in values if not isinstance(v, dt.date) or v.year != year]
            if bad:
                raise MastplanError(f"{path}: {year}.{key}: not dates of {year}: {bad[:3]}")
            days.append(frozenset(values))
        if days[0] & days[1]:
            raise MastplanError(f"{path}: {year}: days both off and worked: "
                                f"{sorted(days[0] & days[1])[:3]}")  # fmt: skip
        out[year] = (days[0], days[1])
    return out


def _years() -> list[int]:
    return sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in
                  chinese_calendar.workdays})  # fmt: skip


#: Environment variable naming a YAML file of holiday notices newer than the package.
HOLIDAYS_ENV = "MASTPLAN_HOLIDAYS"


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The day on which the ``n``-th working day after ``start`` falls (``start`` not counted)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def working_days(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_working_day(day)
    return count


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A stored or given time as aware UTC (SQLite gives stored times back naive, in UTC)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def local_date(moment: dt.datetime) -> dt.date:
    """The Chongqing date of an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("give an aware datetime (UTC in storage)")
    return moment.astimezone(CST).date()


def today() -> dt.date:
    """Today in Chongqing."""
    return dt.datetime.now(CST).date()


def deadline(submitted_at: dt.datetime, within_working_days: int) -> dt.date:
    """The last day (China Standard Time) an owner may answer a request submitted then."""
    return add_working_days(local_date(submitted_at), within_working_days)


def is_overdue(submitted_at: dt.datetime, now: dt.datetime, within_working_days: int) -> bool:
    """Whether an unanswered request is past its deadline at ``now``."""
    return local_date(now) > deadline(submitted_at, within_working_days)
