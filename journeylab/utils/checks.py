"""Argument checks shared by the public functions (private)."""
from __future__ import annotations

import os
from collections.abc import Iterable

import pandas as pd

from ..errors import JourneylabError


def check_frame(
    obj,
    *,
    arg: str,
    func: str,
    required: Iterable[str] = (),
    allow_empty: bool = False,
    hint: str = "",
    dask: bool = False,
) -> pd.DataFrame:
    """Check that ``obj`` is a DataFrame with the ``required`` columns.

    Raises a :class:`JourneylabError` naming the function, the argument, what was expected and
    what was found. Returns ``obj`` unchanged so callers can write ``df = check_frame(df, ...)``.
    ``dask=True`` (functions that also take a Dask frame, checked by the caller) only changes
    the wording of the wrong-type message.
    """
    if not isinstance(obj, pd.DataFrame):
        if type(obj).__module__.startswith("dask"):
            raise JourneylabError(
                f"{func}(): argument `{arg}` is a Dask {type(obj).__name__}; {func}() takes a pandas DataFrame: "
                f"compute it first (`{arg}.compute()`; docs/scale.md lists the functions that take Dask frames)."
            )
        kind = "a pandas or Dask DataFrame" if dask else "a pandas DataFrame"
        raise JourneylabError(f"{func}(): argument `{arg}` must be {kind}, got {type(obj).__name__}.")
    missing = [c for c in required if c not in obj.columns]
    if missing:
        found = ", ".join(map(str, obj.columns[:20])) or "(no columns)"
        msg = (
            f"{func}(): argument `{arg}` is missing column(s) {', '.join(repr(m) for m in missing)}; "
            f"found: {found}."
        )
        if hint:
            msg += " " + hint
        raise JourneylabError(msg)
    if not allow_empty and len(obj) == 0:
        raise JourneylabError(f"{func}(): argument `{arg}` is empty (0 rows); expected at least one row.")
    return obj


def check_choice(value, *, arg: str, func: str, choices: Iterable) -> None:
    """Raise a clear error if ``value`` is not one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise JourneylabError(
            f"{func}(): `{arg}` must be one of {', '.join(map(repr, choices))}; got {value!r}."
        )


def check_path(obj, *, arg: str, func: str):
    """Raise a clear error unless ``obj`` is a str or path-like (not empty); return it."""
    if not isinstance(obj, (str, os.PathLike)) or (isinstance(obj, str) and not obj.strip()):
        found = repr(obj) if isinstance(obj, str) else type(obj).__name__
        raise JourneylabError(f"{func}(): argument `{arg}` must be a file path (str or pathlib.Path), got {found}.")
    return obj


# methods of statsmodels.stats.multitest.multipletests (names and aliases)
CORRECTIONS = ("bonferroni", "sidak", "holm-sidak", "holm", "simes-hochberg", "hommel", "fdr_bh", "fdr_by",
               "fdr_tsbh", "fdr_tsbky", "b", "s", "hs", "h", "sh", "ho", "fdr_i", "fdr_p", "fdri", "fdrp", "fdr_n",
               "fdr_2sbky", "fdr_twostage", "fdr_gbs")


def check_correction(correction, func):
    """Raise unless ``correction`` is a multipletests method (checked without calling it: it runs gc)."""
    if correction not in CORRECTIONS:
        raise JourneylabError(f"{func}(): `correction` {correction!r} is not a statsmodels multipletests method; "
                              "use e.g. 'holm', 'bonferroni', 'fdr_bh'.")


def check_alpha(alpha, func):
    """Raise unless ``alpha`` is a number strictly between 0 and 1."""
    if not isinstance(alpha, (float, int)) or not 0 < alpha < 1:
        raise JourneylabError(f"{func}(): `alpha` must be a number between 0 and 1, e.g. 0.05; got {alpha!r}.")
