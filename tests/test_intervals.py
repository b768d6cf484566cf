"""Coverage of the intervals the map shows, by seeded simulation (issue 19, item 2).

For each interval and n = 10, 15, 30, 100 we draw many samples from known populations and count
how often the nominal 95% interval holds the true value; the test requires at least 93%. The plain
Wald NPS interval that nps() used before fails this (about 87% at n = 10 in the same kind of
simulation), so the test can fail. The populations are the realistic middle of each statistic's
range (NPS from -40 to +60, shares from 0.2 to 0.8, a lopsided and a flat 1-5 CSAT distribution):
every interval of this kind loses coverage for shares within a few counts of 0 or 1, which no test
at n = 10 can repair and no one should claim.

Each case is vectorised (one frame of reps x n answers), seeded with numpy's default_rng, and
bounded: 2,000 reps per case, so the Monte Carlo standard error of a 95% coverage is 0.5 points.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from journeylab.coding.reliability import agreement
from journeylab.measure.survey import csat, nps
from journeylab.utils.intervals import wilson_interval

NS = [10, 15, 30, 100]
REPS = 2000
MIN_COVERAGE = 0.93

# promoters, passives, detractors
NPS_POPULATIONS = [(0.70, 0.20, 0.10), (0.40, 0.35, 0.25), (0.20, 0.40, 0.40), (0.33, 0.34, 0.33)]


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("p", NPS_POPULATIONS)
def test_nps_adjusted_wald_covers(n, p):
    rng = np.random.default_rng(19_000 + n)
    counts = rng.multinomial(n, p, size=REPS)
    scores = np.concatenate([np.repeat([10, 8, 3], c) for c in counts])
    res = nps(pd.DataFrame({"rep": np.repeat(np.arange(REPS), n), "nps": scores}), by="rep")
    true = 100 * (p[0] - p[2])
    coverage = ((res["ci_low"] <= true) & (true <= res["ci_high"])).mean()
    assert coverage >= MIN_COVERAGE, f"NPS coverage {coverage:.3f} at n={n}, p={p}"
    assert (res["ci_low"] >= -100).all() and (res["ci_high"] <= 100).all()


def test_plain_t_interval_undercovers_a_lopsided_scale():
    """Why csat() adjusts the mean's interval: the plain t interval covers under 93% at n = 10 on a lopsided scale."""
    from scipy import stats

    p = np.array(CSAT_POPULATIONS["lopsided"])
    x = np.random.default_rng(11).choice(np.arange(1, 6), size=(20_000, 10), p=p)
    m, sd = x.mean(1), x.std(1, ddof=1)
    half = stats.t.ppf(0.975, 9) * sd / np.sqrt(10)
    mu = float(np.dot(np.arange(1, 6), p))
    assert np.mean((m - half <= mu) & (mu <= m + half)) < 0.92


def test_plain_wald_nps_would_fail_the_same_test():
    """The check has teeth: the unadjusted Wald interval (the old method) covers well under 93% at n = 10."""
    rng = np.random.default_rng(7)
    p, n = (0.70, 0.20, 0.10), 10
    c = rng.multinomial(n, p, size=20_000)
    pP, pD = c[:, 0] / n, c[:, 2] / n
    d = pP - pD
    se = np.sqrt(np.maximum(pP + pD - d ** 2, 0) / n)
    true = p[0] - p[2]
    coverage = np.mean((d - 1.96 * se <= true) & (true <= d + 1.96 * se))
    assert coverage < 0.90


def test_nps_adjusted_wald_by_hand():
    # 10, 10, 9: three promoters. n~ = 6, pP~ = 3.75/6 = .625, pD~ = .75/6 = .125, d~ = .5,
    # se~ = sqrt((.625 + .125 - .25)/6) = .288675; 100 * (.5 ± 1.959964 * .288675) = [-6.58, 106.58] -> [-6.58, 100]
    r = nps(pd.DataFrame({"nps": [10, 10, 9]})).iloc[0]
    assert r["nps"] == 100 and r["nps_adjusted"] == pytest.approx(50)
    assert r["ci_low"] == pytest.approx(50 - 196.0 * 0.288675, abs=0.01) and r["ci_high"] == 100
    assert r["method"].startswith("adjusted-Wald (Rocks 2016)")


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("p", [0.2, 0.35, 0.5, 0.65, 0.8])
def test_wilson_covers(n, p):
    rng = np.random.default_rng(29_000 + n)
    k = rng.binomial(n, p, size=REPS)
    lo, hi = wilson_interval(k, np.full(REPS, n))
    coverage = np.mean((lo <= p) & (p <= hi))
    assert coverage >= MIN_COVERAGE, f"Wilson coverage {coverage:.3f} at n={n}, p={p}"


def test_wilson_helper_matches_statsmodels():
    k, n = np.array([0, 3, 7, 10, 55]), np.array([10, 10, 10, 10, 100])
    lo, hi = wilson_interval(k, n)
    slo, shi = proportion_confint(k, n, method="wilson")
    np.testing.assert_allclose(lo, slo, atol=1e-12)
    np.testing.assert_allclose(hi, shi, atol=1e-12)


CSAT_POPULATIONS = {
    "lopsided": [0.05, 0.05, 0.10, 0.35, 0.45],
    "flat": [0.15, 0.20, 0.30, 0.20, 0.15],
}


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("name", sorted(CSAT_POPULATIONS))
def test_csat_mean_and_top_box_cover(n, name):
    p = np.array(CSAT_POPULATIONS[name])
    rng = np.random.default_rng(39_000 + n)
    answers = rng.choice(np.arange(1, 6), size=(REPS, n), p=p)
    survey = pd.DataFrame({"rep": np.repeat(np.arange(REPS), n), "csat_x": answers.ravel()})
    res = csat(survey, columns=["csat_x"], by="rep")
    true_mean = float(np.dot(np.arange(1, 6), p))
    true_top = float(p[3:].sum())
    ok = res["n"] == n
    mean_cov = ((res["mean_ci_low"] <= true_mean) & (true_mean <= res["mean_ci_high"]))[ok].mean()
    top_cov = ((res["top_box_ci_low"] <= true_top) & (true_top <= res["top_box_ci_high"]))[ok].mean()
    assert mean_cov >= MIN_COVERAGE, f"CSAT mean coverage {mean_cov:.3f} at n={n} ({name})"
    assert top_cov >= MIN_COVERAGE, f"CSAT top-box coverage {top_cov:.3f} at n={n} ({name})"
    assert (res["mean_ci_low"] >= 1).all() and (res["mean_ci_high"] <= 5).all()


def test_csat_mean_interval_clipped_to_the_scale_and_said_so():
    # 5, 5, 5, 4 plus 1/4 answer at 1 and 1/4 at 5 (n~ = 4.5): sum 20.5, mean~ 4.5556, sum of squares 97.5,
    # var~ = (97.5 - 4.5 * 4.5556^2) / 3.5 = 1.17460, t(3) = 3.182446 -> 4.5556 ± 3.182446 * sqrt(1.1746 / 4.5)
    # = [2.9296, 6.1815] -> the top cut at 5, and said so. The plain mean is still 4.75.
    r = csat(pd.DataFrame({"csat_x": [5, 5, 5, 4], "csat_y": [3, 3, 4, 2]})).set_index("column")
    assert r.loc["csat_x", "mean"] == 4.75
    assert r.loc["csat_x", "mean_ci_high"] == 5 and bool(r.loc["csat_x", "mean_ci_clipped"])
    assert r.loc["csat_x", "mean_ci_low"] == pytest.approx(41 / 9 - 3.182446 * np.sqrt((97.5 - 4.5 * (41 / 9) ** 2) / 3.5 / 4.5),
                                                           abs=1e-5)
    assert r.loc["csat_x", "mean_ci_low"] == pytest.approx(2.9296, abs=1e-4)
    assert not bool(r.loc["csat_y", "mean_ci_clipped"])


def test_percent_agreement_has_a_wilson_interval():
    # two coders, 10 turns, they agree on 8 of them for code "a": Wilson(8, 10) = [0.490, 0.943]
    segs = pd.DataFrame({"segment_id": [f"s{i}" for i in range(10)], "doc_id": "d1",
                         "speaker_role": "participant"})
    a = {"s0", "s1", "s2", "s3", "s4"}
    b = {"s0", "s1", "s2", "s3", "s5"}        # differs on s4 and s5: 8 of 10 agree
    rows = [{"doc_id": "d1", "segment_id": s, "code": "a", "coder": c}
            for c, ss in (("ann", a), ("bob", b)) for s in sorted(ss)]
    t = agreement(pd.DataFrame(rows), segments=segs, n_boot=0).set_index("code")
    assert t.loc["a", "percent_agreement"] == pytest.approx(0.8)
    lo, hi = proportion_confint(8, 10, method="wilson")
    assert (t.loc["a", "agreement_ci_low"], t.loc["a", "agreement_ci_high"]) == pytest.approx((lo, hi))
