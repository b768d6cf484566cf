"""Tests of journeylab.measure.survey: NPS with its trinomial-variance interval (checked by hand and against
a seeded simulation), CSAT top-box share (Wilson, vs statsmodels) and mean (t, vs statsmodels),
blanks counted, out-of-range answers reported by column and row.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from journeylab.errors import JourneylabError
from journeylab.measure.survey import csat, nps


def test_nps_by_hand():
    # 5 promoters (9-10), 3 passives (7-8), 2 detractors (0-6), 2 blanks
    s = pd.DataFrame({"respondent_id": [f"R{i}" for i in range(12)],
                      "nps": [10, 9, 9, 10, 9, 8, 7, 7, 3, 6, None, np.nan]})
    r = nps(s).iloc[0]
    assert (r["n"], r["n_blank"]) == (10, 2)
    assert (r["promoters"], r["passives"], r["detractors"]) == pytest.approx((0.5, 0.3, 0.2))
    assert r["nps"] == pytest.approx(30.0)
    # adjusted-Wald (Rocks 2016): pP~ = 5.75/13, pD~ = 2.75/13, d~ = 3/13 = 0.230769;
    # Var = (pP~ + pD~ - d~^2) / 13 = (8.5/13 - (3/13)^2) / 13 -> se = 21.494 points
    d = 3 / 13
    se = math.sqrt((8.5 / 13 - d ** 2) / 13)
    assert r["nps_adjusted"] == pytest.approx(100 * d)
    assert r["se"] == pytest.approx(100 * se) and r["se"] == pytest.approx(21.494, abs=1e-3)
    assert r["ci_low"] == pytest.approx(100 * (d - 1.959964 * se), abs=1e-3)
    assert r["ci_high"] == pytest.approx(100 * (d + 1.959964 * se), abs=1e-3)
    assert r["method"].startswith("adjusted-Wald (Rocks 2016)")


def test_nps_interval_is_clipped_and_edge_cases():
    all_promoters = nps(pd.DataFrame({"nps": [10, 9, 10]})).iloc[0]
    # three promoters: no longer the degenerate [100, 100] of a plain Wald interval (adjusted-Wald, Rocks 2016)
    assert all_promoters["nps"] == 100 and all_promoters["se"] > 0 and all_promoters["ci_high"] == 100
    assert all_promoters["ci_low"] < 0
    small = nps(pd.DataFrame({"nps": [10, 10, 0]})).iloc[0]       # 33.3 ± large -> clipped at ±100
    assert small["ci_low"] >= -100 and small["ci_high"] <= 100
    empty = nps(pd.DataFrame({"nps": [None, None]}, dtype=float)).iloc[0]
    assert empty["n"] == 0 and empty["n_blank"] == 2 and np.isnan(empty["nps"])


def test_nps_variance_matches_a_seeded_simulation():
    """The trinomial standard error matches the spread of NPS over 4,000 simulated surveys of 150,
    and the 95% interval covers the true NPS about 95% of the time."""
    rng = np.random.default_rng(20260831)
    p = np.array([0.42, 0.33, 0.25])          # promoters, passives, detractors; true NPS = 17
    n, reps = 150, 4000
    counts = rng.multinomial(n, p, size=reps)
    scores = np.concatenate([np.repeat([10, 8, 3], c) for c in counts])
    survey = pd.DataFrame({"rep": np.repeat(np.arange(reps), n), "nps": scores})
    res = nps(survey, by="rep")
    true_se = 100 * math.sqrt((p[0] + p[2] - (p[0] - p[2]) ** 2) / n)
    assert res["nps"].std(ddof=1) == pytest.approx(true_se, rel=0.04)
    assert res["se"].mean() == pytest.approx(true_se, rel=0.02)
    coverage = ((res["ci_low"] <= 17) & (17 <= res["ci_high"])).mean()
    assert 0.935 <= coverage <= 0.965


def test_nps_by_group_and_blank_strings():
    s = pd.DataFrame({"nps": ["10", " ", "3", "9", "", "7"], "device": ["m", "m", "m", "d", "d", None]})
    r = nps(s, by="device")
    assert r["device"].tolist()[:2] == ["d", "m"] and r["device"].isna().sum() == 1
    m = r.set_index("device").loc["m"]
    assert (m["n"], m["n_blank"], m["nps"]) == (2, 1, 0.0)


@pytest.mark.parametrize("bad", [11, -1, 7.5, "ten"])
def test_nps_out_of_range_names_column_and_row(bad):
    s = pd.DataFrame({"respondent_id": ["R1", "R2", "R3"], "nps": [9, bad, 3]})
    with pytest.raises(JourneylabError, match=r"column 'nps', row 1 \(index 1, respondent_id 'R2'\).*0 to 10"):
        nps(s)


def test_nps_missing_column_and_bad_alpha():
    with pytest.raises(JourneylabError, match=r"missing column\(s\) 'nps'.*score="):
        nps(pd.DataFrame({"recommend": [1]}))
    assert nps(pd.DataFrame({"recommend": [10]}), score="recommend")["nps"].iloc[0] == 100
    with pytest.raises(JourneylabError, match="alpha"):
        nps(pd.DataFrame({"nps": [1]}), alpha=1.5)


def test_csat_top_box_and_mean_against_statsmodels():
    from statsmodels.stats.proportion import proportion_confint
    from statsmodels.stats.weightstats import DescrStatsW

    vals = [5, 4, 4, 2, 3, 5, 1, 4, None, 5]
    s = pd.DataFrame({"csat_delivery": vals, "csat_payment": [3, 5, 5, 4, 1, 2, 2, None, None, 4]})
    r = csat(s).set_index("touchpoint")
    d = r.loc["delivery"]
    x = np.array([v for v in vals if v is not None], dtype=float)
    assert (d["n"], d["n_blank"], d["column"], d["top_box"]) == (9, 1, "csat_delivery", "4–5")
    assert d["top_box_share"] == pytest.approx(6 / 9)
    lo, hi = proportion_confint(6, 9, method="wilson")
    assert (d["top_box_ci_low"], d["top_box_ci_high"]) == pytest.approx((lo, hi))
    ds = DescrStatsW(x)
    assert d["mean"] == pytest.approx(x.mean())
    # the mean's interval: t(n-1) around the mean of the answers plus 1/4 answer at each end of the scale,
    # i.e. statsmodels' weighted DescrStatsW of x, 1 and 5 with weights 1, ..., 1, 1/4, 1/4
    from scipy import stats

    dw = DescrStatsW(np.r_[x, 1, 5], weights=np.r_[np.ones(len(x)), 0.25, 0.25])
    half = stats.t.ppf(0.975, len(x) - 1) * dw.std_mean
    assert (d["mean_ci_low"], d["mean_ci_high"]) == pytest.approx((dw.mean - half, dw.mean + half))
    plain = ds.tconfint_mean(alpha=0.05)                       # a little wider than the plain t interval
    assert d["mean_ci_low"] < plain[0]
    assert d["sd"] == pytest.approx(x.std(ddof=1))
    assert r.loc["payment", "n_blank"] == 2


def test_csat_columns_mapping_scale_top_box_and_groups():
    s = pd.DataFrame({"q_ship": [1, 2, 3, 4, 5, 6, 7], "seg": list("aabbbab")})
    r = csat(s, columns={"q_ship": "shipping_form"}, scale=(1, 7), top_box=3)
    assert r.loc[0, "touchpoint"] == "shipping_form" and r.loc[0, "top_box"] == "5–7"
    assert r.loc[0, "top_box_share"] == pytest.approx(3 / 7)
    g = csat(s, columns=["q_ship"], scale=(1, 7), by="seg")
    assert g["seg"].tolist() == ["a", "b"] and g["n"].tolist() == [3, 4]
    one = csat(pd.DataFrame({"csat_x": [4, None]}))
    assert one.loc[0, "n"] == 1 and np.isnan(one.loc[0, "mean_ci_low"])      # one answer: no interval


def test_csat_errors_name_column_and_row():
    s = pd.DataFrame({"respondent_id": ["R1", "R2"], "csat_delivery": [5, 6]})
    with pytest.raises(JourneylabError, match=r"column 'csat_delivery', row 1 \(index 1, respondent_id 'R2'\)"):
        csat(s)
    with pytest.raises(JourneylabError, match="starts with 'csat_'"):
        csat(pd.DataFrame({"score": [1]}))
    with pytest.raises(JourneylabError, match="missing column"):
        csat(s, columns=["csat_payment"])
    with pytest.raises(JourneylabError, match="top_box"):
        csat(s.assign(csat_delivery=[5, 4]), top_box=5)
    with pytest.raises(JourneylabError, match="scale"):
        csat(s, scale=(5, 1))


def test_sample_study_survey(sample_study):

    study = sample_study
    r = nps(study.survey, score=study.nps_column)
    assert r.loc[0, "n"] + r.loc[0, "n_blank"] == len(study.survey)
    assert 5 < r.loc[0, "nps"] < 30
    c = csat(study.survey, columns=study.csat_columns, scale=study.csat_scale).set_index("touchpoint")
    # the story: the shipping form is the weakest purchase touchpoint, delivery is a strength
    assert c.loc["shipping_form", "mean"] < c.loc["payment", "mean"] < c.loc["delivery", "mean"]
    assert c.loc["support", "n_blank"] > c.loc["support", "n"]   # only those who contacted support answer
    s = study.survey.assign(period=np.where(study.survey["submitted_at"] < "2026-08-31", "before", "after"))
    by = csat(s, columns={"csat_shipping_form": "shipping_form"}, by="period").set_index("period")
    assert by.loc["after", "mean"] - by.loc["before", "mean"] > 0.5
    assert by.loc["after", "mean_ci_low"] > by.loc["before", "mean_ci_high"]
