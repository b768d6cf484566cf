"""Funnels from event logs: conversion per step with honest intervals, paths, time to convert.

:func:`funnel` counts the users (or sessions) who reach each step of an ordered funnel within a
conversion window, with Wilson confidence intervals, drop-off and time between steps, and — with
``by=`` — a comparison of each step's rate between groups with a multiple-testing correction.
:func:`funnel_paths` shows what users do after a step when they do not reach the next one, and
:func:`time_to_convert` summarises how long converting takes. :func:`plot_funnel` draws it.

How it is fast: the event column is mapped once to the funnel's event names and only the rows
that matter (funnel and exclusion events) are kept; user ids are encoded once as integers. The
default funnel (closed order, first entry) then needs no sort at all: each step is a vectorised
"earliest qualifying event per user" (``numpy.minimum.at``) over that step's candidate rows,
compared with the previous step's time. The strict-order and furthest-entry modes sort the kept
rows once by (user, time) and walk steps by position.
"""
from __future__ import annotations

__all__ = ["funnel", "FunnelResult", "plot_funnel", "funnel_paths", "time_to_convert"]

import difflib
import html
import itertools
import re
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import JourneylabError
from ..utils.checks import check_alpha, check_choice, check_correction, check_frame
from ..utils.dask import is_dask, position_meta, restore_order, with_position
from ..utils.docstrings import shared_docs
from .funnel_spec import FUNNEL_HINT, FunnelSpec, funnel_docs, step_label

_NONE = np.iinfo(np.int64).max  # "not reached" for times and row positions
_NO_WINDOW = np.iinfo(np.int64).max // 4  # window=None: a deadline no time reaches, without overflow
_FORCE_SORTED = False            # tests set this to check both engines give the same answer


# ----------------------------------------------------------------------------- column encoding


def _event_index(col: pd.Series, names: list) -> np.ndarray:
    """Index of each row's event in ``names`` (-1 when the event is not one of them). One pass."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories
        lut = np.full(len(cats) + 1, -1, dtype=np.int16)      # last slot: code -1 (missing) -> -1
        pos = pd.Index(names).get_indexer(cats)
        lut[:-1] = pos
        return lut[col.cat.codes.to_numpy()]
    arr = col.array
    if type(arr).__name__ in ("ArrowStringArray", "ArrowExtensionArray"):
        try:
            idx = pc.index_in(pa.array(arr), value_set=pa.array(names, type=pa.array(arr).type))
            return idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int16, copy=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
            pass
    return pd.Index(names).get_indexer(col).astype(np.int16, copy=False)


class _Codes:
    """Integer codes of a key column (user, or user × session) with a way back to the labels."""

    def __init__(self, codes: np.ndarray, n: int, labels: Callable[[np.ndarray], dict]):
        self.codes, self.n, self.labels = codes, n, labels


def _factorize(col: pd.Series, rows: np.ndarray | None, *, blank_is_missing: bool = False):
    """Codes (-1 for missing) and a function codes -> labels, for all rows or the given ones."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        codes = (codes if rows is None else codes[rows]).astype(np.int64)
        cats = col.cat.categories
        if blank_is_missing and pd.api.types.is_string_dtype(cats):
            blank = np.flatnonzero(cats.astype(str).str.strip() == "")
            if len(blank):
                codes[np.isin(codes, blank)] = -1
        return codes, len(cats), lambda c: cats.take(c)
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iu" and len(col):
        values = col.to_numpy()
        values = values if rows is None else values[rows]
        if len(values):
            lo, hi = int(values.min()), int(values.max())
            if hi - lo < max(4 * len(values), 1 << 20):
                return values.astype(np.int64) - lo, hi - lo + 1, lambda c: np.asarray(c, dtype=np.int64) + lo
    sub = col if rows is None else col.iloc[rows]
    codes, uniques = pd.factorize(sub, use_na_sentinel=True)
    codes = codes.astype(np.int64, copy=False)
    uniques = pd.Index(uniques)
    if blank_is_missing and len(uniques) and pd.api.types.is_string_dtype(uniques):
        blank = np.flatnonzero(uniques.astype(str).str.strip() == "")
        if len(blank):
            codes[np.isin(codes, blank)] = -1
    return codes, len(uniques), lambda c: uniques.take(c)


def _unit_codes(events: pd.DataFrame, user: str, session: str | None, rows: np.ndarray | None) -> _Codes:
    """Codes of the counting unit (a user, or a user's session) for all rows or the given rows."""
    ucodes, nu, ulab = _factorize(events[user], rows)
    if session is None:
        return _Codes(ucodes, nu, lambda c: {user: ulab(c)})
    scodes, ns, slab = _factorize(events[session], rows, blank_is_missing=True)
    ns = max(ns, 1)
    ok = (ucodes >= 0) & (scodes >= 0)
    codes = np.full(len(ucodes), -1, dtype=np.int64)
    sub, uniq = pd.factorize(ucodes[ok] * ns + scodes[ok])
    codes[ok] = sub
    uniq = np.asarray(uniq, dtype=np.int64)
    return _Codes(codes, len(uniq), lambda c: {user: ulab(uniq[c] // ns), session: slab(uniq[c] % ns)})


def _times(col: pd.Series, name: str, func: str) -> tuple[np.ndarray, str]:
    """Timestamps as int64 in their own unit (UTC for tz-aware), and that unit. Errors name the row."""
    s = col
    if not pd.api.types.is_datetime64_any_dtype(s):
        if pd.api.types.is_numeric_dtype(s):
            raise JourneylabError(f"{func}(): column {name!r} holds numbers ({s.dtype}); expected timestamps. "
                                  f"Convert it first, e.g. pd.to_datetime(df[{name!r}], unit='s').")
        parsed = pd.to_datetime(s, errors="coerce", utc=True, format="ISO8601")
        bad = parsed.isna() & s.notna()
        if bad.any():
            parsed2 = pd.to_datetime(s, errors="coerce", utc=True, format="mixed")
            bad = parsed2.isna() & s.notna()
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise JourneylabError(
                    f"{func}(): column {name!r}, row {i} (index {s.index[i]!r}): could not parse {s.iloc[i]!r} as a "
                    f"timestamp; expected e.g. '2026-08-03T07:14:09Z' ({int(bad.sum())} unparseable value(s)).")
            parsed = parsed2
        s = parsed
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    arr = s.to_numpy()
    nat = np.isnat(arr)
    if nat.any():
        i = int(np.flatnonzero(nat)[0])
        raise JourneylabError(f"{func}(): column {name!r}, row {i} (index {col.index[i]!r}): missing timestamp "
                              f"({int(nat.sum())} missing); every event needs a time.")
    unit = np.datetime_data(arr.dtype)[0]
    return arr.view(np.int64), unit


def to_time_unit(td: pd.Timedelta | None, unit: str) -> int:
    if td is None:
        return int(_NO_WINDOW)
    return int(np.timedelta64(td.value, "ns").astype(f"timedelta64[{unit}]").astype(np.int64))


def _check_present(counts: np.ndarray, names: list, col: pd.Series, spec: FunnelSpec, func: str, event: str) -> None:
    missing = [n for n, c in zip(names, counts) if c == 0]
    step_names = set().union(*spec.sets)
    absent_exclusions = [n for n in missing if n not in step_names]
    if absent_exclusions:
        # PostHog: an exclusion event nobody did excludes nobody (a typo would look the same: say so)
        warnings.warn(f"{func}(): exclusion event(s) {', '.join(map(repr, absent_exclusions))} never occur in column "
                      f"{event!r} of the log, so they exclude nobody. Check the spelling if that is unexpected.",
                      UserWarning, stacklevel=4)
    missing = [n for n in missing if n in step_names]
    if not missing:
        return
    present = pd.unique(col.dropna().astype(str)) if len(col) <= 2_000_000 else col.dropna().astype(str).head(
        2_000_000).unique()
    present = sorted(map(str, present))
    parts = []
    for m in missing:
        close = difflib.get_close_matches(m, present, n=1)
        parts.append(repr(m) + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise JourneylabError(
        f"{func}(): event(s) {', '.join(parts)} named in `steps`/`exclude` never occur in column {event!r} of the "
        f"log. Events present: {', '.join(present[:25])}{' …' if len(present) > 25 else ''}.")


# ----------------------------------------------------------------------------- the engine


@dataclass
class _Core:
    spec: FunnelSpec
    unit_codes: np.ndarray       # codes of the units that entered step 1
    T: np.ndarray                # (n_steps, n_entered) int64 time of each step, _NONE if not reached
    entry_rows: np.ndarray       # original row position of each unit's entry event
    unit: _Codes
    time_unit: str
    n_rows_ignored: int = 0      # rows without a unit (missing user / session)
    extra: dict = field(default_factory=dict)

    def reached(self, k: int) -> np.ndarray:
        return self.T[k] != _NONE


_CHUNK = 1 << 19   # rows scanned at a time: bounds the temporary arrays to a few MB each


def _after(tt, pos, pt, pr):
    """(tt, pos) strictly after (pt, pr) in (time, row) order."""
    return (tt > pt) | ((tt == pt) & (pos > pr))


class _Source:
    """Where the engines read rows: times, event indices and unit codes by position.

    Positions run over the whole log (``rows is None``: no copy of anything) or over a subset of
    it (``rows`` maps positions to rows of the log). Positions increase with row order.
    ``time_sorted`` says whether times never decrease with position (analytics exports usually
    come sorted by time); then the earliest event is simply the first one.
    """

    def __init__(self, t, e, ucode_at, n_units, rows=None, may_miss=True):
        self.t, self.e, self.ucode_at, self.n_units, self.rows, self.may_miss = t, e, ucode_at, n_units, rows, may_miss
        last = len(t) - 1
        self.time_sorted = all(bool((t[s + 1:min(s + _CHUNK, last) + 1] >= t[s:min(s + _CHUNK, last)]).all())
                               for s in range(0, max(last, 0), _CHUNK))
        self._idx = np.int32 if len(e) < 2**31 - 1 else np.int64

    def positions(self, lut) -> np.ndarray:
        """Positions of the rows whose event is in ``lut`` (one scan of the event codes)."""
        e = self.e
        parts = [np.flatnonzero(lut[e[s:s + _CHUNK]]).astype(self._idx) + self._idx(s)
                 for s in range(0, len(e), _CHUNK)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=self._idx)

    def candidates(self, P):
        """Yield (positions, unit codes, times) over the positions ``P``, a chunk at a time."""
        for s in range(0, len(P), _CHUNK):
            c = P[s:s + _CHUNK]
            uu = self.ucode_at(c)
            if self.may_miss:
                keep = uu >= 0
                if not keep.all():
                    c, uu = c[keep], uu[keep]
            yield c, uu, self.t[c]

    def row_of(self, pos):
        return pos if self.rows is None else self.rows[pos]


def _earliest(src: _Source, lut, Tk, Rk, allowed) -> None:
    """Per unit, the earliest (time, row) among candidate rows passing ``allowed(c, uu, tt)``.

    Time-sorted log: the first qualifying row (one pass). Otherwise two passes over the
    candidates: the minimum time, then the first row at that time.
    """
    P = src.positions(lut)
    if src.time_sorted:
        for c, uu, tt in src.candidates(P):
            ok = allowed(c, uu, tt)
            np.minimum.at(Rk, uu[ok], c[ok].astype(np.int64))    # same dtypes: ufunc.at's fast path
        have = Rk != _NONE
        Tk[have] = src.t[Rk[have]]
        return
    for c, uu, tt in src.candidates(P):
        ok = allowed(c, uu, tt)
        np.minimum.at(Tk, uu[ok], tt[ok])
    for c, uu, tt in src.candidates(P):
        ok = allowed(c, uu, tt)
        ok &= tt == Tk[uu]
        np.minimum.at(Rk, uu[ok], c[ok].astype(np.int64))


def _engine_unsorted(src: _Source, spec: FunnelSpec, W: int, luts: list, xluts: dict):
    """Closed / any order with first entry: no sort. Returns T (n_steps, n_units) and R (positions)."""
    n = len(spec.sets)
    T = np.full((n, src.n_units), _NONE, dtype=np.int64)
    R = np.full((n, src.n_units), _NONE, dtype=np.int64)
    _earliest(src, luts[0], T[0], R[0], lambda c, uu, tt: np.ones(len(c), dtype=bool))
    entered = T[0] != _NONE
    deadline = np.where(entered, T[0] + W * entered, _NONE)
    # exclusion="funnel" (PostHog): a user with an exclusion event inside their attempt leaves the whole funnel
    removed = np.zeros(src.n_units, dtype=bool) if spec.exclusion == "funnel" else None
    if spec.order == "closed":
        for k in range(1, n):
            Tp, Rp = T[k - 1], R[k - 1]

            def allowed(c, uu, tt, Tp=Tp, Rp=Rp):
                pt = Tp[uu]
                return (pt != _NONE) & (tt <= deadline[uu]) & _after(tt, c, pt, Rp[uu])

            _earliest(src, luts[k], T[k], R[k], allowed)
            _apply_exclusion(src, k, T, R, xluts, deadline, removed)
    else:  # any order after step 1
        F = np.full(src.n_units, _NONE, dtype=np.int64)
        FR = np.full(src.n_units, _NONE, dtype=np.int64)
        T0, R0 = T[0], R[0]

        def allowed(c, uu, tt):
            return entered[uu] & (tt <= deadline[uu]) & _after(tt, c, T0[uu], R0[uu])

        for k in range(1, n):
            F[:] = _NONE
            FR[:] = _NONE
            _earliest(src, luts[k], F, FR, allowed)
            have = (T[k - 1] != _NONE) & (F != _NONE)
            later = _after(F, FR, T[k - 1], R[k - 1])
            T[k] = np.where(have, np.where(later, F, T[k - 1]), _NONE)
            R[k] = np.where(have, np.where(later, FR, R[k - 1]), _NONE)
            _apply_exclusion(src, k, T, R, xluts, deadline, removed)
    if removed is not None and removed.any():
        T[:, removed] = _NONE
        R[:, removed] = _NONE
    return T, R


def _apply_exclusion(src: _Source, k, T, R, xluts, deadline=None, removed=None):
    """Units with an exclusion event strictly between their step k-1 and step k stop at k-1.

    With ``removed`` (exclusion="funnel"), such units, and units that reached step k-1 but not step
    k and did an exclusion event after step k-1 within their window, are also marked in ``removed``.
    """
    lut = xluts.get(k)
    if lut is None:
        return
    bad = np.zeros(src.n_units, dtype=bool)
    for xs, ux, tx in src.candidates(src.positions(lut)):
        reached = T[k][ux] != _NONE
        after_prev = (T[k - 1][ux] != _NONE) & _after(tx, xs, T[k - 1][ux], R[k - 1][ux])
        hit = reached & after_prev & _after(T[k][ux], R[k][ux], tx, xs)
        bad[ux[hit]] = True
        if removed is not None:
            still_open = ~reached & after_prev & (tx <= deadline[ux])
            removed[ux[hit | still_open]] = True
    T[k][bad] = _NONE
    R[k][bad] = _NONE


def _next_true(mask: np.ndarray) -> np.ndarray:
    """nxt[p] = smallest position >= p where mask is True (len(mask) if none); length len(mask) + 1."""
    N = len(mask)
    idx = np.where(mask, np.arange(N, dtype=np.int64), N)
    out = np.empty(N + 1, dtype=np.int64)
    out[N] = N
    out[:N] = np.minimum.accumulate(idx[::-1])[::-1]
    return out


def _engine_sorted(u, t, e, spec: FunnelSpec, W: int, luts: list, xluts: dict):
    """Strict order, or furthest entry: sort the rows by (unit, time, row) once and walk by position.

    Returns (units, P, order) where P (n_steps, n_units_entered) holds sorted positions (-1: not
    reached) and ``order`` maps sorted positions back to input positions.
    """
    n = len(spec.sets)
    order = np.lexsort((t, u))                   # stable: ties keep row order
    su, st, se = u[order], t[order], e[order]
    N = len(order)
    m = [lut[se] for lut in luts]
    if spec.order == "any":
        return _unordered(su, st, m, spec, W, N) + (order, st)
    E = np.flatnonzero(m[0])
    if spec.entry == "first" and len(E):
        E = E[np.r_[True, su[E[1:]] != su[E[:-1]]]]
    ue = su[E]
    dl = st[E] + W
    P = np.full((n, len(E)), -1, dtype=np.int64)
    P[0] = E
    alive = np.ones(len(E), dtype=bool)
    xnext = {k: _next_true(lut[se]) for k, lut in xluts.items()}
    removed = np.zeros(len(E), dtype=bool)

    def excluded(k, prev, cand, ok):
        """Attempts with an exclusion event after step k-1 and before step k (or, not reaching it, in the window)."""
        xp = xnext[k][prev + 1]
        xc = np.minimum(xp, N - 1)
        inside = alive & (xp < N) & (su[xc] == ue) & (st[xc] <= dl)
        return inside & (xp < cand), inside & ~ok

    def valid(cand):
        cc = np.minimum(cand, N - 1)
        return (cand < N) & (su[cc] == ue) & (st[cc] <= dl), cc

    if spec.order == "strict":
        for k in range(1, n):
            ok, cc = valid(P[k - 1] + 1)
            ok &= alive & m[k][cc]
            P[k] = np.where(ok, cc, -1)
            alive = ok
    elif spec.order == "closed":
        for k in range(1, n):
            nxt = _next_true(m[k])
            prev = np.where(alive, P[k - 1], 0)
            cand = nxt[prev + 1]
            ok, cc = valid(cand)
            ok &= alive
            if k in xnext:
                before, open_ = excluded(k, prev, cand, ok)
                removed |= (ok & before) | open_
                ok &= ~before
            P[k] = np.where(ok, cc, -1)
            alive = ok
    else:  # any
        for k in range(1, n):
            nxt = _next_true(m[k])
            ok, cc = valid(nxt[E + 1])
            prev = np.where(alive, P[k - 1], 0)
            comp = np.maximum(prev, cc)
            ok &= alive
            if k in xnext:
                before, open_ = excluded(k, prev, comp, ok)
                removed |= (ok & before) | open_
                ok &= ~before
            P[k] = np.where(ok, comp, -1)
            alive = ok
    if spec.exclusion == "funnel" and removed.any():
        # PostHog: the user leaves the whole funnel (every attempt, with entry="furthest")
        drop = np.isin(ue, ue[removed])
        P, ue = P[:, ~drop], ue[~drop]
    if spec.entry == "furthest" and len(ue):
        P, ue = _furthest_attempt(P, ue)
    return ue, P, order, st


def _furthest_attempt(P: np.ndarray, ue: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """entry="furthest": of each unit's attempts (columns of ``P``, grouped by ``ue``), the one that
    reaches the most steps; ties go to the earliest."""
    reach = (P >= 0).sum(axis=0)
    starts = np.flatnonzero(np.r_[True, ue[1:] != ue[:-1]])
    best = np.maximum.reduceat(reach, starts)
    best_each = np.repeat(best, np.diff(np.r_[starts, len(ue)]))
    cand = np.flatnonzero(reach == best_each)
    keep = cand[np.r_[True, ue[cand[1:]] != ue[cand[:-1]]]]
    return P[:, keep], ue[keep]


def _unordered(su, st, m, spec: FunnelSpec, W: int, N: int):
    """order="any" (PostHog's unordered funnel): an attempt starts at any step's event; "step k" is
    reached when k distinct steps have happened within the window of that start, in any order.

    Returns (units, P) with P[k] the sorted position of the k-th distinct step completed (-1: not).
    entry="first": the attempt starting at the user's first event of any step; "furthest": every
    start is tried and the one completing the most steps is kept (ties: the earliest).
    """
    n = len(m)
    anym = np.zeros(N, dtype=bool)
    for mk in m:
        anym |= mk
    E = np.flatnonzero(anym)
    if spec.entry == "first" and len(E):
        E = E[np.r_[True, su[E[1:]] != su[E[:-1]]]]
    ue = su[E]
    dl = st[E] + W
    F = np.full((n, len(E)), N, dtype=np.int64)
    for s in range(n):
        cand = _next_true(m[s])[E]               # first event of step s at or after the start
        cc = np.minimum(cand, N - 1)
        ok = (cand < N) & (su[cc] == ue) & (st[cc] <= dl)
        F[s] = np.where(ok, cand, N)
    F.sort(axis=0)
    P = np.where(F < N, F, -1)
    if spec.entry == "furthest" and len(E):
        P, ue = _furthest_attempt(P, ue)
    return ue, P


def _direct_codes(col: pd.Series):
    """Unit codes readable by position without copying the column (categorical codes, or integer
    ids in a dense range), as (code_at, n, labels, all_codes); None when the column needs hashing."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        cats = col.cat.categories
        return (lambda c: codes[c]), len(cats), (lambda c: cats.take(c)), codes
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iu" and len(col):
        vals = col.to_numpy()
        lo, hi = int(vals.min()), int(vals.max())
        if hi - lo < max(4 * len(vals), 1 << 20):
            return ((lambda c: vals[c].astype(np.int64) - lo), hi - lo + 1,
                    (lambda c: np.asarray(c, dtype=np.int64) + lo), None)
    return None


def run_funnel(events, spec: FunnelSpec, *, need_all_codes: bool, func: str, by_cols: Sequence[str] = (),
                     present: list | None = None) -> _Core:
    """Validate, encode and run the right engine.

    ``present``: a list to receive the number of rows of each of ``spec.names`` instead of raising
    when one never occurs (the Dask path checks that over all partitions at the end).
    """
    user, time, event, session = spec.user, spec.time, spec.event, spec.session
    required = spec.required + list(by_cols)
    check_frame(events, arg="events", func=func, required=list(dict.fromkeys(required)), hint=FUNNEL_HINT,
                dask=func == "funnel")  # funnel() also takes a Dask log (docs/scale.md)
    t_all, tunit = _times(events[time], time, func)
    W = to_time_unit(spec.window, tunit)
    names = spec.names
    e_all = _event_index(events[event], names)
    if present is not None:
        present.extend(np.bincount(e_all[e_all >= 0], minlength=len(names)).tolist())
    else:
        counts = [bool((e_all == i).any()) for i in range(len(names))]
        _check_present(counts, names, events[event], spec, func, event)
    luts = []
    for s in spec.sets:
        lut = np.zeros(len(names) + 1, dtype=bool)            # last slot: -1 (other event) -> False
        lut[[names.index(x) for x in s]] = True
        luts.append(lut)
    xluts = {}
    for k in range(1, len(spec.sets)):
        ex = spec.excluded_between(k)
        if ex:
            lut = np.zeros(len(names) + 1, dtype=bool)
            lut[[names.index(x) for x in ex]] = True
            xluts[k] = lut
    session_col = session if spec.count == "session" else None
    strict = spec.order == "strict"
    sorted_engine = strict or spec.entry == "furthest" or spec.order == "any" or _FORCE_SORTED
    direct = _direct_codes(events[user]) if session_col is None else None
    all_codes = None
    if direct is not None:
        code_at, n_units, ulab, cat_codes = direct
        unit = _Codes(None, n_units, lambda c: {user: ulab(c)})
        missing = cat_codes is not None and len(cat_codes) and cat_codes.min() < 0
        n_ignored = int(((cat_codes < 0) & (e_all >= 0)).sum()) if missing else 0
        if need_all_codes:
            all_codes = cat_codes if cat_codes is not None else code_at(np.arange(len(events)))
        src = _Source(t_all, e_all, code_at, n_units, None, may_miss=bool(missing))
    else:
        if strict or need_all_codes:
            unit = _unit_codes(events, user, session_col, None)
            all_codes = unit.codes
            keep = all_codes >= 0 if strict else (e_all >= 0) & (all_codes >= 0)
            rows = np.flatnonzero(keep)
            u = all_codes[rows]
            n_ignored = int(((all_codes < 0) & (True if strict else e_all >= 0)).sum())
        else:
            rows = np.flatnonzero(e_all >= 0)
            unit = _unit_codes(events, user, session_col, rows)
            ok = unit.codes >= 0
            n_ignored = int((~ok).sum())
            u = unit.codes[ok] if n_ignored else unit.codes
            rows = rows[ok] if n_ignored else rows
        src = _Source(t_all[rows], e_all[rows], (lambda c, u=u: u[c]), unit.n, rows, may_miss=False)
    if not sorted_engine:
        T, R = _engine_unsorted(src, spec, W, luts, xluts)
        entered = np.flatnonzero(T[0] != _NONE)
        core = _Core(spec, entered, T[:, entered], src.row_of(R[0][entered]), unit, tunit, n_ignored)
    else:
        if src.rows is None:   # materialise the rows the sort needs
            rows = np.arange(len(e_all)) if strict else np.flatnonzero(e_all >= 0)
            u = src.ucode_at(rows)
            ok = u >= 0
            rows, u = rows[ok], u[ok]
            t, e = t_all[rows], e_all[rows]
        else:
            rows, u, t, e = src.rows, src.ucode_at(np.arange(len(src.e))), src.t, src.e
        ue, P, order, st = _engine_sorted(u, t, e, spec, W, luts, xluts)
        T = np.where(P >= 0, st[np.maximum(P, 0)], _NONE)
        core = _Core(spec, ue, T, rows[order[P[0]]], unit, tunit, n_ignored)
    core.extra["all_codes"] = all_codes
    core.extra["t_all"] = t_all
    return core


# ----------------------------------------------------------------------------- groups


def attribute_groups(events, core: _Core, by: list, attribution: str, time: str) -> pd.DataFrame:
    """Group values per entered unit (rows aligned with core.unit_codes)."""
    if attribution == "entry":
        vals = events[by].iloc[core.entry_rows]
        return vals.reset_index(drop=True)
    codes = core.extra["all_codes"]
    t_all = core.extra["t_all"]
    ok = events[by].notna().all(axis=1).to_numpy() & (codes >= 0)
    rows = np.flatnonzero(ok)
    uu, tt = codes[rows], t_all[rows]
    n = core.unit.n
    if attribution == "first_touch":
        best = np.full(n, _NONE, dtype=np.int64)
        np.minimum.at(best, uu, tt)
        sel = tt == best[uu]
        pick = np.full(n, _NONE, dtype=np.int64)
        np.minimum.at(pick, uu[sel], rows[sel])
    else:  # last_touch
        best = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(best, uu, tt)
        sel = tt == best[uu]
        pick = np.full(n, -1, dtype=np.int64)
        np.maximum.at(pick, uu[sel], rows[sel])
    chosen = pick[core.unit_codes]
    have = (chosen != _NONE) & (chosen >= 0)
    vals = events[by].iloc[np.where(have, chosen, 0)].reset_index(drop=True)
    if not have.all():
        vals = vals.astype(object)
        vals.loc[~have, :] = np.nan
    return vals


def _wilson(count, nobs, alpha):
    # lazy: statsmodels adds ~1.3 s to `import journeylab` (measured; docs/architecture.md)
    from statsmodels.stats.proportion import proportion_confint

    count = np.asarray(count, dtype=float)
    nobs = np.asarray(nobs, dtype=float)
    lo = np.full(count.shape, np.nan)
    hi = np.full(count.shape, np.nan)
    ok = nobs > 0
    if ok.any():
        lo[ok], hi[ok] = proportion_confint(count[ok], nobs[ok], alpha=alpha, method="wilson")
    return lo, hi


def _ratio(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def _quartiles(delta: np.ndarray, groups: np.ndarray, G: int) -> np.ndarray:
    """(G, 3) quartiles (q1, median, q3) of ``delta`` per group code; NaN where a group is empty."""
    out = np.full((G, 3), np.nan)
    if not len(delta):
        return out
    if G == 1:
        out[0] = np.quantile(delta, [0.25, 0.5, 0.75])
        return out
    q = pd.Series(delta).groupby(groups).quantile([0.25, 0.5, 0.75]).unstack()
    out[q.index.to_numpy()] = q.to_numpy()
    return out


def _td(values: np.ndarray, unit: str) -> pd.Series:
    vals = np.asarray(values, dtype=float)
    out = pd.to_timedelta(np.where(np.isnan(vals), np.nan, np.round(vals)), unit=unit)
    return pd.Series(out).astype("timedelta64[ns]") if unit != "ns" else pd.Series(out)


def _summarise(core: _Core, groups: pd.DataFrame | None, by: list):
    """The groups' ``keys``, units reaching each step (G, n_steps) and quartiles of the time from
    the previous step (G, n_steps, 3)."""
    spec = core.spec
    n_steps = len(spec.sets)
    m = len(core.unit_codes)
    if groups is None or not by:
        gcode = np.zeros(m, dtype=np.int64)
        keys = pd.DataFrame(index=[0])
    else:
        g = groups.groupby(by, dropna=False, sort=True)
        gcode = g.ngroup().to_numpy()
        keys = g.size().reset_index()[by]
    G = len(keys)
    counts = np.zeros((G, n_steps), dtype=np.int64)
    quart = np.full((G, n_steps, 3), np.nan)
    for k in range(n_steps):
        r = core.reached(k)
        counts[:, k] = np.bincount(gcode[r], minlength=G)
        if k:
            d = core.T[k][r] - core.T[k - 1][r]
            quart[:, k] = _quartiles(d, gcode[r], G)
    return keys, counts, quart


def _tables(spec: FunnelSpec, keys: pd.DataFrame, counts: np.ndarray, quart: np.ndarray, time_unit: str, *, by: list,
            attribution: str, alpha: float, correction: str, rows_ignored):
    """``steps``, ``comparisons`` and ``definition`` of a :class:`FunnelResult` from the counts
    (G, n_steps) and quartiles of the time from the previous step (G, n_steps, 3) in ``time_unit``
    per group; shared by the pandas and the Dask paths."""
    steps = _steps_frame(spec, keys, counts, quart, by, alpha, time_unit)
    if by:
        comparisons = _compare(keys, counts, spec, by, alpha, correction)
    else:
        comparisons = _compare(pd.DataFrame(index=[0]), counts[:1], spec, [], alpha, correction).iloc[:0]
    return steps, comparisons, _definition(spec, by, attribution, alpha, correction, rows_ignored)


def _definition(spec: FunnelSpec, by: list, attribution: str, alpha: float, correction: str, rows_ignored) -> dict:
    return dict(steps=dict(zip(spec.labels, [sorted(s) for s in spec.sets])), window=format_timedelta(spec.window),
                order=spec.order, entry=spec.entry,
                exclude=[(sorted(ev), a + 1, b + 1) for ev, a, b in spec.exclude],
                exclusion=spec.exclusion, count=spec.count,
                by=by, attribution=attribution, alpha=alpha, correction=correction,
                rows_ignored=rows_ignored, **spec.columns)


def _steps_frame(spec: FunnelSpec, keys: pd.DataFrame, counts: np.ndarray, quart: np.ndarray, by: list, alpha: float,
                 time_unit: str) -> pd.DataFrame:
    n_steps = len(spec.sets)
    unit_name = "users" if spec.count == "user" else "sessions"
    G = len(keys)
    rows = []
    for gi in range(G):
        c = counts[gi]
        prev = np.r_[np.nan, c[:-1]]
        prev_lo, prev_hi = _wilson(c[1:], c[:-1], alpha)
        start_lo, start_hi = _wilson(c[1:], np.full(n_steps - 1, c[0]), alpha)
        frame = pd.DataFrame({
            "step": spec.display_labels,
            "step_index": np.arange(1, n_steps + 1),
            unit_name: c,
            "conversion_from_previous": _ratio(c, prev),
            "from_previous_ci_low": np.r_[np.nan, prev_lo],
            "from_previous_ci_high": np.r_[np.nan, prev_hi],
            "conversion_from_start": _ratio(c, np.full(n_steps, c[0])),
            "from_start_ci_low": np.r_[np.nan, start_lo],
            "from_start_ci_high": np.r_[np.nan, start_hi],
            "drop_off": np.r_[0, c[:-1] - c[1:]].astype(np.int64),
            "drop_off_rate": 1 - _ratio(c, prev),
            "median_time_from_previous": _td(quart[gi, :, 1], time_unit),
            "q1_time_from_previous": _td(quart[gi, :, 0], time_unit),
            "q3_time_from_previous": _td(quart[gi, :, 2], time_unit),
        })
        for col in reversed(by):
            frame.insert(0, col, [keys[col].iloc[gi]] * n_steps)
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def _compare(keys: pd.DataFrame, counts: np.ndarray, spec: FunnelSpec, by: list, alpha: float, correction: str):
    """Pairwise two-proportion z tests of each step's conversion from the previous step."""
    # lazy: statsmodels adds ~1.3 s to `import journeylab` (measured; docs/architecture.md)
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    cols = ["step", "step_index"] + [f"{b}_a" for b in by] + [f"{b}_b" for b in by] + [
        "n_a", "conversions_a", "rate_a", "n_b", "conversions_b", "rate_b", "difference", "ci_low", "ci_high",
        "statistic", "p_value", "p_adj", "correction", "test"]
    rows = []
    G = len(keys)
    for k in range(1, len(spec.sets)):
        for a, b in itertools.combinations(range(G), 2):
            na, ca, nb, cb = counts[a, k - 1], counts[a, k], counts[b, k - 1], counts[b, k]
            row = {"step": spec.display_labels[k], "step_index": k + 1}
            for col in by:
                row[f"{col}_a"] = keys[col].iloc[a]
                row[f"{col}_b"] = keys[col].iloc[b]
            z = p = lo = hi = np.nan
            if na > 0 and nb > 0:
                pooled = (ca + cb) / (na + nb)
                if 0 < pooled < 1:
                    z, p = proportions_ztest([cb, ca], [nb, na])
                else:
                    z, p = 0.0, 1.0
                lo, hi = confint_proportions_2indep(cb, nb, ca, na, compare="diff", method="newcomb", alpha=alpha)
            row.update(n_a=int(na), conversions_a=int(ca), rate_a=ca / na if na else np.nan, n_b=int(nb),
                       conversions_b=int(cb), rate_b=cb / nb if nb else np.nan,
                       difference=(cb / nb if nb else np.nan) - (ca / na if na else np.nan),
                       ci_low=float(lo), ci_high=float(hi), statistic=float(z), p_value=float(p))
            rows.append(row)
    out = pd.DataFrame(rows, columns=[c for c in cols if c not in ("p_adj", "correction", "test")])
    out["p_adj"] = np.nan
    ok = out["p_value"].notna().to_numpy()
    if ok.any():
        out.loc[ok, "p_adj"] = multipletests(out.loc[ok, "p_value"].to_numpy(), alpha=alpha, method=correction)[1]
    out["correction"] = correction
    out["test"] = "two-proportion z (pooled)"
    return out[cols]


# ----------------------------------------------------------------------------- public API


class FunnelResult:
    """What :func:`funnel` returns: the per-step frame, the group comparisons and the per-unit table.

    Attributes
    ----------
    steps : DataFrame
        One row per (group ×) step; columns listed in :func:`funnel`.
    comparisons : DataFrame
        One row per step (from the 2nd) × pair of groups; empty without ``by``.
    units : DataFrame
        One row per user (or session) that entered step 1 (built on first access).
    definition : dict
        The funnel definition (steps, window, order, entry, exclusions, counting unit, ...).
    """

    def __init__(self, steps, comparisons, core, groups, definition):
        self.steps = steps
        self.comparisons = comparisons
        self.definition = definition
        self._core = core
        self._groups = groups
        self._units = None

    @property
    def units(self) -> pd.DataFrame:
        """One row per unit that entered: id column(s), group columns, ``steps_reached``,
        ``entered_at`` and ``step_<k>_at`` (timestamp of step k, NaT when not reached)."""
        if self._units is None:
            core = self._core
            ids = core.unit.labels(core.unit_codes)
            frame = pd.DataFrame({k: np.asarray(v) for k, v in ids.items()})
            if self._groups is not None:
                for c in self._groups.columns:
                    frame[c] = self._groups[c].to_numpy()
            frame["steps_reached"] = (core.T != _NONE).sum(axis=0)
            dt = f"datetime64[{core.time_unit}]"
            for k in range(core.T.shape[0]):
                vals = core.T[k].copy()
                col = vals.view(dt).copy()
                col[vals == _NONE] = np.datetime64("NaT")
                frame[f"step_{k + 1}_at"] = col
            frame.insert(len(frame.columns) - core.T.shape[0], "entered_at", frame["step_1_at"])
            self._units = frame
        return self._units

    def plot(self, ax=None, **kwargs):
        """Draw the funnel; see :func:`plot_funnel`."""
        return plot_funnel(self, ax=ax, **kwargs)

    def __repr__(self) -> str:
        d = self.definition
        head = (f"FunnelResult: {len(d['steps'])} steps, window {d['window']}, order={d['order']!r}, "
                f"entry={d['entry']!r}, counting {d['count']}s")
        if d["by"]:
            head += f", by {d['by']} ({d['attribution']})"
        body = self.steps.to_string(index=False, max_cols=12)
        out = head + "\n" + body
        if len(self.comparisons):
            out += "\n\ncomparisons (" + d["correction"] + "-adjusted):\n" + self.comparisons[
                [c for c in self.comparisons.columns if c not in ("test", "correction", "statistic")]
            ].to_string(index=False, max_rows=20)
        return out

    def _repr_html_(self) -> str:
        d = self.definition
        head = (f"<p><b>Funnel</b>: {len(d['steps'])} steps, window {html.escape(str(d['window']))}, "
                f"order={html.escape(d['order'])}, entry={html.escape(d['entry'])}, counting {d['count']}s"
                + (f", by {html.escape(str(d['by']))} ({html.escape(d['attribution'])})" if d["by"] else "")
                + "</p>")
        out = head + self.steps.to_html(index=False, float_format=lambda x: f"{x:.3f}")
        if len(self.comparisons):
            out += (f"<p>Comparisons of each step's conversion between groups "
                    f"(p_adj: {html.escape(d['correction'])})</p>"
                    + self.comparisons.to_html(index=False, max_rows=30, float_format=lambda x: f"{x:.4g}"))
        return out


@funnel_docs
def funnel(
    events: pd.DataFrame,
    *,
    steps: Sequence | dict,
    user: str = "user_id",
    time: str = "timestamp",
    event: str = "event",
    window: str | pd.Timedelta = "7D",
    order: str = "closed",
    entry: str = "first",
    exclude=None,
    exclusion: str = "funnel",
    count: str = "user",
    session: str = "session_id",
    by: str | Sequence[str] | None = None,
    attribution: str = "first_touch",
    alpha: float = 0.05,
    correction: str = "holm",
    shuffle: bool = True,
    npartitions: int | None = None,
) -> FunnelResult:
    """Conversion funnel from an event log: users (or sessions) reaching each step, with intervals.

    Parameters
    ----------
    events : DataFrame or dask.dataframe.DataFrame
        The event log, one row per event (``study.events``). A Dask DataFrame gives a lazy
        result with the same numbers (see Dask below and ``docs/scale.md``).
    steps : list or dict
        The steps in order. A step is an event name or a list of names (any of them counts,
        e.g. ``["product_a", "product_b"]``). A dict ``{label: step}`` names the steps.
    %(funnel_parameters)s
    by : str or list of str, optional
        Break the funnel down by these columns of ``events`` (device, channel, period, ...).
    attribution : {"first_touch", "entry", "last_touch"}, default "first_touch"
        Which event's ``by`` value a user gets: their first event in the log with a value, their
        step-1 entry event, or their last event.
    alpha : float, default 0.05
        1 − confidence level of the intervals; also the family-wise level of the comparisons.
    correction : str, default "holm"
        Multiple-testing method for the group comparisons, any of
        ``statsmodels.stats.multitest.multipletests`` (``"holm"``, ``"bonferroni"``, ``"fdr_bh"``, ...).
    shuffle : bool, default True
        Dask input only. ``True`` shuffles the log so that each user's events sit in one
        partition. ``False`` skips the shuffle: only when that is already so (e.g. a parquet log
        written partitioned by a hash of the user id); otherwise users are split and counted twice.
    npartitions : int, optional
        Dask input only: partitions after the shuffle (default: as many as the input).

    Returns
    -------
    FunnelResult
        ``.steps``: one row per (group ×) step with the ``by`` columns, ``step`` (label),
        ``step_index`` (1-based), ``users`` (``sessions`` when ``count="session"``),
        ``conversion_from_previous`` with ``from_previous_ci_low`` / ``from_previous_ci_high``,
        ``conversion_from_start`` with ``from_start_ci_low`` / ``from_start_ci_high`` (Wilson
        intervals; NaN at step 1, where the rate is 1 by definition), ``drop_off`` (users lost
        since the previous step), ``drop_off_rate``, ``median_time_from_previous``,
        ``q1_time_from_previous``, ``q3_time_from_previous`` (Timedelta, among users reaching the
        step).

        ``.comparisons`` (with ``by``): one row per step from the 2nd × pair of groups: ``step``,
        ``step_index``, ``<by>_a``, ``<by>_b``, ``n_a``, ``conversions_a``, ``rate_a`` (users at
        the previous step, at this step, and their ratio for group a), the same for b,
        ``difference`` (rate_b − rate_a) with ``ci_low`` / ``ci_high`` (Newcombe hybrid score
        interval), ``statistic`` (z), ``p_value`` (pooled two-proportion z test, identical to the
        Pearson chi-square test of the 2×2 table without continuity correction), ``p_adj``
        (adjusted over every row of the frame), ``correction`` (method used), ``test``.

        ``.units``: one row per user (or session) who entered step 1.

        For a Dask DataFrame: a lazy ``DaskFunnel``; its ``.compute()`` returns the
        ``FunnelResult`` with the same ``steps``, ``comparisons`` and ``definition`` as pandas on
        the same data, and ``units`` as a lazy Dask DataFrame (one row per user: aggregate it
        before computing).

    Notes
    -----
    Events of a user are ordered by time, and events with the same timestamp by their row order
    in ``events``. Step k is matched by the user's first step-k event after the event that
    matched step k − 1 (the greedy choice: taking the earliest keeps every later option open),
    so one event never fills two steps, and repeated attempts do not inflate counts: a user is
    counted once per step. ``drop_off`` at step k is ``users[k-1] − users[k]``.

    Intervals are Wilson score intervals (``statsmodels.stats.proportion.proportion_confint``,
    ``method="wilson"``; Wilson 1927, recommended by Brown, Cai & DasGupta 2001 over the Wald
    interval, which undercovers for small groups and rates near 0 or 1). Comparisons use the
    pooled two-proportion z test (``proportions_ztest``) and Newcombe's (1998) interval for the
    difference (``confint_proportions_2indep(method="newcomb")``), and adjust p-values with
    ``multipletests`` using ``correction`` — named in the output because statsmodels' own
    default (``"hs"``, Holm–Šidák) is not what people expect.

    How it is fast: see the module docstring. The default (closed, first entry) never sorts the
    log; ``order="strict"`` sorts the whole log by (user, time) and ``entry="furthest"`` the
    funnel's events.

    Dask: the needed columns are shuffled by user (other events are dropped first unless
    ``order="strict"`` or ``by`` with first/last-touch attribution needs them) and each
    partition runs this pandas engine in the log's row order (kept through the shuffle, so ties
    in time are broken as in pandas). A funnel is per user, so the counts add up exactly. The
    time quartiles are exact too: each partition sends value counts of the time from the
    previous step per (group, step), which are summed (a tree reduction, so its memory is
    bounded by the number of distinct durations — at most ``window`` / timestamp resolution per
    group and step, e.g. 604,800 for 7 days in seconds — not by the number of users) and
    interpolated as ``numpy.quantile`` / pandas do. Data-dependent errors (an event that never
    occurs, an unparseable timestamp) are raised on ``compute()``.

    References: PostHog, Mixpanel and Amplitude funnel documentation for the conventions
    (closed funnel, conversion window from step 1, unique users, exclusion steps, strict and
    any order).

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> f = jl.funnel(study.events, steps=study.funnel_steps, window=study.funnel_window)
    >>> f.steps[["step", "users"]].head(2)  # doctest: +SKIP
    """
    func = "funnel"
    spec = FunnelSpec.parse(steps, window=window, order=order, entry=entry, exclude=exclude, count=count, user=user,
                            time=time, event=event, session=session, func=func,
                            exclusion=exclusion)
    by_cols = [by] if isinstance(by, str) else list(by or [])
    check_choice(attribution, arg="attribution", func=func, choices=("first_touch", "entry", "last_touch"))
    check_alpha(alpha, func)
    check_correction(correction, func)
    if is_dask(events):
        return _dask_funnel(events, spec=spec, by=by_cols, attribution=attribution, alpha=alpha,
                            correction=correction, shuffle=shuffle, npartitions=npartitions)
    core = run_funnel(events, spec, need_all_codes=bool(by_cols) and attribution != "entry", func=func,
                            by_cols=by_cols)
    return _result(events, core, spec, by_cols, attribution, alpha, correction)


def _result(events, core, spec: FunnelSpec, by_cols, attribution, alpha, correction) -> FunnelResult:
    groups = attribute_groups(events, core, by_cols, attribution, spec.time) if by_cols else None
    keys, counts, quart = _summarise(core, groups, by_cols)
    steps, comparisons, definition = _tables(spec, keys, counts, quart, core.time_unit, by=by_cols,
                                             attribution=attribution, alpha=alpha, correction=correction,
                                             rows_ignored=core.n_rows_ignored)
    return FunnelResult(steps, comparisons, core, groups, definition)


@funnel_docs
def time_to_convert(
    events: pd.DataFrame,
    *,
    steps: Sequence | dict,
    from_step: int = 1,
    to_step: int | None = None,
    user: str = "user_id",
    time: str = "timestamp",
    event: str = "event",
    window: str | pd.Timedelta = "7D",
    order: str = "closed",
    entry: str = "first",
    exclude=None,
    count: str = "user",
    session: str = "session_id",
    by: str | Sequence[str] | None = None,
    attribution: str = "first_touch",
    quantiles: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9),
) -> pd.DataFrame:
    """Distribution of the time from one funnel step to a later one, among users who made it.

    Parameters
    ----------
    events, steps, by, attribution
        As in :func:`funnel` (the same funnel definition is applied).
    %(funnel_parameters)s
    from_step, to_step : int
        1-based step numbers; ``to_step`` defaults to the last step.
    quantiles : sequence of float
        Quantiles to report.

    Returns
    -------
    DataFrame
        One row per group: the ``by`` columns, ``from_step``, ``to_step`` (labels), ``n`` (units
        reaching ``to_step``), ``mean``, one column per quantile named ``p10``, ``p25``, ``p50``, ...,
        ``min``, ``max`` (Timedelta).

    Notes
    -----
    Times are measured between the events that matched the two steps in the funnel (see
    :func:`funnel`), so they are censored by the conversion window: nobody takes longer than
    ``window`` from step 1. For the full distribution use ``funnel(...).units``.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> ev = pd.DataFrame({"user_id": ["a", "a", "b", "b"], "event": ["cart", "buy", "cart", "buy"],
    ...                    "timestamp": pd.to_datetime(["2026-01-01 10:00", "2026-01-01 10:30",
    ...                                                 "2026-01-01 11:00", "2026-01-01 12:00"])})
    >>> jl.time_to_convert(ev, steps=["cart", "buy"], quantiles=[0.5])[["n", "p50"]]
       n             p50
    0  2 0 days 00:45:00
    """
    func = "time_to_convert"
    spec = FunnelSpec.parse(steps, window=window, order=order, entry=entry, exclude=exclude, count=count, user=user,
                            time=time, event=event, session=session, func=func)
    n = len(spec.sets)
    to_step = n if to_step is None else to_step
    if not (isinstance(from_step, (int, np.integer)) and isinstance(to_step, (int, np.integer))
            and 1 <= from_step < to_step <= n):
        raise JourneylabError(f"{func}(): need 1 <= from_step < to_step <= {n} (1-based step numbers); got "
                              f"from_step={from_step!r}, to_step={to_step!r}.")
    qs = list(quantiles)
    if not all(0 <= q <= 1 for q in qs):
        raise JourneylabError(f"{func}(): `quantiles` must lie between 0 and 1; got {qs!r}.")
    by_cols = [by] if isinstance(by, str) else list(by or [])
    check_choice(attribution, arg="attribution", func=func, choices=("first_touch", "entry", "last_touch"))
    core = run_funnel(events, spec, need_all_codes=bool(by_cols) and attribution != "entry", func=func,
                            by_cols=by_cols)
    groups = attribute_groups(events, core, by_cols, attribution, time) if by_cols else None
    r = core.reached(to_step - 1)
    d = (core.T[to_step - 1][r] - core.T[from_step - 1][r]).astype(float)
    frame = pd.DataFrame({"_d": d})
    if by_cols:
        for c in by_cols:
            frame[c] = groups[c].to_numpy()[r]
        g = frame.groupby(by_cols, dropna=False, sort=True)["_d"]
    else:
        g = frame.assign(_g=0).groupby("_g")["_d"]
    stats = pd.DataFrame({"n": g.size(), "mean": g.mean()})
    for q in qs:
        stats[f"p{round(q * 100):g}"] = g.quantile(q)
    stats["min"] = g.min()
    stats["max"] = g.max()
    stats = stats.reset_index()
    if not by_cols:
        stats = stats.drop(columns="_g")
    for c in stats.columns:
        if c not in by_cols and c != "n":
            stats[c] = _td(stats[c].to_numpy(dtype=float), core.time_unit)
    stats.insert(len(by_cols), "from_step", spec.labels[from_step - 1])
    stats.insert(len(by_cols) + 1, "to_step", spec.labels[to_step - 1])
    if not len(stats):
        stats = pd.DataFrame(columns=by_cols + ["from_step", "to_step", "n", "mean"]
                             + [f"p{round(q * 100):g}" for q in qs] + ["min", "max"])
    stats["n"] = stats["n"].astype(np.int64)
    return stats


def funnel_paths(
    events: pd.DataFrame,
    *,
    from_step,
    to_step,
    user: str = "user_id",
    time: str = "timestamp",
    event: str = "event",
    window: str | pd.Timedelta = "7D",
    length: int = 3,
    top: int = 10,
    collapse_repeats: bool = True,
    converted: bool = False,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The paths users take after a step: what they do instead of the next one.

    Parameters
    ----------
    events : DataFrame
        The event log.
    from_step, to_step : str or list of str
        The step users are at (their first such event is the anchor) and the step they did not
        reach. A list of names means any of them.
    user, time, event : str
        Column names, as in :func:`funnel`.
    window : str or Timedelta, default "7D"
        A user "reaches" ``to_step`` if it happens within ``window`` after the anchor; the path is
        read within the same window.
    length : int, default 3
        Events per path after the anchor.
    top : int, default 10
        Paths listed; the rest are pooled in one ``"(other paths)"`` row.
    collapse_repeats : bool, default True
        Count a run of the same event (five product views in a row) as one step of the path.
    converted : bool, default False
        ``False``: paths of users who did not reach ``to_step`` (where they go when they drop off).
        ``True``: paths of those who did (what they do on the way).
    alpha : float, default 0.05
        1 - confidence level of the Wilson intervals of each path's share.

    Returns
    -------
    DataFrame
        One row per path, most common first: ``from_step`` (label), ``path`` (the next events,
        joined by " → "; ``(end)`` when the user did nothing more in the window), ``n`` (users),
        ``share`` (of the users considered) with Wilson ``ci_low`` / ``ci_high``, ``rank``.

    Notes
    -----
    Events are ordered by time, ties by row order, as in :func:`funnel`. Only the users
    considered (and their events inside the window) are sorted, never the whole log.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> ev = pd.DataFrame({"user_id": ["a", "a", "a", "b", "b"],
    ...                    "event": ["checkout", "cart", "cart", "checkout", "pay"],
    ...                    "timestamp": pd.date_range("2026-01-01", periods=5, freq="min")})
    >>> jl.funnel_paths(ev, from_step="checkout", to_step="pay")[["path", "n"]]
               path  n
    0  cart → (end)  1
    """
    func = "funnel_paths"
    if not isinstance(length, (int, np.integer)) or length < 1:
        raise JourneylabError(f"{func}(): `length` must be a positive integer; got {length!r}.")
    if not isinstance(top, (int, np.integer)) or top < 1:
        raise JourneylabError(f"{func}(): `top` must be a positive integer; got {top!r}.")
    check_alpha(alpha, func)
    spec = FunnelSpec.parse({"from": from_step, "to": to_step}, window=window, user=user, time=time, event=event,
                            func=func)
    core = run_funnel(events, spec, need_all_codes=True, func=func)
    from_label = step_label(from_step)
    keep_units = core.reached(1) if converted else ~core.reached(1)
    units = core.unit_codes[keep_units]
    n_users = len(units)
    cols = ["from_step", "path", "n", "share", "ci_low", "ci_high", "rank"]
    if not n_users:
        return pd.DataFrame(columns=cols)
    codes = core.extra["all_codes"]
    t_all = core.extra["t_all"]
    anchor_t = np.full(core.unit.n, _NONE, dtype=np.int64)
    anchor_r = np.full(core.unit.n, _NONE, dtype=np.int64)
    anchor_t[units] = core.T[0][keep_units]
    anchor_r[units] = core.entry_rows[keep_units]
    W = to_time_unit(spec.window, core.time_unit)
    # rows of the selected users after their anchor, within the window (anchor included: it starts runs)
    valid = codes >= 0
    cu = np.where(valid, codes, 0)
    at, ar = anchor_t[cu], anchor_r[cu]
    rows_all = np.arange(len(codes))
    sel = valid & (at != _NONE) & (t_all <= at + np.where(at != _NONE, W, 0)) & (
        (t_all > at) | ((t_all == at) & (rows_all >= ar)))
    rows = np.flatnonzero(sel)
    uu, tt = codes[rows], t_all[rows]
    o = np.lexsort((tt, uu))
    rows, uu = rows[o], uu[o]
    ev_codes, ev_names = pd.factorize(events[event].iloc[rows])
    ev_codes = ev_codes.astype(np.int64)
    first = np.r_[True, uu[1:] != uu[:-1]]          # the anchor row of each user
    keep = ~first
    if collapse_repeats:
        keep &= ~np.r_[False, (ev_codes[1:] == ev_codes[:-1]) & (uu[1:] == uu[:-1])]
    uu, ev_codes = uu[keep], ev_codes[keep]
    # position within each user's path
    starts = np.r_[True, uu[1:] != uu[:-1]] if len(uu) else np.zeros(0, bool)
    grp_start = np.maximum.accumulate(np.where(starts, np.arange(len(uu)), 0)) if len(uu) else np.zeros(0, int)
    posn = np.arange(len(uu)) - grp_start
    take = posn < length
    END = len(ev_names)                                  # code meaning "(end)"
    PAD = END + 1                                        # after (end): nothing
    slot = np.full(core.unit.n, -1, dtype=np.int64)
    slot[units] = np.arange(n_users)
    wide = np.full((n_users, length), PAD, dtype=np.int64)
    ui = slot[uu[take]]
    wide[ui, posn[take]] = ev_codes[take]
    n_ev = np.bincount(ui, minlength=n_users)
    short = np.flatnonzero(n_ev < length)
    wide[short, n_ev[short]] = END
    keys, cnt = np.unique(wide, axis=0, return_counts=True)
    names = list(map(str, ev_names)) + ["(end)", None]
    paths = [" → ".join(names[c] for c in row if c != PAD) for row in keys]
    out = pd.DataFrame({"path": paths, "n": cnt.astype(np.int64)}).sort_values(["n", "path"], ascending=[False, True])
    if len(out) > top:
        rest = out.iloc[top:]
        out = pd.concat([out.iloc[:top], pd.DataFrame({"path": [f"(other paths: {len(rest)})"],
                                                       "n": [int(rest["n"].sum())]})], ignore_index=True)
    out = out.reset_index(drop=True)
    out["share"] = out["n"] / n_users
    out["ci_low"], out["ci_high"] = _wilson(out["n"].to_numpy(), np.full(len(out), n_users), alpha)
    out["rank"] = np.arange(1, len(out) + 1)
    out.insert(0, "from_step", from_label)
    return out[cols]


# ----------------------------------------------------------------------------- the same funnel on Dask
# A funnel is exact per user: the log (only the columns it needs) is shuffled so that every user's
# events sit in one partition, each partition runs the pandas engine above, and per partition only
# counts leave the worker: units per (group, step, time from the previous step). These add up
# exactly; the quartiles of the time from the previous step are then computed from the summed value
# counts, with the interpolation numpy / pandas use, so they are exact too.

_K, _D, _N = "__jl_k__", "__jl_d__", "__jl_n__"
_ROWS_IGNORED, _PRESENT, _UNIT = -1, -2, -3   # special values of _K in the partial counts


def _partition_core(df: pd.DataFrame, a: dict, present: list | None):
    core = run_funnel(df, a["spec"], need_all_codes=bool(a["by"]) and a["attribution"] != "entry", func=a["func"],
                            by_cols=a["by"], present=present)
    groups = attribute_groups(df, core, a["by"], a["attribution"], a["spec"].time) if a["by"] else None
    return core, groups


def _partial_counts(df: pd.DataFrame, a: dict) -> pd.DataFrame:
    """Per shuffled partition: units per (group, step, time from the previous step), plus the rows
    ignored, the rows of each funnel event and the time unit (special rows, ``_K`` < 0)."""
    by = a["by"]
    df = restore_order(df)
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
    df = restore_order(df)
    if not len(df):
        return meta
    core, groups = _partition_core(df, a, [])
    units = FunnelResult(None, None, core, groups, {}).units
    for c in a["by"]:
        units[c] = units[c].astype(object)
    return units


def _units_meta(ddf_meta: pd.DataFrame, a: dict) -> pd.DataFrame:
    spec = a["spec"]
    cols = {spec.user: ddf_meta[spec.user].dtype}
    if spec.count == "session":
        cols[spec.session] = ddf_meta[spec.session].dtype
    meta = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in cols.items()})
    for c in a["by"]:
        meta[c] = pd.Series([], dtype=object)
    meta["steps_reached"] = pd.Series([], dtype=np.int64)
    tdt = ddf_meta[spec.time].dtype
    is_time = isinstance(tdt, np.dtype) and tdt.kind == "M"
    dt = f"datetime64[{np.datetime_data(tdt)[0]}]" if is_time else "datetime64[us]"
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
    spec, by, func = a["spec"], a["by"], a["func"]
    special = agg[agg[_K] < 0]
    units = special.loc[special[_K] == _UNIT, _D].unique()
    if not len(units):
        raise JourneylabError(f"{func}(): argument `events` is empty (0 rows); expected at least one row.")
    if len(units) > 1:
        raise JourneylabError(f"{func}(): the partitions of `events` hold timestamps of different resolutions "
                              f"({sorted(units)} ns); cast column {a['spec'].time!r} to one dtype, e.g. "
                              f"ddf[{a['spec'].time!r}].astype('datetime64[ns]').")
    time_unit = {1: "ns", 1_000: "us", 1_000_000: "ms", 1_000_000_000: "s"}[int(units[0])]
    names = spec.names
    pres = special[special[_K] == _PRESENT].groupby(_D)[_N].sum().reindex(range(len(names)), fill_value=0)
    missing = [n for n, c in zip(names, pres.to_numpy()) if c == 0]
    step_names = set().union(*spec.sets)
    absent_exclusions = [n for n in missing if n not in step_names]
    if absent_exclusions:  # an exclusion event nobody did excludes nobody (as in the pandas funnel)
        warnings.warn(f"{func}(): exclusion event(s) {', '.join(map(repr, absent_exclusions))} never occur in column "
                      f"{a['spec'].event!r} of the log, so they exclude nobody.", UserWarning, stacklevel=3)
    missing = [n for n in missing if n in step_names]
    if missing:
        raise JourneylabError(
            f"{func}(): event(s) {', '.join(map(repr, missing))} named in `steps`/`exclude` never occur in column "
            f"{a['spec'].event!r} of the log (all partitions). ddf[{a['spec'].event!r}].unique().compute() lists "
            "the events "
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
                   correction=a["correction"], rows_ignored=rows_ignored)


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
        import dask  # optional dependency (journeylab[dask])

        return dask.compute(self, **kwargs)[0]

    def __repr__(self) -> str:
        d = self.definition
        return (f"DaskFunnel (lazy): {len(d['steps'])} steps, window {d['window']}, order={d['order']!r}, "
                f"entry={d['entry']!r}, counting {d['count']}s" + (f", by {d['by']}" if d["by"] else "")
                + f"; {self.units.npartitions} partitions after the shuffle by {d['user']!r}. "
                "Call .compute() for the FunnelResult.")


def _as_result(results, units):
    steps, comparisons, definition = results[0] if isinstance(results, (list, tuple)) and len(results) == 1 \
        else results
    out = FunnelResult(steps, comparisons, None, None, definition)
    out._units = units
    return out


def _dask_funnel(events, *, spec: FunnelSpec, by, attribution, alpha, correction, shuffle, npartitions) -> DaskFunnel:
    """The Dask path of :func:`funnel` (arguments already parsed by it)."""
    import dask  # optional dependency (journeylab[dask]); a Dask frame came in

    func = "funnel"
    cols = list(dict.fromkeys(spec.required + by))
    check_frame(events._meta, arg="events", func=func, required=cols, allow_empty=True, hint=FUNNEL_HINT)
    if not isinstance(shuffle, bool):
        raise JourneylabError(f"{func}(): `shuffle` must be True or False; got {shuffle!r}.")
    if npartitions is not None and (not isinstance(npartitions, (int, np.integer)) or npartitions < 1):
        raise JourneylabError(f"{func}(): `npartitions` must be a positive integer or None; got {npartitions!r}.")
    a = dict(spec=spec, by=by, attribution=attribution, alpha=alpha, correction=correction, func=func,
             by_dtypes={c: events._meta[c].dtype for c in by})
    log = events[cols]
    # rows of other events matter only for strict order and for first/last-touch attribution
    if spec.order != "strict" and not (by and attribution != "entry"):
        log = log[log[spec.event].isin(spec.names)]
    if shuffle:
        log = log.map_partitions(with_position, meta=position_meta(log._meta))
        log = log.shuffle(on=spec.user, npartitions=npartitions)
    partial = log.map_partitions(_partial_counts, a, meta=_partial_meta(by), enforce_metadata=False)
    keys = [*by, _K, _D]
    agg = partial.groupby(keys, dropna=False, sort=False)[_N].sum(split_every=8).reset_index()
    delayed = dask.delayed(_finish_funnel, pure=True)(agg, a)
    umeta = _units_meta(events._meta, a)
    units = log.map_partitions(_partial_units, a, umeta, meta=umeta, enforce_metadata=False)
    # rows_ignored is known after computing
    definition = _definition(spec, by, attribution, alpha, correction, None)
    return DaskFunnel(delayed, units, definition)


# ----------------------------------------------------------------------------- plot


@shared_docs
def plot_funnel(result, *, ax=None, metric: str = "from_start", title: str | None = None, annotate: bool = True):
    """Bars per step (share of step-1 users still in), Wilson CI whiskers and drop-off labels.

    Parameters
    ----------
    result : FunnelResult or DataFrame
        What :func:`funnel` returned, or its ``.steps`` frame.
    {ax}
    metric : {"from_start", "from_previous"}, default "from_start"
        Bar height: the share of step-1 users still in at each step (with the users lost since
        the previous step drawn as a hatched band), or each step's conversion from the previous
        step (steps 2..n) — easier to compare between groups.
    title : str, optional
    annotate : bool, default True
        Write the users at each step and the drop-off between steps.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> ax = jl.plot_funnel(jl.funnel(study.events, steps=study.funnel_steps))  # doctest: +SKIP
    """
    # lazy: matplotlib.pyplot adds ~0.8 s to `import journeylab` (measured; docs/architecture.md)
    import matplotlib.pyplot as plt

    if isinstance(result, FunnelResult):
        steps, by = result.steps, result.definition["by"]
    elif isinstance(result, pd.DataFrame):
        steps = result
        known = {"step", "step_index", "users", "sessions", "conversion_from_previous", "from_previous_ci_low",
                 "from_previous_ci_high", "conversion_from_start", "from_start_ci_low", "from_start_ci_high",
                 "drop_off", "drop_off_rate", "median_time_from_previous", "q1_time_from_previous",
                 "q3_time_from_previous"}
        check_frame(steps, arg="result", func="plot_funnel",
                    required=["step", "step_index", "conversion_from_start", "drop_off"],
                    hint="Pass what jl.funnel() returned.")
        by = [c for c in steps.columns if c not in known]
    else:
        raise JourneylabError(f"plot_funnel(): `result` must be what jl.funnel() returned (a FunnelResult) or its "
                              f".steps frame; got {type(result).__name__}.")
    check_choice(metric, arg="metric", func="plot_funnel", choices=("from_start", "from_previous"))
    unit = "users" if "users" in steps.columns else "sessions"
    if metric == "from_previous":
        steps = steps[steps["step_index"] > 1]
    labels = list(dict.fromkeys(steps["step"]))
    n_steps = len(labels)
    if by:
        parts = [(" / ".join(map(str, key)) if isinstance(key, tuple) else str(key), sub)
                 for key, sub in steps.groupby(by if len(by) > 1 else by[0], dropna=False, sort=False)]
    else:
        parts = [(None, steps)]
    G = len(parts)
    if ax is None:
        _, ax = plt.subplots(figsize=(min(11.0, max(6.5, 1.4 * n_steps + 0.5 * n_steps * (G - 1))), 4.6))
    colors = plt.get_cmap("tab10").colors
    width = 0.8 / G
    x = np.arange(n_steps)
    for gi, (name, sub) in enumerate(parts):
        sub = sub.sort_values("step_index")
        rate = sub[f"conversion_{metric}"].to_numpy(dtype=float) * 100
        lo = sub[f"{metric}_ci_low"].to_numpy(dtype=float) * 100
        hi = sub[f"{metric}_ci_high"].to_numpy(dtype=float) * 100
        n = sub[unit].to_numpy()
        xs = x + (gi - (G - 1) / 2) * width
        color = colors[gi % 10] if by else "#4C72B0"
        ax.bar(xs, rate, width * 0.92, color=color, alpha=0.9, label=name, zorder=2)
        err = np.vstack([np.nan_to_num(rate - lo), np.nan_to_num(hi - rate)])
        ax.errorbar(xs, rate, yerr=err, fmt="none", ecolor="black", elinewidth=1, capsize=3, zorder=3)
        if not annotate:
            continue
        if by:
            for xi, r, ni, h in zip(xs, rate, n, np.nan_to_num(hi, nan=0)):
                ax.text(xi, max(r, h) + 1.5, f"{ni:,}", ha="center", va="bottom", fontsize=7, rotation=90)
            continue
        drop = sub["drop_off"].to_numpy()
        prev_rate = sub["conversion_from_previous"].to_numpy(dtype=float)
        for k in range(1, n_steps if metric == "from_start" else 0):
            # the users lost since the previous step: a hatched "ghost" on top of the bar
            ax.bar(xs[k], rate[k - 1] - rate[k], width * 0.92, bottom=rate[k], color="#F2D4D5", edgecolor="#C44E52",
                   hatch="///", linewidth=0.6, zorder=1)
            ax.text(xs[k], rate[k - 1] + 1.5, f"−{drop[k]:,}\n({(1 - prev_rate[k]) * 100:.0f}% drop)", ha="center",
                    va="bottom", fontsize=8, color="#A33A3E")
        tick = [f"{_wrap(lbl)}\n{ni:,} {unit}\n{r:.1f}%" for lbl, ni, r in zip(labels, n, rate)]
    ax.set_xticks(x)
    ax.set_xticklabels(tick if (annotate and not by) else [_wrap(lbl) for lbl in labels], fontsize=9)
    level = (1 - _alpha_of(result)) * 100
    ax.set_ylabel(f"% of step-1 {unit} ({level:g}% Wilson CI)" if metric == "from_start"
                  else f"% of the previous step's {unit} ({level:g}% Wilson CI)")
    ax.set_ylim(0, 118)
    ax.set_yticks(range(0, 101, 20))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", lw=0.6, zorder=0)
    ax.set_axisbelow(True)
    if by:
        ax.legend(title=" / ".join(by), frameon=False, fontsize=8, title_fontsize=8, loc="upper left",
                  bbox_to_anchor=(1.0, 1.0))
    elif annotate and metric == "from_start":
        # lazy: matplotlib adds ~0.15 s to `import journeylab` (measured; docs/architecture.md)
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(facecolor="#4C72B0", label=f"{unit} still in"),
                           Patch(facecolor="#F2D4D5", edgecolor="#C44E52", hatch="///",
                                 label="lost since previous step")],
                  frameon=False, fontsize=8, loc="upper right")
    if title is None and isinstance(result, FunnelResult):
        d = result.definition
        what = "share of step 1" if metric == "from_start" else "conversion from the previous step"
        title = (f"Funnel ({what}): {d['order']} order, window {format_timedelta(d['window'])}, "
                 f"counting {d['count']}s")
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def format_timedelta(td: pd.Timedelta | str | None) -> str:
    """'7 days', '12 hours', '1 day 6 hours'; 'no window' for None."""
    if td is None or (isinstance(td, str) and td == "no window"):
        return "no window"
    td = pd.Timedelta(td)
    parts = []
    secs = int(td.total_seconds())
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        q, secs = divmod(secs, size)
        if q:
            parts.append(f"{q} {name}{'s' if q != 1 else ''}")
    return " ".join(parts) or str(td)


def _alpha_of(result) -> float:
    return result.definition["alpha"] if isinstance(result, FunnelResult) else 0.05


def _wrap(label: str, width: int = 13) -> str:
    """Wrap an event name at underscores or spaces (never inside a word when avoidable)."""
    pieces = re.findall(r"[^_ ]+[_ ]?", label) or [label]
    lines, cur = [], ""
    for p in pieces:
        if cur and len(cur) + len(p.rstrip()) > width:
            lines.append(cur.rstrip())
            cur = ""
        cur += p
    lines.append(cur.rstrip())
    return "\n".join(lines)
