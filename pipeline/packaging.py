"""``kamerbrief package``: a model folder -> a pip-installable model package, in spaCy's layout.

    OUT/kamerbrief_nl_e5s_l4-0.1.0/            the package's source folder
        pyproject.toml  MANIFEST.in  meta.json  README.md (the model card)
        kamerbrief_nl_e5s_l4/
            __init__.py                        load(**overrides), as a spaCy model package has it
            meta.json
            nl_kamerbrief_nl_e5s_l4-0.1.0/     the pipeline folder (spaCy's <lang>_<name>-<version>)
        dist/kamerbrief_nl_e5s_l4-0.1.0-py3-none-any.whl, kamerbrief_nl_e5s_l4-0.1.0.tar.gz

As with ``spacy package``, the package depends on the code its components need: kamerbrief, whose
``spacy_factories`` entry points register them, at the minor version that made it. It declares a
``spacy_models`` entry point, so ``spacy.load("kamerbrief_nl_e5s_l4")`` and spaCy's model listing find
it, and a ``kamerbrief_models`` entry point, by which ``kamerbrief.load("kamerbrief-nl-e5s-l4")`` and
``kamerbrief models`` find it (``kamerbrief.pipeline.nlp.find_model``). Unlike ``spacy package`` the
package is not prefixed with the language (``nl_``): the installed package has the model's own name.

The wheel and sdist are built with setuptools' PEP 517 backend in this environment (no download).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from kamerbrief.errors import PackagingError

FORMATS = ("wheel", "sdist")

INIT_PY = '''"""The kamerbrief model {name} {version}, packaged by `kamerbrief package`. Load it with
kamerbrief.load("{name}") or spacy.load("{module}")."""
from pathlib import Path

from spacy.util import get_model_meta, load_model_from_init_py

__version__ = get_model_meta(Path(__file__).parent)["version"]


def load(**overrides):
    return load_model_from_init_py(__file__, **overrides)
'''

PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{module}"
version = "{version}"
description = {description}
readme = "README.md"
requires-python = ">=3.10"
dependencies = {dependencies}

[project.entry-points.spacy_models]
{module} = "{module}"

[project.entry-points.kamerbrief_models]
"{name}" = "{module}"

[tool.setuptools]
packages = ["{module}"]
include-package-data = false

[tool.setuptools.package-data]
{module} = ["meta.json", "**/*"]
'''

MANIFEST = "include meta.json\ninclude README.md\nrecursive-include {module} *\n"


def package_model(model: str | Path, out_dir: str | Path, name: str | None = None, version: str | None = None,
                  formats: tuple[str, ...] = FORMATS, force: bool = False) -> dict:
    """Package the model ``model`` (a name or folder, as ``kamerbrief.load`` finds it) into ``out_dir``.
    Returns ``{"name", "module", "version", "folder", "files"}`` (the built wheel and sdist)."""
    import kamerbrief
    from kamerbrief.pipeline.nlp import find_model, model_key

    info = find_model(model)
    source = info.path
    if not (source / "config.cfg").is_file() or not (source / "meta.json").is_file():
        raise PackagingError("not a saved kamerbrief pipeline (config.cfg and meta.json); a trained model folder "
                             "from `kamerbrief train` is one", source)
    name = model_key(name or info.name)
    module = name.replace("-", "_")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", module):
        raise PackagingError(f"package name {name!r}: use letters, digits, '-' and '_', starting with a letter", source)
    meta = json.loads((source / "meta.json").read_text(encoding="utf-8"))
    version = _check_version(version or str(meta.get("version") or "0.1.0"), source)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise PackagingError(f"unknown build format(s) {', '.join(unknown)} (choose from {', '.join(FORMATS)})")
    from spacy.util import get_minor_version_range

    requirement = f"kamerbrief{get_minor_version_range(kamerbrief.__version__)}"
    meta.update({"name": module, "version": version,
                 "requirements": [requirement, *(r for r in meta.get("requirements", []) if not _is_kamerbrief(r))]})
    out_dir = Path(out_dir)
    folder = out_dir / f"{module}-{version}"
    if folder.exists():
        if not force:
            raise PackagingError("the package folder exists already: remove it or pass --force", folder)
        shutil.rmtree(folder)
    package_dir = folder / module
    data_dir = package_dir / f"{meta['lang']}_{module}-{version}"
    shutil.copytree(source, data_dir, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    meta_text = json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
    for target in (folder, package_dir, data_dir):
        (target / "meta.json").write_text(meta_text, encoding="utf-8")
    card = source / "README.md"
    (folder / "README.md").write_text(card.read_text(encoding="utf-8") if card.is_file() else f"# {name}\n", encoding="utf-8")
    (package_dir / "__init__.py").write_text(INIT_PY.format(name=name, module=module, version=version), encoding="utf-8")
    (folder / "pyproject.toml").write_text(PYPROJECT.format(
        name=name, module=module, version=version, description=json.dumps(_one_line(meta.get("description", ""))),
        dependencies=json.dumps(meta["requirements"])), encoding="utf-8")
    (folder / "MANIFEST.in").write_text(MANIFEST.format(module=module), encoding="utf-8")
    try:
        files = [_build(folder, kind) for kind in formats]
    except PackagingError:
        shutil.rmtree(folder)  # half built: a rerun after the fix needs no --force
        raise
    return {"name": name, "module": module, "version": version, "folder": folder, "files": files}


def _is_kamerbrief(requirement: str) -> bool:
    return re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0].strip().lower() == "kamerbrief"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:400]


def _check_version(version: str, where) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(version))
    except InvalidVersion:
        raise PackagingError(f"version {version!r} is not a valid package version (e.g. 0.1.0)", where) from None


def _build(folder: Path, kind: str) -> Path:
    """One distribution through setuptools' build backend, run as a PEP 517 frontend would, without
    build isolation (nothing is downloaded)."""
    dist = folder / "dist"
    dist.mkdir(exist_ok=True)
    hook = "build_wheel" if kind == "wheel" else "build_sdist"
    code = f"import sys\nfrom setuptools import build_meta\nprint(build_meta.{hook}(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", code, str(dist.resolve())], cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        raise PackagingError(f"building the {kind} failed: {build_failure_reason(done.stderr)}", folder)
    return dist / done.stdout.strip().splitlines()[-1]


def build_failure_reason(stderr: str) -> str:
    """What the user can do about a failed build, from the build backend's stderr."""
    if "No module named 'setuptools'" in stderr:
        return "setuptools is not installed (pip install 'setuptools>=70.1')"
    if "invalid command 'bdist_wheel'" in stderr:
        # Before 70.1 setuptools needs the separate `wheel` package for wheels; Python 3.11's venv brings 65.5.
        return "this setuptools cannot build wheels on its own (pip install -U 'setuptools>=70.1')"
    return stderr.strip()[-2000:]
