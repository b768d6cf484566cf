"""Bundled example data."""
from __future__ import annotations

__all__ = ["sample_study_path", "list_datasets"]

from pathlib import Path

from .errors import JourneylabError

_ROOT = Path(__file__).resolve().parent.parent / "data"
_DATASETS = {"sample_study": "sample_study"}


def list_datasets() -> list[str]:
    """Names of the bundled datasets."""
    return sorted(_DATASETS)


def sample_study_path(name: str = "sample_study") -> Path:
    """Path of a bundled study folder.

    Parameters
    ----------
    name : str
        Dataset name; see :func:`list_datasets`.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import journeylab as jl
    >>> (jl.datasets.sample_study_path() / "study.yml").exists()
    True
    """
    if name not in _DATASETS:
        raise JourneylabError(
            f"Unknown dataset {name!r}; available: {', '.join(list_datasets())}."
        )
    path = _ROOT / _DATASETS[name]
    if not path.is_dir():
        raise JourneylabError(
            f"The bundled dataset folder {path} is missing. journeylab's sample data ships with the "
            "source checkout (data/); install journeylab from a clone with `pip install -e .`."
        )
    return path
