"""The two install routes (Makefile/venv and environment.yml) cannot drift apart."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import tomllib
import yaml
from conftest import ROOT


def _env():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def test_environment_yml_installs_what_the_makefile_installs():
    env = _env()
    deps = env["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip = [d for d in deps if isinstance(d, dict)]
    # conda supplies only the interpreter and pip; everything else comes from pyproject.toml
    assert sorted(re.split(r"[=<>]", d)[0] for d in conda) == ["pip", "python"]
    assert len(pip) == 1 and len(pip[0]["pip"]) == 1
    makefile = (ROOT / "Makefile").read_text()
    spec = re.search(r"^INSTALL_SPEC\s*:=\s*(.+)$", makefile, re.M).group(1).strip()
    # compare as the shell and pip see them: '-e .[test]' in one quoted word fails in pip
    assert shlex.split(spec) == ["-e", ".[test]"]
    assert pip[0]["pip"][0].split() == shlex.split(spec)


def test_makefile_install_line_is_what_pip_receives():
    out = subprocess.run(["make", "-n", "-B", "-C", str(ROOT), ".venv/.installed"],
                         capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if "pip install" in ln and "-e" in ln)
    args = shlex.split(line)
    i = args.index("-e")
    assert args[i + 1] == ".[test]", line


def test_environment_yml_pins_the_python_ci_uses():
    pin = next(d for d in _env()["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert pin == f"python={sys.version_info.major}.{sys.version_info.minor}"


def test_installed_environment_satisfies_pyproject():
    from importlib.metadata import requires, version

    from packaging.requirements import Requirement

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {Requirement(r).name.lower() for r in meta["dependencies"]}
    assert {"jupyterlab", "ipywidgets", "pandas", "matplotlib", "nltk", "statsmodels", "nbval"} <= declared
    installed = {Requirement(r).name.lower() for r in requires("journeylab") if "extra ==" not in r}
    assert installed == declared, "reinstall: the installed metadata is older than pyproject.toml"
    for name in declared:
        version(name)  # raises if missing


def test_no_notebook_downloads_nltk_data():
    # library code is guarded at run time (conftest replaces nltk.download with a failure)
    hits = subprocess.run(["grep", "-rln", r"nltk\.download(", str(ROOT / "notebooks")],
                          capture_output=True, text=True).stdout
    assert hits == ""


def test_every_checked_notebook_cell_has_a_reference_output():
    # nbval compares a `# NBVAL_CHECK_OUTPUT` cell only against a stored output; without one the
    # marker checks nothing. `make notebook-outputs` stores them (tests/store_notebook_outputs.py).
    import nbformat
    from store_notebook_outputs import is_checked

    missing, stray = [], []
    for path in sorted((ROOT / "notebooks").glob("**/*.ipynb")):
        if ".ipynb_checkpoints" in path.parts or "outputs" in path.parts:
            continue
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type != "code":
                continue
            where = f"{path.relative_to(ROOT)} cell {i}"
            if is_checked(cell) and (cell.execution_count is None or not cell.outputs):
                missing.append(where)
            if not is_checked(cell) and cell.outputs:
                stray.append(where)
    assert not missing, f"run `make notebook-outputs`; no reference output for {missing}"
    assert not stray, f"outputs stored in unchecked cells (strip them): {stray}"


def test_every_resource_file_of_the_package_is_package_data():
    """A file the package reads at run time (lexicons, templates, the span widget's JS/CSS) must be
    named by pyproject's package-data, or a non-editable install lacks it."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["journeylab"]
    pkg = ROOT / "journeylab"
    covered = {p.relative_to(pkg).as_posix() for pat in patterns for p in pkg.glob(pat) if p.is_file()}
    tracked = subprocess.run(["git", "ls-files", "journeylab"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    resources = {Path(f).relative_to("journeylab").as_posix() for f in tracked
                 if not f.endswith((".py", ".typed")) and Path(f).name != ".gitignore"}
    assert resources, "git ls-files found no resource files (not a git checkout?)"
    missing = sorted(resources - covered)
    assert not missing, f"files in journeylab/ that pyproject's package-data does not ship: {missing}"
