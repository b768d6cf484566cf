"""Tests of journeylab.measure.experiments: before/after and A/B comparisons of a step's conversion.

Known answers: simulated logs with a known lift (the interval must cover it), statsmodels called
directly, Cohen's (1988) power table, the Fleiss (1981) sample-size formula, and the sample
study's shipping-form change of 31 August 2026.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from journeylab.errors import JourneylabError
from journeylab.measure.experiments import (
    ab_test,
    compare_periods,
    compare_rates,
    minimum_detectable_effect,
    sample_size,
)

START = pd.Timestamp("2026-08-03")      # a Monday
CHANGE = pd.Timestamp("2026-08-31")     # a Monday, four weeks later


def simulated_log(rate_before, rate_after, *, users_per_day=150, days=56, seed=1, mobile_share=None,
                  weekend_rate=None, trend=0.0):
    """checkout_start, and shipping_submitted 2 minutes later with the period's rate."""
    rng = np.random.default_rng(seed)
    rows = []
    uid = 0
    for d in range(days):
        day = START + pd.Timedelta(days=d)
        n = users_per_day
        rate = rate_before if day < CHANGE else rate_after
        rate += trend * d
        if weekend_rate is not None and day.day_of_week >= 5:
            rate = weekend_rate
        share = mobile_share(d) if mobile_share else 0.6
        for _ in range(n):
            uid += 1
            t = day + pd.Timedelta(seconds=int(rng.integers(0, 86400)))
            dev = "mobile" if rng.random() < share else "desktop"
            rows.append((f"u{uid}", t, "checkout_start", dev))
            if rng.random() < rate:
                rows.append((f"u{uid}", t + pd.Timedelta(minutes=2), "shipping_submitted", dev))
    return pd.DataFrame(rows, columns=["user_id", "timestamp", "event", "device"])


STEPS = ["checkout_start", "shipping_submitted"]


# ----------------------------------------------------------------------------- from counts


def test_compare_rates_matches_statsmodels():
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    r = compare_rates(conversions_control=560, n_control=1000, conversions_treatment=720, n_treatment=1000).iloc[0]
    assert (r["rate_control"], r["rate_treatment"], r["difference"]) == pytest.approx((0.56, 0.72, 0.16))
    lo, hi = confint_proportions_2indep(720, 1000, 560, 1000, compare="diff", method="newcomb")
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi))
    rlo, rhi = confint_proportions_2indep(720, 1000, 560, 1000, compare="ratio", method="log-adjusted")
    assert (r["relative_ci_low"], r["relative_ci_high"]) == pytest.approx((rlo - 1, rhi - 1))
    assert r["relative_difference"] == pytest.approx(0.72 / 0.56 - 1)
    assert r["p_value"] == pytest.approx(test_proportions_2indep(720, 1000, 560, 1000, method="score").pvalue)
    # the textbook Wald interval is close for n this large: 0.16 ± 1.96·sqrt(.56·.44/1000 + .72·.28/1000)
    half = norm.ppf(0.975) * math.sqrt(0.56 * 0.44 / 1000 + 0.72 * 0.28 / 1000)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((0.16 - half, 0.16 + half), abs=2e-3)


def test_newcombe_interval_by_hand():
    # Newcombe (1998) method 10: Wilson limits of each rate combined. 56/70 vs 48/80 (his example 1
    # is 56/70 - 48/80 = 0.2, interval 0.0524 to 0.3339)
    r = compare_rates(conversions_control=48, n_control=80, conversions_treatment=56, n_treatment=70).iloc[0]
    assert r["difference"] == pytest.approx(0.2)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def test_compare_rates_interval_coverage_by_simulation():
    rng = np.random.default_rng(5)
    p0, p1, n = 0.3, 0.38, 400
    hits = 0
    reps = 300
    for _ in range(reps):
        c0, c1 = rng.binomial(n, p0), rng.binomial(n, p1)
        r = compare_rates(conversions_control=int(c0), n_control=n, conversions_treatment=int(c1), n_treatment=n).iloc[0]
        hits += r["ci_low"] <= p1 - p0 <= r["ci_high"]
    assert 0.91 <= hits / reps <= 0.99


def test_target_lift_verdicts_and_power_warning():
    r = compare_rates(conversions_control=560, n_control=1000, conversions_treatment=720, n_treatment=1000, target_lift=0.25).iloc[0]     # observed +28.6 %, interval ~ +19..+39 %
    assert r["target_verdict"].startswith("not established")
    assert compare_rates(conversions_control=560, n_control=1000, conversions_treatment=720, n_treatment=1000, target_lift=0.10).iloc[0]["target_verdict"].startswith("supported")
    assert compare_rates(conversions_control=560, n_control=1000, conversions_treatment=720, n_treatment=1000, target_lift=0.60).iloc[0]["target_verdict"].startswith("not supported")
    small = compare_rates(conversions_control=10, n_control=40, conversions_treatment=13, n_treatment=40, target_lift=0.25).iloc[0]
    assert small["p_value"] > 0.05
    assert "absence of evidence" in small["warnings"] and "underpowered" in small["warnings"]
    assert small["n_needed"] > 40
    with pytest.raises(JourneylabError, match="conversions <= n"):
        compare_rates(conversions_control=50, n_control=40, conversions_treatment=1, n_treatment=40)


def test_sample_size_against_cohen_and_fleiss():
    # Cohen (1988) Table 6.4.1: h = 0.20, two-sided alpha .05, power .80 -> n = 392 per group
    p1 = 0.5
    p2 = math.sin(math.asin(math.sqrt(p1)) + 0.10) ** 2          # h = 2·0.10 = 0.20 exactly
    assert sample_size(p1, lift=p2 - p1, relative=False) in (392, 393)
    # Fleiss (1981) formula without continuity correction, 10 % -> 12 %: within 1 %
    a, b = norm.ppf(0.975), norm.ppf(0.8)
    p1, p2 = 0.10, 0.12
    pbar = (p1 + p2) / 2
    fleiss = (a * math.sqrt(2 * pbar * (1 - pbar)) + b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p2 - p1) ** 2
    assert sample_size(0.10, lift=0.20) == pytest.approx(fleiss, rel=0.01)
    # MDE is the inverse: with the n that a +20 % lift needs, the MDE is +20 %
    n = sample_size(0.10, lift=0.20)
    assert minimum_detectable_effect(0.10, n_control=n) == pytest.approx(0.02, rel=0.01)
    assert minimum_detectable_effect(0.10, n_control=4 * n) < minimum_detectable_effect(0.10, n_control=n)
    with pytest.raises(JourneylabError, match="between 0 and 1"):
        sample_size(0.9, lift=0.5)
    with pytest.raises(JourneylabError, match="baseline"):
        sample_size(1.5, lift=0.1)


# ----------------------------------------------------------------------------- before / after


def test_compare_periods_recovers_a_known_lift():
    df = simulated_log(0.50, 0.60, users_per_day=120)
    r = compare_periods(df, steps=STEPS, change_date=CHANGE, window="1D").iloc[0]
    # log: 3 Aug - 27 Sep; window 1 day. Before: entries up to 30 Aug 00:00 (straddlers left out) -> 3 whole
    # weeks (9-30 Aug); after: entries until 26 Sep 23:59 -> 3 whole weeks (31 Aug - 21 Sep)
    assert r["weeks"] == 3
    assert r["before_start"] == pd.Timestamp("2026-08-09") and r["before_end"] == pd.Timestamp("2026-08-30")
    assert r["after_start"] == CHANGE and r["after_end"] == pd.Timestamp("2026-09-21")
    assert r["n_control"] == r["n_treatment"] == 21 * 120
    assert r["ci_low"] < 0.10 < r["ci_high"]
    assert r["relative_ci_low"] < 0.20 < r["relative_ci_high"]
    assert r["p_value"] < 1e-6
    assert "same weekdays" in r["design"] and "not a randomised" in r["warnings"]
    assert r["excluded_straddling"] == 120            # the day before the change
    assert r["mde"] < r["difference"]


def test_compare_periods_without_a_change_finds_none():
    df = simulated_log(0.55, 0.55, users_per_day=80, seed=3)
    r = compare_periods(df, steps=STEPS, change_date=CHANGE, window="1D").iloc[0]
    assert r["ci_low"] < 0 < r["ci_high"] and r["p_value"] > 0.05
    assert "absence of evidence" in r["warnings"]


def test_same_weekdays_protects_against_a_weekend_effect():
    # weekends convert at 20 %, weekdays at 60 %, no change at all. All data: the before side loses the
    # weekend before the change (left out as straddling with a 2-day window) and the after side ends mid-week
    df = simulated_log(0.6, 0.6, users_per_day=100, weekend_rate=0.2, seed=4)
    fair = compare_periods(df, steps=STEPS, change_date=CHANGE, window="2D").iloc[0]
    assert fair["ci_low"] < 0 < fair["ci_high"]
    unfair = compare_periods(df, steps=STEPS, change_date=CHANGE, window="2D", same_weekdays=False).iloc[0]
    assert "different weekdays" in unfair["warnings"]
    assert unfair["design"].startswith("all data")


def test_compare_periods_warns_about_trends_and_mix_shifts():
    trending = simulated_log(0.40, 0.40, users_per_day=150, trend=0.006, seed=6)
    r = compare_periods(trending, steps=STEPS, change_date=CHANGE, window="1D").iloc[0]
    assert "already moving before the change" in r["warnings"]
    shifting = simulated_log(0.5, 0.5, users_per_day=60, seed=7, mobile_share=lambda d: 0.4 if d < 28 else 0.7)
    r = compare_periods(shifting, steps=STEPS, change_date=CHANGE, window="1D").iloc[0]
    assert "device mix shifted between before and after (" in r["warnings"]
    before_pct, after_pct = map(int, re.search(r"mobile: (\d+)% → (\d+)%", r["warnings"]).groups())
    assert abs(before_pct - 40) <= 3 and abs(after_pct - 70) <= 3
    by = compare_periods(shifting, steps=STEPS, change_date=CHANGE, window="1D", by="device")
    assert by["device"].tolist() == ["desktop", "mobile"]
    assert by["n_control"].sum() == r["n_control"]


def test_compare_periods_bad_input():
    df = simulated_log(0.5, 0.6, users_per_day=5, days=14)
    with pytest.raises(JourneylabError, match="outside the log"):
        compare_periods(df, steps=STEPS, change_date="2027-01-01")
    with pytest.raises(JourneylabError, match="whole week"):
        compare_periods(df, steps=STEPS, change_date="2026-08-10")      # one week before, window 7D
    with pytest.raises(JourneylabError, match="step after the first"):
        compare_periods(df, steps=STEPS, change_date="2026-08-10", step=1)
    with pytest.raises(JourneylabError, match="not one of the steps"):
        compare_periods(df, steps=STEPS, change_date="2026-08-10", step="payment")
    with pytest.raises(JourneylabError, match="change_date"):
        compare_periods(df, steps=STEPS, change_date="next tuesday")


# ----------------------------------------------------------------------------- A/B


def ab_log(rates: dict, n_per: dict, seed=2):
    rng = np.random.default_rng(seed)
    rows = []
    uid = 0
    for v, rate in rates.items():
        for _ in range(n_per[v]):
            uid += 1
            t = START + pd.Timedelta(seconds=int(rng.integers(0, 14 * 86400)))
            rows.append((uid, t, "checkout_start", v))
            if rng.random() < rate:
                rows.append((uid, t + pd.Timedelta(minutes=3), "shipping_submitted", v))
    return pd.DataFrame(rows, columns=["user_id", "timestamp", "event", "variant"])


def test_ab_test_known_lift_peeking_and_planned_n():
    df = ab_log({"control": 0.5, "new_form": 0.6}, {"control": 3000, "new_form": 3000})
    r = ab_test(df, steps=STEPS).iloc[0]
    assert (r["control"], r["treatment"]) == ("control", "new_form")
    assert r["ci_low"] < 0.10 < r["ci_high"] and r["p_value"] < 1e-6
    assert "peeking" in r["warnings"] and r["srm_p_value"] > 0.001
    assert r["correction"] == "none (one comparison)" and r["p_adj"] == r["p_value"]
    done = ab_test(df, steps=STEPS, planned_n=2500).iloc[0]
    assert "peeking" not in done["warnings"]
    early = ab_test(df, steps=STEPS, planned_n=5000).iloc[0]
    assert "before the planned 5,000" in early["warnings"]


def test_ab_test_sample_ratio_mismatch_and_several_treatments():
    from statsmodels.stats.multitest import multipletests

    df = ab_log({"a": 0.3, "b": 0.3, "c": 0.36}, {"a": 1000, "b": 1300, "c": 1000})
    r = ab_test(df, steps=STEPS, variant="variant", control="a")
    assert r["treatment"].tolist() == ["b", "c"]
    assert "sample ratio mismatch" in r.loc[0, "warnings"]
    assert r["p_adj"].tolist() == pytest.approx(multipletests(r["p_value"], method="holm")[1].tolist())
    ok = ab_test(df, steps=STEPS, control="a", expected_split={"a": 10, "b": 13, "c": 10})
    assert "sample ratio mismatch" not in ok.loc[0, "warnings"]
    with pytest.raises(JourneylabError, match="not a value"):
        ab_test(df, steps=STEPS, control="z")
    with pytest.raises(JourneylabError, match="variant="):
        ab_test(df.drop(columns="variant"), steps=STEPS)
    with pytest.raises(JourneylabError, match="need at least two"):
        ab_test(df.assign(variant="a"), steps=STEPS)


# ----------------------------------------------------------------------------- the sample study


def test_sample_study_checkout_change(sample_study):
    """The shipping form was simplified on 31 Aug 2026: the shipping step rises from ~58 % to ~72 %."""

    study = sample_study
    change = study.changes["date"].iloc[0]
    r = compare_periods(study.events, steps=["checkout_start", "shipping_submitted"], change_date=change,
                        target_lift=0.25).iloc[0]
    assert 0.53 < r["rate_control"] < 0.62 and 0.68 < r["rate_treatment"] < 0.76
    assert r["p_value"] < 1e-6 and r["ci_low"] > 0.05
    by = compare_periods(study.events, steps=["checkout_start", "shipping_submitted"], change_date=change,
                         by="device").set_index("device")
    assert by.loc["mobile", "difference"] > 0.08 and by.loc["mobile", "p_value"] < 0.001
    # the rest of the funnel did not change much: payment after shipping
    other = compare_periods(study.events, steps=["shipping_submitted", "payment_submitted"], change_date=change).iloc[0]
    assert abs(other["difference"]) < 0.06
