"""Run the notebook sequence on a study: ``journeylab run STUDY --out DIR``.

Notebooks are executed with **nbclient**, not papermill. nbclient is what JupyterLab, nbconvert
and nbval already use (it is installed with them, so no extra dependency), and the one feature
papermill would add, parameter injection, is a few lines here: the first code cell of each
notebook is tagged ``parameters``, and a new cell tagged ``injected-parameters`` is inserted after
it with this run's values, as papermill does. Owning the loop also lets the run stop at the first
failing cell with the cell and its error in the message, keep the partly executed notebook, and
start every kernel with the same hash seed (see :func:`run`).
"""
from __future__ import annotations

__all__ = ["run", "demo", "notebook_paths", "notebook_parameters", "NotebookFailed", "RUNS_AFTER", "schedule"]

import ast
import datetime as _dt
import json
import os
import re
import sys
import threading
import time
import warnings
from pathlib import Path

from ..coding.store import checkpoint_store
from ..datasets import sample_study_path
from ..errors import JourneylabError, StudyError  # noqa: F401 - StudyError: raised through load_study_cached
from ..map.report import replace_manifest, to_pdf
from ..study.cache import cache_record as study_cache_record
from ..study.load import load_study_cached
from .manifest import write_manifest

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"

#: Environment of every kernel: a fixed hash seed (set and dict-of-str iteration order does not
#: change between runs) and a fixed build date (matplotlib writes it into PDF/SVG files saved
#: without explicit metadata).
KERNEL_ENV = {"PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01T00:00:00Z

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

#: Tag of the notebooks' markdown cells that tell the sample study's findings ("In the sample study,
#: the ... step loses ..."): kept in the executed notebooks of a run on the sample study, left out of a run
#: on any other study, whose numbers they do not describe.
SAMPLE_TAG = "sample-study"


#: Notebooks of journeylab's own sequence that must wait for others when notebooks run side by side
#: (``jobs=2``). Every notebook reads the study from the run's cache and writes files of its own, so
#: the others are independent; these see files another notebook writes, and see them as in a
#: sequential run only if they wait:
RUNS_AFTER = {
    # 05's closing cell lists funnel*.csv in the output folder; 09 writes funnel_*_dask.csv
    "09_scale.ipynb": ("05_metrics.ipynb",),
}

#: The sequence's slowest notebooks (seconds on the sample study, measured): started first when notebooks
#: run side by side, so the run does not end waiting for one long notebook started last.
SLOW_FIRST = ("07_journey_map.ipynb", "05_metrics.ipynb", "02_coding.ipynb", "06_evidence.ipynb")


def schedule(names, *, after: dict, jobs: int, run_one, first=()) -> dict:
    """Run ``run_one(name)`` for every name, ``jobs`` at a time, each only after the names it waits for.

    Parameters
    ----------
    names : list of str
        The notebooks, in the sequence's order.
    after : dict
        name → the names it must wait for (names not in ``names`` are ignored).
    jobs : int
        How many run at once (1: one after the other, in order).
    run_one : callable
        ``run_one(name)`` → True when it succeeded. It runs in a thread of its own.
    first : sequence of str
        Names to start before the others when several could start.

    Returns
    -------
    dict
        name → what ``run_one`` returned, for every name that ran. After a failure no new name
        starts; the ones running finish. An exception raised by ``run_one`` is raised again once
        they have (the first in ``names``' order). With ``jobs=1`` every call runs in this thread.

    Examples
    --------
    >>> done = []
    >>> res = schedule(["a", "b", "c"], after={"c": ("a",)}, jobs=2, run_one=lambda n: done.append(n) or True)
    >>> sorted(res), done.index("a") < done.index("c")
    (['a', 'b', 'c'], True)
    """
    wanted = set(names)
    waits = {n: {a for a in after.get(n, ()) if a in wanted and a != n} for n in names}
    order = [n for n in first if n in wanted] + [n for n in names if n not in set(first)]
    results: dict = {}
    if jobs <= 1:  # one after the other, here (Ctrl-C reaches the notebook running)
        while True:
            ready = [n for n in order if n not in results and waits[n] <= set(results)]
            if not ready:
                return results
            results[ready[0]] = ok = run_one(ready[0])
            if not ok:
                return results
    running: set = set()
    errors: dict = {}
    cond = threading.Condition()
    failed = False

    def work(name):
        nonlocal failed
        ok = False
        try:
            ok = run_one(name)
        except Exception as exc:  # noqa: BLE001 - raised again in the caller's thread once the others finish
            errors[name] = exc
        with cond:
            results[name] = ok
            running.discard(name)
            failed = failed or not ok
            cond.notify_all()

    threads = []
    with cond:
        while True:
            ready = [n for n in order if n not in results and n not in running and waits[n] <= set(results)]
            if failed or (not ready and not running):
                break
            if ready and len(running) < jobs:
                name = ready[0]
                running.add(name)
                t = threading.Thread(target=work, args=(name,), name=f"journeylab-run-{name}", daemon=True)
                threads.append(t)
                t.start()
                continue
            cond.wait()
        while running:
            cond.wait()
    for t in threads:
        t.join()
    for name in names:
        if name in errors:
            raise errors[name]
    return results


class NotebookFailed(JourneylabError):
    """A notebook raised during :func:`run`; the message shows the notebook, cell and error.

    Attributes
    ----------
    notebook : str
        File name of the failing notebook.
    cell : int or None
        1-based position of the failing cell in the original notebook (None if unknown).
    executed : pathlib.Path
        The partly executed notebook, with every output up to the error.
    manifest : dict
        The run manifest written so far (``status`` is ``"failed"``).
    """

    def __init__(self, message: str, *, notebook: str = "", cell: int | None = None, executed=None,
                 manifest: dict | None = None):
        super().__init__(message)
        self.notebook, self.cell, self.executed, self.manifest = notebook, cell, executed, manifest or {}


def notebook_paths(folder: Path | str | None = None) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``) of the sequence, in order.

    Parameters
    ----------
    folder : str or Path, optional
        Default: the ``notebooks/`` folder of the source checkout.

    Returns
    -------
    list of Path

    Examples
    --------
    >>> from journeylab.run.pipeline import notebook_paths
    >>> [p.name for p in notebook_paths()][:2]
    ['00_start_here.ipynb', '01_study_data.ipynb']
    """
    folder = Path(folder) if folder else NOTEBOOK_DIR
    if not folder.is_dir():
        raise JourneylabError(f"notebook folder {folder} not found; journeylab's notebooks ship with the source "
                              "checkout (notebooks/)")
    paths = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise JourneylabError(f"notebook folder {folder} has no numbered notebooks (NN_name.ipynb)")
    return paths


def _parameters_cell(nb):
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", []):
            return i, c
    return None, None


def notebook_parameters(path) -> dict:
    """The defaults of a notebook's ``parameters`` cell (literal assignments only).

    Parameters
    ----------
    path : str or Path
        A notebook.

    Returns
    -------
    dict
        Name → value, in the order of the cell.

    Examples
    --------
    >>> from journeylab.run.pipeline import notebook_parameters, notebook_paths
    >>> notebook_parameters(notebook_paths()[0])["seed"]
    2026
    """
    # lazy: nbformat adds ~2.7 s to `import journeylab` (measured; docs/architecture.md)
    import nbformat

    return _cell_parameters(nbformat.read(Path(path), as_version=4), Path(path).name)


def _cell_parameters(nb, name: str) -> dict:
    _, cell = _parameters_cell(nb)
    if cell is None:
        return {}
    out = {}
    try:
        tree = ast.parse(cell.source)
    except SyntaxError as exc:
        raise JourneylabError(f"{name}: the parameters cell is not valid Python ({exc.msg}, "
                              f"line {exc.lineno})") from None
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                out[node.targets[0].id] = ast.unparse(node.value)
    return out


def _inject(nb, params: dict):
    # lazy: nbformat adds ~2.7 s to `import journeylab` (measured; docs/architecture.md)
    import nbformat

    code = "# Parameters injected by `journeylab run`\n" + "\n".join(f"{k} = {v!r}" for k, v in params.items())
    cell = nbformat.v4.new_code_cell(code)
    cell.metadata["tags"] = ["injected-parameters"]
    cell["id"] = "injected-parameters"
    i, _ = _parameters_cell(nb)
    nb.cells.insert(0 if i is None else i + 1, cell)
    return nb, (0 if i is None else i + 1)


def _failed_cell(nb, injected_at: int) -> tuple[int | None, str]:
    """(1-based cell number in the original notebook, description of the cell and its error)."""
    for i, c in enumerate(nb.cells):
        for out in c.get("outputs", []):
            if out.get("output_type") == "error":
                src = c.source if len(c.source) < 1200 else c.source[:1200] + "\n..."
                number = i + 1 - (1 if i > injected_at else 0)
                where = "the injected parameters cell" if i == injected_at else f"cell {number}"
                tb = [_ANSI.sub("", line) for line in out.get("traceback", [])]
                final = f"{out.get('ename')}: {out.get('evalue')}"
                last = [ln for ln in "\n".join(tb).splitlines() if ln.strip() and ln.strip() != final][-6:]
                text = (f"{where} (execution count {c.get('execution_count')}):\n"
                        + "\n".join("    " + ln for ln in src.splitlines())
                        + f"\n--> {out.get('ename')}: {out.get('evalue')}")
                if len(last) > 1:
                    text += "\nend of the traceback:\n" + "\n".join("    " + ln for ln in last)
                return number, text
    return None, "no cell recorded an error"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def run(study, out, *, notebooks=None, seed: int = 2026, parameters: dict | None = None, timeout: int = 900,
        quiet: bool = False, kernel_name: str = "python3", stream=None, jobs: int | None = None) -> dict:
    """Execute every notebook on ``study`` and write the results to ``out``.

    Parameters
    ----------
    study : str or Path
        A study folder (see ``docs/study-format.md``). It is validated first; any error stops the
        run before a kernel starts.
    out : str or Path
        Output folder; created if needed. Executed notebooks go to ``out/notebooks/``, what the
        notebooks produce (tables, figures, the map and report) to ``out/``.
    notebooks : list of Path, or a folder, optional
        Defaults to every numbered notebook in ``notebooks/``, in order.
    seed : int, default 2026
        Passed to every notebook as ``seed``.
    parameters : dict, optional
        More values to inject into every notebook (e.g. ``{"engine": "nltk"}``); a notebook that
        does not use a name ignores it.
    timeout : int, default 900
        Seconds a single cell may run.
    quiet : bool, default False
        No progress lines.
    stream : file, optional
        Where progress goes (default ``sys.stdout``).
    jobs : int, optional
        How many notebooks run at once, each in its own kernel (default: 2 on a machine with two
        or more cores, else 1). Only journeylab's own sequence (``notebooks`` not given) runs side
        by side, as :data:`RUNS_AFTER` allows; other notebooks run one after the other. Outputs
        are the same bytes either way.

    Returns
    -------
    dict
        The run manifest, also written to ``out/manifest.json`` (see :func:`journeylab.manifest.write_manifest`).

    Raises
    ------
    StudyError
        The study folder has errors (nothing is run).
    NotebookFailed
        A cell raised, the kernel died or a cell timed out. The message shows the notebook, the
        cell and the error; the partly executed notebook is in ``out/notebooks/``, everything the
        earlier notebooks wrote stays in ``out/``, and ``out/manifest.json`` says ``"status":
        "failed"``.

    Notes
    -----
    Two notebooks run at once on two cores: the kernels start and import in parallel, and every
    notebook reads the study from the run's cache and writes only its own files, so none depends on
    another's results (the exceptions wait: :data:`RUNS_AFTER`). One kernel reused across notebooks
    would be faster still but would let one notebook's state leak into the next, so it is not done.
    Every notebook runs in a fresh kernel started in the notebook's folder, with
    ``PYTHONHASHSEED=0`` and a fixed ``SOURCE_DATE_EPOCH`` (:data:`KERNEL_ENV`). The kernel's own
    log (stderr) goes to ``out/notebooks/<name>.log``. On a study other than the bundled sample, the
    markdown cells tagged ``sample-study`` (prose stating the sample study's findings) are left out
    of the executed notebooks. When the run ends, the run manifest is also
    merged into the reports the notebooks wrote (``report*.html``), replacing their manifest
    section (:func:`journeylab.report.replace_manifest`), and ``report.html`` is printed to
    ``report.pdf`` (its short print layout) when Chromium is installed.

    Examples
    --------
    >>> import journeylab as jl                                      # doctest: +SKIP
    >>> manifest = jl.run.pipeline.run(jl.datasets.sample_study_path(), "reports")   # doctest: +SKIP
    [1/9] 00_start_here ...
    """
    # lazy: nbformat adds ~2.7 s to `import journeylab` (measured; docs/architecture.md)
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    stream = stream or sys.stdout
    study = Path(study).resolve()
    out = Path(out).resolve()
    if not study.is_dir():
        raise JourneylabError(f"study folder {study} not found (expected a folder with study.yml; "
                              "see docs/study-format.md)")
    own = notebooks is None
    if notebooks is None or isinstance(notebooks, (str, Path)):
        paths = notebook_paths(notebooks)
    else:
        paths = [Path(p) for p in notebooks]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise JourneylabError(f"notebook(s) not found: {', '.join(missing)}")
    if jobs is None:
        jobs = 2 if (os.cpu_count() or 1) >= 2 else 1
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise JourneylabError(f"run(): `jobs` must be a whole number of at least 1; found {jobs!r}")
    reserved = {"study_path", "output_dir", "seed"} & set(parameters or {})
    if reserved:
        raise JourneylabError(f"run(): parameters: {', '.join(sorted(reserved))} are set by run() itself "
                              "(use its `study`, `out` and `seed` arguments)")
    params = {"study_path": str(study), "output_dir": str(out), "seed": int(seed), **(parameters or {})}
    # the study is loaded, validated and redacted once; every notebook reads it from the cache
    started, t_start = _now(), time.perf_counter()
    _, reused = load_study_cached(study, out)  # raises StudyError listing every problem: nothing is run
    study_load = {"study_load_seconds": round(time.perf_counter() - t_start, 2), "study_from_cache": reused}
    originals = [nbformat.read(p, as_version=4) for p in paths]  # each notebook is read once
    defaults = {p.name: _cell_parameters(nb, p.name) for p, nb in zip(paths, originals)}
    nb_dir = out / "notebooks"
    nb_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **KERNEL_ENV}
    env.pop("MPLBACKEND", None)  # inline figures vanish under Agg

    side_by_side = jobs if own else 1  # notebooks of your own: one at a time
    record = {"started": started, **study_load, "jobs": side_by_side, "notebooks": {}}

    def manifest(status, failed=None):
        checkpoint_stores(out)
        record["finished"] = _now()
        record["total_seconds"] = round(time.perf_counter() - t_start, 2)
        return write_manifest(study, out, params=params, notebooks=[p.name for p in paths], timings=record,
                              status=status, failed=failed, kernel_env=KERNEL_ENV, notebook_parameters=defaults,
                              study_cache=study_cache_record(study, out))

    on_sample = study == Path(sample_study_path()).resolve()
    width = max(len(p.stem) for p in paths)
    number = {p.name: k for k, p in enumerate(paths, 1)}
    by_name = {p.name: (p, nb) for p, nb in zip(paths, originals)}
    outcome: dict = {}  # name -> (seconds, error, executed notebook, injected_at, target)
    lock = threading.Lock()

    def run_one(name: str) -> bool:
        path, original = by_name[name]
        k = number[name]
        if not quiet and side_by_side == 1:
            print(f"[{k}/{len(paths)}] {path.stem:<{width}} ", end="", file=stream, flush=True)
        t0 = time.perf_counter()
        nb, injected_at = _inject(original, params)
        client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name,
                                resources={"metadata": {"path": str(path.parent)}})
        target = nb_dir / path.name
        error = None
        with open(nb_dir / f"{path.stem}.log", "w", encoding="utf-8") as log:
            try:
                client.execute(env=env, stderr=log)
            except CellExecutionError:
                error = "cell"
            except CellTimeoutError as exc:
                error = f"a cell ran longer than {timeout} s ({exc})"
            except DeadKernelError as exc:
                error = f"the kernel died ({exc}); its log: {nb_dir / (path.stem + '.log')}"
            except Exception as exc:  # noqa: BLE001 - a kernel that cannot start: the run says which notebook
                error = f"the notebook could not run ({type(exc).__name__}: {exc})"
        if error is None and not on_sample:
            # prose about the sample study's findings says nothing about this study: left out
            nb.cells = [c for c in nb.cells
                        if not (c.cell_type == "markdown" and SAMPLE_TAG in c.metadata.get("tags", []))]
        nbformat.write(nb, target)
        seconds = round(time.perf_counter() - t0, 2)
        with lock:
            outcome[name] = (seconds, error, nb, injected_at, target)
            if not quiet:
                lead = "" if side_by_side == 1 else f"[{k}/{len(paths)}] {path.stem:<{width}} "
                print(f"{lead}{seconds:6.1f} s  {'ok' if error is None else 'FAILED'}", file=stream, flush=True)
        return error is None

    # journeylab's own notebooks may run side by side (RUNS_AFTER); any others one after the other, in order
    names = [p.name for p in paths]
    after = RUNS_AFTER if own else {n: names[:i] for i, n in enumerate(names)}
    schedule(names, after=after, jobs=side_by_side, run_one=run_one, first=SLOW_FIRST if side_by_side > 1 else ())
    for name in names:  # the manifest lists the notebooks in the sequence's order
        if name in outcome:
            record["notebooks"][name] = outcome[name][0]
    failures = [n for n in names if n in outcome and outcome[n][1] is not None]
    if failures:
        name = failures[0]
        seconds, error, nb, injected_at, target = outcome[name]
        cell, where = _failed_cell(nb, injected_at) if error == "cell" else (None, error)
        man = manifest("failed", failed={"notebook": name, "cell": cell})
        raise NotebookFailed(
            f"{name} failed at {where}\n\n"
            f"The partly executed notebook is {target}; what the earlier notebooks produced is kept in {out}.",
            notebook=name, cell=cell, executed=target, manifest=man)

    man = manifest("ok")

    merged = dict(man)
    if (out / "journey_map.json").is_file():  # how the map was built (persona, grading rules, ...)

        try:
            saved = json.loads((out / "journey_map.json").read_text("utf-8"))
            merged["map_parameters"] = saved["manifest"]["parameters"]
        except (ValueError, KeyError, TypeError):
            pass
    for report in sorted(out.glob("report*.html")):
        replace_manifest(report, merged if report.name == "report.html" else man)
    if (out / "report.html").is_file():  # the short printable version, when a Chromium is installed

        try:
            to_pdf(out / "report.html", source_date_epoch=int(KERNEL_ENV["SOURCE_DATE_EPOCH"]))  # same bytes each run
        except JourneylabError as exc:
            if not quiet:
                print(f"report.pdf not written: {exc}", file=stream)
    if not quiet:
        print(f"{len(paths)} notebooks in {record['total_seconds']:.0f} s. Results in {out}:", file=stream)
        for name in ["journey_map.png", "journey_map.svg", "journey_map.pdf", "report.html", "report.pdf",
                     "report_decisions.png", "evidence_table.csv",
                     "codings.csv", "codings.sqlite", "manifest.json", "notebooks/"]:
            if (out / name.rstrip("/")).exists():
                print(f"  {name}", file=stream)
    return man


def checkpoint_stores(out) -> list[Path]:
    """Make every coding store a run wrote one self-contained ``.sqlite`` file; return them.

    A kernel that ends without closing its store leaves recent decisions in ``<store>-wal``;
    :func:`journeylab.coding.store.checkpoint_store` folds them into the file and removes the
    ``-wal``/``-shm`` files, so copying ``codings.sqlite`` alone copies every decision. SQLite
    files that are not coding stores are left alone.
    """
    done = []
    for path in sorted(Path(out).rglob("*.sqlite")):
        if "notebooks" in path.relative_to(out).parts[:-1]:
            continue
        try:
            done.append(checkpoint_store(path))
        except JourneylabError as exc:
            if "in use by another process" in str(exc):
                warnings.warn(str(exc), stacklevel=2)
    return done


def demo(out="reports", **kwargs) -> dict:
    """:func:`run` on the bundled sample study (``make demo``).

    Examples
    --------
    >>> import journeylab as jl            # doctest: +SKIP
    >>> jl.run.pipeline.demo("reports")        # doctest: +SKIP
    """
    return run(sample_study_path(), out, **kwargs)
