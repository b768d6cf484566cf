"""The run manifest: what went in (file hashes), with what (versions, parameters), and timings."""
from __future__ import annotations

__all__ = ["file_hashes", "package_versions", "write_manifest"]

import hashlib
import json
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PACKAGES = ["journeylab", "pandas", "numpy", "matplotlib", "nltk", "statsmodels", "scikit-learn",
            "vaderSentiment", "ipywidgets", "nbclient", "pyyaml"]


def file_hashes(folder) -> dict:
    """SHA-256 of every file below ``folder`` (relative path → hex digest), sorted by path."""
    folder = Path(folder)
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts):
            out[p.relative_to(folder).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def package_versions() -> dict:
    """Versions of Python and the packages that shape the results."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def write_manifest(study, out, *, params: dict, notebooks: list, timings: dict) -> dict:
    """Write ``out/manifest.json`` and return it. Everything but ``timings`` is deterministic."""
    manifest = {
        "study": str(Path(study).name),
        "inputs": file_hashes(study),
        "parameters": {k: (Path(v).name if k in ("study_path", "output_dir") else v) for k, v in params.items()},
        "seeds": {"seed": params.get("seed")},
        "notebooks": notebooks,
        "versions": package_versions(),
        "timings": timings,
    }
    Path(out, "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return manifest
