"""Dask scale-out (private): the same analyses on a ``dask.dataframe.DataFrame``.

Public functions (:func:`journeylab.autocode`, :func:`journeylab.sentiment`,
:func:`journeylab.funnel`, :func:`journeylab.code_frequencies`, :func:`journeylab.co_occurrence`)
check ``is_dask(data)`` and hand over to this module, which returns a lazy result with exactly the
numbers the pandas function gives on the same data (``docs/scale.md``).

- Rows that are independent (segments, comments) are mapped partition by partition with the
  pandas function itself (:func:`map_rows`); ``meta`` comes from calling it on the empty frame,
  so the argument checks run at once and the dtypes match.
- A funnel is exact per user: the log (only the columns it needs) is shuffled so that every
  user's events sit in one partition, each partition runs the pandas engine, and per partition
  only counts leave the worker: units per (group, step, time from the previous step). These add
  up exactly; the quartiles of the time from the previous step are then computed from the summed
  value counts, with the interpolation numpy / pandas use, so they are exact too.
- The frequency tables (:func:`code_frequencies`, :func:`co_occurrence`) count distinct pairs
  ((code, group, participant), (code, code) per unit) in Dask and finish the small counts with
  the pandas function's own code in one task; the result is a one-partition Dask DataFrame.

Dask is imported only here and only when a Dask frame comes in: ``import journeylab`` never
imports it (``pip install journeylab[dask]`` installs it).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from ..errors import JourneylabError

__all__ = ["read_events_parquet"]

_POS = "__jl_pos__"           # original (partition, row) order, restored after the shuffle
_K, _D, _N = "__jl_k__", "__jl_d__", "__jl_n__"
_ROWS_IGNORED, _PRESENT, _UNIT = -1, -2, -3   # special values of _K in the partial counts


def is_dask(obj) -> bool:
    """True for a ``dask.dataframe.DataFrame`` (without importing dask for anything else)."""
    if not type(obj).__module__.startswith("dask"):
        return False
    import dask.dataframe as dd

    return isinstance(obj, dd.DataFrame)


# ----------------------------------------------------------------------------- row-wise functions


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


# ----------------------------------------------------------------------------- funnel


def _with_position(df: pd.DataFrame, partition_info=None) -> pd.DataFrame:
    number = partition_info["number"] if partition_info else 0
    out = df.reset_index(drop=True)
    out[_POS] = (np.int64(number) << 40) + np.arange(len(out), dtype=np.int64)
    return out


def _restore(df: pd.DataFrame) -> pd.DataFrame:
    """A shuffled partition back in the log's order (ties in time are broken by row order)."""
    if _POS in df.columns:
        df = df.sort_values(_POS, kind="stable").drop(columns=_POS)
    return df.reset_index(drop=True)


def _partition_core(df: pd.DataFrame, a: dict, present: list | None):
    from ..measure.funnel import _attribute, _prepare_and_run

    core = _prepare_and_run(df, a["spec"], user=a["user"], time=a["time"], event=a["event"], session=a["session"],
                            need_all_codes=bool(a["by"]) and a["attribution"] != "entry", func=a["func"],
                            by_cols=a["by"], present=present)
    groups = _attribute(df, core, a["by"], a["attribution"], a["time"]) if a["by"] else None
    return core, groups


def _partial_counts(df: pd.DataFrame, a: dict) -> pd.DataFrame:
    """Per shuffled partition: units per (group, step, time from the previous step), plus the rows
    ignored, the rows of each funnel event and the time unit (special rows, ``_K`` < 0)."""
    by = a["by"]
    df = _restore(df)
    if not len(df):
        return _partial_meta(by)
    present: list = []
    core, groups = _partition_core(df, a, present)
    n_steps = len(a["spec"].sets)
    parts = []
    for k in range(n_steps):
        r = np.flatnonzero(core.reached(k))
        d = core.T[k][r] - core.T[k - 1][r] if k else np.zeros(len(r), dtype=np.int64)
        piece = pd.DataFrame({**{c: groups[c].to_numpy(dtype=object)[r] for c in by},
                              _K: np.full(len(r), k, dtype=np.int64), _D: d.astype(np.int64)})
        parts.append(piece)
    units = pd.concat(parts, ignore_index=True)
    counts = units.groupby([*by, _K, _D], dropna=False, sort=False).size().rename(_N).reset_index()
    unit_ns = int(np.timedelta64(1, core.time_unit).astype("timedelta64[ns]").astype(np.int64))
    special = pd.DataFrame({_K: [_ROWS_IGNORED, _UNIT] + [_PRESENT] * len(present),
                            _D: [0, unit_ns] + list(range(len(present))),
                            _N: [core.n_rows_ignored, 1] + present})
    for c in by:
        special.insert(len(by) - 1, c, pd.Series([np.nan] * len(special), dtype=object))
    special = special[[*by, _K, _D, _N]]
    out = pd.concat([counts.astype({c: object for c in by}), special], ignore_index=True)
    return out.astype({_K: np.int64, _D: np.int64, _N: np.int64})


def _partial_meta(by: list) -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series([], dtype=object) for c in by})
    for c in (_K, _D, _N):
        out[c] = pd.Series([], dtype=np.int64)
    return out


def _partial_units(df: pd.DataFrame, a: dict, meta: pd.DataFrame) -> pd.DataFrame:
    """Per shuffled partition: the rows of ``FunnelResult.units`` for its users."""
    from ..measure.funnel import FunnelResult

    df = _restore(df)
    if not len(df):
        return meta
    core, groups = _partition_core(df, a, [])
    units = FunnelResult(None, None, core, groups, {}).units
    for c in a["by"]:
        units[c] = units[c].astype(object)
    return units


def _units_meta(ddf_meta: pd.DataFrame, a: dict) -> pd.DataFrame:
    cols = {a["user"]: ddf_meta[a["user"]].dtype}
    if a["spec"].count == "session":
        cols[a["session"]] = ddf_meta[a["session"]].dtype
    meta = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in cols.items()})
    for c in a["by"]:
        meta[c] = pd.Series([], dtype=object)
    meta["steps_reached"] = pd.Series([], dtype=np.int64)
    tdt = ddf_meta[a["time"]].dtype
    dt = f"datetime64[{np.datetime_data(tdt)[0]}]" if isinstance(tdt, np.dtype) and tdt.kind == "M" else "datetime64[us]"
    meta["entered_at"] = pd.Series([], dtype=dt)
    for k in range(len(a["spec"].sets)):
        meta[f"step_{k + 1}_at"] = pd.Series([], dtype=dt)
    return meta


def _lerp_quantile(values: np.ndarray, weights: np.ndarray, qs, pandas_style: bool) -> np.ndarray:
    """Linear-interpolation quantiles of the sample in which ``values[i]`` occurs ``weights[i]``
    times (``values`` sorted, distinct): the numbers ``np.quantile`` (``pandas_style=False``) or
    pandas' groupby ``quantile`` (``pandas_style=True``) give on the expanded sample."""
    n = int(weights.sum())
    cum = np.cumsum(weights)
    out = np.empty(len(qs))
    for i, q in enumerate(qs):
        h = (n - 1) * q
        lo = int(np.floor(h))
        hi = min(lo + 1, n - 1)
        a = float(values[np.searchsorted(cum, lo, side="right")])
        b = float(values[np.searchsorted(cum, hi, side="right")])
        t = h - lo
        if pandas_style:
            out[i] = a + (b - a) * t
        else:  # numpy's _lerp
            diff = b - a
            out[i] = b - diff * (1 - t) if t >= 0.5 else a + diff * t
    return out


def _finish_funnel(agg: pd.DataFrame, a: dict):
    """Summed partial counts → (steps, comparisons, definition), exactly as the pandas funnel."""
    from ..measure.funnel import _tables

    spec, by, func = a["spec"], a["by"], a["func"]
    special = agg[agg[_K] < 0]
    units = special.loc[special[_K] == _UNIT, _D].unique()
    if not len(units):
        raise JourneylabError(f"{func}(): argument `events` is empty (0 rows); expected at least one row.")
    if len(units) > 1:
        raise JourneylabError(f"{func}(): the partitions of `events` hold timestamps of different resolutions "
                              f"({sorted(units)} ns); cast column {a['time']!r} to one dtype, e.g. "
                              f"ddf[{a['time']!r}].astype('datetime64[ns]').")
    time_unit = {1: "ns", 1_000: "us", 1_000_000: "ms", 1_000_000_000: "s"}[int(units[0])]
    names = spec.names
    pres = special[special[_K] == _PRESENT].groupby(_D)[_N].sum().reindex(range(len(names)), fill_value=0)
    missing = [n for n, c in zip(names, pres.to_numpy()) if c == 0]
    step_names = set().union(*spec.sets)
    if [n for n in missing if n not in step_names]:
        import warnings  # an exclusion event nobody did excludes nobody (as in the pandas funnel)

        warnings.warn(f"{func}(): exclusion event(s) {', '.join(repr(n) for n in missing if n not in step_names)} "
                      f"never occur in column {a['event']!r} of the log, so they exclude nobody.", UserWarning,
                      stacklevel=3)
    missing = [n for n in missing if n in step_names]
    if missing:
        raise JourneylabError(
            f"{func}(): event(s) {', '.join(map(repr, missing))} named in `steps`/`exclude` never occur in column "
            f"{a['event']!r} of the log (all partitions). ddf[{a['event']!r}].unique().compute() lists the events "
            "present.")
    rows_ignored = int(special.loc[special[_K] == _ROWS_IGNORED, _N].sum())
    main = agg[agg[_K] >= 0]
    n_steps = len(spec.sets)
    if by:
        g = main.groupby(by, dropna=False, sort=True)
        gcode = g.ngroup().to_numpy()
        keys = g.size().reset_index()[by]
        for c in by:
            keys[c] = _cast_back(keys[c], a["by_dtypes"][c])
    else:
        gcode = np.zeros(len(main), dtype=np.int64)
        keys = pd.DataFrame(index=[0])
    G = len(keys)
    k = main[_K].to_numpy()
    d = main[_D].to_numpy()
    n = main[_N].to_numpy()
    counts = np.zeros((G, n_steps), dtype=np.int64)
    np.add.at(counts, (gcode, k), n)
    quart = np.full((G, n_steps, 3), np.nan)
    order = np.lexsort((d, k, gcode))
    gs, ks, ds, ns = gcode[order], k[order], d[order], n[order]
    bounds = np.flatnonzero(np.r_[True, (gs[1:] != gs[:-1]) | (ks[1:] != ks[:-1]), True])
    for s, e in zip(bounds[:-1], bounds[1:]):
        if ks[s] == 0:
            continue
        quart[gs[s], ks[s]] = _lerp_quantile(ds[s:e], ns[s:e], (0.25, 0.5, 0.75), pandas_style=G > 1)
    return _tables(spec, keys, counts, quart, time_unit, by=by, attribution=a["attribution"], alpha=a["alpha"],
                   correction=a["correction"], rows_ignored=rows_ignored, cols=a["cols"])


def _cast_back(col: pd.Series, dtype) -> pd.Series:
    """Group keys travel as objects; categorical keys get their categories (and sort order) back."""
    if isinstance(dtype, pd.CategoricalDtype) and dtype.categories is not None and len(dtype.categories):
        return col.astype(dtype)
    return col


class DaskFunnel:
    """A lazy funnel over a Dask DataFrame; what :func:`journeylab.funnel` returns for Dask input.

    Nothing runs until it is computed. ``.compute()`` (or ``dask.compute(f, ...)``, or
    ``client.compute(f)``) returns a :class:`~journeylab.FunnelResult` whose ``steps``,
    ``comparisons`` and ``definition`` equal those of the pandas funnel on the same data, and
    whose ``units`` is the lazy Dask DataFrame below.

    Attributes
    ----------
    units : dask.dataframe.DataFrame
        One row per user (or session) that entered step 1 — the columns of
        ``FunnelResult.units`` (group columns as objects), one partition per shuffled partition.
        Lazy, and as long as your user base: filter or aggregate it before computing.
    definition : dict
        The funnel's arguments (``rows_ignored`` is known after computing).
    """

    def __init__(self, delayed, units, definition):
        self._delayed = delayed
        self.units = units
        self.definition = definition

    # the dask collection protocol, delegated to the Delayed that builds the result
    def __dask_graph__(self):
        return self._delayed.__dask_graph__()

    def __dask_keys__(self):
        return self._delayed.__dask_keys__()

    def __dask_layers__(self):
        return self._delayed.__dask_layers__()

    def __dask_tokenize__(self):
        return ("journeylab-funnel", self._delayed.key)

    @property
    def __dask_optimize__(self):
        return self._delayed.__dask_optimize__

    @property
    def __dask_scheduler__(self):
        return self._delayed.__dask_scheduler__

    def __dask_postcompute__(self):
        return _as_result, (self.units,)

    def __dask_postpersist__(self):
        return self._delayed.__dask_postpersist__()

    def compute(self, **kwargs):
        """Run the funnel; returns a :class:`~journeylab.FunnelResult` (keyword arguments go to
        ``dask.compute``)."""
        import dask

        return dask.compute(self, **kwargs)[0]

    def __repr__(self) -> str:
        d = self.definition
        return (f"DaskFunnel (lazy): {len(d['steps'])} steps, window {d['window']}, order={d['order']!r}, "
                f"entry={d['entry']!r}, counting {d['count']}s" + (f", by {d['by']}" if d["by"] else "")
                + f"; {self.units.npartitions} partitions after the shuffle by {d['user']!r}. "
                "Call .compute() for the FunnelResult.")


def _as_result(results, units):
    from ..measure.funnel import FunnelResult

    steps, comparisons, definition = results[0] if isinstance(results, (list, tuple)) and len(results) == 1 \
        else results
    out = FunnelResult(steps, comparisons, None, None, definition)
    out._units = units
    return out


def funnel(events, *, spec, user, time, event, session, by, attribution, alpha, correction, shuffle,
           npartitions) -> DaskFunnel:
    """The Dask path of :func:`journeylab.funnel` (arguments already parsed by it)."""
    import dask

    from .checks import check_frame
    from ..measure.funnel import _HINT, _definition

    func = "funnel"
    required = [user, time, event] + ([session] if spec.count == "session" else []) + by
    cols = list(dict.fromkeys(required))
    check_frame(events._meta, arg="events", func=func, required=cols, allow_empty=True, hint=_HINT)
    if not isinstance(shuffle, bool):
        raise JourneylabError(f"{func}(): `shuffle` must be True or False; got {shuffle!r}.")
    if npartitions is not None and (not isinstance(npartitions, (int, np.integer)) or npartitions < 1):
        raise JourneylabError(f"{func}(): `npartitions` must be a positive integer or None; got {npartitions!r}.")
    a = dict(spec=spec, user=user, time=time, event=event, session=session, by=by, attribution=attribution,
             alpha=alpha, correction=correction, func=func,
             by_dtypes={c: events._meta[c].dtype for c in by},
             cols=dict(user=user, time=time, event=event, session=session))
    log = events[cols]
    # rows of other events matter only for strict order and for first/last-touch attribution
    if spec.order != "strict" and not (by and attribution != "entry"):
        log = log[log[event].isin(spec.names)]
    if shuffle:
        meta = log._meta.copy()
        meta[_POS] = pd.Series([], dtype=np.int64)
        log = log.map_partitions(_with_position, meta=meta)
        log = log.shuffle(on=user, npartitions=npartitions)
    partial = log.map_partitions(_partial_counts, a, meta=_partial_meta(by), enforce_metadata=False)
    keys = [*by, _K, _D]
    agg = partial.groupby(keys, dropna=False, sort=False)[_N].sum(split_every=8).reset_index()
    delayed = dask.delayed(_finish_funnel, pure=True)(agg, a)
    umeta = _units_meta(events._meta, a)
    units = log.map_partitions(_partial_units, a, umeta, meta=umeta, enforce_metadata=False)
    # rows_ignored is known after computing
    definition = _definition(spec, by, attribution, alpha, correction, None, a["cols"])
    return DaskFunnel(delayed, units, definition)


# ----------------------------------------------------------------------------- code frequencies


def _first_per_segment(df: pd.DataFrame) -> pd.DataFrame:
    """A partition shuffled by ``segment_id``: each segment's first row in the frame's order."""
    df = df.sort_values(_POS, kind="stable").drop_duplicates("segment_id").drop(columns=_POS)
    return df.assign(segment_id=df["segment_id"].astype(str))


def _codings_of(codings, coder):
    """Row-wise part of ``coding._one_coder``: rows of ``coder`` (all rows for None / "any")."""
    from ..coding.analysis import ANY

    if "coder" in codings.columns and coder not in (None, ANY):
        codings = codings[codings["coder"] == coder]
    return codings[["segment_id", "code"]].dropna().astype(str)


def _check_coder_arg(coder, func: str) -> None:
    if coder is not None and not isinstance(coder, str):
        raise JourneylabError(f"{func}(): `coder` must be a coder's name, 'any' or None; got {coder!r}.")


def _check_coders(coders, coder, func: str) -> None:
    """``coding._one_coder``'s checks, on the distinct coders found (computed; None when there is
    no ``coder`` column or ``coder="any"``)."""
    from ..coding.analysis import _check_coder

    if coders is not None:
        _check_coder(sorted(pd.Series(coders).astype(str).unique()), coder, func)


def _first_rows(seg):
    """Each segment's first row (``segment_id`` as str), as pandas' ``drop_duplicates("segment_id")``
    keeps it: rows get their (partition, row) position, are shuffled by ``segment_id``, and each
    partition keeps the lowest position per segment."""
    meta = seg._meta.copy()
    meta[_POS] = pd.Series([], dtype=np.int64)
    seg = seg.map_partitions(_with_position, meta=meta).shuffle(on="segment_id")
    return seg.map_partitions(_first_per_segment, meta=_first_per_segment(meta))


def _finish_frequencies(counts, groups, participants, coders, codes, n_segments, a: dict) -> pd.DataFrame:
    """The computed, small pieces → the :func:`journeylab.code_frequencies` table."""
    from ..coding.analysis import _check_known_codes, _freq_finish, _freq_population

    func = "code_frequencies"
    _check_coders(coders, a["coder"], func)
    _check_known_codes(pd.unique(np.asarray(codes, dtype=object)), a["codebook"], func)
    if n_segments == 0:
        raise JourneylabError(f"{func}(): argument `segments` is empty (0 rows); expected at least one row.")
    pop = _freq_population(participants, groups, a["part_cols"], a["seg_cols"])
    counts = counts.reset_index(drop=True).astype({"n_segments": np.int64, "n_participants": np.int64, **a["dtypes"]})
    return _freq_finish(counts, pop, a["by"], a["code_cols"], a["codebook"])


def code_frequencies(codings, segments, participants, *, by, codebook, coder):
    """The Dask path of :func:`journeylab.code_frequencies`: a lazy one-partition Dask DataFrame.

    Counting is distributed and exact: the codings are reduced to distinct (segment, code)
    pairs; the segments to each segment's first row (a shuffle by ``segment_id``, as pandas'
    ``drop_duplicates`` keeps the first); the two are joined, and rows per
    (code, group, participant) are counted — the number of segments, which adds up across
    partitions — and then summed per (code, group), where the count of participants is the number
    of distinct (code, group, participant) rows. Only these per-code counts, the distinct
    (participant, segment-column) pairs and the participants table reach the final task, which
    runs the pandas function's own finishing code.
    """
    import dask
    import dask.dataframe as dd

    from .checks import check_frame
    from ..coding.analysis import _check_codings, _freq_by

    func = "code_frequencies"
    # group columns leave as the user's dtypes (Dask turns pandas strings into pyarrow strings)
    dtypes = {**_dtypes(participants), **_dtypes(segments)}
    codings = codings if is_dask(codings) else _from_pandas(codings, "codings", func)
    segments = segments if is_dask(segments) else _from_pandas(segments, "segments", func)
    _check_codings(codings._meta, func)
    check_frame(segments._meta, arg="segments", func=func, required=["segment_id", "participant_id"], allow_empty=True)
    _check_coder_arg(coder, func)
    if participants is not None:   # as in the pandas path; _freq_by checks the columns by= needs
        check_frame(participants._meta if is_dask(participants) else participants, arg="participants", func=func,
                    required=["participant_id"], allow_empty=True, dask=True)
    by, code_cols, seg_cols, part_cols = _freq_by(by, codebook, segments.columns, participants, func)

    cod = codings.map_partitions(_codings_of, coder, meta=_codings_of(codings._meta, coder))
    cod = cod.drop_duplicates()
    seg = _first_rows(segments[["segment_id", "participant_id", *seg_cols]])
    # codings on interviewer turns (no participant) are left out, as in the pandas path
    df = cod.merge(seg, on="segment_id", how="inner").dropna(subset=["participant_id"])
    if part_cols:
        people = participants[["participant_id", *part_cols]].drop_duplicates()
        df = df.merge(people, on="participant_id", how="left")
    keys = ["code", *[b for b in by if b not in code_cols]]
    # each (segment, code, group) occurs once: rows per (code, group, participant) are segments
    per_person = df.groupby([*keys, "participant_id"], dropna=False).size().rename("n_segments").reset_index()
    counts = per_person.groupby(keys, dropna=False).agg({"n_segments": "sum", "participant_id": "count"})
    counts = counts.rename(columns={"participant_id": "n_participants"}).reset_index()
    groups = seg[["participant_id", *seg_cols]].dropna(subset=["participant_id"]).drop_duplicates()
    coders = codings["coder"].dropna().unique() if "coder" in codings.columns and coder != "any" else None
    codes = cod["code"].unique()
    a = dict(by=by, code_cols=code_cols, seg_cols=seg_cols, part_cols=part_cols, codebook=codebook, coder=coder,
             dtypes={c: dtypes[c] for c in keys[1:]})
    n_segments = segments.shape[0]
    out = dask.delayed(_finish_frequencies, pure=True)(counts, groups, participants, coders, codes, n_segments, a)
    with dask.config.set({"dataframe.convert-string": False}):   # the pandas function's own dtypes
        return dd.from_delayed([out], meta=_frequencies_meta(counts._meta, groups._meta, participants, a), verify_meta=False)


def _frequencies_meta(counts, groups, participants, a):
    from ..coding.analysis import _freq_finish, _freq_population

    counts = counts.astype({"n_segments": np.int64, "n_participants": np.int64, **a["dtypes"]})
    if is_dask(participants):
        participants = participants._meta
    pop = _freq_population(participants, groups, a["part_cols"], a["seg_cols"])
    out = _freq_finish(counts, pop, a["by"], a["code_cols"], a["codebook"]).iloc[:0]
    return out.astype({"code": str, "mentioned_by": str})


def _dtypes(df) -> dict:
    if df is None or not (is_dask(df) or isinstance(df, pd.DataFrame)):
        return {}
    return (df._meta if is_dask(df) else df).dtypes.to_dict()


def _from_pandas(df, arg: str, func: str):
    import dask.dataframe as dd

    if not isinstance(df, pd.DataFrame):
        raise JourneylabError(f"{func}(): argument `{arg}` must be a pandas or Dask DataFrame, got {type(df).__name__}.")
    return dd.from_pandas(df, npartitions=1, sort=False)


# ----------------------------------------------------------------------------- co-occurrence


def _finish_co(counts, n, coders, n_segments, a: dict) -> pd.DataFrame:
    from ..coding.analysis import _co_finish

    _check_coders(coders, a["coder"], "co_occurrence")
    if n_segments == 0:
        raise JourneylabError("co_occurrence(): argument `segments` is empty (0 rows); expected at least one row.")
    n = n.astype(np.int64)
    return _co_finish(counts.reset_index(drop=True), n, a["min_count"])


def co_occurrence(codings, segments, *, level, coder, min_count):
    """The Dask path of :func:`journeylab.co_occurrence`: a lazy one-partition Dask DataFrame.

    The codings become distinct (unit, code) pairs (a unit: a segment, or the participant of the
    segment's first row); codes per unit, and pairs of codes per unit from a join of the pairs
    with themselves on the unit, are counted and summed across partitions; the final task runs
    the pandas function's finishing code on these counts.
    """
    import dask
    import dask.dataframe as dd

    from .checks import check_choice, check_frame
    from ..coding.analysis import _check_codings

    func = "co_occurrence"
    codings = codings if is_dask(codings) else _from_pandas(codings, "codings", func)
    segments = segments if is_dask(segments) else _from_pandas(segments, "segments", func)
    _check_codings(codings._meta, func)
    check_choice(level, arg="level", func=func, choices=["segment", "participant"])
    required = ["segment_id", "participant_id"] if level == "participant" else ["segment_id"]
    check_frame(segments._meta, arg="segments", func=func, required=required, allow_empty=True)
    _check_coder_arg(coder, func)
    cod = codings.map_partitions(_codings_of, coder, meta=_codings_of(codings._meta, coder))
    if level == "participant":
        seg = _first_rows(segments[["segment_id", "participant_id"]])
        cod = cod.merge(seg, on="segment_id", how="inner").dropna(subset=["participant_id"])
        cod = cod.rename(columns={"participant_id": "unit"})
        cod = cod.assign(unit=cod["unit"].astype(str))
    else:
        cod = cod.rename(columns={"segment_id": "unit"})
    cod = cod[["unit", "code"]].drop_duplicates()
    n = cod.groupby("code").size()
    pairs = cod.merge(cod, on="unit", suffixes=("_a", "_b"))
    pairs = pairs[pairs["code_a"] < pairs["code_b"]]
    counts = pairs.groupby(["code_a", "code_b"]).size().rename("count").reset_index()
    coders = codings["coder"].dropna().unique() if "coder" in codings.columns and coder != "any" else None
    a = dict(coder=coder, min_count=min_count)
    out = dask.delayed(_finish_co, pure=True)(counts, n, coders, segments.shape[0], a)
    meta = pd.DataFrame({"code_a": pd.Series([], dtype=str), "code_b": pd.Series([], dtype=str),
                         **{c: pd.Series([], dtype=np.int64) for c in ("n_a", "n_b", "count")},
                         "jaccard": pd.Series([], dtype=float)})
    with dask.config.set({"dataframe.convert-string": False}):   # the pandas function's own dtypes
        return dd.from_delayed([out], meta=meta, verify_meta=False)


# ----------------------------------------------------------------------------- reading a study's log


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
    >>> events = jl.read_events_parquet(study, path="s3://bucket/events/")            # doctest: +SKIP
    >>> jl.funnel(events, steps=study.funnel_steps, window=study.funnel_window).compute()  # doctest: +SKIP
    """
    from os import PathLike

    func = "read_events_parquet"
    for attr in ("config", "events_map"):
        if not hasattr(study, attr):
            raise JourneylabError(f"{func}(): `study` must be a Study (journeylab.load_study); got "
                                  f"{type(study).__name__}.")
    if not isinstance(path, (str, PathLike)):
        raise JourneylabError(f"{func}(): `path` must be a path or URL of a parquet dataset; got "
                              f"{type(path).__name__}.")
    try:
        import dask.dataframe as dd
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
