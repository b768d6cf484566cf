"""Store the reference outputs that nbval compares, and nothing else.

nbval (``--nbval-lax``) compares a cell's output only when the cell is marked
``# NBVAL_CHECK_OUTPUT`` *and* the notebook holds a reference output for it (a cell stored
without an execution count is never compared). Our notebooks are stored without outputs, so
this script executes each notebook on the sample study, exactly as nbval does (kernel started
in ``notebooks/``, default parameters), and keeps the outputs of the marked cells only —
tables and numbers as text/plain and text/html; images are dropped (nbval does not compare
them). Every other cell stays empty. ``tests/test_setup.py`` checks that every marked cell has
its reference, so a marker can never silently check nothing.

Run it after changing a notebook or a number it shows (``make notebook-outputs``)::

    .venv/bin/python tests/store_notebook_outputs.py [notebooks/NN_name.ipynb ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MARK = "NBVAL_CHECK_OUTPUT"
DROP = ("image/png", "image/jpeg", "image/svg+xml", "application/vnd.jupyter.widget-view+json")


def is_checked(cell) -> bool:
    return cell.cell_type == "code" and any(line.strip() == f"# {MARK}" for line in cell.source.splitlines())


def reference_outputs(outputs: list) -> list:
    kept = []
    for out in outputs:
        out = nbformat.from_dict(dict(out))
        if "data" in out:
            out["data"] = {k: v for k, v in out["data"].items() if k not in DROP}
            if not out["data"]:
                continue
            out["metadata"] = {}
        kept.append(out)
    return kept


def store(path: Path) -> int:
    executed = nbformat.read(path, as_version=4)
    NotebookClient(executed, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    by_id = {c.get("id"): c for c in executed.cells}
    # re-read: write back only outputs, never an older copy of the prose
    nb = nbformat.read(path, as_version=4)
    n = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        ran = by_id.get(cell.get("id"))
        if is_checked(cell) and ran is not None and ran.source == cell.source:
            n += 1
            cell.outputs = reference_outputs(ran.outputs)
            cell.execution_count = n
        else:
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, path)
    return n


def main(argv: list[str]) -> None:
    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / "notebooks").glob("**/*.ipynb"))
    for p in paths:
        if ".ipynb_checkpoints" in p.parts or "outputs" in p.parts:
            continue
        print(f"{p.relative_to(ROOT)}: {store(p)} reference outputs", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
