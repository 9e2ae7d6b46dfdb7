"""The import layers (README, "Layout"): inference loads no training code and no ``datasets``, and every
import of a kamerbrief module, at module level or inside a function, points down the layers, never up."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module may import modules of its own layer and of the layers before it. Where a folder
# holds several layers (the reader and the model under pipeline/), the longest prefix decides.
LAYERS = [
    ("core", ("kamerbrief.errors", "kamerbrief.paths")),
    ("reader", ("kamerbrief.pipeline.reader",)),
    ("data", ("kamerbrief.data",)),
    ("model", ("kamerbrief.pipeline.model",)),
    ("pipeline", ("kamerbrief.pipeline",)),
    ("evaluation", ("kamerbrief.evaluation",)),
    ("training", ("kamerbrief.training",)),
    ("interface", ("kamerbrief.cli", "kamerbrief")),
]
# Folder -> the package it is installed as (pyproject.toml's package-dir).
FOLDERS = {"kamerbrief": "kamerbrief", "pipeline": "kamerbrief.pipeline", "data": "kamerbrief.data",
           "training": "kamerbrief.training", "evaluation": "kamerbrief.evaluation"}


def layer(module: str) -> int:
    matches = [(len(prefix), rank) for rank, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes
               if module == prefix or module.startswith(prefix + ".")]
    return max(matches)[1]


def module_name(path: Path) -> str:
    folder, *rest = path.relative_to(ROOT).with_suffix("").parts
    parts = [FOLDERS[folder], *rest]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, module: str) -> list[tuple[int, str]]:
    """``(line, module)`` for every kamerbrief import in the file, relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from kamerbrief.pipeline import rules`` imports the module kamerbrief.pipeline.rules.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "kamerbrief"]


def test_every_import_points_down_the_layers():
    wrong = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = module_name(path)
            for line, imported in imported_modules(path, module):
                if imported == "kamerbrief" or imported.startswith("kamerbrief.__"):
                    continue  # the package root (``__version__``): loaded before any module of it anyway
                if layer(imported) > layer(module):
                    wrong.append(f"{path.relative_to(ROOT)}:{line}: {module} ({LAYERS[layer(module)][0]}) imports "
                                 f"{imported} ({LAYERS[layer(imported)][0]})")
    assert not wrong, "imports up the layers:\n" + "\n".join(wrong)


def test_the_layer_rule_sees_relative_and_function_level_imports(tmp_path):
    assert layer("kamerbrief.pipeline.reader.dates") < layer("kamerbrief.data.records") < layer("kamerbrief.pipeline.model.decoding")
    assert layer("kamerbrief.pipeline.model.decoding") < layer("kamerbrief.pipeline.rules") < layer("kamerbrief.training.train")
    assert module_name(ROOT / "pipeline" / "reader" / "__init__.py") == "kamerbrief.pipeline.reader"
    source = tmp_path / "dates.py"
    source.write_text("def parse():\n    from ..rules import rule_spans\n    from kamerbrief import training\n")
    found = imported_modules(source, "kamerbrief.pipeline.reader.dates")
    assert found == [(2, "kamerbrief.pipeline.rules.rule_spans"), (3, "kamerbrief.training")]
    assert [layer(name) > layer("kamerbrief.pipeline.reader.dates") for _, name in found] == [True, True]


INFERENCE = """
import json, sys
import kamerbrief
from kamerbrief.cli import app

nlp = kamerbrief.load()
record = kamerbrief.annotate_letter(sys.argv[1], nlp)
app(["annotate", sys.argv[1], "--out", sys.argv[2]], standalone_mode=False)
print(json.dumps({"paragraphs": len(record["paragraphs"]),
                  "loaded": sorted(m for m in sys.modules if m.startswith(("kamerbrief.training", "datasets")))}))
"""


def test_inference_imports_no_training_code_and_no_datasets(tiny_pipeline, tmp_path):
    """``kamerbrief.load()`` and annotating a letter, in the library and through `kamerbrief annotate`, in a
    fresh process: the training code and ``datasets`` (slow to import, only for training) stay unloaded."""
    letter = tmp_path / "brief.txt"
    letter.write_text("Den Haag, 11 januari 2021\n\nHet kabinet neemt de aanbeveling van de Nationaal Rapporteur over.\n\n"
                      "De minister stuurt voor het zomerreces van 2021 een brief aan de Kamer.\n", encoding="utf-8")
    env = {**os.environ, "KAMERBRIEF_MODEL": str(tiny_pipeline)}
    result = subprocess.run([sys.executable, "-c", INFERENCE, str(letter), str(tmp_path / "out")], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["paragraphs"] >= 2
    assert (tmp_path / "out" / "annotations.jsonl").is_file()
    assert report["loaded"] == []
