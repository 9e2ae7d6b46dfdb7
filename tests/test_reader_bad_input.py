"""Bad input gets a clear, coded error naming the file; never a traceback or a hang."""
from __future__ import annotations

import json

import pytest
from conftest import TESTS
from typer.testing import CliRunner

from kamerbrief.cli import app
from kamerbrief.errors import (
    BinaryInputError,
    EmptyInputError,
    EncodingError,
    InputTooLargeError,
    MalformedXMLError,
    NoTextError,
)
from kamerbrief.pipeline.reader import read_letter, read_text

runner = CliRunner()


@pytest.mark.parametrize("content, error", [
    (b"", EmptyInputError),
    (b"   \n\n\t ", EmptyInputError),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" + bytes(range(256)) * 4, BinaryInputError),
    (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200, BinaryInputError),
    ("Dit is \u20ac tekst".encode("utf-8")[:-1] + b"\x81\x8d\x8f\x90\x9d", EncodingError),
    (b'<?xml version="1.0"?><officiele-publicatie><kamerstuk><al>Afgebro', MalformedXMLError),
    (b"<officiele-publicatie><al>a</b></officiele-publicatie>", MalformedXMLError),
    (b'<?xml version="1.0"?><officiele-publicatie><metadata/></officiele-publicatie>', NoTextError),
])
def test_bad_input_is_a_coded_error_that_names_the_file(tmp_path, content, error):
    path = tmp_path / "brief.txt"
    path.write_bytes(content)
    with pytest.raises(error) as info:
        read_letter(path)
    assert str(path) in str(info.value)
    assert str(info.value).startswith(f"[{error.code}]")


def test_file_above_the_size_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "groot.txt"
    path.write_bytes(b"Een zin.\n" * 200_000)
    with pytest.raises(InputTooLargeError, match="above the limit"):
        read_letter(path, max_bytes=1_000_000)


def test_large_text_is_read_in_linear_time(tmp_path):
    # 2 MB here; `make bench-reader` measures 50 MB (see README).
    path = tmp_path / "groot.txt"
    path.write_text(("Het kabinet neemt de aanbeveling over en zal voor de zomer rapporteren.\n\n" * 28_000), encoding="utf-8")
    letter = read_letter(path)
    assert len(letter.paragraphs) == 28_000


def test_utf16_with_bom_is_decoded(tmp_path):
    path = tmp_path / "brief.txt"
    path.write_bytes("Aan de Voorzitter van de Tweede Kamer\n\nDen Haag, 1 mei 2020\n\nTekst van de brief.".encode("utf-16"))
    letter = read_letter(path)
    assert letter.meta["date"] == "2020-05-01"


def test_glued_sentences_stay_as_they_are():
    letter = read_text("Er geldt een verbod in de nachtperiode.Er zijn uitzonderingen.\n\nTweede alinea.", fmt="plain")
    assert letter.paragraphs[0].text == "Er geldt een verbod in de nachtperiode.Er zijn uitzonderingen."


def test_cli_reads_a_directory_of_mixed_files_and_reports_failures(tmp_path):
    (tmp_path / "goed.txt").write_bytes((TESTS / "fixtures/letters/brief-plain.txt").read_bytes())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "brief.xml").write_bytes((TESTS / "fixtures/letters/kamerstuk-brief.xml").read_bytes())
    (tmp_path / "leeg.txt").write_bytes(b"")
    (tmp_path / "kapot.xml").write_bytes(b"<?xml version='1.0'?><officiele-publicatie><al>")
    (tmp_path / "plaatje.png").write_bytes(b"\x89PNG\x00\x00")  # not a letter suffix: not picked up
    result = runner.invoke(app, ["read", str(tmp_path)])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(letter["id"] for letter in lines) == ["goed", "kst-29999-42"]
    assert "[E101]" in result.stderr and "leeg.txt" in result.stderr
    assert "[E104]" in result.stderr and "kapot.xml" in result.stderr
    assert "Traceback" not in result.output


def test_cli_read_one_file_prints_the_letter(shared_dir):
    result = runner.invoke(app, ["read", str(shared_dir / "seeds" / "kst-31015-221.txt")])
    assert result.exit_code == 0
    letter = json.loads(result.stdout)
    assert letter["meta"]["dossier"] == "31015" and letter["n_paragraphs"] == 45
