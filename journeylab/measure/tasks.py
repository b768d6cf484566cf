"""Usability-test task outcomes: success rates and time on task with small-sample intervals.

A usability test gives, per participant and task, an outcome (``success``, ``assisted``,
``failed``, ``abandoned``) and a time. :func:`task_metrics` turns that into one row per task:
the success rate with its adjusted-Wald interval and the time on task of the successful attempts
as a geometric mean with a t interval on the log times — the methods Sauro & Lewis recommend for
the five-to-twenty participants a usability test has.
"""
from __future__ import annotations

__all__ = ["task_metrics"]

from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import JourneylabError
from ..study.load import TASK_OUTCOMES
from ..utils.checks import check_choice, check_frame

AWALD_METHOD = "adjusted Wald (Agresti–Coull; Sauro & Lewis 2005)"

RESULT_COLUMNS = ["task", "n", "successes", "success_rate", "ci_low", "ci_high", "method", "n_timed",
                  "time_geomean_s", "time_ci_low_s", "time_ci_high_s", "time_median_s"]


def adjusted_wald(successes, n, *, confidence: float = 0.95):
    """Adjusted-Wald interval of a proportion, clipped to [0, 1].

    Parameters
    ----------
    successes, n : int or array of int
        Successes and trials (``n`` > 0).
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    (ndarray, ndarray)
        Lower and upper limits.

    Notes
    -----
    With :math:`z = z_{1-\\alpha/2}`, :math:`\\tilde n = n + z^2` and
    :math:`\\tilde p = (x + z^2/2)/\\tilde n`, the interval is
    :math:`\\tilde p \\pm z\\sqrt{\\tilde p(1-\\tilde p)/\\tilde n}` (Agresti & Coull 1998; Sauro &
    Lewis 2005). Its upper limit passes 1 when nearly every participant succeeds (9 of 10), so it is
    clipped.
    """
    from scipy import stats  # imported here: scipy.stats costs ~0.5 s at `import journeylab`

    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    n_adj = n + z ** 2
    p_adj = (x + z ** 2 / 2) / n_adj
    half = z * np.sqrt(p_adj * (1 - p_adj) / n_adj)
    return np.clip(p_adj - half, 0, 1), np.clip(p_adj + half, 0, 1)


def log_time_interval(times, *, confidence: float = 0.95):
    """Geometric mean of task times and its t interval from the log times.

    Parameters
    ----------
    times : array of float
        Positive times (seconds).
    confidence : float, default 0.95

    Returns
    -------
    (float, float, float)
        Geometric mean, lower and upper limits (NaN limits with fewer than two times; all NaN
        without times).
    """
    # lazy: scipy.stats adds ~1.3 s to `import journeylab` (measured; docs/architecture.md)
    from scipy import stats

    t = np.asarray(times, dtype=float)
    if len(t) == 0:
        return np.nan, np.nan, np.nan
    logs = np.log(t)
    m = logs.mean()
    if len(t) < 2:
        return float(np.exp(m)), np.nan, np.nan
    half = stats.t.ppf(1 - (1 - confidence) / 2, len(t) - 1) * logs.std(ddof=1) / np.sqrt(len(t))
    return float(np.exp(m)), float(np.exp(m - half)), float(np.exp(m + half))


def task_metrics(
    tasks: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    assisted: str = "failure",
    confidence: float = 0.95,
    task: str = "task",
    outcome: str = "outcome",
    time: str = "time_s",
    participant: str = "participant_id",
) -> pd.DataFrame:
    """Success rate and time on task per usability-test task, with small-sample intervals.

    Parameters
    ----------
    tasks : DataFrame
        One row per participant × task attempt (``study.tasks``): the task, its outcome
        (``success``, ``assisted``, ``failed`` or ``abandoned``) and the time in seconds (blank
        when not timed).
    by : str or list of str, optional
        Group columns (persona, device, prototype version, ...); one row per group × task.
    assisted : {"failure", "success"}, default "failure"
        Whether an attempt the moderator helped counts as a success. By default it does not: no
        moderator sits beside a customer once the product ships, so the rate to report is *unaided*
        success, and benchmark usability studies code an assisted completion as a failure.
        ``"success"`` counts them, for a "could they get there at all" rate (and times them); the
        ``method`` column says which was used.
    confidence : float, default 0.95
        Confidence level of both intervals.
    task, outcome, time, participant : str
        Column names (defaults: ``task``, ``outcome``, ``time_s``, ``participant_id``);
        ``participant`` is used only to name rows in error messages.

    Returns
    -------
    DataFrame
        One row per (group ×) task, tasks in order of first appearance: the ``by`` columns,
        ``task``, ``n`` (attempts), ``successes``, ``success_rate`` (successes / n, the observed
        rate), ``ci_low`` / ``ci_high`` (adjusted-Wald interval, clipped to [0, 1]), ``method``,
        ``n_timed`` (successful attempts with a time), ``time_geomean_s`` (geometric mean of the
        successful attempts' times) with ``time_ci_low_s`` / ``time_ci_high_s`` (t interval on the
        log times, back-transformed; NaN below two times) and ``time_median_s``.

    Notes
    -----
    **Success rate.** The adjusted-Wald interval adds :math:`z^2/2` successes and :math:`z^2/2`
    failures (about two of each at 95 %) and applies the Wald formula:
    :math:`\\tilde p = (x + z^2/2)/(n + z^2)`, :math:`\\tilde p \\pm z\\sqrt{\\tilde p(1-\\tilde
    p)/(n + z^2)}` (Agresti & Coull 1998). Sauro & Lewis (2005) compared binomial intervals on
    small-sample completion rates from real usability tests and recommend it: the Wald interval is
    far too narrow for n < 20 and the exact (Clopper–Pearson) one too wide. For 7 of 10 it gives
    39 %–90 %, for 4 of 5 36 %–98 %; for 9 of 10 the upper limit passes 100 % and is clipped.

    **Time on task.** Task times are positively skewed, so the arithmetic mean overstates the
    typical time. Sauro & Lewis (2016, ch. 3) take the geometric mean (the exponentiated mean of
    the log times) as the best estimate of the middle time for samples below about 25, and its
    interval as the exponentiated t interval of the log times:
    :math:`\\exp(\\bar y \\pm t_{n-1}\\, s_y/\\sqrt n)` with :math:`y = \\ln t`. The interval is
    asymmetric, as the data are. Only successful attempts are timed — a failed attempt's time
    measures when the participant gave up, not how long the task takes. The median is given too:
    from about 25 timed successes on, Sauro & Lewis prefer it as the point estimate (its interval
    is not computed here).

    References: Agresti, A. & Coull, B. (1998), "Approximate is better than 'exact' for interval
    estimation of binomial proportions", *The American Statistician* 52, 119–126. Sauro, J. &
    Lewis, J. R. (2005), "Estimating completion rates from small samples using binomial confidence
    intervals: comparisons and recommendations", *Proc. HFES 49th Annual Meeting*. Sauro, J. &
    Lewis, J. R. (2016), *Quantifying the User Experience*, 2nd ed., Morgan Kaufmann.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> t = pd.DataFrame({"participant_id": ["P1", "P2", "P3", "P4", "P5"], "task": "find a plan",
    ...                   "outcome": ["success", "success", "assisted", "success", "success"],
    ...                   "time_s": [55, 65, None, 75, 62]})
    >>> r = jl.task_metrics(t)
    >>> r[["task", "n", "successes", "success_rate", "ci_low", "ci_high"]].round(3)
              task  n  successes  success_rate  ci_low  ci_high
    0  find a plan  5          4           0.8    0.36     0.98
    >>> r[["n_timed", "time_geomean_s", "time_median_s"]].round(1)
       n_timed  time_geomean_s  time_median_s
    0        4            63.9           63.5
    """
    func = "task_metrics"
    check_frame(tasks, arg="tasks", func=func, required=[task, outcome], allow_empty=True,
                hint="Pass study.tasks (tasks.csv), or name your columns with task=, outcome=.")
    check_choice(assisted, arg="assisted", func=func, choices=["failure", "success"])
    if (isinstance(confidence, bool) or not isinstance(confidence, (int, float))
            or not 0 < confidence < 1):
        raise JourneylabError(f"{func}(): `confidence` must be a number between 0 and 1, e.g. 0.95; "
                              f"got {confidence!r}.")
    by = [by] if isinstance(by, str) else list(by or [])
    check_frame(tasks, arg="tasks", func=func, required=by, allow_empty=True)
    if task in by:
        raise JourneylabError(f"{func}(): `by` must not include the task column {task!r}; "
                              "every row is already one task.")
    outcomes = _outcomes(tasks, outcome, task, participant, func)
    has_time = time in tasks.columns
    times = _times(tasks, time, task, participant, func) if has_time else np.full(len(tasks), np.nan)
    counted = {"success"} | ({"assisted"} if assisted == "success" else set())
    success = np.isin(outcomes, list(counted))
    timed = success & ~np.isnan(times)
    zero = timed & (times == 0)
    if zero.any():
        i = int(np.flatnonzero(zero)[0])
        raise JourneylabError(f"{func}(): column {time!r}, {_where(tasks, i, task, participant)}: a successful "
                              "attempt took 0 seconds; the geometric mean needs positive times. Fix the time "
                              "or blank it (untimed).")
    method = AWALD_METHOD + ("; assisted counted as success" if assisted == "success"
                             else "; assisted counted as failure")
    if len(tasks) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in by + RESULT_COLUMNS})
    frame = pd.DataFrame({"_task": tasks[task].to_numpy(), "_success": success, "_time": times,
                          "_timed": timed}, index=range(len(tasks)))
    for c in by:
        frame[c] = tasks[c].to_numpy()
    keys = by + ["_task"]
    rows = []
    for key, g in frame.groupby(keys, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        n = len(g)
        x = int(g["_success"].sum())
        lo, hi = adjusted_wald(x, n, confidence=confidence)
        t = g.loc[g["_timed"], "_time"].to_numpy()
        gm, tlo, thi = log_time_interval(t, confidence=confidence)
        rows.append(dict(zip(by + ["task"], key)) | {
            "n": n, "successes": x, "success_rate": x / n, "ci_low": float(lo), "ci_high": float(hi),
            "method": method, "n_timed": len(t), "time_geomean_s": gm, "time_ci_low_s": tlo,
            "time_ci_high_s": thi, "time_median_s": float(np.median(t)) if len(t) else np.nan})
    out = pd.DataFrame(rows, columns=by + RESULT_COLUMNS)
    if by:  # groups sorted, tasks within a group in order of first appearance
        out = out.sort_values(by, kind="mergesort", na_position="last")
    return out.reset_index(drop=True)


def _where(tasks: pd.DataFrame, i: int, task: str, participant: str) -> str:
    where = f"row {i} (index {tasks.index[i]!r}"
    if participant in tasks.columns:
        where += f", {participant} {_shown(tasks[participant].iloc[i])!r}"
    return where + f", {task} {_shown(tasks[task].iloc[i])!r})"


def _shown(value):
    """A cell as the user wrote it: 6, not np.int64(6)."""
    return value.item() if isinstance(value, np.generic) else value


def _outcomes(tasks, outcome, task, participant, func) -> np.ndarray:
    raw = tasks[outcome]
    text = raw.astype("string").str.strip().str.lower()
    bad = ~text.isin(TASK_OUTCOMES).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise JourneylabError(
            f"{func}(): column {outcome!r}, {_where(tasks, i, task, participant)}: expected one of "
            f"{', '.join(TASK_OUTCOMES)}; found {_shown(raw.iloc[i])!r} ({int(bad.sum())} such row(s)). Recode the "
            "outcomes, or map your words in study.yml (tasks: outcomes: {your word: success, ...}).")
    return text.to_numpy(dtype=object)


def _times(tasks, time, task, participant, func) -> np.ndarray:
    raw = tasks[time]
    if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
        text = raw.astype("string").str.strip()
        blank = (raw.isna() | (text == "")).fillna(True).to_numpy(dtype=bool)
        values = pd.to_numeric(text.where(~pd.Series(blank, index=raw.index)), errors="coerce")
    else:
        blank = raw.isna().to_numpy()
        values = pd.to_numeric(raw, errors="coerce")
    values = np.asarray(values.astype("Float64").to_numpy(dtype=float, na_value=np.nan), dtype=float)
    bad = ~blank & (~np.isfinite(values) | (values < 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise JourneylabError(
            f"{func}(): column {time!r}, {_where(tasks, i, task, participant)}: expected a time in seconds "
            f"(a number ≥ 0, or blank when not timed); found {_shown(raw.iloc[i])!r}.")
    values[blank] = np.nan
    return values
