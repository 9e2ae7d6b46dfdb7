"""Reader throughput on a large input: ``python -m kamerbrief.evaluation.benchmark_reader [--mb 50]``.

Writes a synthetic letter of the given size in each text format and times :func:`read_letter` on it,
to show the reader stays linear (no hang) on huge files."""
from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from kamerbrief.pipeline.reader import read_letter

PARAGRAPH = ("Het kabinet neemt de aanbeveling van de Nationaal Rapporteur over en zal voor het zomerreces "
             "van 2021 een plan van aanpak naar uw Kamer sturen (Kamerstuk 28 638, nr. 185).")


def build(kind: str, n_bytes: int) -> str:
    unit = {"plain": PARAGRAPH + "\n\n", "markdown": "## Kop\n\n" + PARAGRAPH + "\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n",
            "xml": "<al>" + PARAGRAPH + "</al>\n"}[kind]
    body = unit * (n_bytes // len(unit.encode()) + 1)
    if kind == "xml":
        return f'<?xml version="1.0" encoding="utf-8"?><officiele-publicatie><kamerstuk><stuk><algemeen><brief><tekst>{body}</tekst></brief></algemeen></stuk></kamerstuk></officiele-publicatie>'
    return "Aan de Voorzitter van de Tweede Kamer der Staten-Generaal\n\nDen Haag, 11 januari 2021\n\n" + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=50.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("plain", "markdown", "xml"):
            path = Path(tmp) / f"groot.{ 'md' if kind == 'markdown' else kind if kind == 'xml' else 'txt'}"
            path.write_text(build(kind, int(args.mb * 1e6)), encoding="utf-8")
            start = time.perf_counter()
            letter = read_letter(path)
            seconds = time.perf_counter() - start
            size = path.stat().st_size / 1e6
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{kind:9s} {size:6.1f} MB  {len(letter.paragraphs):8d} paragraphs  {seconds:6.1f} s  "
                  f"{size / seconds:5.1f} MB/s  peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
