"""Where results come from: the package's version, the versions of the packages that shape the
results, and the hashes of input files. Used by the run manifest (:mod:`journeylab.run.manifest`),
a journey map's manifest and a coding store's ``created_by``.
"""
from __future__ import annotations

import hashlib
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["JOURNEYLAB_VERSION", "PACKAGES", "file_hashes", "package_versions", "sha256_of", "visible_files"]

try:
    JOURNEYLAB_VERSION = version("journeylab")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    JOURNEYLAB_VERSION = "0.0.0"

PACKAGES = ["journeylab", "pandas", "numpy", "scipy", "matplotlib", "nltk", "statsmodels", "scikit-learn",
            "vaderSentiment", "ipywidgets", "nbclient", "nbformat", "ipykernel", "pyyaml"]


def visible_files(folder: Path) -> list:
    """(relative POSIX path, Path) of every file below ``folder`` not hidden (no part starts with ``.``)."""
    found = ((p.relative_to(folder), p) for p in folder.rglob("*"))
    return sorted((rel.as_posix(), p) for rel, p in found
                  if p.is_file() and not any(part.startswith(".") for part in rel.parts))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_hashes(folder) -> dict:
    """SHA-256 of every file below ``folder`` (relative POSIX path → hex digest), sorted by path.

    Hidden files and folders (a leading ``.``) are skipped.

    Examples
    --------
    >>> import journeylab as jl
    >>> hashes = file_hashes(jl.datasets.sample_study_path())
    >>> "study.yml" in hashes, len(hashes["study.yml"])
    (True, 64)
    """
    return {rel: sha256_of(p) for rel, p in visible_files(Path(folder))}


def package_versions() -> dict:
    """Versions of Python and the packages that shape the results (None if not installed).

    Examples
    --------
    >>> v = package_versions()
    >>> sorted(k for k in ("python", "pandas", "journeylab") if v[k])
    ['journeylab', 'pandas', 'python']
    """
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out
