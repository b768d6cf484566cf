"""A study's event log from a (partitioned) parquet dataset, as a lazy Dask DataFrame.

The Dask counterpart of reading ``events.csv`` in :mod:`journeylab.study.load`, for a log too
large for memory. Dask is an optional dependency, imported when :func:`read_events_parquet` is
called (``pip install journeylab[dask]``).
"""
from __future__ import annotations

from os import PathLike

import pandas as pd

from ..errors import JourneylabError

__all__ = ["read_events_parquet"]


def _unknown_events(df: pd.DataFrame, known: frozenset, where: str) -> pd.DataFrame:
    unknown = ~df["event"].isin(known)
    if unknown.any():
        counts = df.loc[unknown, "event"].value_counts()
        names = ", ".join(f"{k!r} ({v} rows)" for k, v in counts.head(10).items())
        raise JourneylabError(f"{where}: event(s) {names} belong to no known stage; add them under 'events:' in "
                              "study.yml (or set `unmapped_events: exclude` to leave such rows out)")
    return df


def read_events_parquet(study, *, path, **kwargs):
    """A study's event log from a (partitioned) parquet dataset, as a lazy Dask DataFrame.

    What :func:`journeylab.load_study` does to ``events.csv``, applied to a log too large for it:
    the columns are renamed as study.yml's ``columns: events:`` says (your ``visitor_id`` becomes
    ``user_id``), timestamps become UTC without a time zone (text is parsed as ISO 8601; a zone or
    offset is converted), ``user_id``, ``event`` and ``session_id`` become text, and event names
    are checked against study.yml's ``events:`` map: with ``unmapped_events: exclude`` other events
    are left out, otherwise an event name that is not in the map raises a
    :class:`~journeylab.JourneylabError` when the frame is computed.

    Parameters
    ----------
    study : Study
        The loaded study whose ``study.yml`` describes the log.
    path : str or Path
        A parquet file, a folder of parquet files (e.g. partitioned ``date=.../part-0.parquet``),
        or a URL Dask can read (``s3://bucket/events/``; needs the filesystem package, e.g. s3fs).
    **kwargs
        Passed to ``dask.dataframe.read_parquet`` (``storage_options=``, ``filters=``, ...).

    Returns
    -------
    dask.dataframe.DataFrame
        ``user_id``, ``timestamp``, ``event``, then the other columns of the log. Lazy: pass it to
        :func:`journeylab.funnel` (a ``DaskFunnel``; ``.compute()``) or compute what you need.

    Notes
    -----
    Unlike ``load_study``, rows left out with ``unmapped_events: exclude`` are not counted (that
    would read the whole log now); filter and count them yourself if you need the number.

    Examples
    --------
    >>> import journeylab as jl                                                 # doctest: +SKIP
    >>> study = jl.load_study("my_study")                                        # doctest: +SKIP
    >>> events = jl.read_events_parquet(study, path="s3://bucket/events/")       # doctest: +SKIP
    >>> jl.funnel(events, steps=study.funnel_steps, window=study.funnel_window).compute()  # doctest: +SKIP
    """
    func = "read_events_parquet"
    for attr in ("config", "events_map"):
        if not hasattr(study, attr):
            raise JourneylabError(f"{func}(): `study` must be a Study (journeylab.load_study); got "
                                  f"{type(study).__name__}.")
    if not isinstance(path, (str, PathLike)):
        raise JourneylabError(f"{func}(): `path` must be a path or URL of a parquet dataset; got "
                              f"{type(path).__name__}.")
    try:
        import dask.dataframe as dd  # optional dependency (journeylab[dask])
    except ImportError:
        raise JourneylabError(f"{func}() needs Dask: pip install 'journeylab[dask]'") from None
    try:
        ddf = dd.read_parquet(path, **kwargs)
    except (OSError, ValueError) as exc:
        raise JourneylabError(f"{func}(): cannot read the parquet dataset {str(path)!r}: {exc}") from None
    mapping = ((study.config.get("columns") or {}).get("events") or {}) if isinstance(study.config, dict) else {}
    inverse = {str(v): str(k) for k, v in mapping.items() if str(v) in ddf.columns}
    ddf = ddf.rename(columns=inverse)
    missing = [c for c in ("user_id", "timestamp", "event") if c not in ddf.columns]
    if missing:
        named = ", ".join(f"'{mapping.get(c, c)}'" + (f" (study.yml maps '{c}' to it)" if c in mapping else "")
                          for c in missing)
        raise JourneylabError(f"{func}(): {str(path)!r} lacks column(s) {named}; found: "
                              f"{', '.join(map(str, ddf.columns)) or '(none)'}")
    ts = ddf["timestamp"]
    if not pd.api.types.is_datetime64_any_dtype(ts.dtype):
        ts = dd.to_datetime(ts.astype(str).str.strip(), utc=True, format="ISO8601")
    if getattr(ts.dtype, "tz", None) is not None:
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    ddf = ddf.assign(timestamp=ts)
    for c in ("user_id", "event", "session_id"):
        if c in ddf.columns:
            ddf[c] = ddf[c].astype(str)
    known = frozenset(study.events_map["event"].astype(str))
    if known:
        if study.config.get("unmapped_events", "error") == "exclude":
            ddf = ddf[ddf["event"].isin(known)]
        else:
            ddf = ddf.map_partitions(_unknown_events, known, f"{func}({str(path)!r})", meta=ddf._meta)
    first = ["user_id", "timestamp", "event"]
    return ddf[first + [c for c in ddf.columns if c not in first]]
