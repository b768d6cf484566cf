"""The study cache: a loaded, validated and redacted study kept in an output folder.

``journeylab run`` loads the study once and writes it here; every notebook of the run then reads
it instead of loading the study again (``jl.load_study(study_path, cache=output_dir)``). A notebook
opened by hand does the same: it reads the cache when it is current and loads the study (and
writes the cache) otherwise.

Layout (``OUT/.journeylab-cache/study-redacted/``, or ``study-raw/`` for ``redact=False``; hidden,
so neither the run manifest's outputs nor a study's input hashes include it)::

    key.json            what the cache was made from (see :func:`study_key`)
    <field>.parquet     each table of the Study (participants, segments, events, ...)
    <field>.pkl         a table parquet would not give back exactly (rare; see below)
    objects.pkl         the rest: study.yml as parsed, stages, codebook, notes, problems, ...

The cache is *current* when its key equals the key computed now: the SHA-256 of every file of
the study folder, the study folder itself, ``redact``, the versions of journeylab, pandas and
pyarrow, and a hash of journeylab's own source files (so an edited checkout never reads a cache an
older code wrote). Anything else — a changed, added or removed input file, another version —
makes it stale, and it is rebuilt.

A table is written as parquet only when it reads back identical (values, dtypes, index, the kind
of missing value in text columns, ``attrs``); otherwise it is pickled. The pickles are read only
from a folder journeylab wrote for you (your own output folder), like Python's ``__pycache__``:
do not open a cache folder somebody else sent you (delete it; it is rebuilt).
"""
from __future__ import annotations

__all__ = ["CACHE_DIR", "study_key", "read_cache", "write_cache", "cache_folder", "cache_record"]

import hashlib
import json
import os
import pickle
import shutil
import tempfile
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from ..utils.provenance import JOURNEYLAB_VERSION

#: Folder of the cache inside an output folder (hidden: not an output, not an input).
CACHE_DIR = ".journeylab-cache"
#: Bumped when the layout changes.
FORMAT = 1


def cache_folder(out, *, redact: bool = True) -> Path:
    """Where the study cache lives in the output folder ``out``."""
    return Path(out) / CACHE_DIR / ("study-redacted" if redact else "study-raw")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _input_hashes(folder: Path) -> dict:
    """SHA-256 of every file below ``folder`` not hidden, by relative POSIX path (sorted)."""
    found = []
    for p in folder.rglob("*"):
        rel = p.relative_to(folder)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            found.append((rel.as_posix(), p))
    return {rel: _sha256(p) for rel, p in sorted(found)}


@lru_cache(maxsize=1)
def _code_hash() -> str:
    """SHA-256 over journeylab's own source files (the code that loads a study)."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def study_key(path, *, redact: bool = True) -> dict:
    """What a cached study was made from; the cache is current when this is unchanged.

    Parameters
    ----------
    path : str or Path
        The study folder.
    redact : bool, default True
        The ``redact`` argument of :func:`journeylab.load_study`.

    Returns
    -------
    dict
        ``format``, ``study`` (the folder, resolved), ``redact``, ``journeylab``, ``pandas``,
        ``pyarrow`` (versions), ``code`` (SHA-256 of journeylab's source), ``inputs`` (relative
        path → SHA-256 of every study file, hidden files left out).

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab.study.cache import study_key
    >>> key = study_key(jl.datasets.sample_study_path())
    >>> "study.yml" in key["inputs"], key["redact"]
    (True, True)
    """
    folder = Path(path).resolve()
    return {"format": FORMAT, "study": str(folder), "redact": bool(redact), "journeylab": JOURNEYLAB_VERSION,
            "pandas": pd.__version__, "pyarrow": _version("pyarrow"), "code": _code_hash(),
            "inputs": _input_hashes(folder)}


def key_digest(key: dict) -> str:
    """A short, stable name for a key (SHA-256 of its JSON, first 16 hex digits)."""
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def _same_frame(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Exactly the same table: values, dtypes, index, column labels, attrs and missing-value kinds."""
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True, check_dtype=True, check_index_type=True,
                                      check_column_type=True, check_frame_type=True, check_names=True,
                                      check_categorical=True, check_freq=True, check_flags=True)
    except (AssertionError, TypeError, ValueError):
        return False
    if a.attrs != b.attrs or list(a.columns) != list(b.columns):
        return False
    for c in range(a.shape[1]):  # None, NaN and pd.NA compare equal above; code that reads them may not
        x, y = a.iloc[:, c], b.iloc[:, c]
        if x.dtype == object and not np.array_equal(x.map(type).to_numpy(), y.map(type).to_numpy()):
            return False
    return True


def write_cache(folder, key: dict, fields: dict) -> Path:
    """Write a study's fields to ``folder`` (replaced as a whole, atomically); return the folder.

    Parameters
    ----------
    folder : str or Path
        From :func:`cache_folder`.
    key : dict
        From :func:`study_key`.
    fields : dict
        The Study's fields (name → value) except ``path``.

    Returns
    -------
    Path
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        objects, tables = {}, []
        for name, value in fields.items():
            if isinstance(value, pd.DataFrame):
                target = tmp / f"{name}.parquet"
                try:
                    value.to_parquet(target, engine="pyarrow")
                    ok = _same_frame(value, pd.read_parquet(target, engine="pyarrow"))
                except Exception:  # noqa: BLE001 - any column pyarrow cannot store: pickle the table
                    ok = False
                if not ok:
                    target.unlink(missing_ok=True)
                    target = tmp / f"{name}.pkl"
                    target.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
                tables.append(target.name)
            else:
                objects[name] = value
        (tmp / "objects.pkl").write_bytes(pickle.dumps(objects, protocol=pickle.HIGHEST_PROTOCOL))
        # key.json last: a folder without it is never read
        (tmp / "key.json").write_text(json.dumps({**key, "tables": sorted(tables)}, indent=1, sort_keys=True),
                                      encoding="utf-8")
        old = None
        if folder.exists():
            old = folder.parent / f".{folder.name}-old-{os.getpid()}"
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def read_cache(folder, key: dict) -> dict | None:
    """The fields stored in ``folder`` if its key equals ``key``; None when missing, stale or unreadable.

    Parameters
    ----------
    folder : str or Path
        From :func:`cache_folder`.
    key : dict
        From :func:`study_key`, computed now.

    Returns
    -------
    dict or None
        The Study's fields except ``path``.
    """
    folder = Path(folder)
    try:
        stored = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tables = stored.pop("tables", [])
    if stored != key:
        return None
    try:
        fields = pickle.loads((folder / "objects.pkl").read_bytes())
        for name in tables:
            path = folder / name
            if name.endswith(".parquet"):
                fields[name[:-len(".parquet")]] = pd.read_parquet(path, engine="pyarrow")
            else:
                fields[name[:-len(".pkl")]] = pickle.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - a damaged cache is rebuilt, never trusted
        return None
    return fields


def cache_record(study, out, *, redact: bool = True) -> dict | None:
    """What the run manifest says of the study cache in ``out`` (None when there is none).

    Returns
    -------
    dict or None
        ``folder`` (relative to ``out``), ``key`` (:func:`key_digest` of the key without the study
        folder's location, so two runs of the same files compare equal), ``tables`` (the files
        holding the study's tables).
    """
    folder = cache_folder(out, redact=redact)
    try:
        stored = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tables = stored.pop("tables", [])
    stored.pop("study", None)
    return {"folder": folder.relative_to(Path(out)).as_posix(), "key": key_digest(stored), "tables": tables}
