"""Dutch written dates ("11 januari 2021", "11-01-2021") to ISO strings, and the one table of Dutch month names
(the rules' DATE patterns and the time-expression normaliser read it too)."""
from __future__ import annotations

import re
from datetime import date

MONTHS = {
    "januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7,
    "augustus": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
}
# As written in letters, without their full stop ("mrt. 2021", "1 sept").
MONTH_ABBREVIATIONS = {"jan": 1, "feb": 2, "febr": 2, "mrt": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
                       "sep": 9, "sept": 9, "okt": 10, "nov": 11, "dec": 12}
WRITTEN_DATE = re.compile(r"\b(\d{1,2})\s+(" + "|".join(MONTHS) + r")\s+(\d{4})\b", re.IGNORECASE)
NUMERIC_DATE = re.compile(r"\b(\d{1,2})-(\d{1,2})-(\d{4})\b")
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def parse_dutch_date(text: str) -> str | None:
    """The first date written in ``text``, as ``YYYY-MM-DD``; None if there is none or it is invalid."""
    for pattern, order in ((WRITTEN_DATE, "dmy"), (ISO_DATE, "ymd"), (NUMERIC_DATE, "dmy")):
        match = pattern.search(text)
        if not match:
            continue
        if order == "ymd":
            year, month, day = (int(g) for g in match.groups())
        else:
            day, month_text, year = match.groups()
            day, year = int(day), int(year)
            month = MONTHS[month_text.lower()] if month_text.isalpha() else int(month_text)
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            continue
    return None
