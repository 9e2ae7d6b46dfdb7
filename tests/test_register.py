"""``kamerbrief register`` over annotation output, run as a user runs it: no model, a broken line is
recorded and skipped, and the overview's chart and counts equal the register's rows."""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq


def commitment(text: str, start: int, actor: str, due: tuple[str, str] | None, recommendation=None, stance=None, signer=False):
    return {"start": start, "end": start + len(text), "text": text,
            "actor": {"signer": True, "word": "ik", "text": actor} if signer else {"text": actor, "start": start, "end": start + 4},
            "dates": [], "deadline": {"start": start, "end": start + 4, "text": "eind"} if due else None,
            "due": {"start": due[0], "end": due[1]} if due else None, "recommendation": recommendation, "stance": stance}


def letter(letter_id: str, ministry: str | None, sender: str, commitments: list[dict]) -> dict:
    meta = {"date": "2024-03-12", "dossier": "12345", "sender": sender, **({"ministry": ministry} if ministry else {})}
    paragraphs = [{"text": "Aanbeveling 1. Doe iets", "kind": "heading", "labels": ["recommendation"], "entities": []},
                  {"text": "Tekst " * 40, "kind": "body", "labels": ["action"], "entities": [], "commitments": commitments}]
    return {"input": f"../letters/{letter_id}.txt", "id": letter_id, "source": "", "meta": meta, "paragraphs": paragraphs,
            "links": [{"recommendation": 0, "scope": [0, 1], "position": None, "actions": [1], "deadlines": []}]}


RECORDS = [
    letter("brief-a", "Infrastructuur en Waterstaat", "Minister van Infrastructuur en Waterstaat", [
        commitment("RWS stelt een ontwerp op.", 0, "Rijkswaterstaat", ("2024-03-12", "2024-07-04"), 0, "adopted"),
        commitment("Ik informeer uw Kamer.", 30, "Minister van Infrastructuur en Waterstaat", ("2024-10-01", "2024-12-31"), 0,
                   "adopted", signer=True)]),
    letter("brief-b", None, "Staatssecretaris van Financiën", [
        commitment("De Belastingdienst past het aan.", 0, "Belastingdienst", ("2025-01-01", "2025-06-30"), 0, "partial"),
        commitment("Ik onderzoek dit.", 40, "Staatssecretaris van Financiën", None)]),
    letter("brief-c", None, "Minister van Financiën", [
        commitment("Ik stuur het rapport.", 0, "Minister van Financiën", ("2024-12-01", "2024-12-31"), 0, "rejected", signer=True)]),
]


class Page(HTMLParser):
    """The data island and the chart's bars of the overview page."""

    def __init__(self):
        super().__init__()
        self.bars: dict[str, int] = {}
        self.data, self._in_data = "", False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "rect" and attrs.get("class") == "bar":
            self.bars[attrs["data-month"]] = int(attrs["data-count"])
        self._in_data = tag == "script" and attrs.get("id") == "register-data"

    def handle_data(self, data):
        if self._in_data:
            self.data += data

    def handle_endtag(self, tag):
        self._in_data = False


def run_register(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kamerbrief.cli", "register", *args], capture_output=True, text=True,
                          check=False)


def test_register_overview_chart_equals_register_counts(tmp_path: Path):
    annotations = tmp_path / "run"
    annotations.mkdir()
    lines = [json.dumps(r, ensure_ascii=False) for r in RECORDS]
    lines.insert(1, '{"id": "broken", "paragraphs": ')  # a torn line: recorded and skipped
    (annotations / "annotations.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "register"

    result = run_register(str(annotations), "-o", str(out), "--as-of", "2024-11-15")
    assert result.returncode == 1, result.stderr
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [e["code"] for e in errors] == ["E605"] and "line 2" in errors[0]["error"]

    with open(out / "register.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5 and pq.read_table(out / "register.parquet").num_rows == 5
    assert {r["action"]: r["status"] for r in rows} == {
        "RWS stelt een ontwerp op.": "overdue", "Ik informeer uw Kamer.": "due", "De Belastingdienst past het aan.": "open",
        "Ik onderzoek dit.": "no deadline", "Ik stuur het rapport.": "open"}
    assert {r["ministry"] for r in rows} == {"Infrastructuur en Waterstaat", "Financiën"}
    assert rows[0]["recommendation"] == "Aanbeveling 1. Doe iets" and rows[0]["letter_html"].startswith("letters/brief-a-")

    page = Page()
    page.feed((out / "index.html").read_text(encoding="utf-8"))
    data = json.loads(page.data)
    assert page.bars == data["per_month"] == dict(Counter(r["due_end"][:7] for r in rows if r["due_end"]))
    assert data["per_ministry"] == dict(Counter(r["ministry"] for r in rows))
    assert data["per_stance"] == dict(Counter(r["stance"] or "(none)" for r in rows))
    assert data["per_status"] == {s: sum(r["status"] == s for r in rows) for s in ("overdue", "due", "open", "no deadline")}
    assert data["n_commitments"] == 5 and data["as_of"] == "2024-11-15"
    # Overdue first, and every row links to a letter view that exists.
    statuses = re.findall(r"<td class='([a-z-]+)'>", (out / "index.html").read_text(encoding="utf-8"))
    assert statuses[0] == "overdue" and statuses[-1] == "no-deadline"
    assert all((out / r["letter_html"].split("#")[0]).is_file() for r in rows)
    assert "src=\"http" not in (out / "index.html").read_text(encoding="utf-8")


def test_register_refuses_a_bad_date(tmp_path: Path):
    result = run_register(str(tmp_path), "-o", str(tmp_path / "out"), "--as-of", "15-11-2024")
    assert result.returncode == 2 and "not a date" in result.stderr + result.stdout
