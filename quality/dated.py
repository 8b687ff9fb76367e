"""Bank marketing with the call's date restored: the year the file leaves out, from its order.

``bank-full.csv`` holds each call's ``day`` and ``month`` but no year; its description
(``bank-names.txt``: "ordered by date, from May 2008 to November 2010") says the rows run in
date order. So the year is the one the rows start in (2008), and it moves on each time the
month goes back (December's calls followed by January's). With a ``call_date`` column the
file loads as a dated export does: the suggestion is judged on the latest quarter of calls,
the leads that came after the ones it was fitted on, as funnel judges every export with dates.
"""

from __future__ import annotations

import csv
from pathlib import Path

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
FIRST_YEAR = 2008  # bank-names.txt: from May 2008
COLUMN = "call_date"


def call_dates(months: list[str], days: list[int], first_year: int = FIRST_YEAR) -> list[str]:
    """Each row's date, the year moving on whenever the month goes back.

    >>> call_dates(["nov", "dec", "jan", "jan", "mar"], [3, 9, 2, 28, 1])
    ['2008-11-03', '2008-12-09', '2009-01-02', '2009-01-28', '2009-03-01']
    """
    year, previous, out = first_year, 0, []
    for month, day in zip(months, days, strict=True):
        number = MONTHS.index(month.strip().lower()) + 1
        if number < previous:
            year += 1
        previous = number
        out.append(f"{year:04d}-{number:02d}-{day:02d}")
    return out


def write_dated(source: Path, dest: Path) -> Path:
    """``source`` (bank-full.csv, ``;``-separated) with a ``call_date`` column, to ``dest``."""
    with source.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter=";"))
    header, body = rows[0], rows[1:]
    month, day = header.index("month"), header.index("day")
    dates = call_dates([r[month] for r in body], [int(r[day]) for r in body])
    with dest.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow([*header, COLUMN])
        out.writerows([*r, d] for r, d in zip(body, dates, strict=True))
    return dest
