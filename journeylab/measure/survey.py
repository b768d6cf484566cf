"""Survey metrics with intervals: Net Promoter Score and CSAT per touchpoint.

Blank answers are left out and counted (``n_blank``); a value outside its scale is an error that
names the column and the row, because a 55 on a 0–10 question is a data problem to fix, not a
number to average.
"""
from __future__ import annotations

__all__ = ["nps", "csat"]

from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import JourneylabError
from ..utils.checks import check_frame

NPS_METHOD = "normal approximation, trinomial variance"


def _where(survey: pd.DataFrame, i: int, id: str | None) -> str:
    where = f"row {i} (index {survey.index[i]!r}"
    if id and id in survey.columns:
        where += f", {id} {survey[id].iloc[i]!r}"
    return where + ")"


def _scores(survey: pd.DataFrame, column: str, lo: float, hi: float, func: str, id: str | None) -> np.ndarray:
    """The column as floats with NaN for blanks; raises naming the first bad value's row."""
    col = survey[column]
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object)
    blank = col.isna().to_numpy()
    if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
        text = col.astype("string").str.strip()
        blank = blank | (text == "").fillna(True).to_numpy(dtype=bool)
        values = pd.to_numeric(text.where(~pd.Series(blank, index=col.index)), errors="coerce")
    else:
        values = pd.to_numeric(col, errors="coerce")
    values = np.asarray(values.astype("Float64").to_numpy(dtype=float, na_value=np.nan), dtype=float)
    bad = ~blank & (np.isnan(values) | (values < lo) | (values > hi) | (np.round(values) != values))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise JourneylabError(
            f"{func}(): column {column!r}, {_where(survey, i, id)}: expected a whole number from {lo:g} to {hi:g} "
            f"(or a blank), found {col.iloc[i]!r}; {int(bad.sum())} such value(s) in the column. Fix or blank them.")
    values[blank] = np.nan
    return values


def _groups(survey: pd.DataFrame, by: list):
    """(group keys frame, group code per row)."""
    if not by:
        return pd.DataFrame(index=[0]), np.zeros(len(survey), dtype=np.int64)
    g = survey.groupby(by, dropna=False, sort=True)
    return g.size().reset_index()[by], g.ngroup().to_numpy()


def _by_list(by, survey, func) -> list:
    by = [by] if isinstance(by, str) else list(by or [])
    check_frame(survey, arg="survey", func=func, required=by, allow_empty=True)
    return by


def nps(
    survey: pd.DataFrame,
    *,
    score: str = "nps",
    by: str | Sequence[str] | None = None,
    alpha: float = 0.05,
    id: str | None = "respondent_id",
) -> pd.DataFrame:
    """Net Promoter Score with a confidence interval, overall or per group.

    Parameters
    ----------
    survey : DataFrame
        One row per respondent (``study.survey``).
    score : str, default "nps"
        Column with the 0–10 answer to "How likely are you to recommend us?".
    by : str or list of str, optional
        Group columns (persona, device, period, ...); one row per group.
    alpha : float, default 0.05
        1 − confidence level.
    id : str, default "respondent_id"
        Column named in error messages (when present).

    Returns
    -------
    DataFrame
        One row per group: the ``by`` columns, ``n`` (answers), ``n_blank`` (rows without an
        answer, left out), ``promoters``, ``passives``, ``detractors`` (shares of ``n``: 9–10,
        7–8, 0–6), ``nps`` (100 × (promoters − detractors), from −100 to 100), ``se`` (its standard
        error, same scale), ``ci_low``, ``ci_high``, ``method``.

    Notes
    -----
    With shares :math:`p_P` and :math:`p_D` of a multinomial (trinomial) sample of size *n*,
    :math:`\\operatorname{Var}(\\hat p_P - \\hat p_D) = [p_P(1-p_P) + p_D(1-p_D) + 2 p_P p_D] / n
    = [p_P + p_D - (p_P - p_D)^2] / n` (the covariance of two multinomial shares is
    :math:`-p_P p_D / n`). The interval is the normal approximation
    :math:`\\mathrm{NPS} \\pm z_{1-\\alpha/2}\\,\\mathrm{se}`, clipped to [−100, 100]; it is the
    ``method`` column. It is reliable when n is in the dozens or more; for a handful of answers the
    interval is wide and approximate — which is the point of showing it (Rocks 2016,
    "Interval estimation for the Net Promoter Score", *The American Statistician*).

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> s = pd.DataFrame({"nps": [10, 9, 9, 10, 9, 8, 7, 7, 3, 6]})
    >>> jl.nps(s)[["n", "promoters", "detractors", "nps"]]
        n  promoters  detractors   nps
    0  10        0.5         0.2  30.0
    """
    func = "nps"
    check_frame(survey, arg="survey", func=func, required=[score], allow_empty=True,
                hint="Name the column with score=, e.g. nps(survey, score='recommend').")
    by = _by_list(by, survey, func)
    _check_alpha(alpha, func)
    values = _scores(survey, score, 0, 10, func, id)
    keys, g = _groups(survey, by)
    G = len(keys)
    answered = ~np.isnan(values)
    n = np.bincount(g[answered], minlength=G).astype(float)
    n_blank = np.bincount(g[~answered], minlength=G)
    prom = np.bincount(g[answered & (values >= 9)], minlength=G)
    det = np.bincount(g[answered & (values <= 6)], minlength=G)
    with np.errstate(invalid="ignore", divide="ignore"):
        pP, pD = prom / n, det / n
        diff = pP - pD
        se = np.sqrt(np.maximum(pP + pD - diff ** 2, 0) / n)
    from scipy import stats  # imported here: scipy.stats costs ~0.5 s at `import journeylab`

    z = stats.norm.ppf(1 - alpha / 2)
    out = keys.copy()
    out["n"] = n.astype(np.int64)
    out["n_blank"] = n_blank.astype(np.int64)
    out["promoters"] = pP
    out["passives"] = 1 - pP - pD
    out["detractors"] = pD
    out["nps"] = 100 * diff
    out["se"] = 100 * se
    out["ci_low"] = np.clip(100 * (diff - z * se), -100, 100)
    out["ci_high"] = np.clip(100 * (diff + z * se), -100, 100)
    out["method"] = NPS_METHOD
    return out.reset_index(drop=True)


def csat(
    survey: pd.DataFrame,
    *,
    columns: Sequence[str] | dict | None = None,
    scale: tuple = (1, 5),
    top_box: int = 2,
    by: str | Sequence[str] | None = None,
    alpha: float = 0.05,
    id: str | None = "respondent_id",
) -> pd.DataFrame:
    """Customer satisfaction per touchpoint: top-box share and mean, each with an interval.

    Parameters
    ----------
    survey : DataFrame
        One row per respondent.
    columns : list of str or dict, optional
        Score columns; a dict maps each column to the touchpoint it rates (``study.csat_columns``).
        Default: every column whose name starts with ``csat_``.
    scale : (low, high), default (1, 5)
        The answer scale (``study.csat_scale``); answers must be whole numbers in it.
    top_box : int, default 2
        How many top answers count as satisfied (2 on a 1–5 scale: 4 or 5, "top-2 box").
    by : str or list of str, optional
        Group columns; one row per group × column.
    alpha : float, default 0.05
        1 − confidence level.
    id : str, default "respondent_id"
        Column named in error messages (when present).

    Returns
    -------
    DataFrame
        One row per (group ×) column: the ``by`` columns, ``column``, ``touchpoint``, ``n``
        (answers), ``n_blank`` (blanks, left out), ``top_box`` (the answers counted, e.g. "4–5"),
        ``top_box_share`` with ``top_box_ci_low`` / ``top_box_ci_high`` (Wilson), ``mean`` with
        ``mean_ci_low`` / ``mean_ci_high`` (Student t), ``sd``.

    Notes
    -----
    The top-box share is a proportion, so its interval is Wilson's score interval
    (``statsmodels.stats.proportion.proportion_confint(method="wilson")``). The mean's interval is
    ``mean ± t(n−1) · sd/√n`` (as ``statsmodels.stats.weightstats.DescrStatsW.tconfint_mean``),
    which treats the ordinal answers as numbers — common practice, but report the top-box share
    when the distribution is lopsided.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> s = pd.DataFrame({"csat_delivery": [5, 4, 4, 2, None], "csat_payment": [3, 5, 5, 4, 1]})
    >>> jl.csat(s)[["touchpoint", "n", "n_blank", "top_box_share", "mean"]]
      touchpoint  n  n_blank  top_box_share  mean
    0   delivery  4        1           0.75  3.75
    1    payment  5        0           0.60  3.60
    """
    # lazy: scipy.stats adds ~1.3 s to `import journeylab` (measured; docs/architecture.md)
    from scipy import stats
    from statsmodels.stats.proportion import proportion_confint

    func = "csat"
    check_frame(survey, arg="survey", func=func, allow_empty=True)
    if columns is None:
        cols = [c for c in survey.columns if str(c).startswith("csat_")]
        if not cols:
            raise JourneylabError(f"{func}(): no column of `survey` starts with 'csat_'; name the score columns "
                                  f"with columns=[...]. Found: {', '.join(map(str, survey.columns[:20]))}.")
        mapping = {c: str(c)[len("csat_"):] for c in cols}
    elif isinstance(columns, dict):
        mapping = dict(columns)
    elif isinstance(columns, str):
        mapping = {columns: columns[len("csat_"):] if columns.startswith("csat_") else columns}
    else:
        mapping = {c: (str(c)[len("csat_"):] if str(c).startswith("csat_") else str(c)) for c in columns}
    check_frame(survey, arg="survey", func=func, required=list(mapping), allow_empty=True,
                hint="Pass the score columns with columns=[...] or {column: touchpoint}.")
    if (not isinstance(scale, (tuple, list)) or len(scale) != 2
            or not all(isinstance(x, (int, float, np.integer)) for x in scale) or not scale[0] < scale[1]):
        raise JourneylabError(f"{func}(): `scale` must be (low, high) like (1, 5); got {scale!r}.")
    lo, hi = scale
    if not isinstance(top_box, (int, np.integer)) or not 1 <= top_box <= hi - lo:
        raise JourneylabError(f"{func}(): `top_box` must be a whole number from 1 to {int(hi - lo)} for the scale "
                              f"{lo:g}–{hi:g}; got {top_box!r}.")
    _check_alpha(alpha, func)
    by = _by_list(by, survey, func)
    keys, g = _groups(survey, by)
    G = len(keys)
    threshold = hi - top_box + 1
    frames = []
    for column, touchpoint in mapping.items():
        v = _scores(survey, column, lo, hi, func, id)
        ok = ~np.isnan(v)
        n = np.bincount(g[ok], minlength=G)
        n_blank = np.bincount(g[~ok], minlength=G)
        top = np.bincount(g[ok & (v >= threshold)], minlength=G)
        s1 = np.bincount(g[ok], weights=v[ok], minlength=G)
        s2 = np.bincount(g[ok], weights=v[ok] ** 2, minlength=G)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = s1 / n
            var = (s2 - n * mean ** 2) / (n - 1)
            sd = np.sqrt(np.maximum(var, 0))
            t_crit = stats.t.ppf(1 - alpha / 2, np.maximum(n - 1, 1))
            half = np.where(n > 1, t_crit * sd / np.sqrt(n), np.nan)
            share = top / n
        ci_lo = np.full(G, np.nan)
        ci_hi = np.full(G, np.nan)
        has = n > 0
        if has.any():
            ci_lo[has], ci_hi[has] = proportion_confint(top[has], n[has], alpha=alpha, method="wilson")
        f = keys.copy()
        f["column"] = column
        f["touchpoint"] = touchpoint
        f["n"] = n.astype(np.int64)
        f["n_blank"] = n_blank.astype(np.int64)
        f["top_box"] = f"{threshold:g}–{hi:g}" if threshold < hi else f"{hi:g}"
        f["top_box_share"] = share
        f["top_box_ci_low"] = ci_lo
        f["top_box_ci_high"] = ci_hi
        f["mean"] = mean
        f["mean_ci_low"] = mean - half
        f["mean_ci_high"] = mean + half
        f["sd"] = np.where(n > 1, sd, np.nan)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def _check_alpha(alpha, func):
    if not isinstance(alpha, (float, int)) or not 0 < alpha < 1:
        raise JourneylabError(f"{func}(): `alpha` must be a number between 0 and 1, e.g. 0.05; got {alpha!r}.")
