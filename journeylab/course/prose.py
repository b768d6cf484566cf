"""Sentences about a study's findings, rendered from the results they describe.

The notebooks state their findings in words: "6 of 14 people raised it", "the interval runs from
−20 to +63". A number typed into a Markdown cell goes stale the moment the data change, and is
wrong on every other study. So every sentence that states a finding is printed by a code cell
from the same objects as the table above it, with the helpers here — and the wording that
carries a statistical judgement (what an interval allows one to say, how strong a correlation
is, which key drivers survive a correction) is decided by one function, the same way everywhere.

``tests/test_course_prose.py`` renders every notebook's Markdown and fails on a digit-bearing
sentence about a study that is not generated.

Examples
--------
>>> import journeylab as jl
>>> jl.prose.of(6, 14)
'6 of 14'
>>> print(jl.prose.interval_reading(21.5, -20.0, 63.0, what="the NPS gap",
...                                 unit=" points"))  # doctest: +NORMALIZE_WHITESPACE
the NPS gap is +21.5 points, but its 95 % interval runs from −20.0 to +63.0 points: it includes no difference,
so these data do not show the NPS gap — nor do they rule it out, since effects as large as +63.0 points are as
compatible with them
>>> jl.prose.correlation_strength(0.27)
'small'
"""
from __future__ import annotations

__all__ = ["Prose", "md", "of", "pct", "signed", "interval_reading", "correlation_strength", "study_sentences",
           "drivers_reading", "kappa_interval_reading"]

import math
from collections.abc import Iterable

import pandas as pd

from ..errors import JourneylabError
from ..study.load import check_study


class Prose(str):
    """Markdown text that Jupyter shows as Markdown (a ``str`` otherwise).

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.prose.md("**7** of 14.")._repr_markdown_()
    '**7** of 14.'
    """

    def _repr_markdown_(self) -> str:
        return str(self)


def md(*sentences: str) -> Prose:
    """Sentences joined into one Markdown paragraph, each starting with a capital and ending with
    a full stop (added when missing).

    Examples
    --------
    >>> import journeylab as jl
    >>> str(jl.prose.md("one.", "two"))
    'One. Two.'
    """
    parts = [s.strip() for s in sentences if s and s.strip()]
    parts = [p if p[-1] in ".!?:" else p + "." for p in parts]
    return Prose(" ".join(p[:1].upper() + p[1:] for p in parts))


def of(n, total) -> str:
    """``"n of total"`` with thousands separators.

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.prose.of(1200, 24331)
    '1,200 of 24,331'
    """
    return f"{int(n):,} of {int(total):,}"


def pct(share, digits: int = 0) -> str:
    """A share (0–1) as a percentage, ``"87 %"``.

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.prose.pct(0.8712)
    '87 %'
    """
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "n/a"
    return f"{100 * float(share):.{digits}f} %"


def signed(x, digits: int = 1) -> str:
    """A number with its sign, and a true minus sign: ``"+21.5"``, ``"−20.0"``.

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.prose.signed(-3.14159, 2)
    '−3.14'
    """
    text = f"{float(x):+.{digits}f}"
    return text.replace("-", "−")


def interval_reading(estimate, low, high, *, what: str = "the difference", unit: str = "", null: float = 0.0,
                     digits: int = 1, level: float = 0.95) -> str:
    """What an estimate with its interval does and does not allow one to say, in one sentence.

    An interval that includes ``null`` (no difference) is *not* evidence of no difference: it is
    the absence of evidence, and the sentence says what else the interval allows.

    Parameters
    ----------
    estimate, low, high : float
        The point estimate and its interval.
    what : str
        What the estimate is, e.g. ``"the NPS gap"``.
    unit : str
        Appended to each number, e.g. ``" points"`` or ``" pp"``.
    null : float, default 0
        The value meaning "no difference".
    digits : int
    level : float
        The interval's confidence level, for the wording.

    Returns
    -------
    str

    Examples
    --------
    >>> import journeylab as jl
    >>> print(jl.prose.interval_reading(0.13, 0.11, 0.15, what="the rise", digits=2))  # doctest: +NORMALIZE_WHITESPACE
    the rise is +0.13 (95 % interval +0.11 to +0.15): the interval leaves out no difference, so the data show
    an effect, of somewhere between +0.11 and +0.15
    """
    if any(v is None or not math.isfinite(float(v)) for v in (estimate, low, high)):
        return f"{what} cannot be estimated from these data"
    lv = f"{100 * level:.0f} %"
    est, lo, hi = (signed(v, digits) + unit for v in (estimate, low, high))
    if low <= null <= high:
        if high - low == 0:
            return f"{what} is {est}, with an interval of zero width: too few cases to estimate its uncertainty"
        far = signed(high if abs(high - null) >= abs(low - null) else low, digits) + unit
        return (f"{what} is {est}, but its {lv} interval runs from {signed(low, digits)} to {hi}: it includes "
                f"no difference, so these data do not show {what} — nor do they rule it out, since effects as "
                f"large as {far} are as compatible with them")
    return (f"{what} is {est} ({lv} interval {signed(low, digits)} to {hi}): the interval leaves out no difference, "
            f"so the data show an effect, of somewhere between {signed(low, digits)} and {hi}")


def correlation_strength(r) -> str:
    """Cohen's (1988) words for the size of a correlation: negligible (|r| < .1), small (< .3),
    moderate (< .5), large.

    Examples
    --------
    >>> import journeylab as jl
    >>> [jl.prose.correlation_strength(r) for r in (0.05, -0.27, 0.3, 0.62)]
    ['negligible', 'small', 'moderate', 'large']
    """
    if r is None or not math.isfinite(float(r)):
        return "not estimable"
    a = abs(float(r))
    return "negligible" if a < 0.1 else "small" if a < 0.3 else "moderate" if a < 0.5 else "large"


def _names(items: Iterable[str]) -> str:
    items = [f"`{i}`" for i in items]
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def drivers_reading(drivers: pd.DataFrame, *, alpha: float = 0.05, theme: str = "theme", coef: str = "coef",
                    p_adj: str = "p_adj", outcome: str = "NPS") -> str:
    """Which key drivers hold after the multiple-testing correction, from a ``jl.key_drivers`` table.

    Only themes with ``p_adj < alpha`` are said to go with a higher or lower outcome; the others
    are said to be indistinguishable from no association — not to have none.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> d = pd.DataFrame({"theme": ["a", "b", "c"], "coef": [-30, 12, -5], "p_adj": [0.001, 0.02, 0.7]})
    >>> print(jl.prose.drivers_reading(d))  # doctest: +NORMALIZE_WHITESPACE
    after correcting for 3 tests, `a` goes with a lower NPS and `b` with a higher one; for the other 1 theme
    the data cannot tell an association from none (which is not evidence that there is none)
    """
    for col in (theme, coef, p_adj):
        if col not in drivers.columns:
            raise JourneylabError(f"drivers_reading(): the drivers table has no column {col!r} "
                                  f"(expected the output of jl.key_drivers)")
    d = drivers.dropna(subset=[p_adj])
    held = d[d[p_adj] < alpha]
    low = held.loc[held[coef] < 0, theme].tolist()
    high = held.loc[held[coef] > 0, theme].tolist()
    rest = len(d) - len(held)
    parts = []
    if low:
        parts.append(f"{_names(low)} {'goes' if len(low) == 1 else 'go'} with a lower {outcome}")
    if high:
        parts.append(f"{_names(high)} with a higher one" if low else
                     f"{_names(high)} {'goes' if len(high) == 1 else 'go'} with a higher {outcome}")
    head = f"after correcting for {len(d)} tests, "
    if not parts:
        return (head + f"no theme is distinguishable from no association with {outcome} — which is not evidence "
                       "that there is none")
    text = head + " and ".join(parts)
    if rest:
        text += (f"; for the other {rest} theme{'s' if rest != 1 else ''} the data cannot tell an association "
                 "from none (which is not evidence that there is none)")
    return text


def kappa_interval_reading(table: pd.DataFrame, *, code: str = "code", n_positive: str = "n_positive",
                           ci_low: str = "ci_low", ci_high: str = "ci_high", overall: str = "(all codes)") -> str:
    """What the per-code kappa intervals of a ``jl.agreement`` table allow one to say.

    Codes whose bootstrap interval has zero width are not measured with certainty: with two or
    three positive turns most resamples give the same kappa, or none. The sentence names them.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> t = pd.DataFrame({"code": ["a", "b"], "n_positive": [2, 30], "ci_low": [1.0, 0.4], "ci_high": [1.0, 0.8]})
    >>> print(jl.prose.kappa_interval_reading(t))  # doctest: +NORMALIZE_WHITESPACE
    the widest per-code interval spans 0.40 (from 0.40 to 0.80); 1 code (`a`, 2 positive turns) has an
    interval of zero width, which does not mean its kappa is certain: with so few positive turns the bootstrap
    cannot estimate it
    """
    per = table[table[code] != overall].dropna(subset=[ci_low, ci_high])
    if per.empty:
        return "no code has a bootstrap interval"
    width = per[ci_high] - per[ci_low]
    widest = per.loc[width.idxmax()]
    text = (f"the widest per-code interval spans {width.max():.2f} (from {widest[ci_low]:.2f} to "
            f"{widest[ci_high]:.2f})")
    zero = per[width <= 1e-9]
    if len(zero):
        lo, hi = int(zero[n_positive].min()), int(zero[n_positive].max())
        turns = f"{lo}" if lo == hi else f"{lo}–{hi}"
        text += (f"; {len(zero)} code{'s' if len(zero) != 1 else ''} ({_names(zero[code].head(6))}"
                 f"{', …' if len(zero) > 6 else ''}, {turns} positive turns) "
                 f"{'has' if len(zero) == 1 else 'have'} an interval of zero width, which does not mean "
                 f"{'its' if len(zero) == 1 else 'their'} kappa is certain: with so few positive turns the "
                 "bootstrap cannot estimate it")
    return text


def study_sentences(study) -> list[str]:
    """What a loaded study holds, one sentence per part, counted from its files.

    Examples
    --------
    >>> import journeylab as jl
    >>> s = jl.prose.study_sentences(jl.load_study(jl.datasets.sample_study_path()))
    >>> s[0].startswith("the study has")
    True
    """

    check_study(study, func="study_sentences")
    out = []
    n_personas = len(study.personas or [])
    out.append(f"the study has {len(study.participants):,} interviews"
               + (f" across {n_personas} personas" if n_personas > 1 else ""))
    ev = study.events
    if ev is not None and len(ev):
        t = pd.to_datetime(ev["timestamp"])
        days = (t.max() - t.min()).days + 1
        out.append(f"its event log holds {len(ev):,} events from {ev['user_id'].nunique():,} users over "
                   f"{days / 7:.0f} weeks ({t.min():%d %B} to {t.max():%d %B %Y})")
    if study.survey is not None and len(study.survey):
        out.append(f"its survey has {len(study.survey):,} answers")
    ch = study.changes
    if ch is not None and len(ch):
        row = ch.iloc[0]
        name = row["name"] if "name" in ch.columns and pd.notna(row.get("name")) else "a product change"
        has_tp = "touchpoint" in ch.columns and pd.notna(row.get("touchpoint"))
        where = f" (touchpoint `{row['touchpoint']}`)" if has_tp else ""
        out.append(f"it records one change to test: {name}{where}, on {pd.Timestamp(row['date']):%d %B %Y}")
    return [s + "." for s in out]
