"""The law-title lexicon of the ``kamerbrief_rules`` component: the citation titles ("citeertitels") that Dutch laws,
decrees and regulations give themselves ("Deze wet wordt aangehaald als: Wet op de expertisecentra.", or in brackets
after their formal title), and the laws that amending acts' titles list (named in two titles or more), read from the
shared ``nl-gov-text`` corpus into ``pipeline/law_titles.txt``.

A law's name is its whole title (ANNOTATION.md), and long titles are where the model cuts a LAW short ("Wet
overheidspersoneel" of "Wet overheidspersoneel onder de werknemersverzekeringen") or runs on into the sentence
("Zorgverzekeringswet commissaris"). The titles are names, not text, and carry no copyright (Auteurswet art. 11).
Documents of the dev and held-out splits (``data/standoff/{dev,test,test-real}.jsonl``) are left out, so a title only
those documents give is not in the lexicon that is measured on them.

    python -m kamerbrief.training.law_titles            # rewrites pipeline/law_titles.txt
"""
from __future__ import annotations

import argparse
import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from kamerbrief.data.records import read_jsonl, read_records
from kamerbrief.paths import find_shared_dir
from kamerbrief.pipeline.rules import LAW_HEADS, LAW_TITLES_FILE, LAW_WORDS

CORPUS = "corpora/nl-gov-text.jsonl.xz"
EXCLUDED_SPLITS = ("dev", "test", "test-real")
# "Deze wet wordt aangehaald als: X." / "Dit besluit kan worden aangehaald als X"; the title runs to the end of the line.
CITATION = re.compile(r"(?:wordt|worden) aangehaald als\s*:?\s*([^\n]+)")
# What follows a title on its line: "met vermelding van het jaartal van het Staatsblad ...", the sentence's end.
# A record's title with its citation title in brackets at the end: "Wet van 1 november 2012, houdende ... (Aanbestedingswet 2012)".
SHORT_TITLE = re.compile(r"\(([^()]+)\)\s*$")
TITLE_END = re.compile(r",?\s+(met|onder) vermelding\b.*$|,\s*afgekort\b.*$|\s*[.;]\s.*$|[.;:]+\s*$")
MAX_WORDS = 16


def clean_title(raw: str) -> str | None:
    """The title in the text after "aangehaald als", or None where it is no usable name."""
    title = re.sub(r"[*_`“”\"‘]|^'|'$", "", raw).strip()
    title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)   # a Markdown link keeps its text
    title = TITLE_END.sub("", title).strip(" .,;:'’")
    title = re.sub(r"\s+", " ", title)
    words = title.split()
    if not words or len(words) > MAX_WORDS or not title[0].isupper() or title in LAW_HEADS:
        return None
    if LAW_WORDS.search(title.lower()) is None or re.search(r"\b(jaartal|PM|\.\.\.)\b|[()]{1}$", title):
        return None
    if len(words) == 1 and len(title) < 6:
        return None   # "Wet", "Regeling": no name
    return title


# The laws an amending act's title lists ("Wet van ... tot wijziging van de Wet X, het Wetboek Y en de Z in verband met
# ..."): the codes and big laws the corpus holds no document of give their names only here.
AMENDED = re.compile(r"(?:tot|houdende|in verband met)\s+(?:wijziging|aanpassing|intrekking|aanvulling)(?:\s+en\s+\w+)?\s+van\s+"
                     r"(?:onder meer\s+|enige\s+bepalingen\s+(?:van|in)\s+)?(.*)")
# List items start with an article: "Wet op het hoger onderwijs en wetenschappelijk onderzoek" is one name.
AMENDED_ITEM = re.compile(r",\s+(?=(?:de|het)\s)|\s+(?:en|alsmede)\s+(?=(?:de|het)\s)")
AMENDED_END = re.compile(r"\s+(?:in verband met|met betrekking tot|met betrekking|ter|tot|teneinde|met het oog op|ten behoeve van|"
                         r"inzake|betreffende|houdende|waarin|om|voor zover|en (?:enige|enkele|andere|diverse|een|daarmee))\b.*$|[,;:(].*$")
MIN_AMENDED = 2   # named in at least two titles: a one-off item is more often a cut phrase than a name


def amended_laws(title: str) -> list[str]:
    """The names in the list of laws an amending act's ``title`` changes."""
    match = AMENDED.search(title)
    if not match:
        return []
    items = (AMENDED_END.sub("", re.sub(r"^(de|het)\s+", "", item.strip())).strip() for item in AMENDED_ITEM.split(match.group(1)))
    return [item for item in items if len(item.split()) <= 10 and not re.match(r"Boek \d", item)]


def excluded_documents(data_dir: Path) -> set[str]:
    """Document ids of the dev and held-out standoff splits."""
    ids = set()
    for split in EXCLUDED_SPLITS:
        path = data_dir / "standoff" / f"{split}.jsonl"
        if path.exists():
            ids.update(r.get("doc_id") or r["id"] for r in read_records(path))
    return ids


def law_titles(records: Iterable[dict], excluded: set[str]) -> list[str]:
    titles, amended = set(), Counter()
    for record in records:
        if record.get("id") in excluded:
            continue
        named = [m.group(1) for m in CITATION.finditer(record.get("text") or "")]
        named += [m.group(1) for m in SHORT_TITLE.finditer(record.get("title") or "")]
        titles.update(title for title in map(clean_title, named) if title)
        amended.update(title for title in map(clean_title, amended_laws(record.get("title") or "")) if title)
    titles.update(title for title, n in amended.items() if n >= MIN_AMENDED)
    return sorted(titles)


def build(shared_dir: Path, data_dir: Path, out: Path = LAW_TITLES_FILE) -> int:
    corpus = shared_dir / CORPUS
    digest = hashlib.sha256(corpus.read_bytes()).hexdigest()[:16]
    titles = law_titles((record for _, record in read_jsonl(corpus)), excluded_documents(data_dir))
    header = (f"# Law citation titles (python -m kamerbrief.training.law_titles): {len(titles)} titles from ../shared/{CORPUS} "
              f"(sha256 {digest}), documents of data/standoff/{{{','.join(EXCLUDED_SPLITS)}}}.jsonl left out.\n")
    out.write_text(header + "".join(f"{t}\n" for t in titles), encoding="utf-8")
    return len(titles)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=None, help="The shared/ folder (default: ../shared).")
    parser.add_argument("--data", type=Path, default=Path("data"), help="The corpus folder whose dev/test splits are left out.")
    parser.add_argument("--out", type=Path, default=LAW_TITLES_FILE)
    args = parser.parse_args(argv)
    shared_dir = find_shared_dir(args.shared)
    if shared_dir is None:
        parser.error("no shared/ folder found (pass --shared)")
    n = build(shared_dir, args.data, args.out)
    print(f"wrote {n} titles to {args.out}")


if __name__ == "__main__":
    main()
