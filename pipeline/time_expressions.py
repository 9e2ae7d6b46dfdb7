"""Dutch time expressions (the text of DATE spans) to inclusive ISO date ranges.

``normalise_date("het zomerreces van 2021", "2021-01-11") == ("2021-07-02", "2021-08-30")``

The rules are those of ANNOTATION.md, "Date normalisation": the range is the period the expression
itself denotes, resolved against the letter's date; a signal word in front ("voor", "uiterlijk",
"binnen") is not applied to it, and ``None`` stands where no honest range exists ("binnenkort", "de
komende jaren", "enkele dagen", a duration counted from another event). Every pattern must match the
whole span, so anything not understood gives ``None`` rather than a guess from a part of it.

Decisions the standard leaves open are marked "Decision:" below; they belong in data/ANNOTATION.md.
The figure against the corpus' gold ranges: ``python -m kamerbrief.evaluation.deadline_agreement``.

Pure standard library: the expressions are few and regular, and the range rules are the project's.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

from kamerbrief.pipeline.reader.dates import MONTH_ABBREVIATIONS, MONTHS

Range = tuple[date, date]

# --------------------------------------------------------------------------------------------------
# Word tables
# --------------------------------------------------------------------------------------------------
# Treaties and memoranda in the circulaire corpus carry English text ("Done on 14 July 2015").
ENGLISH_MONTHS = {"january": 1, "february": 2, "march": 3, "may": 5, "june": 6, "july": 7, "august": 8,
                  "october": 10}  # the other English names are spelt as the Dutch ones
MONTH_NAMES = {**MONTHS, **MONTH_ABBREVIATIONS, **ENGLISH_MONTHS}

# Meteorological seasons (ANNOTATION.md): first month; each lasts three months.
SEASONS = {"voorjaar": 3, "lente": 3, "zomer": 6, "najaar": 9, "herfst": 9, "winter": 12}

ORDINAL_DAYS = ["eerste", "tweede", "derde", "vierde", "vijfde", "zesde", "zevende", "achtste", "negende", "tiende", "elfde",
                "twaalfde", "dertiende", "veertiende", "vijftiende", "zestiende", "zeventiende", "achttiende", "negentiende",
                "twintigste", "eenentwintigste", "tweeëntwintigste", "drieëntwintigste", "vierentwintigste",
                "vijfentwintigste", "zesentwintigste", "zevenentwintigste", "achtentwintigste", "negenentwintigste",
                "dertigste", "eenendertigste"]
# the first four also count quarters, halves and weekdays of a month ("het derde kwartaal", "de tweede dinsdag")
ORDINALS = {**{word: n for n, word in enumerate(ORDINAL_DAYS[:4], 1)}, "1e": 1, "2e": 2, "3e": 3, "4e": 4,
            "1ste": 1, "2de": 2, "3de": 3, "4de": 4}

_ONES = {"een": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8, "negen": 9}
_TENS = {"twintig": 20, "dertig": 30, "veertig": 40, "vijftig": 50, "zestig": 60, "zeventig": 70, "tachtig": 80, "negentig": 90}
# Written numbers up to a hundred: "vierentwintig", "tweeëntwintig" ("ë" after an "e"); "ééne" and "eene" as old
# decrees write one ("binnen ééne maand").
NUMBER_WORDS = {**_ONES, "één": 1, "ééne": 1, "eene": 1, "tien": 10, "elf": 11, "twaalf": 12, "dertien": 13, "veertien": 14,
                "vijftien": 15, "zestien": 16, "zeventien": 17, "achttien": 18, "negentien": 19, **_TENS,
                **{f"{one}{'ën' if one.endswith('e') else 'en'}{ten}": n + m for one, n in _ONES.items() for ten, m in _TENS.items()},
                "honderd": 100}

WEEKDAYS = {"maandag": 0, "dinsdag": 1, "woensdag": 2, "donderdag": 3, "vrijdag": 4, "zaterdag": 5, "zondag": 6}

# A duration unit as (months, days) to add. Hours and minutes are left out on purpose: a limit shorter
# than a day gives no honest date range (and is always counted from some event: "binnen 24 uur na ...").
# Working days are left out too: counting them needs the public holidays.
DURATION_UNITS = {"dag": (0, 1), "dagen": (0, 1), "week": (0, 7), "weken": (0, 7), "maand": (1, 0),
                  "maanden": (1, 0), "kwartaal": (3, 0), "kwartalen": (3, 0), "jaar": (12, 0), "jaren": (12, 0)}
FRACTIONAL_DURATIONS = {"een half jaar": (6, 0), "een halfjaar": (6, 0), "anderhalf jaar": (18, 0),
                        "anderhalve maand": (1, 15)}

# "begin/medio/eind" of a year, as months (ANNOTATION.md). "half/midden/halverwege" read as "medio".
PART_OF_YEAR = {"begin": (1, 3), "medio": (5, 8), "half": (5, 8), "midden": (5, 8), "halverwege": (5, 8),
                "eind": (10, 12), "einde": (10, 12)}
# Decision: "begin/medio/eind" of a month are its three decades (1-10, 11-20, 21-end), the usual
# Dutch reading ("begin juni 1995" -> 1995-06-01..1995-06-10).
PART_OF_MONTH = {"begin": (1, 10), "medio": (11, 20), "half": (11, 20), "midden": (11, 20),
                 "halverwege": (11, 20), "eind": (21, 31), "einde": (21, 31)}

# Relative year words, as an offset from the letter's year. "het jaar" is the letter's year only
# where it follows "van" ("het einde van het jaar"); on its own it is no DATE span anyway.
# Decision: "komend jaar" (no article) is the next calendar year, like "volgend jaar"; "het komende
# jaar" on its own is the coming twelve months (see RELATIVE_SPANS), inside "van ..." the next year.
YEAR_WORDS = {"dit jaar": 0, "dit kalenderjaar": 0, "het jaar": 0, "het lopende jaar": 0, "het huidige jaar": 0,
              "volgend jaar": 1, "volgend kalenderjaar": 1, "het volgende jaar": 1, "het volgend jaar": 1,
              "komend jaar": 1, "het komende jaar": 1, "het komend jaar": 1,
              "vorig jaar": -1, "vorig kalenderjaar": -1, "het vorige jaar": -1, "verleden jaar": -1}

# Signal words that relate a time to an event. They belong outside the span, but are stripped when
# an annotator (or a model) left them inside.
SIGNAL_WORDS = ("uiterlijk", "voor", "vóór", "na", "op", "in", "per", "vanaf", "sinds", "tot en met", "t/m",
                "tot", "binnen", "rond", "rondom", "omstreeks", "tijdens", "gedurende", "bij", "met ingang van",
                "in de loop van", "niet later dan", "ten laatste", "nog", "ergens", "al", "uiterlijk op")

# Words after "binnen <duration>" that count the duration from another event ("binnen twee weken na
# ontvangst"): ANNOTATION.md gives those no range.
EVENT_COUNT_WORDS = ("na", "nadat", "vanaf", "vóór", "voor", "voordat", "te rekenen", "gerekend", "ingaand",
                     "ingaande", "volgend op", "volgende op", "after", "from", "following")

# Years that start in another month than January, as that month. Decision: the school year (PO/VO/MBO)
# runs 1 August - 31 July; the academic year (HO) 1 September - 31 August; the gas year (Gaswet)
# 1 October - 30 September. "het schooljaar 2024-2025" -> 2024-08-01..2025-07-31.
SPLIT_YEARS = {"schooljaar": 8, "cursusjaar": 8, "studiejaar": 9, "collegejaar": 9, "academisch jaar": 9,
               "academiejaar": 9, "gasjaar": 10}

# Recesses of the Tweede Kamer as it held them, where known for certain (2021: the ANNOTATION.md
# example; 2022 and 2023 differ from the fallback, and the annotated corpus uses the same dates);
# every other year uses the fallback rule of ANNOTATION.md.
KNOWN_SUMMER_RECESSES = {2021: (date(2021, 7, 2), date(2021, 8, 30)), 2022: (date(2022, 7, 8), date(2022, 9, 5))}
KNOWN_CHRISTMAS_RECESSES = {2022: (date(2022, 12, 23), date(2023, 1, 16)), 2023: (date(2023, 12, 22), date(2024, 1, 15))}


def _alternation(words) -> str:
    """Regex alternation, longest first so that "tot en met" wins over "tot"."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


MONTH = rf"(?P<month>{_alternation(MONTH_NAMES)})\.?"
YEAR = r"(?P<year>(?:1[89]|2[01])\d\d)"
ORDINAL = rf"(?P<ordinal>{_alternation(ORDINALS)})"
NUMBER = rf"(?P<number>\d+|{_alternation(NUMBER_WORDS)})"
UNIT = rf"(?P<unit>{_alternation(DURATION_UNITS)})"
# Two years written as a pair: "2015-2019", "2019/20", "1998 – 2000".
YEAR_PAIR = r"(?P<first>(?:1[89]|2[01])\d\d)\s*[-/–]\s*(?P<last>\d{2}|\d{4})"
# A year written out or relative: "2021", "het jaar 2021", "kalenderjaar 2021", "the calendar year 2015",
# "dit jaar", "volgend jaar"; the years of a government's books are calendar years ("het aangiftejaar 2015",
# ANNOTATION.md; "het verslagjaar 1998", "dienstjaar 2020").
YEAR_EXPRESSION = (rf"(?P<year_expr>(?:(?:het )?(?:kalender|begrotings|aangifte|belasting|verslag|dienst|boek|subsidie)?jaar "
                   rf"|the (?:calendar )?year )?(?:1[89]|2[01])\d\d"
                   rf"|{_alternation(YEAR_WORDS)})")


# --------------------------------------------------------------------------------------------------
# Calendar arithmetic
# --------------------------------------------------------------------------------------------------
def month_range(year: int, month: int) -> Range:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def months_range(year: int, first: int, last: int) -> Range:
    """Months ``first``..``last`` of ``year``; ``last`` may run into the next year (13 = January)."""
    end_year, end_month = year + (last - 1) // 12, (last - 1) % 12 + 1
    return date(year, first, 1), month_range(end_year, end_month)[1]


def year_range(year: int) -> Range:
    return date(year, 1, 1), date(year, 12, 31)


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's last day (31 August + 6 months = 28 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` (0 = Monday) of a month; ``n = -1`` is the last one."""
    if n < 0:
        last = date(year, month, calendar.monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def summer_recess(year: int) -> Range:
    """As held that year where known; else from the first Friday of July for eight weeks, to the
    Monday the Kamer returns (2021: 2 July - 30 August, i.e. start + 59 days)."""
    if year in KNOWN_SUMMER_RECESSES:
        return KNOWN_SUMMER_RECESSES[year]
    start = nth_weekday(year, 7, calendar.FRIDAY, 1)
    return start, start + timedelta(days=59)


def christmas_recess(year: int) -> Range:
    """The recess that starts in December of ``year``: where unknown, from the Friday before Christmas
    (strictly before 25 December) to the first Monday of January."""
    if year in KNOWN_CHRISTMAS_RECESSES:
        return KNOWN_CHRISTMAS_RECESSES[year]
    christmas_eve = date(year, 12, 24)
    start = christmas_eve - timedelta(days=(christmas_eve.weekday() - calendar.FRIDAY) % 7)
    return start, nth_weekday(year + 1, 1, calendar.MONDAY, 1)


def prinsjesdag(year: int) -> Range:
    day = nth_weekday(year, 9, calendar.TUESDAY, 3)
    return day, day


def verantwoordingsdag(year: int) -> Range:
    day = nth_weekday(year, 5, calendar.WEDNESDAY, 3)
    return day, day


def budget_debates(year: int) -> Range:
    """"de begrotingsbehandeling": October-November of that year (ANNOTATION.md)."""
    return date(year, 10, 1), date(year, 11, 30)


def season_range(year: int, season: str) -> Range:
    """A season of ``year``; winter is the one that starts in December of ``year``.
    Decision: "de winter van 2021" -> 2021-12-01..2022-02-28, so that a year's seasons follow each other
    (voorjaar, zomer, najaar, winter) as "het najaar van 2021" is followed by "de winter van 2021"."""
    first = SEASONS[season]
    return months_range(year, first, first + 2)


def new_year(year: int) -> Range:
    """"de jaarwisseling" that ends ``year``: 31 December to 1 January."""
    return date(year, 12, 31), date(year + 1, 1, 1)


# --------------------------------------------------------------------------------------------------
# Year-less expressions: which occurrence
# --------------------------------------------------------------------------------------------------
def is_next_year(first: int, written: str) -> bool:
    """Whether ``written`` ("2022" or "22") is the year after ``first``: "2021-2022", "2021/22"."""
    return int(written[-2:]) == (first + 1) % 100


def _occurrences(period_of_year: Callable[[int], Range], around: int) -> list[Range]:
    found = []
    for year in range(around - 2, around + 6):
        try:
            found.append(period_of_year(year))
        except ValueError:  # 29 February in a common year
            continue
    return sorted(found)


def next_at_or_after(period_of_year: Callable[[int], Range], ref: date | None) -> Range | None:
    """The first occurrence that has not ended by the letter's date (ANNOTATION.md: a month, season or
    recess without a year is "the next one at or after the letter's date"; one in progress counts)."""
    if ref is None:
        return None
    return next((r for r in _occurrences(period_of_year, ref.year) if r[1] >= ref), None)


def next_after(period_of_year: Callable[[int], Range], ref: date | None) -> Range | None:
    """The first occurrence that starts after the letter's date ("volgend voorjaar")."""
    if ref is None:
        return None
    return next((r for r in _occurrences(period_of_year, ref.year) if r[0] > ref), None)


def last_at_or_before(period_of_year: Callable[[int], Range], ref: date | None) -> Range | None:
    """The latest occurrence that has started by the letter's date ("1 maart jl.")."""
    if ref is None:
        return None
    return next((r for r in reversed(_occurrences(period_of_year, ref.year)) if r[0] <= ref), None)


def last_before(period_of_year: Callable[[int], Range], ref: date | None) -> Range | None:
    """The latest occurrence that ended before the letter's date ("afgelopen zomer")."""
    if ref is None:
        return None
    return next((r for r in reversed(_occurrences(period_of_year, ref.year)) if r[1] < ref), None)


def resolve_year(expression: str | None, ref: date | None) -> int | None:
    """A written or relative year ("2021", "het jaar 2021", "volgend jaar") as a number; None if it is
    relative and there is no letter date."""
    if expression is None:
        return None
    digits = re.search(r"\d{4}", expression)
    if digits:
        return int(digits.group())
    if ref is None or expression not in YEAR_WORDS:
        return None
    return ref.year + YEAR_WORDS[expression]


def _in_year_or_upcoming(period_of_year: Callable[[int], Range], year_expression: str | None,
                         ref: date | None) -> Range | None:
    """The period in the year written, or, without one, the next at or after the letter's date."""
    if year_expression is None:
        return next_at_or_after(period_of_year, ref)
    year = resolve_year(year_expression, ref)
    if year is None:
        return None
    try:
        return period_of_year(year)
    except ValueError:  # no such day that year, or past the calendar's end
        return None


# --------------------------------------------------------------------------------------------------
# Cleaning the span text
# --------------------------------------------------------------------------------------------------
SIGNAL_PREFIX = re.compile(rf"^(?:{_alternation(SIGNAL_WORDS)})\s+")
SUFFIX_PAST = re.compile(r"\s+(?:jl|j\.l|l\.l|ll|laatstleden)\.?$")
SUFFIX_COMING = re.compile(r"\s+(?:a\.s|as|aanstaande)\.?$")


# Days written as ordinals, as old decrees date themselves ("den 24sten Juni 1939", "achtste October 1954",
# "dertigsten Juni 1939"): the day's number, so the date parsers read them.
DAY_NUMBERS = {**{word: n for n, word in enumerate(ORDINAL_DAYS, 1)},
               **{word.replace("ë", "e"): n for n, word in enumerate(ORDINAL_DAYS, 1)}}   # old spelling: "tweeentwintigste"
ORDINAL_DAY = re.compile(rf"^(?:den?\s+)?(?:(?P<digits>\d{{1,2}})(?:sten|ste|den|de|e)|(?P<word>{_alternation(DAY_NUMBERS)})n?)"
                         rf"(?=\s+(?:{_alternation(MONTH_NAMES)})\b)")


def _cardinal_day(text: str) -> str:
    match = ORDINAL_DAY.match(text)
    if match is None:
        return text
    return (match.group("digits") or str(DAY_NUMBERS[match.group("word")])) + text[match.end():]


def clean_span(text: str) -> tuple[str, bool, str | None]:
    """Lower-case, single-spaced text without leading signal words; also whether "binnen" was among
    them, and "past"/"coming" for a "jl." / "a.s." suffix."""
    # emphasis asterisks carry no date ("de *zevende* september 2010")
    text = text.replace("\u00a0", " ").replace("\u2009", " ").replace("’", "'").replace("—", "–").replace("*", "")
    text = re.sub(r"\s+", " ", text).strip().lower()
    text = re.sub(r"^[\s(\[\"'‘“]+|[\s)\]\"'’”,;:]+$", "", text)
    after_binnen = False
    while True:
        match = SIGNAL_PREFIX.match(text)
        if not match:
            break
        after_binnen = after_binnen or match.group().strip() == "binnen"
        text = text[match.end():]
    text = re.sub(r"\s+nog$", "", text)  # "dit jaar nog"
    text = re.sub(r"^de maanden (?=\w+ (?:t/m|tot|–|-))", "", text)  # "de maanden januari tot en met mei 2004"
    direction = None
    for pattern, name in ((SUFFIX_PAST, "past"), (SUFFIX_COMING, "coming")):
        if pattern.search(text):
            text, direction = pattern.sub("", text), name
    text = text.rstrip(".")
    text = _cardinal_day(text)
    # A weekday in front of a written date adds nothing: "maandag 11 januari 2021".
    text = re.sub(rf"^(?:{_alternation(WEEKDAYS)}),? (?=\d)", "", text)
    return text, after_binnen, direction


# --------------------------------------------------------------------------------------------------
# Single expressions: each parser gets the cleaned text and returns a range, or None if it does not
# match the whole text (or matches but no honest range exists).
# --------------------------------------------------------------------------------------------------
def _pick(period_of_year: Callable[[int], Range], year_expression: str | None, ref: date | None,
          direction: str | None) -> Range | None:
    """A period given with a year, or a year-less one resolved by the "jl."/"a.s." suffix or, by
    default, as the next one at or after the letter's date."""
    if year_expression is not None:
        return _in_year_or_upcoming(period_of_year, year_expression, ref)
    if direction == "past":
        return last_at_or_before(period_of_year, ref)
    return next_at_or_after(period_of_year, ref)


def parse_numeric_date(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"2021-03-01", "1-3-2021", "01/03/2021", "1.3.2021"."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if match:
        year, month, day = map(int, match.groups())
    else:
        match = re.fullmatch(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})", text)
        if not match:
            return None
        day, month, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
    try:
        day = date(year, month, day)
    except ValueError:
        return None
    return day, day


def parse_written_date(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"11 januari 2021", "1 maart" (the next one at or after the letter's date), "1 maart jl.",
    "14 July 2015", "1e maart"."""
    match = re.fullmatch(rf"(?P<day>\d{{1,2}})(?:e|ste|de)? {MONTH}(?: {YEAR})?", text)
    if not match:
        return None
    day, month = int(match.group("day")), MONTH_NAMES[match.group("month")]

    def that_day(year: int) -> Range:
        d = date(year, month, day)
        return d, d

    try:
        if match.group("year"):
            return that_day(int(match.group("year")))
    except ValueError:
        return None
    if not 1 <= day <= 31:
        return None
    return _pick(that_day, None, ref, direction)


def parse_month(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"maart 2021", "de maand december 2001", "maart" (next at or after), "maart volgend jaar",
    "begin juni 1995" (a decade of the month), "eind maart"."""
    match = re.fullmatch(rf"(?:de maand )?(?:(?:het |de )?(?P<part>{_alternation(PART_OF_MONTH)})(?: van)? )?{MONTH}"
                         rf"(?:,? (?:van )?{YEAR_EXPRESSION})?", text)
    if not match:
        return None
    month = MONTH_NAMES[match.group("month")]
    part = match.group("part")

    def in_year(year: int) -> Range:
        first, last = month_range(year, month)
        if part is None:
            return first, last
        low, high = PART_OF_MONTH[part]
        return first.replace(day=low), first.replace(day=min(high, last.day))

    return _pick(in_year, match.group("year_expr"), ref, direction)


def parse_year(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"2021", "het jaar 2021", "the calendar year 2015", "dit jaar", "volgend jaar", "vorig jaar"."""
    match = re.fullmatch(YEAR_EXPRESSION, text)
    if not match or text in ("het jaar", "het komende jaar", "het komend jaar"):
        return None  # bare "het jaar" names no year; "het komende jaar" alone is twelve months (RELATIVE_SPANS)
    year = resolve_year(match.group("year_expr"), ref)
    return None if year is None else year_range(year)


def parse_year_pair(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"2015-2019", "2015–2019", "1998 – 2000", "2019/20": from the first year's start to the last's end."""
    match = re.fullmatch(YEAR_PAIR, text)
    if not match:
        return None
    first, last = int(match.group("first")), match.group("last")
    last = int(last) if len(last) == 4 else first // 100 * 100 + int(last)
    return (date(first, 1, 1), date(last, 12, 31)) if last > first else None


def split_year(kind: str, first: int, last: str) -> Range | None:
    """A school, academic or gas year written as its pair of years ("2024-2025", "2024/25")."""
    if not is_next_year(first, last):
        return None
    start_month = SPLIT_YEARS[kind]
    return months_range(first, start_month, start_month + 11)


def parse_split_year(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"het schooljaar 2024-2025", "studiejaar 2021/22", "het gasjaar 2022-2023", "het lopende schooljaar 2000-2001",
    "de schooljaren 2001-2002" (the plural names the one year its pair of years spans)."""
    text = re.sub(r"^(?:het|de) (?:lopende |komende |volgende |afgelopen |vorige )?", "", text)
    text = re.sub(r"^(\w+)jaren\b", r"\1jaar", text)
    match = re.fullmatch(rf"(?P<kind>{_alternation(SPLIT_YEARS)}) {YEAR_PAIR}", text)
    return split_year(match.group("kind"), int(match.group("first")), match.group("last")) if match else None


def parse_part_of_year(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"begin 2021", "medio 2021", "eind 2021", "het einde van 2023", "eind dit jaar", "het eind van
    het jaar", "begin volgend jaar", "halverwege 2021"."""
    match = re.fullmatch(rf"(?:(?:het|de) )?(?P<part>{_alternation(PART_OF_YEAR)})(?: van)? {YEAR_EXPRESSION}", text)
    if not match:
        return None
    year = resolve_year(match.group("year_expr"), ref)
    if year is None:
        return None
    first, last = PART_OF_YEAR[match.group("part")]
    return months_range(year, first, last)


def parse_quarter(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"het eerste kwartaal van 2021", "het derde kwartaal" (next at or after), "Q3 2022",
    "kwartaal 3 2022", "het 2e kwartaal van dit jaar"."""
    in_year = rf"(?: (?:van )?{YEAR_EXPRESSION})?"
    match = (re.fullmatch(rf"(?:het )?(?P<ordinal>{_alternation(ORDINALS)}|laatste) kwartaal{in_year}", text)
             or re.fullmatch(rf"(?:q|kwartaal )(?P<ordinal>[1-4]){in_year}", text))
    if not match:
        return None
    ordinal = match.group("ordinal")
    quarter = int(ordinal) if ordinal.isdigit() else ORDINALS.get(ordinal, 4)  # "het laatste kwartaal"
    return _pick(lambda y: months_range(y, 3 * quarter - 2, 3 * quarter), match.group("year_expr"), ref, direction)


def parse_half_year(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"de eerste helft van 2021", "het tweede halfjaar van 2011", "de tweede helft van dit jaar",
    "H1 2021"."""
    match = (re.fullmatch(rf"(?:de |het )?{ORDINAL} (?:helft|halfjaar|half jaar)(?: (?:van )?{YEAR_EXPRESSION})?", text)
             or re.fullmatch(rf"h(?P<ordinal>[12])(?: {YEAR_EXPRESSION})?", text))
    if not match:
        return None
    ordinal = match.group("ordinal")
    half = int(ordinal) if ordinal.isdigit() else ORDINALS[ordinal]
    if half not in (1, 2):
        return None
    return _pick(lambda y: months_range(y, 6 * half - 5, 6 * half), match.group("year_expr"), ref, direction)


def parse_months_of_year(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"de eerste 11 maanden van 2006", "de laatste drie maanden van 2021"."""
    match = re.fullmatch(rf"de (?P<which>eerste|laatste) {NUMBER} maanden van {YEAR_EXPRESSION}", text)
    if not match:
        return None
    count, year = _number(match.group("number")), resolve_year(match.group("year_expr"), ref)
    if year is None or count is None or not 1 <= count <= 12:
        return None
    return months_range(year, 1, count) if match.group("which") == "eerste" else months_range(year, 13 - count, 12)


def parse_season(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"voorjaar 2021", "het najaar van 2021", "de zomer" (next at or after), "deze zomer", "dit najaar"
    (the letter's year), "volgend voorjaar", "afgelopen zomer", "de winter van 2021", "winter 2021/2022"."""
    which_words = "de|het|deze|dit|komend|komende|aanstaand|aanstaande|volgend|volgende|afgelopen|vorig|vorige"
    match = re.fullmatch(rf"(?:(?P<which>{which_words}) )?(?P<season>{_alternation(SEASONS)})"
                         rf"(?: (?:van )?{YEAR_EXPRESSION}(?:\s*[-/–]\s*(?P<winter_end>\d{{2}}|\d{{4}}))?)?", text)
    if not match:
        return None
    season, which, year_expression = match.group("season"), match.group("which"), match.group("year_expr")

    def in_year(year: int) -> Range:
        return season_range(year, season)

    if match.group("winter_end"):  # "winter 2021/2022", "de winter van 2021-2022": the winter between them
        year = resolve_year(year_expression, ref)
        if season != "winter" or year is None or not is_next_year(year, match.group("winter_end")):
            return None
        return in_year(year)
    if year_expression is not None:
        return _in_year_or_upcoming(in_year, year_expression, ref)
    if which in ("deze", "dit"):
        # The season of the letter's year, even when it is already past ("dit voorjaar" in June);
        # in January-February "deze winter" is the winter in progress.
        if ref is None:
            return None
        year = ref.year - 1 if season == "winter" and ref.month <= 2 else ref.year
        return in_year(year)
    if which in ("volgend", "volgende"):
        return next_after(in_year, ref)
    if which in ("afgelopen", "vorig", "vorige") or direction == "past":
        return last_before(in_year, ref)
    return next_at_or_after(in_year, ref)


# The parliamentary calendar: pattern -> the period in a given year.
PARLIAMENTARY_CALENDAR: list[tuple[str, Callable[[int], Range]]] = [
    (r"(?:het )?zomerreces", summer_recess),
    (r"(?:het )?kerstreces", christmas_recess),
    (r"prinsjesdag", prinsjesdag),
    (r"verantwoordingsdag", verantwoordingsdag),
    (r"(?:de )?(?:begrotingsbehandeling(?:en)?|behandeling van de begroting(?:en)?)", budget_debates),
]
# Decision: the other recesses (voorjaars-/krokus-, mei-, herfst-, paas-, pinksterreces) follow the
# school holidays of their year and have no fixed rule: None, as does a bare "het reces".
UNDEFINED_RECESSES = re.compile(r"(?:het )?(?:voorjaars|krokus|mei|herfst|paas|pinkster)?reces(?: .*)?")


def parse_parliamentary(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"het zomerreces van 2021", "het kerstreces", "Prinsjesdag 2021", "Verantwoordingsdag", "de
    begrotingsbehandeling" (without a year: the next at or after the letter's date)."""
    for pattern, period_of_year in PARLIAMENTARY_CALENDAR:
        match = re.fullmatch(rf"{pattern}(?:(?: (?P<relation>van|in|voor|over))? {YEAR_EXPRESSION}"
                             rf"(?:\s*[-/–]\s*(?P<pair_end>\d{{2}}|\d{{4}}))?)?", text)
        if not match:
            continue
        relation, year_expression = match.group("relation"), match.group("year_expr")
        if match.group("pair_end"):
            # Only the kerstreces spans a year pair ("het kerstreces 2021-2022"): it starts in the first.
            year = resolve_year(year_expression, ref)
            if period_of_year is not christmas_recess or year is None or not is_next_year(year, match.group("pair_end")):
                return None
            return christmas_recess(year)
        if period_of_year is budget_debates and relation in ("voor", "over") and year_expression:
            # "de begrotingsbehandeling voor 2023" debates the 2023 budget: in the autumn of 2022.
            year = resolve_year(year_expression, ref)
            return None if year is None else budget_debates(year - 1)
        return _pick(period_of_year, year_expression, ref, direction)
    return None


def parse_nth_weekday(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"de derde dinsdag van september 2021", "de laatste vrijdag van juni"."""
    match = re.fullmatch(rf"(?:de )?(?P<nth>{_alternation(ORDINALS)}|laatste) (?P<weekday>{_alternation(WEEKDAYS)})"
                         rf" (?:van|in) {MONTH}(?: {YEAR_EXPRESSION})?", text)
    if not match:
        return None
    n = -1 if match.group("nth") == "laatste" else ORDINALS[match.group("nth")]
    weekday, month = WEEKDAYS[match.group("weekday")], MONTH_NAMES[match.group("month")]

    def in_year(year: int) -> Range:
        day = nth_weekday(year, month, weekday, n)
        if day.month != month:
            raise ValueError("no such weekday in that month")
        return day, day

    return _pick(in_year, match.group("year_expr"), ref, direction)


def parse_new_year(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"de jaarwisseling" (next at or after), "de jaarwisseling 2021-2022"."""
    year_pair = rf"{YEAR_PAIR}|(?P<first_op>\d{{4}}) op (?P<last_op>\d{{4}})"  # "2021-2022", "2021 op 2022"
    match = re.fullmatch(rf"(?:de )?jaarwisseling(?: (?:van )?(?:{year_pair}))?", text)
    if not match:
        return None
    first, last = match.group("first") or match.group("first_op"), match.group("last") or match.group("last_op")
    if first:
        return new_year(int(first)) if is_next_year(int(first), last) else None
    return _pick(new_year, None, ref, direction)


def parse_weekday(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"maandag a.s." (the next one after the letter's date), "dinsdag jl." (the last one before)."""
    if text not in WEEKDAYS or direction is None or ref is None:
        return None
    if direction == "coming":
        day = ref + timedelta(days=(WEEKDAYS[text] - ref.weekday()) % 7 or 7)
    else:
        day = ref - timedelta(days=(ref.weekday() - WEEKDAYS[text]) % 7 or 7)
    return day, day


def _week(ref: date, offset: int) -> Range:
    monday = ref - timedelta(days=ref.weekday()) + timedelta(weeks=offset)
    return monday, monday + timedelta(days=6)


def _month_at(ref: date, offset: int) -> Range:
    first = add_months(ref.replace(day=1), offset)
    return month_range(first.year, first.month)


# Relative expressions around the letter's date.
# Decision: "de komende weken" is the letter's date to six weeks later (the standard is silent). In
# letters it promises something within about a month, often a little more; six weeks covers that and
# stays well short of "de komende maanden" (three months, ANNOTATION.md).
# Decision: "de komende maand", "het komende jaar", "de komende week" are the letter's date to one
# unit later; without an article ("komende week", "volgende maand") they are the next calendar unit.
RELATIVE_SPANS: dict[str, Callable[[date], Range]] = {
    "vandaag": lambda d: (d, d),
    "heden": lambda d: (d, d),
    "morgen": lambda d: (d + timedelta(days=1),) * 2,
    "overmorgen": lambda d: (d + timedelta(days=2),) * 2,
    "gisteren": lambda d: (d - timedelta(days=1),) * 2,
    "eergisteren": lambda d: (d - timedelta(days=2),) * 2,
    # parts of a day, as the debates speak of them
    **{f"van{part}": (lambda d: (d, d)) for part in ("ochtend", "morgen", "middag", "avond")},
    **{f"{day}{part}": (lambda d: (d - timedelta(days=1),) * 2)
       for day in ("gister", "gisteren") for part in ("ochtend", "middag", "avond")},
    "afgelopen week": lambda d: _week(d, -1),
    "de afgelopen week": lambda d: _week(d, -1),
    "deze week": lambda d: _week(d, 0),
    "volgende week": lambda d: _week(d, 1),
    "komende week": lambda d: _week(d, 1),
    "vorige week": lambda d: _week(d, -1),
    "deze maand": lambda d: _month_at(d, 0),
    "volgende maand": lambda d: _month_at(d, 1),
    "komende maand": lambda d: _month_at(d, 1),
    "vorige maand": lambda d: _month_at(d, -1),
    "de komende week": lambda d: (d, d + timedelta(weeks=1)),
    "de komende weken": lambda d: (d, d + timedelta(weeks=6)),
    "de komende maand": lambda d: (d, add_months(d, 1)),
    "de komende maanden": lambda d: (d, add_months(d, 3)),
    "het komende jaar": lambda d: (d, add_months(d, 12)),
    "het komend jaar": lambda d: (d, add_months(d, 12)),
}


def parse_relative(text: str, ref: date | None, direction: str | None) -> Range | None:
    """"vandaag", "morgen", "de komende maanden" (letter date .. +3 months), "de komende weken"
    (.. +6 weeks), "de komende twee jaar" (.. +2 years), "de afgelopen drie maanden", "de
    voorgaande twee jaren" (the two calendar years before the letter's)."""
    if ref is None:
        return None
    if text in RELATIVE_SPANS:
        return RELATIVE_SPANS[text](ref)
    which_words = "komende|volgende|afgelopen|voorgaande|vorige|laatste"
    match = re.fullmatch(rf"(?:de|het) (?P<which>{which_words}) {NUMBER} {UNIT}", text)
    if not match:
        return None
    duration = _duration(match.group("number"), match.group("unit"))
    if duration is None:
        return None
    which, unit = match.group("which"), match.group("unit")
    if which in ("komende", "volgende"):
        return _counted_from(ref, duration)
    count = _number(match.group("number"))
    if unit in ("jaar", "jaren") and which in ("voorgaande", "vorige"):
        # "de voorgaande twee jaren" names calendar years: the ones before the letter's year.
        return (date(ref.year - count, 1, 1), date(ref.year - 1, 12, 31)) if 0 < count < ref.year else None
    return _counted_from(ref, duration, -1)


def _number(word: str) -> int | None:
    return int(word) if word.isdigit() else NUMBER_WORDS.get(word)


def _duration(number: str, unit: str) -> tuple[int, int] | None:
    """(months, days) for "zes maanden", "twee weken", "een jaar"."""
    count = _number(number)
    if count is None or unit not in DURATION_UNITS:
        return None
    months, days = DURATION_UNITS[unit]
    return months * count, days * count


def parse_duration(text: str) -> tuple[int, int] | None:
    """(months, days) of a duration span: "zes maanden", "twee weken", "een jaar", "een half jaar",
    "anderhalf jaar", "24 maanden"; None for vague counts ("enkele dagen") and units under a day."""
    if text in FRACTIONAL_DURATIONS:
        return FRACTIONAL_DURATIONS[text]
    match = re.fullmatch(rf"(?:maximaal |ten hoogste |hooguit )?{NUMBER} {UNIT}", text)
    return _duration(match.group("number"), match.group("unit")) if match else None


def _counted_from(ref: date, duration: tuple[int, int], sign: int = 1) -> Range | None:
    """The letter's date to ``duration`` later (``sign = -1``: the duration before it, to the letter's
    date); None for a zero duration or one past the calendar's end."""
    months, days = duration
    if months == days == 0:
        return None
    try:
        other = add_months(ref, sign * months) + timedelta(days=sign * days)
    except (ValueError, OverflowError):
        return None
    return (ref, other) if sign > 0 else (other, ref)


SINGLE_PARSERS = (parse_numeric_date, parse_written_date, parse_month, parse_year, parse_year_pair,
                  parse_split_year, parse_part_of_year, parse_quarter, parse_half_year, parse_months_of_year,
                  parse_season, parse_parliamentary, parse_nth_weekday, parse_new_year, parse_weekday,
                  parse_relative)


def parse_single(text: str, ref: date | None, direction: str | None = None) -> Range | None:
    if UNDEFINED_RECESSES.fullmatch(text):
        return None
    for parser in SINGLE_PARSERS:
        found = parser(text, ref, direction)
        if found is not None:
            return found
    return None


# --------------------------------------------------------------------------------------------------
# Ranges written as one span: "5 september t/m 16 oktober 2000", "2015-2019", "24 en 25 november
# 2010", "14 op 15 maart 2010" (a night), "1 januari 2008 tot 19 november 2011" ("tot" excludes its end).
# --------------------------------------------------------------------------------------------------
RANGE_SEPARATORS = [  # (regex, end is exclusive)
    (r"\s+(?:tot en met|t/m|t\.e\.m\.?|tem)\s+", False),
    (r"\s+tot\s+", True),
    (r"\s*[–]\s*|\s+-\s+", False),
    (r"(?<=\d)-(?=\d{1,2}\s)", False),  # "15-16 maart 2021"
    (r"\s+en\s+", False),
    (r"(?<=\d)\s+op\s+(?=\d)", False),  # "in de nacht van 14 op 15 maart"
]


def _complete_left(left: str, right: str) -> str:
    """Give the start of a range what it leaves to the end: "24" + "25 november 2010" -> "24 november
    2010"; "5 september" + "16 oktober 2000" -> "5 september 2000"; "2019" + "20" stays."""
    if re.fullmatch(r"\d{1,2}", left):
        tail = re.match(r"\d{1,2}(?:e|ste|de)? (.+)", right)
        return f"{left} {tail.group(1)}" if tail else left
    year = re.search(r"(?:1[89]|2[01])\d\d$", right)
    if year and not re.search(r"\d{4}", left):
        return f"{left} {year.group()}"
    return left


def parse_range(text: str, ref: date | None) -> Range | None:
    text = re.sub(r"^(?:de periode )?(?:van|tussen) ", "", text)
    text = re.sub(r"^de periode ", "", text)
    for separator, exclusive in RANGE_SEPARATORS:
        parts = re.split(separator, text, maxsplit=1)
        if len(parts) != 2:
            continue
        left, right = parts
        end = parse_single(right, ref)
        if end is None:
            # A year-less end is resolved after its start: "januari tot en met november".
            start = parse_single(left, ref)
            end = parse_single(right, start[0]) if start else None
        else:
            completed = _complete_left(left, right)
            start = parse_single(completed, ref)
            if start is not None and start[0] > end[0] and completed.startswith(left + " ") \
                    and not re.fullmatch(r"\d{1,2}", left):
                # "december t/m februari 2021": the start lies in the year before the end's.
                start = parse_single(f"{left} {end[0].year - 1}", ref)
        if start is None or end is None:
            continue
        last = end[0] - timedelta(days=1) if exclusive else end[1]
        if last < start[0]:
            return None
        return start[0], last
    return None


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------
def as_date(value: date | str | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _iso(found: Range | None) -> tuple[str, str] | None:
    return None if found is None else (found[0].isoformat(), found[1].isoformat())


def _resolve(text: str, ref: date | None, after_binnen: bool, direction: str | None) -> Range | None:
    duration = parse_duration(text)
    if duration is not None:
        # ANNOTATION.md: a duration after "binnen" runs from the letter's date; on its own it is no range.
        return _counted_from(ref, duration) if after_binnen and ref is not None else None
    return parse_single(text, ref, direction) or parse_range(text, ref)


def normalise_date(text: str, letter_date: date | str | None) -> tuple[str, str] | None:
    """The inclusive ISO range ("YYYY-MM-DD", "YYYY-MM-DD") that the DATE span text denotes,
    resolved against the letter's date; None where no honest range exists."""
    cleaned, after_binnen, direction = clean_span(text)
    return _iso(_resolve(cleaned, as_date(letter_date), after_binnen, direction))


BINNEN_BEFORE = re.compile(r"\bbinnen(?:\s+(?:maximaal|uiterlijk|ten hoogste|hooguit))?\s*$", re.IGNORECASE)
SPLIT_YEAR_BEFORE = re.compile(rf"\b(?P<kind>{_alternation(SPLIT_YEARS)})\s*$", re.IGNORECASE)
EVENT_COUNT_AFTER = re.compile(rf"^[\s,]*(?:{_alternation(EVENT_COUNT_WORDS)})\b", re.IGNORECASE)


def normalise_in_context(span_text: str, preceding_text: str, letter_date: date | str | None,
                         following_text: str = "") -> tuple[str, str] | None:
    """:func:`normalise_date` with the paragraph text around the span: a duration right after "binnen"
    runs from the letter's date ("binnen zes maanden" -> letter date .. six months later) unless the
    text after it counts it from another event ("binnen twee weken na ontvangst" -> None); a year pair
    right after "schooljaar" (or another SPLIT_YEARS word) is that kind of year ("met het schooljaar
    [2024-2025]" -> 2024-08-01..2025-07-31)."""
    ref = as_date(letter_date)
    cleaned, after_binnen, direction = clean_span(span_text)
    if parse_duration(cleaned) is not None:
        after_binnen = after_binnen or bool(BINNEN_BEFORE.search(preceding_text))
        if after_binnen and EVENT_COUNT_AFTER.match(following_text):
            return None
        return _iso(_resolve(cleaned, ref, after_binnen, direction))
    kind = SPLIT_YEAR_BEFORE.search(re.sub(r"\s+", " ", preceding_text).rstrip())
    pair = re.fullmatch(YEAR_PAIR, cleaned)
    if kind and pair:
        return _iso(split_year(kind.group("kind").lower(), int(pair.group("first")), pair.group("last")))
    return normalise_date(span_text, ref)


# --------------------------------------------------------------------------------------------------
# The due-by period of a deadline: the signal word applied to the range
# --------------------------------------------------------------------------------------------------
# ANNOTATION.md keeps the signal word out of a DATE span's range: "voor het zomerreces van 2021" has the
# range of the recess itself. What a reader of a deadline wants is the period in which the thing is due,
# so the deadline of a paragraph also gets ``due``: "voor X" / "vóór X" / "tot X" end the day before X
# starts ("voor eind 2021" and "voor het einde van ..." mean by the end of that period, so they end with
# it); "uiterlijk X", "in X", "binnen X" and no signal end when X ends. A due period starts at the
# letter's date when the signal says "before" and the letter is known, otherwise where X starts.
BEFORE_SIGNAL = re.compile(r"\b(?:ruim\s+|ruimschoots\s+|nog\s+|(?:uiterlijk|in ieder geval|ten minste|zeker)\s+)?(?:voor|vóór|tot)\s*$",
                           re.IGNORECASE)
UP_TO_AND_INCLUDING = re.compile(r"\btot\s+en\s+met\s*$", re.IGNORECASE)
END_OF_PERIOD = re.compile(r"^(?:het\s+)?eind(?:e)?\b", re.IGNORECASE)


def due_period(span_text: str, date_range: tuple[str, str] | None, preceding_text: str,
               letter_date: date | str | None) -> tuple[str, str] | None:
    """The inclusive ISO period in which a deadline falls due, from the span's ``date_range`` and the
    signal word before it; None without a range."""
    if date_range is None:
        return None
    start, end = date.fromisoformat(date_range[0]), date.fromisoformat(date_range[1])
    preceding = re.sub(r"\s+", " ", preceding_text)
    ref = as_date(letter_date)
    if BEFORE_SIGNAL.search(preceding) and not UP_TO_AND_INCLUDING.search(preceding):
        if not END_OF_PERIOD.match(span_text.strip()):
            end = start - timedelta(days=1)
        start = ref if ref is not None and ref <= end else start
        if end < start:
            return None
    return start.isoformat(), end.isoformat()
