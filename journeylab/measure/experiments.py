"""Did the fix work? Before/after and A/B comparisons of a funnel step's conversion.

:func:`compare_periods` compares a step's conversion before and after a change (a product
release, a new form), on whole weeks so both sides hold the same weekdays, leaving out users
whose conversion window spans the change and checking for shifts in the traffic mix.
:func:`ab_test` compares randomised variants. Both report the absolute and relative difference
with intervals, the p-value, the minimum detectable effect for the sample at hand and the sample
size a target lift would need, and say in a ``warnings`` column what could mislead (peeking,
seasonality, mix shifts, sample-ratio mismatch, low power). :func:`compare_rates` does the same
from counts, :func:`sample_size` and :func:`minimum_detectable_effect` plan a test.
"""
from __future__ import annotations

__all__ = ["compare_periods", "ab_test", "compare_rates", "sample_size", "minimum_detectable_effect", "change_design",
           "ChangeDesign"]

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import JourneylabError
from ..study.load import check_study
from ..utils.checks import check_alpha, check_choice, check_correction, check_frame
from ..utils.docstrings import shared_docs
from .funnel import attribute_groups, format_timedelta, funnel, run_funnel, to_time_unit
from .funnel_spec import FunnelSpec, funnel_docs

METHOD = ("score test (Miettinen–Nurminen, test_proportions_2indep); Newcombe interval for the difference, "
          "adjusted log interval for the ratio (confint_proportions_2indep); MDE and sample size from "
          "NormalIndPower on Cohen's h")

RESULT_COLUMNS = [
    "step", "from_step", "control", "treatment", "n_control", "conversions_control", "rate_control",
    "n_treatment", "conversions_treatment", "rate_treatment", "difference", "ci_low", "ci_high",
    "relative_difference", "relative_ci_low", "relative_ci_high", "p_value", "mde", "mde_relative", "power",
    "target_lift", "n_needed", "target_verdict", "method", "warnings",
]


# ----------------------------------------------------------------------------- planning


def _check_power(power, func):
    if not isinstance(power, (float, int)) or not 0 < power < 1:
        raise JourneylabError(f"{func}(): `power` must be a number between 0 and 1, e.g. 0.8; got {power!r}.")


def _check_rate(p, arg, func):
    if not isinstance(p, (float, int, np.floating, np.integer)) or not 0 < p < 1:
        found = repr(p) if isinstance(p, (float, int, str, np.number, type(None))) else type(p).__name__
        raise JourneylabError(f"{func}(): `{arg}` must be a conversion rate strictly between 0 and 1; got {found}.")


def sample_size(baseline: float, *, lift: float, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0,
                relative: bool = True) -> int:
    """Users needed in the control group to detect a lift in a conversion rate.

    Parameters
    ----------
    baseline : float
        Control conversion rate (0–1).
    lift : float
        The change to detect: relative (0.25 = +25 %) or, with ``relative=False``, absolute
        (0.05 = +5 percentage points).
    alpha : float, default 0.05
        Two-sided significance level.
    power : float, default 0.8
        Probability of detecting the lift if it is real.
    ratio : float, default 1
        Treatment group size / control group size.
    relative : bool, default True

    Returns
    -------
    int
        Control-group size (rounded up); the treatment group needs ``ratio`` times as many.

    Notes
    -----
    Normal approximation on Cohen's arcsine effect size
    ``h = 2·asin(√p2) − 2·asin(√p1)`` (``statsmodels.stats.proportion.proportion_effectsize``)
    solved with ``statsmodels.stats.power.NormalIndPower``: ``n = (1 + 1/ratio)·((z₁₋α/₂ + z_power) / h)²``,
    i.e. ``2·((z₁₋α/₂ + z_power) / h)²`` for equal groups (Cohen 1988, ch. 6; h = 0.2 needs 392 per
    group at α = .05, power = .8).

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.sample_size(0.10, lift=0.20)        # 10 % -> 12 %
    3835
    """
    # lazy: statsmodels adds ~1.3 s to `import journeylab` (measured; docs/architecture.md)
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    func = "sample_size"
    _check_rate(baseline, "baseline", func)
    check_alpha(alpha, func)
    _check_power(power, func)
    target = baseline * (1 + lift) if relative else baseline + lift
    if not 0 < target < 1 or target == baseline:
        raise JourneylabError(f"{func}(): the target rate {target:.4g} (baseline {baseline:g} with lift {lift:g}) "
                              "must differ from the baseline and lie between 0 and 1.")
    h = proportion_effectsize(target, baseline)
    n = NormalIndPower().solve_power(effect_size=abs(h), nobs1=None, alpha=alpha, power=power, ratio=ratio,
                                     alternative="two-sided")
    return int(np.ceil(n))


def minimum_detectable_effect(baseline: float, *, n_control: int, n_treatment: int | None = None,
                              alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest rise in a conversion rate a two-sided test would detect with the given power.

    Parameters
    ----------
    baseline : float
        Control conversion rate.
    n_control, n_treatment : int
        Group sizes (``n_treatment`` defaults to ``n_control``).
    alpha, power : float

    Returns
    -------
    float
        Absolute MDE (treatment rate − baseline); NaN when no rate below 1 would be detectable.

    Notes
    -----
    Solves ``NormalIndPower`` for Cohen's h and converts back:
    ``p2 = sin(asin(√p1) + h/2)²``.

    Examples
    --------
    >>> import journeylab as jl
    >>> round(jl.minimum_detectable_effect(0.10, n_control=3835), 4)
    0.02
    """
    # lazy: statsmodels adds ~1.3 s to `import journeylab` (measured; docs/architecture.md)
    from statsmodels.stats.power import NormalIndPower

    func = "minimum_detectable_effect"
    _check_rate(baseline, "baseline", func)
    check_alpha(alpha, func)
    _check_power(power, func)
    n_treatment = n_control if n_treatment is None else n_treatment
    if n_control < 2 or n_treatment < 2:
        return float("nan")
    h = NormalIndPower().solve_power(effect_size=None, nobs1=n_control, alpha=alpha, power=power,
                                     ratio=n_treatment / n_control, alternative="two-sided")
    angle = np.arcsin(np.sqrt(baseline)) + float(np.squeeze(h)) / 2
    if angle >= np.pi / 2:
        return float("nan")
    return float(np.sin(angle) ** 2 - baseline)


# ----------------------------------------------------------------------------- the comparison


def _pct(x: float) -> str:
    return f"{x * 100:+.1f}%"


def _two_sample(c0, n0, c1, n1, *, alpha, power, target_lift) -> dict:
    """Control (c0/n0) vs treatment (c1/n1)."""
    # lazy: statsmodels adds ~1.3 s to `import journeylab` (measured; docs/architecture.md)
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    out = dict(n_control=int(n0), conversions_control=int(c0), n_treatment=int(n1), conversions_treatment=int(c1))
    r0 = c0 / n0 if n0 else np.nan
    r1 = c1 / n1 if n1 else np.nan
    out.update(rate_control=r0, rate_treatment=r1, difference=r1 - r0)
    nan = float("nan")
    lo = hi = rlo = rhi = p = nan
    if n0 > 0 and n1 > 0:
        if 0 < c0 + c1 < n0 + n1:
            p = float(test_proportions_2indep(c1, n1, c0, n0, value=0, method="score", compare="diff",
                                              alternative="two-sided").pvalue)
        else:
            p = 1.0
        lo, hi = confint_proportions_2indep(c1, n1, c0, n0, compare="diff", method="newcomb", alpha=alpha)
        if c0 > 0:
            rlo, rhi = confint_proportions_2indep(c1, n1, c0, n0, compare="ratio", method="log-adjusted",
                                                  alpha=alpha)
            rlo, rhi = rlo - 1, rhi - 1
    out.update(ci_low=float(lo), ci_high=float(hi),
               relative_difference=(r1 / r0 - 1) if r0 and r0 > 0 else nan,
               relative_ci_low=float(rlo), relative_ci_high=float(rhi), p_value=p)
    mde = minimum_detectable_effect(r0, n_control=n0, n_treatment=n1, alpha=alpha, power=power) \
        if n0 >= 2 and n1 >= 2 and 0 < r0 < 1 else nan
    out.update(mde=mde, mde_relative=mde / r0 if r0 and r0 > 0 else nan, power=power,
               target_lift=nan if target_lift is None else float(target_lift))
    n_needed, verdict = nan, None
    if target_lift is not None and 0 < r0 < 1 and 0 < r0 * (1 + target_lift) < 1:
        n_needed = sample_size(r0, lift=target_lift, alpha=alpha, power=power, ratio=n1 / n0 if n0 else 1.0)
        if not np.isnan(rlo):
            interval = f"interval {_pct(rlo)} to {_pct(rhi)}"
            if rlo >= target_lift:
                verdict = f"supported: a lift of at least {_pct(target_lift)} ({interval})"
            elif rhi < target_lift:
                verdict = f"not supported: {_pct(target_lift)} lies above the {interval}"
            else:
                verdict = f"not established: the {interval} contains {_pct(target_lift)} but also smaller lifts"
    out.update(n_needed=n_needed, target_verdict=verdict, method=METHOD)
    return out


def _power_warnings(row: dict, alpha: float) -> list:
    w = []
    if not np.isnan(row["p_value"]) and row["p_value"] >= alpha and not np.isnan(row["mde"]):
        w.append(f"not significant, and with these group sizes only changes of about {row['mde'] * 100:.1f} "
                 f"percentage points or more were detectable at {row['power']:.0%} power: absence of evidence "
                 "is not evidence of absence")
    if not np.isnan(row["n_needed"]) and row["n_control"] < row["n_needed"]:
        w.append(f"underpowered for the target lift: {row['n_needed']:,} users per group needed, "
                 f"{row['n_control']:,} in control")
    return w


def compare_rates(
    *,
    conversions_control: int,
    n_control: int,
    conversions_treatment: int,
    n_treatment: int,
    alpha: float = 0.05,
    power: float = 0.8,
    target_lift: float | None = None,
    control: str = "control",
    treatment: str = "treatment",
) -> pd.DataFrame:
    """Compare two conversion rates from counts: difference, ratio, p-value, MDE, sample size.

    Parameters
    ----------
    conversions_control, n_control, conversions_treatment, n_treatment : int
        Users converting and users at risk in each group.
    alpha : float, default 0.05
    power : float, default 0.8
        For the minimum detectable effect and the sample size.
    target_lift : float, optional
        A relative lift to judge (0.25 for "+25 %"): the sample size it needs and whether the
        data support it.
    control, treatment : str
        Labels written in the output.

    Returns
    -------
    DataFrame
        One row with the columns of :func:`ab_test` (``step`` and ``from_step`` empty).

    Examples
    --------
    >>> import journeylab as jl
    >>> r = jl.compare_rates(conversions_control=560, n_control=1000, conversions_treatment=720, n_treatment=1000,
    ...                      target_lift=0.25)
    >>> print(f"{r.loc[0, 'difference']:.2f}", r.loc[0, "p_value"] < 0.001)
    0.16 True
    """
    func = "compare_rates"
    check_alpha(alpha, func)
    _check_power(power, func)
    counts = dict(conversions_control=conversions_control, n_control=n_control,
                  conversions_treatment=conversions_treatment, n_treatment=n_treatment)
    for arg, x in counts.items():
        if not isinstance(x, (int, np.integer)) or isinstance(x, bool):
            raise JourneylabError(f"{func}(): `{arg}` must be a whole number (a count of users), got "
                                  f"{type(x).__name__}.")
    for name, c, n in (("control", conversions_control, n_control), ("treatment", conversions_treatment, n_treatment)):
        if not 0 <= c <= n or n < 1:  # whole numbers: checked just above
            raise JourneylabError(f"{func}(): {name}: need whole numbers 0 <= conversions <= n and n >= 1; got "
                                  f"conversions={c!r}, n={n!r}.")
    row = dict(step=None, from_step=None, control=control, treatment=treatment)
    row.update(_two_sample(conversions_control, n_control, conversions_treatment, n_treatment, alpha=alpha,
                           power=power, target_lift=target_lift))
    row["warnings"] = "; ".join(_power_warnings(row, alpha))
    return pd.DataFrame([row], columns=RESULT_COLUMNS)


# ----------------------------------------------------------------------------- from an event log


def _step_index(spec, step, func) -> int:
    if step is None:
        return len(spec.sets) - 1
    if isinstance(step, (int, np.integer)) and not isinstance(step, bool):
        k = int(step) - 1
    else:
        matches = [i for i, (lbl, s) in enumerate(zip(spec.labels, spec.sets)) if step == lbl or s == {step}]
        if not matches:
            raise JourneylabError(f"{func}(): `step` {step!r} is not one of the steps: {', '.join(spec.labels)}.")
        k = matches[-1]
    if not 1 <= k < len(spec.sets):
        raise JourneylabError(f"{func}(): `step` must be a step after the first (its conversion is from the step "
                              f"before it); got {step!r}.")
    return k


def _to_log_time(value, unit: str, arg: str, func: str) -> int:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise JourneylabError(f"{func}(): `{arg}` must be a date or time like '2026-08-31'; got {value!r}.") from None
    if ts.tz is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(np.datetime64(ts.to_datetime64(), unit).astype(np.int64))


def _fmt_time(v: int, unit: str) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(int(v), unit))


def _counts(core, k, mask):
    return int((mask & core.reached(k - 1)).sum()), int((mask & core.reached(k)).sum())


def _mix_warnings(groups: pd.DataFrame, mix: list, base: np.ndarray, a: np.ndarray, b: np.ndarray,
                  threshold: float, names=("before", "after")) -> list:
    out = []
    for col in mix:
        v = groups[col].to_numpy()
        sa = pd.Series(v[a & base]).value_counts(normalize=True)
        sb = pd.Series(v[b & base]).value_counts(normalize=True)
        shares = pd.concat([sa, sb], axis=1).fillna(0)
        if not len(shares):
            continue
        d = shares.iloc[:, 1] - shares.iloc[:, 0]
        moved = d[d.abs() >= threshold]
        if len(moved):
            top = moved.abs().sort_values(ascending=False, kind="stable").index[:3]
            parts = ", ".join(f"{lvl}: {shares.loc[lvl].iloc[0]:.0%} → {shares.loc[lvl].iloc[1]:.0%}" for lvl in top)
            out.append(f"the {col} mix shifted between {names[0]} and {names[1]} ({parts}) — compare within "
                       f"groups with by={col!r}")
    return out


def _pretrend_warning(entry, base, conv, start, end, week, unit_is_before=True) -> list:
    """Chi-square test of equal weekly conversion in the before period."""
    # lazy: statsmodels adds ~1.3 s to `import journeylab` (measured; docs/architecture.md)
    from statsmodels.stats.proportion import proportions_chisquare

    inside = (entry >= start) & (entry < end) & base
    wk = ((entry[inside] - start) // week).astype(np.int64)
    nw = int(wk.max()) + 1 if len(wk) else 0
    if nw < 2:
        return []
    n = np.bincount(wk, minlength=nw)
    c = np.bincount(wk, weights=conv[inside].astype(float), minlength=nw)
    keep = n > 0
    if keep.sum() < 2 or c[keep].sum() in (0, n[keep].sum()):
        return []
    p = proportions_chisquare(c[keep], n[keep])[1]
    if p < 0.01:
        rates = ", ".join(f"{x:.0%}" for x in c[keep] / n[keep])
        return [f"the rate was already moving before the change (weekly rates {rates}; chi-square p = {p:.2g}): "
                "part of the difference may be a trend, not the change"]
    return []


@dataclass(frozen=True)
class ChangeDesign:
    """What a study's before/after test compares (:func:`change_design`); false when there is none.

    Attributes
    ----------
    date : Timestamp or None
        When the change went live (study.yml ``changes:``); None when the study records none.
    name, touchpoint : str or None
        The change's name and the touchpoint it changed.
    steps : list or None
        ``[step before, step at the changed touchpoint]``: the funnel step pair the test compares;
        None when the test does not apply.
    placebo_steps : list or None
        The last step pair that does not touch the changed touchpoint (a step the change should
        not move); None when there is none.
    focus_steps : list or None
        The step pair a notebook looks at closely: ``steps`` when the test applies, otherwise the
        pair with the lowest step-to-step conversion in the study's funnel.
    reason : str
        Empty when the test applies; otherwise one sentence saying why not.
    """

    date: pd.Timestamp | None = None
    name: str | None = None
    touchpoint: str | None = None
    steps: list | None = None
    placebo_steps: list | None = None
    focus_steps: list | None = None
    reason: str = ""

    def __bool__(self) -> bool:
        return self.steps is not None


def _step_touchpoints(step, touchpoint_of: dict) -> set:
    names = step if isinstance(step, (list, tuple)) else [step]
    return {touchpoint_of.get(n) for n in names} - {None}


@shared_docs
def change_design(study, *, change: int = 0) -> ChangeDesign:
    """The before/after test a study allows: the change, the funnel steps it touches, a placebo.

    The test compares the conversion of the funnel step at the changed touchpoint from the step
    before it, before and after the change date (:func:`compare_periods`); the placebo is the last
    step pair away from the changed touchpoint. A study without a recorded change (study.yml
    ``changes:``), whose change names no touchpoint with a funnel step after the first, or without
    an event log covering the date gets a design that is false, with ``reason`` saying why, so a
    notebook can say so and go on.

    Parameters
    ----------
    {study}
    change : int, default 0
        Which entry of ``study.changes`` (in study.yml order).

    Returns
    -------
    ChangeDesign

    Examples
    --------
    >>> import journeylab as jl
    >>> design = jl.change_design(jl.load_study(jl.datasets.sample_study_path()))
    >>> design.steps, design.placebo_steps
    (['checkout_start', 'shipping_submitted'], ['payment_submitted', 'order_completed'])
    """
    func = "change_design"
    check_study(study, func=func)
    if not isinstance(change, (int, np.integer)) or isinstance(change, bool) or change < 0:
        raise JourneylabError(f"{func}(): `change` must be a non-negative whole number; got {change!r}.")
    steps = list(study.funnel_steps)
    events = study.events
    touchpoint_of = dict(zip(study.events_map["event"], study.events_map["touchpoint"]))
    pairs = [[a, b] for a, b in zip(steps[:-1], steps[1:])]

    def weakest_pair():  # the focus without a test: the step pair with the lowest conversion
        if not pairs or not len(events):
            return None
        conv = funnel(events, steps=steps, window=study.funnel_window).steps["conversion_from_previous"]
        rates = conv.iloc[1:].to_numpy(dtype=float)
        return pairs[int(np.nanargmin(rates))] if not np.isnan(rates).all() else pairs[0]

    if not len(study.changes):
        return ChangeDesign(focus_steps=weakest_pair(),
                            reason="this study has no recorded change (study.yml `changes:`), so there is no "
                                   "before/after test")
    if change >= len(study.changes):
        raise JourneylabError(f"{func}(): `change` is {change}, but study.yml lists {len(study.changes)} "
                              "change(s) (numbered from 0).")
    row = study.changes.iloc[change]
    date, name, tp = pd.Timestamp(row["date"]), row["name"] or None, row["touchpoint"]
    tp = tp if isinstance(tp, str) and tp else None
    base = dict(date=date, name=name, touchpoint=tp)

    def none(reason):
        return ChangeDesign(**base, focus_steps=weakest_pair(), reason=reason)

    what = f"the change {name!r}" if name else f"the change of {date:%Y-%m-%d}"
    if tp is None:
        return none(f"{what} names no touchpoint (study.yml `changes:`), so there is no funnel step to test "
                    "before and after")
    at = next((k for k, s in enumerate(steps) if k and tp in _step_touchpoints(s, touchpoint_of)), None)
    if at is None:
        return none(f"{what} is at touchpoint {tp!r}, which has no funnel step after the first, so there is no "
                    "before/after test")
    if not len(events):
        return none("this study has no event log, so there is no before/after test")
    t = pd.to_datetime(events["timestamp"])
    first, last = t.min(), t.max()
    if not first < date < last:
        return none(f"{what} on {date:%Y-%m-%d} falls outside the event log ({first:%Y-%m-%d} to {last:%Y-%m-%d}), "
                    "so there is no before/after test")
    placebo = next((p for p in reversed(pairs) if not any(tp in _step_touchpoints(s, touchpoint_of) for s in p)),
                   None)
    return ChangeDesign(**base, steps=steps[at - 1:at + 1], placebo_steps=placebo, focus_steps=steps[at - 1:at + 1])


@funnel_docs
def compare_periods(
    events: pd.DataFrame,
    *,
    steps: Sequence | dict,
    change_date,
    step: str | int | None = None,
    by: str | Sequence[str] | None = None,
    user: str = "user_id",
    time: str = "timestamp",
    event: str = "event",
    window: str | pd.Timedelta = "7D",
    order: str = "closed",
    entry: str = "first",
    exclude=None,
    count: str = "user",
    session: str = "session_id",
    weeks: int | None = None,
    same_weekdays: bool = True,
    exclude_straddling: bool = True,
    mix: Sequence[str] = ("device", "channel"),
    mix_threshold: float = 0.03,
    alpha: float = 0.05,
    power: float = 0.8,
    target_lift: float | None = None,
) -> pd.DataFrame:
    """Before/after comparison of a funnel step's conversion around a change date.

    Parameters
    ----------
    events : DataFrame
        The event log.
    steps : list or dict
        The funnel (as in :func:`journeylab.funnel`); e.g. ``["checkout_start", "shipping_submitted"]``.
    change_date : str or Timestamp
        When the change went live (in the log's clock; a time zone-aware value is converted to UTC).
    step : str or int, optional
        The step whose conversion from the previous step is compared (label, event name or 1-based
        number); default the last step.
    by : str or list of str, optional
        One row per group (attributed at the user's funnel entry): compare like with like.
    %(funnel_parameters)s
    weeks : int, optional
        Whole weeks on each side; default as many as the log allows on both sides.
    same_weekdays : bool, default True
        Compare the same number of whole weeks before and after, so weekdays (and weekends) weigh
        the same on both sides. ``False`` uses all the data on each side.
    exclude_straddling : bool, default True
        Leave out users who entered the funnel less than one ``window`` before the change (their
        conversion window spans it, so they may have seen both versions).
    mix : list of str, default ("device", "channel")
        Columns (those present) whose share among users at the previous step is compared between
        periods; a shift of ``mix_threshold`` or more is reported in ``warnings``.
    mix_threshold : float, default 0.03
        The shift in a ``mix`` column's shares (absolute, 0.03 = 3 points) that is reported.
    alpha, power : float
        Significance level; power for the minimum detectable effect and the sample size.
    target_lift : float, optional
        A relative lift to judge, e.g. 0.25 for a "+25 %" claim.

    Returns
    -------
    DataFrame
        One row (per group): the ``by`` columns, ``step``, ``from_step``, ``control`` ("before"),
        ``treatment`` ("after"), ``n_control``, ``conversions_control``, ``rate_control``,
        ``n_treatment``, ``conversions_treatment``, ``rate_treatment``, ``difference`` (after −
        before) with ``ci_low`` / ``ci_high``, ``relative_difference`` (after / before − 1) with
        ``relative_ci_low`` / ``relative_ci_high``, ``p_value``, ``mde`` (absolute minimum
        detectable rise at ``power`` for these group sizes), ``mde_relative``, ``power``,
        ``target_lift``, ``n_needed`` (users per group the target lift would need),
        ``target_verdict``, ``method``, ``warnings`` (what could mislead, in words), then
        ``design`` (the periods compared, in words), ``before_start``, ``before_end``,
        ``after_start``, ``after_end`` (entry times, end exclusive), ``weeks``,
        ``excluded_straddling`` (users left out).

    Notes
    -----
    A user belongs to the period in which they entered the funnel (step 1). "After" ends one
    window before the end of the log, so every user counted had a full window to convert (right
    censoring). The p-value is the score test of equal rates (Miettinen & Nurminen 1985,
    ``statsmodels.stats.proportion.test_proportions_2indep(method="score")``); the difference's
    interval is Newcombe's hybrid score interval (Newcombe 1998, ``method="newcomb"``: closed form,
    good coverage — statsmodels' iterative score interval can fail to converge near zero) and the
    ratio's is the adjusted log interval (``method="log-adjusted"``), both from
    ``confint_proportions_2indep``. Near the 5 % boundary the test and the interval can disagree
    by a hair. The minimum detectable effect and sample size use
    ``statsmodels.stats.power.NormalIndPower`` on Cohen's h.

    A before/after comparison is not an experiment: seasonality, campaigns and changes in who
    visits move rates too. Whole weeks on both sides remove the weekday pattern but not trends;
    the ``warnings`` column reports a moving rate within the before period (weekly chi-square) and
    shifts in the traffic mix. Compare like with like with ``by=``; for stronger designs use a
    difference-in-differences against an unchanged step, or an A/B test.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> r = jl.compare_periods(study.events, steps=["checkout_start", "shipping_submitted"],
    ...                        change_date="2026-08-31", target_lift=0.25)  # doctest: +SKIP
    """
    func = "compare_periods"
    spec = FunnelSpec.parse(steps, window=window, order=order, entry=entry, exclude=exclude, count=count, user=user,
                            time=time, event=event, session=session, func=func)
    k = _step_index(spec, step, func)
    check_alpha(alpha, func)
    _check_power(power, func)
    by_cols = [by] if isinstance(by, str) else list(by or [])
    check_frame(events, arg="events", func=func, required=[time], allow_empty=False)
    mix_cols = [c for c in mix if c in events.columns and c not in by_cols]
    core = run_funnel(events, spec, need_all_codes=False, func=func, by_cols=by_cols)
    unit = core.time_unit
    t_all = core.extra["t_all"]
    change = _to_log_time(change_date, unit, "change_date", func)
    tmin, tmax = int(t_all.min()), int(t_all.max())
    W = to_time_unit(spec.window, unit)
    week = to_time_unit(pd.Timedelta(days=7), unit)
    if not tmin < change <= tmax:
        raise JourneylabError(f"{func}(): `change_date` {change_date!r} is outside the log "
                              f"({_fmt_time(tmin, unit)} to {_fmt_time(tmax, unit)}).")
    gap = W if exclude_straddling else 0
    before_end = change - gap
    after_limit = tmax - W + 1                  # entries from here on had no full window
    if same_weekdays:
        avail = min((before_end - tmin) // week, (after_limit - change) // week)
        n_weeks = avail if weeks is None else int(weeks)
        if n_weeks < 1 or n_weeks > avail:
            raise JourneylabError(
                f"{func}(): need {'at least one' if weeks is None else weeks} whole week(s) on each side of the "
                f"change; the log allows {max(avail, 0)} (before: entries up to {_fmt_time(before_end, unit)}, "
                f"after: entries up to {_fmt_time(after_limit, unit)} so that users have a full "
                f"{format_timedelta(spec.window)} window). Use a shorter window, weeks=, or same_weekdays=False.")
        b0, b1 = before_end - n_weeks * week, before_end
        a0, a1 = change, change + n_weeks * week
        design = (f"{n_weeks} whole week(s) before vs {n_weeks} after (same weekdays), users assigned by when "
                  f"they entered the funnel")
    else:
        if weeks is not None:
            raise JourneylabError(f"{func}(): `weeks` needs same_weekdays=True.")
        n_weeks = None
        b0, b1, a0, a1 = tmin, before_end, change, after_limit
        design = "all data before vs all data after (weekday mix may differ), users assigned by funnel entry"
    if exclude_straddling:
        design += f"; users entering less than {format_timedelta(spec.window)} before the change left out"
    entry_t = core.T[0]
    before = (entry_t >= b0) & (entry_t < b1)
    after = (entry_t >= a0) & (entry_t < a1)
    n_straddle = int(((entry_t >= change - W) & (entry_t < change)).sum()) if exclude_straddling else 0
    groups = attribute_groups(events, core, by_cols + mix_cols, "entry", time) if (by_cols or mix_cols) else None
    base = core.reached(k - 1)
    conv = core.reached(k)
    if by_cols:
        g = groups.groupby(by_cols, dropna=False, sort=True)
        keys, codes = g.size().reset_index()[by_cols], g.ngroup().to_numpy()
    else:
        keys, codes = pd.DataFrame(index=[0]), np.zeros(len(entry_t), dtype=np.int64)
    rows = []
    for gi in range(len(keys)):
        m = codes == gi
        n0, c0 = _counts(core, k, m & before)
        n1, c1 = _counts(core, k, m & after)
        row = {c: keys[c].iloc[gi] for c in by_cols}
        row.update(step=spec.labels[k], from_step=spec.labels[k - 1], control="before", treatment="after")
        row.update(_two_sample(c0, n0, c1, n1, alpha=alpha, power=power, target_lift=target_lift))
        warn = ["before/after is not a randomised comparison: seasonality, campaigns and changes in who visits "
                "can move the rate too — " + ("whole weeks on both sides remove the weekday pattern, not trends"
                                              if same_weekdays else "and the two sides hold different weekdays")]
        warn += _pretrend_warning(entry_t, base & m, conv, b0, b1, week)
        if mix_cols:
            warn += _mix_warnings(groups, mix_cols, base & m, before, after, mix_threshold)
        warn += _power_warnings(row, alpha)
        row["warnings"] = "; ".join(warn)
        row.update(design=design, before_start=_fmt_time(b0, unit), before_end=_fmt_time(b1, unit),
                   after_start=_fmt_time(a0, unit), after_end=_fmt_time(a1, unit), weeks=n_weeks,
                   excluded_straddling=n_straddle)
        rows.append(row)
    cols = by_cols + RESULT_COLUMNS + ["design", "before_start", "before_end", "after_start", "after_end", "weeks",
                                       "excluded_straddling"]
    return pd.DataFrame(rows, columns=cols)


@funnel_docs
def ab_test(
    events: pd.DataFrame,
    *,
    steps: Sequence | dict,
    variant: str = "variant",
    control=None,
    step: str | int | None = None,
    user: str = "user_id",
    time: str = "timestamp",
    event: str = "event",
    window: str | pd.Timedelta = "7D",
    order: str = "closed",
    entry: str = "first",
    exclude=None,
    count: str = "user",
    session: str = "session_id",
    attribution: str = "first_touch",
    planned_n: int | None = None,
    expected_split: dict | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    target_lift: float | None = None,
    correction: str = "holm",
) -> pd.DataFrame:
    """A/B test of a funnel step's conversion between randomised variants.

    Parameters
    ----------
    events : DataFrame
        The event log with a column naming each user's variant.
    steps : list or dict
        The funnel, as in :func:`journeylab.funnel`.
    variant : str, default "variant"
        Column holding the variant.
    control : optional
        The control variant; default ``"control"`` if present, else the first in sorted order.
    step : str or int, optional
        The step compared (its conversion from the previous step); default the last.
    %(funnel_parameters)s
    attribution : {"first_touch", "entry", "last_touch"}, default "first_touch"
        As in :func:`journeylab.funnel`: which event's variant a user gets.
    planned_n : int, optional
        The users per group you decided, before starting, to collect. Without it, or when fewer
        have been collected, ``warnings`` says that reading the test early (peeking) overstates the
        evidence.
    expected_split : dict, optional
        Expected share of users per variant (default equal) for the sample-ratio-mismatch check.
    alpha, power, target_lift
        As in :func:`compare_periods`.
    correction : str, default "holm"
        multipletests method for ``p_adj`` when several treatments are compared with the control.

    Returns
    -------
    DataFrame
        One row per treatment variant with the columns of :func:`compare_periods` (``control`` and
        ``treatment`` are the variant names), plus ``p_adj``, ``correction`` and ``srm_p_value``
        (chi-square test of the users entering each variant against ``expected_split``).

    Notes
    -----
    Same statistics as :func:`compare_periods`. A p-value is only valid for a sample size fixed
    in advance and read once: stopping the first time p < 0.05 (peeking) raises the false-positive
    rate far above 5 % (Johari et al. 2017, "Peeking at A/B tests"). A sample-ratio mismatch
    (p < 0.001) means the assignment or the logging is broken and the comparison is not to be
    trusted (Fabijan et al. 2019).

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> ev = pd.DataFrame({"user_id": [1, 1, 2, 3, 3, 4], "variant": ["a", "a", "a", "b", "b", "b"],
    ...                    "event": ["cart", "buy", "cart", "cart", "buy", "cart"],
    ...                    "timestamp": pd.date_range("2026-01-01", periods=6, freq="h")})
    >>> jl.ab_test(ev, steps=["cart", "buy"], variant="variant")[["control", "treatment", "difference"]]
      control treatment  difference
    0       a         b         0.0
    """
    # lazy: scipy.stats adds ~1.3 s to `import journeylab` (measured; docs/architecture.md)
    from scipy.stats import chisquare
    from statsmodels.stats.multitest import multipletests

    func = "ab_test"
    spec = FunnelSpec.parse(steps, window=window, order=order, entry=entry, exclude=exclude, count=count, user=user,
                            time=time, event=event, session=session, func=func)
    k = _step_index(spec, step, func)
    check_alpha(alpha, func)
    _check_power(power, func)
    check_correction(correction, func)
    check_choice(attribution, arg="attribution", func=func, choices=("first_touch", "entry", "last_touch"))
    check_frame(events, arg="events", func=func, required=[variant],
                hint="Name the column holding each user's variant with variant=.")
    core = run_funnel(events, spec, need_all_codes=attribution != "entry", func=func, by_cols=[variant])
    groups = attribute_groups(events, core, [variant], attribution, time)[variant]
    values = sorted(pd.unique(groups.dropna()), key=str)
    if len(values) < 2:
        raise JourneylabError(f"{func}(): column {variant!r} has {len(values)} variant(s) among users who entered "
                              f"the funnel ({values}); need at least two.")
    if control is None:
        control = "control" if "control" in values else values[0]
    elif control not in values:
        raise JourneylabError(f"{func}(): `control` {control!r} is not a value of {variant!r}: {values}.")
    v = groups.to_numpy()
    entered = np.array([(v == x).sum() for x in values])
    if expected_split is None:
        expected = np.full(len(values), entered.sum() / len(values))
    else:
        shares = np.array([float(expected_split.get(x, 0)) for x in values])
        if shares.sum() <= 0:
            raise JourneylabError(f"{func}(): `expected_split` must give a positive share to the variants {values}.")
        expected = shares / shares.sum() * entered.sum()
    srm_p = float(chisquare(entered, expected).pvalue)
    m0 = v == control
    n0, c0 = _counts(core, k, m0)
    rows = []
    for x in values:
        if x == control:
            continue
        n1, c1 = _counts(core, k, v == x)
        row = dict(step=spec.labels[k], from_step=spec.labels[k - 1], control=control, treatment=x)
        row.update(_two_sample(c0, n0, c1, n1, alpha=alpha, power=power, target_lift=target_lift))
        warn = []
        if planned_n is None:
            warn.append("peeking: this p-value is valid only if the sample size was fixed in advance and the test "
                        "read once; looking repeatedly and stopping at the first p < alpha inflates false "
                        "positives — fix n in advance (n_needed) and pass planned_n=, or use a sequential test")
        elif min(n0, n1) < planned_n:
            warn.append(f"peeking: stopped at {min(n0, n1):,} users per group, before the planned {planned_n:,}; "
                        "the p-value and interval overstate the evidence")
        if srm_p < 0.001:
            warn.append(f"sample ratio mismatch (users per variant {dict(zip(map(str, values), entered.tolist()))}, "
                        f"p = {srm_p:.2g}): assignment or logging is broken; do not trust this comparison")
        warn += _power_warnings(row, alpha)
        row["warnings"] = "; ".join(warn)
        row["srm_p_value"] = srm_p
        rows.append(row)
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS + ["srm_p_value"])
    ok = out["p_value"].notna().to_numpy()
    out["p_adj"] = np.nan
    if ok.sum() > 1:
        out.loc[ok, "p_adj"] = multipletests(out.loc[ok, "p_value"].to_numpy(), alpha=alpha, method=correction)[1]
    else:
        out.loc[ok, "p_adj"] = out.loc[ok, "p_value"]
    out["correction"] = correction if ok.sum() > 1 else "none (one comparison)"
    return out
