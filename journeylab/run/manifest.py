"""The run manifest: what went in (file hashes), with what (versions, parameters, seeds), what came
out (hashes of the tables and figures), and how long it took.

Everything in a manifest except its ``timings`` is the same when the same inputs are run again with
the same software: :func:`write_manifest` keeps every clock reading under ``timings``.
"""
from __future__ import annotations

__all__ = ["file_hashes", "package_versions", "write_manifest", "read_manifest", "MANIFEST_FIELDS"]

import json
import platform
import sys
from pathlib import Path

from ..errors import JourneylabError
from ..utils.limits import load_yaml
from ..utils.provenance import JOURNEYLAB_VERSION, file_hashes, package_versions, sha256_of, visible_files

#: Top-level fields of ``manifest.json`` written by ``journeylab run``.
MANIFEST_FIELDS = ["journeylab_version", "status", "study", "inputs", "parameters", "notebook_parameters", "seeds",
                   "notebooks", "python", "platform", "versions", "outputs", "study_cache", "failed", "timings"]

# Files in the output folder that are not results: the executed notebooks (they hold execution
# times), kernel logs, the manifest itself, reports (they embed the manifest) and SQLite stores
# (their pages record write order, not content; their tables are exported as CSV).
_NOT_OUTPUTS = ("notebooks/", "manifest.json")
_NOT_OUTPUT_SUFFIXES = (".html", ".log", ".sqlite", ".sqlite-wal", ".sqlite-shm", ".sqlite-journal")


def _output_hashes(out: Path) -> dict:
    # filter before hashing: executed notebooks, logs and SQLite stores can be large
    return {rel: sha256_of(p) for rel, p in visible_files(out)
            if not rel.startswith(_NOT_OUTPUTS) and not rel.endswith(_NOT_OUTPUT_SUFFIXES)}


def write_manifest(study, out, *, params: dict, notebooks: list, timings: dict, status: str = "ok",
                   failed: dict | None = None, kernel_env: dict | None = None,
                   notebook_parameters: dict | None = None, study_cache: dict | None = None) -> dict:
    """Write ``out/manifest.json`` and return it.

    Parameters
    ----------
    study : str or Path
        The study folder that was run.
    out : str or Path
        The output folder.
    params : dict
        The values injected into every notebook (``study_path``, ``output_dir``, ``seed``, ...).
    notebooks : list of str
        The notebook file names, in the order they ran.
    timings : dict
        ``started``, ``finished`` (ISO 8601, UTC), ``total_seconds``, ``study_load_seconds``,
        ``study_from_cache`` and ``notebooks`` (file name → seconds).
    status : {"ok", "failed"}
    failed : dict, optional
        ``notebook`` and ``cell`` of the failure.
    kernel_env : dict, optional
        Environment variables every kernel was started with (the hash seed).
    notebook_parameters : dict, optional
        Notebook name → the defaults of its ``parameters`` cell
        (:func:`journeylab.pipeline.notebook_parameters`).
    study_cache : dict, optional
        The study cache the notebooks read (:func:`journeylab.study.cache.cache_record`).

    Returns
    -------
    dict
        Fields (:data:`MANIFEST_FIELDS`): ``journeylab_version``; ``status``; ``study`` (folder name
        and title); ``inputs`` (path → SHA-256 of every study file); ``parameters`` (the injected
        values, with the study and output folders as names so two runs compare equal);
        ``notebook_parameters`` (per notebook, its defaults overridden by the injected values);
        ``seeds``; ``notebooks`` (names, in order); ``python``; ``platform``; ``versions``;
        ``outputs`` (path → SHA-256 of every table and figure written, without the executed
        notebooks, logs, SQLite stores and HTML reports); ``study_cache`` (where the run kept
        the loaded study that every notebook read: ``folder``, ``key``, ``tables``; None when the
        notebooks loaded the study themselves); ``failed``; ``timings`` (the only field that
        changes between identical runs: ``started``, ``finished``, ``total_seconds``,
        ``study_load_seconds`` (the run's one load of the study), ``study_from_cache`` (True when
        an earlier run into the same folder had cached it) and ``notebooks``).

    Examples
    --------
    >>> import tempfile, journeylab as jl
    >>> out = tempfile.mkdtemp()
    >>> m = write_manifest(jl.datasets.sample_study_path(), out, params={"seed": 1}, notebooks=[],
    ...                    timings={"notebooks": {}})
    >>> m["seeds"]["seed"], m["status"]
    (1, 'ok')
    """
    study, out = Path(study), Path(out)
    title = None
    try:
        title = (load_yaml((study / "study.yml").read_text(encoding="utf-8"))[1] or {}).get("name")
    except Exception:  # noqa: BLE001 - the title is a courtesy; the hashes identify the study
        title = None
    shown = {k: (Path(v).name if k == "study_path" else "." if k == "output_dir" else v) for k, v in params.items()}
    per_notebook = {name: {**defaults, **{k: v for k, v in shown.items() if k in defaults}}
                    for name, defaults in (notebook_parameters or {}).items()}
    manifest = {
        "journeylab_version": JOURNEYLAB_VERSION,
        "status": status,
        "study": {"folder": study.name, "name": title},
        "inputs": file_hashes(study),
        "parameters": shown,
        "notebook_parameters": per_notebook,
        "seeds": {"seed": params.get("seed"), **{k: v for k, v in (kernel_env or {}).items() if k == "PYTHONHASHSEED"}},
        "notebooks": [Path(nb).name for nb in notebooks],
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": package_versions(),
        "outputs": _output_hashes(out) if out.is_dir() else {},
        "study_cache": study_cache,
        "failed": failed,
        "timings": timings,
    }
    out.mkdir(parents=True, exist_ok=True)
    Path(out, "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n",
                                          encoding="utf-8")
    return manifest


def read_manifest(path) -> dict:
    """Read a ``manifest.json`` (or the one in a run's output folder).

    Examples
    --------
    >>> import tempfile, journeylab as jl
    >>> out = tempfile.mkdtemp()
    >>> _ = write_manifest(jl.datasets.sample_study_path(), out, params={"seed": 1}, notebooks=[],
    ...                    timings={})
    >>> read_manifest(out)["study"]["folder"]
    'sample_study'
    """
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    if not path.is_file():
        raise JourneylabError(f"{path}: no run manifest here (journeylab run writes OUT/manifest.json)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise JourneylabError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
