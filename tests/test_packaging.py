"""Models as installable packages: `kamerbrief package` builds a wheel in spaCy's layout, pip installs it
into a folder of its own, and a process outside the checkout finds the model by name, lists it and
annotates with it; names resolve folder -> installed package -> models/ of the checkout."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kamerbrief.errors import ModelNotFoundError

ROOT = Path(__file__).resolve().parent.parent

ANNOTATE = """
import json, sys
import kamerbrief, spacy
from kamerbrief.pipeline.nlp import find_model
info = find_model("tiny-kamerbrief")
doc = kamerbrief.load("tiny-kamerbrief")("Zie Kamerstuk 28 638, nr. 185. Het kabinet neemt de aanbeveling over.")
print(json.dumps({"source": info.source, "path": str(info.path), "version": info.version,
                  "ents": [(e.text, e.label_) for e in doc.ents], "cats": sorted(doc.cats),
                  "spacy": spacy.load("tiny_kamerbrief").pipe_names}))
"""


@pytest.fixture(scope="module")
def installed(tiny_pipeline, tmp_path_factory):
    """The tiny pipeline packaged and pip-installed into a target folder (no dependencies: kamerbrief is here)."""
    from kamerbrief.cli import app

    tmp = tmp_path_factory.mktemp("package")
    result = CliRunner().invoke(app, ["package", str(tiny_pipeline), str(tmp / "dist"), "--name", "tiny-kamerbrief",
                                      "--version", "1.2.0", "--build", "wheel"])
    assert result.exit_code == 0, result.output
    wheel = tmp / "dist" / "tiny_kamerbrief-1.2.0" / "dist" / "tiny_kamerbrief-1.2.0-py3-none-any.whl"
    assert wheel.is_file(), result.output
    target = tmp / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(target),
                           str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return target, wheel


def _outside(target: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("KAMERBRIEF_MODEL", None)
    return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True)


def test_an_installed_model_package_loads_by_name_outside_the_checkout(installed, tmp_path):
    target, wheel = installed
    done = _outside(target, tmp_path, "-c", ANNOTATE)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["source"] == "package" and found["version"] == "1.2.0"
    assert Path(found["path"]).is_relative_to(target) and not Path(found["path"]).is_relative_to(ROOT)
    assert ["Kamerstuk 28 638, nr. 185", "REF"] in found["ents"]
    assert found["cats"] == ["action", "adoption", "deadline", "recommendation"]
    assert found["spacy"] == ["kamerbrief_transformer", "kamerbrief_rules", "kamerbrief_deadlines", "kamerbrief_commitments"]

    listed = _outside(target, tmp_path, "-m", "kamerbrief.cli", "models")
    assert listed.returncode == 0, listed.stderr
    row = next(line.split() for line in listed.stdout.splitlines() if "tiny-kamerbrief" in line)
    assert row[:3] == ["tiny-kamerbrief", "1.2.0", "package"] and row[3].startswith(str(target))

    # The package says what it needs: kamerbrief (its entry points register the components).
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read("tiny_kamerbrief-1.2.0.dist-info/METADATA").decode()
        entry_points = archive.read("tiny_kamerbrief-1.2.0.dist-info/entry_points.txt").decode()
    assert "Requires-Dist: kamerbrief<0.2.0,>=0.1.0" in metadata
    assert "[kamerbrief_models]\ntiny-kamerbrief = tiny_kamerbrief" in entry_points
    assert "[spacy_models]\ntiny_kamerbrief = tiny_kamerbrief" in entry_points


def test_annotate_takes_an_installed_model_by_name(installed, tmp_path):
    target, _ = installed
    letter = tmp_path / "brief.txt"
    letter.write_text("Geachte voorzitter,\n\nHet kabinet neemt de aanbeveling over en stuurt eind 2021 een brief.\n", encoding="utf-8")
    done = _outside(target, tmp_path, "-m", "kamerbrief.cli", "annotate", "brief.txt", "--model", "tiny-kamerbrief", "-o", "out",
                    "--no-html", "--threads", "1")
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "out" / "annotations.jsonl").read_text().splitlines()[0])
    assert [p["text"] for p in record["paragraphs"]][-1].startswith("Het kabinet neemt de aanbeveling over")


def test_a_name_resolves_to_a_folder_then_a_package_then_models_of_the_checkout(tiny_pipeline, tmp_path, monkeypatch):
    import shutil

    from kamerbrief.pipeline import nlp

    checkout = tmp_path / "checkout"
    shutil.copytree(tiny_pipeline, checkout / "models" / "tiny-x")
    monkeypatch.setattr("kamerbrief.paths.checkout_root", lambda: checkout)
    monkeypatch.chdir(tmp_path)
    assert nlp.find_model("tiny-x").source == "checkout"
    assert nlp.find_model("tiny_x").path == checkout / "models" / "tiny-x"  # spelled as pip would
    shutil.copytree(tiny_pipeline, tmp_path / "tiny-x")
    assert nlp.find_model("tiny-x").source == "folder"  # a folder of that name here comes first
    with pytest.raises(ModelNotFoundError, match="E502.*no model 'nowhere'"):
        nlp.find_model("nowhere")
    monkeypatch.setenv("KAMERBRIEF_MODEL", "tiny-x")
    assert nlp.find_model().path == Path("tiny-x")


def test_package_refuses_what_it_cannot_build(tiny_pipeline, tmp_path):
    from kamerbrief.cli import app

    runner = CliRunner()
    bad_version = runner.invoke(app, ["package", str(tiny_pipeline), str(tmp_path), "--version", "one", "--build", "wheel"])
    assert bad_version.exit_code == 2 and "E503" in bad_version.output and "not a valid package version" in bad_version.output
    inner = tiny_pipeline / "kamerbrief_transformer" / "model"  # a trained model, not a saved pipeline
    not_pipeline = runner.invoke(app, ["package", str(inner), str(tmp_path)])
    assert not_pipeline.exit_code == 2 and "E503" in not_pipeline.output and "config.cfg" in not_pipeline.output
    missing = runner.invoke(app, ["package", "no-such-model", str(tmp_path)])
    assert missing.exit_code == 2 and "E502" in missing.output and "Traceback" not in missing.output


def test_a_setuptools_too_old_for_wheels_is_named_with_its_fix():
    from kamerbrief.pipeline.packaging import build_failure_reason

    # The tail of what `kamerbrief package` got from setuptools 65.5 (a fresh Python 3.11 venv) without `wheel`.
    stderr = ("usage: -c [global_opts] cmd1 [cmd1_opts] [cmd2 [cmd2_opts] ...]\n"
              "   or: -c --help [cmd1 cmd2 ...]\n\nerror: invalid command 'bdist_wheel'\n")
    assert "pip install -U 'setuptools>=70.1'" in build_failure_reason(stderr)
    assert "pip install 'setuptools>=70.1'" in build_failure_reason("ModuleNotFoundError: No module named 'setuptools'")
    assert build_failure_reason("something else\n") == "something else"


def test_a_failed_build_leaves_no_package_folder(tiny_pipeline, tmp_path, monkeypatch):
    from kamerbrief.errors import PackagingError
    from kamerbrief.pipeline import packaging

    def fail(folder, kind):
        raise PackagingError(f"building the {kind} failed", folder)

    monkeypatch.setattr(packaging, "_build", fail)
    with pytest.raises(PackagingError, match="E503"):
        packaging.package_model(tiny_pipeline, tmp_path, name="tiny-kamerbrief", formats=("wheel",))
    assert list(tmp_path.iterdir()) == []
