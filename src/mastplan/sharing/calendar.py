"""Working days of the PRC official holiday calendar, for the owners' answer deadlines.

Holidays and the adjusted working weekends (调休) come from the maintained ``chinesecalendar``
package (the State Council's yearly notices). A date outside the years it covers is an error,
never a silent guess from weekdays. Deadlines are counted on dates in China Standard Time
(UTC+8): a request submitted at 23:00 UTC on a Sunday was submitted on Monday in Chongqing.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from mastplan.errors import MastplanError

__all__ = ["CST", "add_working_days", "deadline", "is_overdue", "is_working_day", "working_days"]

#: China Standard Time (no daylight saving).
CST = dt.timezone(dt.timedelta(hours=8), "CST")


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day (adjusted weekends are, holidays are not)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        years = sorted({int(y) for y in _years()})
        raise MastplanError(
            f"{day.isoformat()}: the PRC holiday calendar (chinesecalendar "
            f"{chinese_calendar.__version__}) covers {years[0]}–{years[-1]}; update the package"
        ) from None


def _years() -> list[int]:
    return sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in
                  chinese_calendar.workdays})  # fmt: skip


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


def _local_date(moment: dt.datetime) -> dt.date:
    if moment.tzinfo is None:
        raise ValueError("give an aware datetime (UTC in storage)")
    return moment.astimezone(CST).date()


def deadline(submitted_at: dt.datetime, within_working_days: int) -> dt.date:
    """The last day (China Standard Time) an owner may answer a request submitted then."""
    return add_working_days(_local_date(submitted_at), within_working_days)


def is_overdue(submitted_at: dt.datetime, now: dt.datetime, within_working_days: int) -> bool:
    """Whether an unanswered request is past its deadline at ``now``."""
    return _local_date(now) > deadline(submitted_at, within_working_days)
