"""Small interval helpers shared by several layers (private: not part of the public API)."""
from __future__ import annotations

import numpy as np

__all__ = ["wilson_interval", "net_share_interval", "NET_SHARE_ADJUST"]

#: Pseudo-counts of the adjusted-Wald interval of a net share (Rocks 2016): added to the "plus" and to
#: the "minus" counts, and their sum plus as much again for the rest to n (3/4 + 3/4 + 3/2 = 3).
NET_SHARE_ADJUST = 0.75


def wilson_interval(count, nobs, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``count / nobs``, vectorised; NaN where ``nobs`` is 0.

    ``count`` may be fractional (an effective count, share × nobs). Equals
    ``statsmodels.stats.proportion.proportion_confint(count, nobs, method="wilson")`` for whole
    counts (checked in tests/test_intervals.py).
    """
    from scipy.stats import norm  # lazy: scipy.stats adds ~1.3 s to `import journeylab` (measured)

    count = np.asarray(count, dtype=float)
    nobs = np.asarray(nobs, dtype=float)
    z = float(norm.ppf(0.5 + level / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = count / nobs
        denom = 1 + z ** 2 / nobs
        centre = (p + z ** 2 / (2 * nobs)) / denom
        half = z * np.sqrt(p * (1 - p) / nobs + z ** 2 / (4 * nobs ** 2)) / denom
        lo = np.where(nobs > 0, np.clip(centre - half, 0, 1), np.nan)
        hi = np.where(nobs > 0, np.clip(centre + half, 0, 1), np.nan)
    return lo, hi


def net_share_interval(plus, minus, nobs, level: float = 0.95):
    """Adjusted-Wald interval of ``(plus - minus) / nobs`` from one trinomial sample, vectorised.

    The difference of two shares of the same sample (promoters minus detractors; participants
    with a delight minus those with a pain point), each unit in at most one of ``plus`` and
    ``minus``. Rocks (2016): add 3/4 to each of the two counts and 3 to ``nobs``; the variance of
    the difference is the trinomial one, ``(p+ + p- - d**2) / (n + 3)``.

    Returns
    -------
    (adjusted, se, low, high) : arrays on the share scale (-1 to 1); ``low``/``high`` clipped to
    [-1, 1]; NaN where ``nobs`` is 0. ``adjusted`` is the interval's centre, not the estimate.

    Examples
    --------
    >>> adj, se, lo, hi = net_share_interval(3, 0, 3)
    >>> float(adj)
    0.5
    """
    from scipy.stats import norm  # lazy: scipy.stats adds ~1.3 s to `import journeylab` (measured)

    plus = np.asarray(plus, dtype=float)
    minus = np.asarray(minus, dtype=float)
    nobs = np.asarray(nobs, dtype=float)
    z = float(norm.ppf(0.5 + level / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        n_adj = nobs + 4 * NET_SHARE_ADJUST
        a_plus, a_minus = (plus + NET_SHARE_ADJUST) / n_adj, (minus + NET_SHARE_ADJUST) / n_adj
        adj = a_plus - a_minus
        se = np.where(nobs > 0, np.sqrt(np.maximum(a_plus + a_minus - adj ** 2, 0) / n_adj), np.nan)
        adj = np.where(nobs > 0, adj, np.nan)
        lo = np.clip(adj - z * se, -1, 1)
        hi = np.clip(adj + z * se, -1, 1)
    return adj, se, lo, hi
