"""What every Dask route shares: recognising a Dask frame, mapping rows, keeping row order.

The Dask code itself sits next to the pandas code it mirrors: the funnel's in
:mod:`journeylab.measure.funnel`, the frequency tables' in :mod:`journeylab.coding.analysis`,
reading a study's parquet log in :mod:`journeylab.study.load_dask`; :func:`journeylab.autocode`
and :func:`journeylab.sentiment` map their rows with :func:`map_rows` (``docs/scale.md``).

Dask is an optional dependency (``pip install journeylab[dask]``): it is imported inside the
functions, only when a Dask frame comes in, so ``import journeylab`` never imports it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from ..errors import JourneylabError

POSITION = "__jl_pos__"   # column holding a row's original (partition, row) position across a shuffle


def is_dask(obj) -> bool:
    """True for a ``dask.dataframe.DataFrame`` (without importing dask for anything else)."""
    if not type(obj).__module__.startswith("dask"):
        return False
    import dask.dataframe as dd  # optional dependency; already imported when a Dask frame exists

    return isinstance(obj, dd.DataFrame)


def map_rows(func: Callable, ddf, *args, **kwargs):
    """``ddf.map_partitions(func, *args, **kwargs)`` with ``meta`` from ``func`` on the empty frame.

    Calling ``func`` on ``ddf._meta`` (an empty pandas frame with the right dtypes) validates the
    arguments now — a bad column name or codebook raises here, not at ``compute()`` — and gives
    the exact dtypes of the result. Each output partition keeps the pandas function's own index
    (0, 1, ... per partition); ``reset_index(drop=True)`` after computing gives the pandas index.
    """
    meta = func(ddf._meta, *args, **kwargs)
    meta.attrs.clear()
    return ddf.map_partitions(func, *args, meta=meta, enforce_metadata=False, **kwargs)


def with_position(df: pd.DataFrame, partition_info=None) -> pd.DataFrame:
    """A partition with its rows' original (partition, row) position in column :data:`POSITION`
    (``map_partitions`` fills ``partition_info``), so a shuffle can be undone."""
    number = partition_info["number"] if partition_info else 0
    out = df.reset_index(drop=True)
    out[POSITION] = (np.int64(number) << 40) + np.arange(len(out), dtype=np.int64)
    return out


def position_meta(meta: pd.DataFrame) -> pd.DataFrame:
    """``meta`` of :func:`with_position`'s output."""
    out = meta.copy()
    out[POSITION] = pd.Series([], dtype=np.int64)
    return out


def restore_order(df: pd.DataFrame) -> pd.DataFrame:
    """A shuffled partition back in the original order (ties in time are then broken by row order)."""
    if POSITION in df.columns:
        df = df.sort_values(POSITION, kind="stable").drop(columns=POSITION)
    return df.reset_index(drop=True)


def dtypes_of(df) -> dict:
    """Column dtypes of a pandas or Dask frame (``{}`` for anything else)."""
    if df is None or not (is_dask(df) or isinstance(df, pd.DataFrame)):
        return {}
    return (df._meta if is_dask(df) else df).dtypes.to_dict()


def from_pandas(df, arg: str, func: str):
    """A pandas frame as a one-partition Dask frame (a clear error for anything else)."""
    import dask.dataframe as dd  # optional dependency (journeylab[dask])

    if not isinstance(df, pd.DataFrame):
        raise JourneylabError(f"{func}(): argument `{arg}` must be a pandas or Dask DataFrame, "
                              f"got {type(df).__name__}.")
    return dd.from_pandas(df, npartitions=1, sort=False)
