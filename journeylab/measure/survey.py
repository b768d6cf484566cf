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
from ..utils.intervals import NET_SHARE_ADJUST, net_share_interval

NPS_METHOD = "adjusted-Wald (Rocks 2016): +3/4 promoter, +3/4 detractor, n + 3; trinomial variance"
#: Pseudo-counts of the adjusted-Wald NPS interval (Rocks 2016): added to promoters and to detractors,
#: and their sum plus as much again for passives to n (3/4 + 3/4 + 3/2 = 3).
NPS_ADJUST = NET_SHARE_ADJUST
#: Pseudo-answers added at each end of a rating scale for the interval of its mean (see csat()).
MEAN_ADJUST = 0.25
MEAN_METHOD = ("t interval with 1/4 answer added at each end of the scale, clipped to the scale "
               "(coverage checked by simulation)")


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
        7–8, 0–6), ``nps`` (100 × (promoters − detractors), from −100 to 100), ``nps_adjusted``
        (the centre of the interval, see Notes), ``se`` (standard error of ``nps_adjusted``,
        same scale), ``ci_low``, ``ci_high`` (within [−100, 100]), ``method`` (how the interval
        was computed).

    Notes
    -----
    The interval is the adjusted-Wald interval for the difference of two proportions from one
    trinomial sample, which Rocks (2016) found to keep its coverage near the nominal level down
    to small samples (the plain Wald interval covers about 87% at n = 10 and says [100, 100] for
    three promoters). Add 3/4 to the promoters and 3/4 to the detractors, and 3 to *n*:
    :math:`\\tilde p_P = (n_P + 3/4)/(n + 3)`, :math:`\\tilde p_D = (n_D + 3/4)/(n + 3)`,
    :math:`\\tilde d = \\tilde p_P - \\tilde p_D`; with the trinomial variance of a difference of two
    shares (their covariance is :math:`-p_P p_D / n`),
    :math:`\\widetilde{\\operatorname{se}} = \\sqrt{[\\tilde p_P + \\tilde p_D - \\tilde d^2] / (n + 3)}`
    and the interval is :math:`100\\,(\\tilde d \\pm z_{1-\\alpha/2}\\,\\widetilde{\\operatorname{se}})`,
    clipped to [−100, 100]. The point estimate ``nps`` is the unadjusted one. The coverage at
    n = 10, 15, 30 and 100 is checked by simulation in ``tests/test_intervals.py``.

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "net promoter score". *The American
    Statistician*, 70(4), 365–372. Lewis, J. R. & Sauro, J. (2021), "Evaluating NPS confidence
    intervals with real-world data", MeasuringU (the same adjustment, worked through).

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
    adj, se, lo, hi = net_share_interval(prom, det, n, level=1 - alpha)
    out = keys.copy()
    out["n"] = n.astype(np.int64)
    out["n_blank"] = n_blank.astype(np.int64)
    out["promoters"] = pP
    out["passives"] = 1 - pP - pD
    out["detractors"] = pD
    out["nps"] = 100 * diff
    out["nps_adjusted"] = 100 * adj
    out["se"] = 100 * se
    out["ci_low"] = 100 * lo
    out["ci_high"] = 100 * hi
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
        ``mean_ci_low`` / ``mean_ci_high`` (adjusted t interval, clipped to the scale; see Notes),
        ``mean_ci_clipped`` (True where that interval ran past an end of the scale and was cut
        there), ``mean_ci_method``, ``sd``.

    Notes
    -----
    The top-box share is a proportion, so its interval is Wilson's score interval
    (``statsmodels.stats.proportion.proportion_confint(method="wilson")``). The mean's interval
    treats the ordinal answers as numbers — common practice, but report the top-box share when
    the distribution is lopsided. The plain t interval ``mean ± t(n−1) · sd/√n`` (as
    ``statsmodels.stats.weightstats.DescrStatsW.tconfint_mean``) covers too little on a bounded,
    lopsided scale with few answers: in simulation its nominal 95% interval held the true mean
    about 90% of the time at n = 10 and 88% at n = 15 when most answers were 4s and 5s. So
    the interval is computed with a quarter of an answer added at each end of the scale (the
    mean and sd of the n + 1/2 answers, t with n − 1 degrees of freedom) — the same idea as the
    Agresti–Coull and adjusted-Wald intervals for proportions, of which a rating with only its
    end points used is the special case. Its coverage is at least 94.8% at n = 10, 15, 30 and
    100 for the flat, lopsided and skewed distributions of ``tests/test_intervals.py``, a little
    conservative at n = 10, and equal to the t interval's for large n. The reported ``mean`` is
    the plain mean. A mean cannot leave the scale, so the interval is cut at its ends
    (``mean_ci_clipped`` says where).

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
            # the interval's centre and spread with MEAN_ADJUST answers added at each end (see Notes)
            k = MEAN_ADJUST
            n_a = n + 2 * k
            mean_a = (s1 + k * (lo + hi)) / n_a
            var_a = (s2 + k * (lo ** 2 + hi ** 2) - n_a * mean_a ** 2) / (n_a - 1)
            t_crit = stats.t.ppf(1 - alpha / 2, np.maximum(n - 1, 1))
            half = np.where(n > 1, t_crit * np.sqrt(np.maximum(var_a, 0) / n_a), np.nan)
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
        raw_lo, raw_hi = mean_a - half, mean_a + half
        f["mean_ci_low"] = np.clip(raw_lo, lo, hi)
        f["mean_ci_high"] = np.clip(raw_hi, lo, hi)
        f["mean_ci_clipped"] = (raw_lo < lo) | (raw_hi > hi)
        f["mean_ci_method"] = MEAN_METHOD
        f["sd"] = np.where(n > 1, sd, np.nan)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def _check_alpha(alpha, func):
    if not isinstance(alpha, (float, int)) or not 0 < alpha < 1:
        raise JourneylabError(f"{func}(): `alpha` must be a number between 0 and 1, e.g. 0.05; got {alpha!r}.")
