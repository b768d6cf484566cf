"""Run the notebook sequence on a study: ``journeylab run STUDY --out DIR``.

Notebooks are executed with **nbclient** (already installed with JupyterLab, so no extra
dependency; papermill would add a package for the one feature we need, parameter injection,
which is a few lines here). The first code cell of each notebook is tagged ``parameters``; a new
cell tagged ``injected-parameters`` is inserted after it with this run's values, as papermill does.
"""
from __future__ import annotations

__all__ = ["run", "demo", "notebook_paths", "NotebookFailed"]

import json
import sys
import time
from pathlib import Path

from .errors import JourneylabError

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"


class NotebookFailed(JourneylabError):
    """A notebook raised during ``run``; the message shows the cell and the error."""


def notebook_paths(folder: Path | str | None = None) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``) of the sequence, in order."""
    folder = Path(folder) if folder else NOTEBOOK_DIR
    if not folder.is_dir():
        raise JourneylabError(f"notebook folder {folder} not found; journeylab's notebooks ship with the source "
                              "checkout (notebooks/)")
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def _inject(nb, params: dict):
    import nbformat

    code = "# Parameters injected by `journeylab run`\n" + "\n".join(f"{k} = {v!r}" for k, v in params.items())
    cell = nbformat.v4.new_code_cell(code)
    cell.metadata["tags"] = ["injected-parameters"]
    cell.pop("id", None)
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", []):
            nb.cells.insert(i + 1, cell)
            return nb
    nb.cells.insert(0, cell)
    return nb


def _failed_cell(nb, exc) -> str:
    for i, c in enumerate(nb.cells):
        for out in c.get("outputs", []):
            if out.get("output_type") == "error":
                src = c.source if len(c.source) < 800 else c.source[:800] + "\n..."
                return f"cell {i + 1}:\n{src}\n--> {out.get('ename')}: {out.get('evalue')}"
    return str(exc)


def run(study, out, *, notebooks=None, seed: int = 2026, timeout: int = 600, quiet: bool = False,
        kernel_name: str = "python3") -> dict:
    """Execute every notebook on ``study`` and write the results to ``out``.

    Parameters
    ----------
    study : str or Path
        A study folder (see ``docs/study-format.md``).
    out : str or Path
        Output folder; created if needed. Executed notebooks go to ``out/notebooks/``, what the
        notebooks produce (tables, figures, the map and report) to ``out/``.
    notebooks : list of Path, optional
        Defaults to every numbered notebook in ``notebooks/``.
    seed : int
        Passed to every notebook as ``seed``.

    Returns
    -------
    dict
        The run manifest, also written to ``out/manifest.json``.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from .manifest import write_manifest

    study = Path(study).resolve()
    out = Path(out).resolve()
    if not study.is_dir():
        raise JourneylabError(f"study folder {study} not found")
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    paths = [Path(p) for p in notebooks] if notebooks else notebook_paths()
    params = {"study_path": str(study), "output_dir": str(out), "seed": seed}
    timings = {}
    for k, path in enumerate(paths, 1):
        t0 = time.perf_counter()
        if not quiet:
            print(f"[{k}/{len(paths)}] {path.name} ...", end="", flush=True)
        nb = _inject(nbformat.read(path, as_version=4), params)
        client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name,
                                resources={"metadata": {"path": str(path.parent)}})
        target = out / "notebooks" / path.name
        try:
            client.execute()
        except CellExecutionError as exc:
            nbformat.write(nb, target)
            if not quiet:
                print(" FAILED")
            raise NotebookFailed(f"{path.name} failed at {_failed_cell(nb, exc)}\n"
                                 f"The partly executed notebook is in {target}; earlier outputs are kept in {out}.") from None
        nbformat.write(nb, target)
        timings[path.name] = round(time.perf_counter() - t0, 2)
        if not quiet:
            print(f" done in {timings[path.name]:.1f} s")
    manifest = write_manifest(study, out, params=params, notebooks=[p.name for p in paths], timings=timings)
    if not quiet:
        print(f"\nResults in {out}:")
        for p in sorted(out.iterdir()):
            print(f"  {p.name}{'/' if p.is_dir() else ''}")
    return manifest


def demo(out="reports", **kwargs) -> dict:
    """``run`` on the bundled sample study."""
    from .datasets import sample_study_path

    return run(sample_study_path(), out, **kwargs)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(json.dumps(demo()))
