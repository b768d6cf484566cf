"""The package's layers are checked, not only stated (docs/architecture.md, issue 13).

Four checks, each failing with the offending module and line:

- import-linter's layers contract in pyproject.toml (``lint-imports``);
- an AST scan of every module under ``journeylab/``: no import cycle between modules or between
  subpackages (imports inside functions count: they hide a cycle, they do not remove it), no
  underscore name imported from another module, no import inside a function without a comment
  saying why (an optional dependency, or a measured import-time saving);
- ``ruff check`` with the configuration in pyproject.toml;
- ``python -c "import journeylab"`` run from inside ``journeylab/`` (a module named like a
  standard-library one would shadow it there).
"""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "journeylab"

# the layers, lowest first; a module may import only from its own layer and the layers before it
LAYERS = ["utils", "study", "coding", "measure", "evidence", "map", "interop", "run", "course"]
# top-level modules below every layer (errors) or beside the top (datasets: names bundled files)
BASE = {"journeylab.errors": -1, "journeylab.datasets": -1}


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    target: str  # dotted journeylab module imported
    names: tuple[str, ...]  # names taken from it (empty for ``import x``)
    line: int
    in_function: bool
    commented: bool  # a comment on the import's line or on the line just above it


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _has_comment(lines: list[str], node: ast.stmt) -> bool:
    """A comment on the import's own lines, or above the run of import lines it belongs to."""
    own = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
    if any("#" in line for line in own):
        return True
    i = node.lineno - 2
    while i >= 0 and lines[i].strip().startswith(("import ", "from ")):
        i -= 1
    return i >= 0 and lines[i].strip().startswith("#")


def imports_of(name: str, path: Path, known: set[str]) -> list[Import]:
    """Every import statement in a module: journeylab targets resolved, others kept as written."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source, filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(name, alias.name, (), child.lineno, in_function,
                                        _has_comment(lines, child)))
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(name, is_package, child)
                names = tuple(a.name for a in child.names)
                if target.startswith("journeylab"):
                    # ``from . import pii`` imports the module journeylab.study.pii
                    submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in known]
                    rest = tuple(n for n in names if f"{target}.{n}" not in known)
                    for sub in submodules:
                        found.append(Import(name, sub, (), child.lineno, in_function,
                                            _has_comment(lines, child)))
                    if rest or not submodules:
                        found.append(Import(name, target, rest, child.lineno, in_function,
                                            _has_comment(lines, child)))
                else:
                    found.append(Import(name, target, names, child.lineno, in_function,
                                        _has_comment(lines, child)))
            visit(child, inside)

    visit(tree, False)
    return found


def all_imports() -> list[Import]:
    mods = modules()
    known = set(mods)
    return [imp for name, path in mods.items() for imp in imports_of(name, path, known)]


def subpackage(module: str) -> str:
    """``journeylab.measure.funnel`` -> ``journeylab.measure``; top-level modules stand alone."""
    parts = module.split(".")
    return ".".join(parts[:2])


def _internal(imports: list[Import]) -> list[Import]:
    # the package root re-exports the public API; it is the top, not a layer to import from
    return [i for i in imports if i.target.startswith("journeylab") and i.importer != "journeylab"]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (or a self-loop), by Tarjan."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(edges):
        if v not in index:
            strong(v)
    return out


def module_cycles(imports: list[Import]) -> list[list[str]]:
    edges: dict[str, set[str]] = {}
    for imp in _internal(imports):
        if imp.target != imp.importer:
            edges.setdefault(imp.importer, set()).add(imp.target)
    return cycles(edges)


def subpackage_cycles(imports: list[Import]) -> list[list[str]]:
    edges: dict[str, set[str]] = {}
    for imp in _internal(imports):
        a, b = subpackage(imp.importer), subpackage(imp.target)
        if a != b and b != "journeylab":
            edges.setdefault(a, set()).add(b)
    return cycles(edges)


def private_imports(imports: list[Import], across: str = "subpackage") -> list[Import]:
    """Underscore names imported from another subpackage (or, ``across="module"``, another module)."""
    key = subpackage if across == "subpackage" else (lambda m: m)
    return [i for i in _internal(imports)
            if key(i.importer) != key(i.target)
            and any(n.startswith("_") and not n.startswith("__") for n in i.names)]


def function_imports(imports: list[Import]) -> list[Import]:
    return [i for i in imports if i.in_function]


def layer_of(module: str) -> int:
    if module in BASE:
        return BASE[module]
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else len(LAYERS)


def upward_imports(imports: list[Import]) -> list[Import]:
    return [i for i in _internal(imports) if layer_of(i.target) > layer_of(i.importer)]


def _show(found: list[Import]) -> str:
    return "\n".join(f"  {i.importer} line {i.line}: {i.target} {', '.join(i.names)}" for i in found)


# --- the checks -------------------------------------------------------------------------------------

def test_every_subpackage_is_a_layer():
    on_disk = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    assert on_disk == sorted(LAYERS), "a new subpackage needs its place in LAYERS and in pyproject.toml"


def test_no_import_cycle_between_modules():
    found = module_cycles(all_imports())
    assert not found, "import cycles (imports inside functions count):\n" + "\n".join(map(" <-> ".join, found))


def test_no_import_cycle_between_subpackages():
    found = subpackage_cycles(all_imports())
    assert not found, "subpackage cycles:\n" + "\n".join(map(" <-> ".join, found))


def test_no_layer_imports_from_a_later_layer():
    found = upward_imports(all_imports())
    assert not found, f"imports from a later layer ({' < '.join(LAYERS)}):\n" + _show(found)


def test_no_private_name_crosses_a_module():
    # what two modules share gets a real name (FunnelSpec, check_study, normalize_coder, ...)
    found = private_imports(all_imports(), across="module")
    assert not found, "underscore names imported from another module; give them a real name:\n" + _show(found)


def test_imports_inside_functions_say_why():
    found = [i for i in function_imports(all_imports()) if not i.commented]
    assert not found, ("imports inside functions are for optional dependencies or a measured import-time "
                       "saving, with a comment saying which:\n" + _show(found))


def test_no_library_module_imports_the_public_package():
    found = [i for i in all_imports() if i.target == "journeylab" and i.importer != "journeylab"]
    assert not found, "library modules import what they need from its module, not `journeylab`:\n" + _show(found)


def test_the_scan_sees_a_cycle_and_a_private_import():
    # the scan itself can fail: a two-module cycle and a crossing underscore name are both found
    fake = [Import("journeylab.map.a", "journeylab.map.b", ("x",), 1, False, False),
            Import("journeylab.map.b", "journeylab.map.a", ("y",), 1, True, False),
            Import("journeylab.run.c", "journeylab.study.d", ("_hidden",), 3, False, False)]
    assert module_cycles(fake) == [["journeylab.map.a", "journeylab.map.b"]]
    assert [i.line for i in private_imports(fake)] == [3]
    assert [i.line for i in private_imports(fake, across="module")] == [3]
    assert [i.importer for i in upward_imports(fake)] == []
    assert [i.importer for i in function_imports(fake)] == ["journeylab.map.b"]


def _tool(name: str) -> str:
    exe = Path(sys.executable).parent / name
    if exe.exists():
        return str(exe)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: it is in the test extras of pyproject.toml (pip install -e '.[test]')")
    return found


def test_import_linter_layers_contract():
    out = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and "0 broken" in out.stdout, out.stdout + out.stderr


def test_ruff_passes():
    out = subprocess.run([_tool("ruff"), "check", "--no-cache", "journeylab", "tests"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_package_imports_from_inside_its_own_folder():
    out = subprocess.run([sys.executable, "-c", "import journeylab"], cwd=PACKAGE, capture_output=True,
                         text=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert out.returncode == 0, out.stderr


def test_every_module_compiles_without_warnings():
    """An invalid escape such as ``\\w`` in a docstring is a SyntaxWarning today and an error later."""
    import warnings

    bad = {}
    for path in sorted((ROOT / "journeylab").rglob("*.py")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                compile(path.read_text(encoding="utf-8"), str(path), "exec")
            except (SyntaxError, SyntaxWarning, DeprecationWarning) as e:
                bad[path.relative_to(ROOT).as_posix()] = str(e)
    assert not bad, bad
