"""A regulation's references to its own articles: not REF (ANNOTATION.md, "A regulation's own articles ... are not REF").

A decree or regulation cites its own articles all the time ("bedoeld in artikel 15, tweede lid", "de krachtens artikel
58 aangewezen ambtenaren"); the model reads one paragraph at a time and tags them REF as it tags another law's
articles, which it cannot tell apart there. A letter is a regulation with articles of its own when at least
:data:`MIN_HEADINGS` of its paragraphs are an article heading alone ("Artikel 15"); in such a letter a REF that is
a bare article reference ("artikel 15, tweede lid", "artikelen 15 en 16": numbers and parts, no name) to one of those
articles (its first number is a heading's, also a roman one: "Samenloop van artikel I met de Wet ...") is dropped. A bare article the letter has no heading for stays REF: it
is another regulation's that the text is about ("de bepalingen uit de Wet op de bedrijfsorganisatie: a. artikel 74,
eerste lid; ..."), which ANNOTATION.md marks REF. It also stays where
- the sentence goes on to name another regulation ("artikel 36, eerste lid, en artikel 41, tweede lid, van het
  Besluit ..."),
- it stands in brackets right after a law ("Wet openbaarheid van bestuur (artikel 10)"),
- its paragraph amends another regulation ("Artikel 7 wordt als volgt gewijzigd:") or is a table row.

Offsets are characters, so the same test runs on paragraph records and on Docs (``pipeline/letter_pass.py``).
On dev's real documents this dropped 11 REFs, none of them gold; on train's, 32 false and 3 gold ones (a
beleidsregel's own definitions, which its gold tags against the standard).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from kamerbrief.pipeline.rules import ARTICLE_NUMBER, ORDINAL_WORDS

MIN_HEADINGS = 2

_NUMBER = r"[0-9]+[a-z]?(?:[.:][0-9]+[a-z]?)*"
_ROMAN = r"[IVXLC]+"   # an amending act's articles: "Artikel I", "Artikel II"
ARTICLE_HEADING = re.compile(rf"^\s*(?:\*\*)?(?:Artikel|ARTIKEL)[\s\u00a0]+({_NUMBER}|{_ROMAN})\.?(?:\*\*)?\s*$")
_ORDINALS = "|".join(ORDINAL_WORDS)
# the words that may follow "artikel N" inside one reference: parts, ordinals, letters and numbers, "en"/"of"
_PART = (rf"(?:,|\s|en|of|tot en met|t/m|{_ORDINALS}|lid|leden|onder|onderdeel|onderdelen|aanhef|sub|[0-9][0-9a-z.:]*"
         r"|[a-z]\b|[0-9]°|\*[a-z]\*)")
BARE_ARTICLE = re.compile(rf"^(?:[Aa]rtikel(?:en)?|[Aa]rt\.|[Aa]rtt\.)\s(?P<number>{ARTICLE_NUMBER}|{_ROMAN}\b){_PART}*$")
# what may stand between a bare article and the "van de/het ..." that names its regulation further on
_NAMED_FURTHER_ON = re.compile(
    rf"^(?:[\s,]|\([^()]*\)|\bde\b|\ben\b|\bof\b|\bop\b|\bjo\.?|\bjuncto\b|\bartikel(?:en)?\b|\bart\.|\blid\b|\bleden\b"
    rf"|\bonder(?:deel|delen)?\b|\baanhef\b|\bsub\b|[0-9][0-9a-z.:°]*|\b[a-z]\b|\*[a-z]\*|\b(?:{_ORDINALS})\b)*"
    r"\bvan (?:de|het|die|dat)\b")
AMENDING = re.compile(r"als volgt gewijzigd|komt te luiden|vervangen door|worden? (?:ingevoegd|toegevoegd|gewijzigd|vernummerd)"
                      r"|\bvervalt\b|\bvervallen\b")
_FOLLOWING_CHARS = 250


def article_heading(text: str) -> str | None:
    """The article number of a paragraph that is an article heading alone ("Artikel 15" -> "15"), else None."""
    match = ARTICLE_HEADING.match(text)
    return match.group(1) if match else None


def own_articles(headings: set[str]) -> frozenset[str]:
    """The letter's own article numbers, given the numbers of its article headings: none unless it is a regulation
    (at least :data:`MIN_HEADINGS` of them)."""
    return frozenset(headings) if len(headings) >= MIN_HEADINGS else frozenset()


def own_article_references(text: str, entities: Iterable[tuple[int, int, str]], articles: frozenset[str]) -> set[tuple[int, int, str]]:
    """The REFs among ``entities`` (``(start, end, label)`` in ``text``) that cite one of the letter's own
    ``articles`` (:func:`own_articles`)."""
    entities = list(entities)
    if not articles or "|" in text or AMENDING.search(text):
        return set()
    laws_end = [end for _, end, label in entities if label == "LAW"]
    own = set()
    for start, end, label in entities:
        if label != "REF" or not (bare := BARE_ARTICLE.match(text[start:end])) or bare.group("number") not in articles:
            continue
        if _NAMED_FURTHER_ON.match(text[end:end + _FOLLOWING_CHARS]):
            continue
        bracket = start   # the character before the REF, spaces skipped: no copy of the text before it
        while bracket > 0 and text[bracket - 1].isspace():
            bracket -= 1
        bracket -= 1
        if bracket >= 0 and text[bracket] == "(" and any(0 <= bracket - law_end <= 2 for law_end in laws_end):
            continue
        own.add((start, end, label))
    return own


__all__ = ["ARTICLE_HEADING", "BARE_ARTICLE", "MIN_HEADINGS", "article_heading", "own_article_references", "own_articles"]
