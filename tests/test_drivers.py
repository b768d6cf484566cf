"""Tests of journeylab.measure.drivers: key-driver models recover known effects from simulated data,
match statsmodels fitted directly, correct p-values across themes, build theme indicators from
codings, and say "association, not causation"."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeylab.errors import JourneylabError
from journeylab.measure.drivers import ASSOCIATION_NOTE, KeyDrivers, key_drivers, plot_drivers


def simulated(n=3000, seed=11):
    """NPS 0-10 with known theme effects: form -2.0 points, cost -1.0, delivery 0, delight +1.5."""
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({
        "respondent_id": [f"R{i:05d}" for i in range(n)],
        "form": rng.random(n) < 0.2, "cost": rng.random(n) < 0.15,
        "delivery": rng.random(n) < 0.1, "delight": rng.random(n) < 0.25,
        "persona": rng.choice(["a", "b", "c"], n),
    })
    mu = 7.5 - 2.0 * d["form"] - 1.0 * d["cost"] + 1.5 * d["delight"] + (d["persona"] == "b") * 0.5
    d["score"] = np.clip(mu + rng.normal(0, 1.5, n), 0, 10)
    return d


THEMES = ["form", "cost", "delivery", "delight"]


def test_ols_recovers_known_effects_and_matches_statsmodels():
    import statsmodels.formula.api as smf
    from statsmodels.stats.multitest import multipletests

    d = simulated()
    kd = key_drivers(d, outcome="score", themes=THEMES, covariates=["persona"])
    assert isinstance(kd, KeyDrivers)
    r = kd.set_index("theme")
    truth = {"form": -2.0, "cost": -1.0, "delivery": 0.0, "delight": 1.5}
    for t, beta in truth.items():       # clipping at 0/10 shrinks effects a little; the CIs still cover
        assert abs(r.loc[t, "coef"] - beta) < 0.25
    assert r.loc["delivery", "ci_low"] < 0 < r.loc["delivery", "ci_high"]
    assert r.loc["form", "p_adj"] < 1e-10
    # the same model fitted directly (HC3 robust errors)
    m = d.assign(**{t: d[t].astype(int) for t in THEMES})
    fit = smf.ols("score ~ form + cost + delivery + delight + C(persona)", data=m).fit(cov_type="HC3")
    for t in THEMES:
        assert r.loc[t, "coef"] == pytest.approx(fit.params[t])
        assert r.loc[t, "p_value"] == pytest.approx(fit.pvalues[t], rel=1e-6, abs=1e-300)
        assert (r.loc[t, "ci_low"], r.loc[t, "ci_high"]) == pytest.approx(tuple(fit.conf_int().loc[t]))
    assert kd["p_adj"].tolist() == pytest.approx(multipletests(kd["p_value"], method="holm")[1].tolist())
    assert kd["coef"].is_monotonic_decreasing
    assert r.loc["form", "n"] == int(d["form"].sum())
    assert r.loc["form", "outcome_with"] == pytest.approx(d.loc[d["form"], "score"].mean())
    assert kd.attrs["n_model"] == len(d) and kd.attrs["kind"] == "ols"


def test_logit_of_detractor_status_recovers_odds_ratios():
    rng = np.random.default_rng(3)
    n = 6000
    form = rng.random(n) < 0.3
    delight = rng.random(n) < 0.3
    logit = -1.0 + np.log(3.0) * form + np.log(0.5) * delight          # odds ratios 3 and 0.5
    detractor = rng.random(n) < 1 / (1 + np.exp(-logit))
    nps = np.where(detractor, rng.integers(0, 7, n), rng.integers(7, 11, n))
    d = pd.DataFrame({"nps": nps, "form": form.astype(int), "delight": delight.astype(int)})
    kd = key_drivers(d, themes=["form", "delight"], kind="logit").set_index("theme")
    assert kd.loc["form", "or_ci_low"] < 3.0 < kd.loc["form", "or_ci_high"]
    assert kd.loc["delight", "or_ci_low"] < 0.5 < kd.loc["delight", "or_ci_high"]
    assert kd.loc["form", "odds_ratio"] == pytest.approx(np.exp(kd.loc["form", "coef"]))
    assert kd.loc["form", "outcome"] == "nps <= 6 (detractor)"
    assert kd.loc["form", "outcome_with"] == pytest.approx(detractor[form].mean())


def test_nps_transform_gives_nps_points():
    # with one theme and no covariates the coefficient is the difference in NPS between the groups:
    # with the theme: 1 promoter, 3 detractors of 4 -> NPS -50; without: 4 promoters, 1 passive, 1 detractor -> +50
    d = pd.DataFrame({"nps": [10, 2, 3, 1, 9, 10, 9, 9, 8, 5], "form": [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]})
    kd = key_drivers(d, themes=["form"], transform="nps", min_n=2)
    assert kd.loc[0, "coef"] == pytest.approx(-100.0)
    assert kd.loc[0, "outcome_with"] == pytest.approx(-50) and kd.loc[0, "outcome_without"] == pytest.approx(50)
    assert kd.attrs["outcome"] == "NPS points"
    with pytest.raises(JourneylabError, match="transform='nps'"):
        key_drivers(d, themes=["form"], transform="nps", kind="logit", min_n=2)


def test_themes_from_codings_and_rows_without_text():
    d = simulated(600)
    d["comment"] = np.where(np.arange(600) % 10 == 0, None, "some text")
    rows = [(rid, t) for t in THEMES for rid in d.loc[d[t], "respondent_id"]]
    rows += [("R00001", "rare_theme"), ("R00002", "rare_theme")]
    codings = pd.DataFrame(rows, columns=["segment_id", "code"]).assign(coder="rules", origin="rule")
    kd = key_drivers(d, outcome="score", codings=codings, text="comment")
    assert set(kd["theme"]) == set(THEMES)
    assert kd.attrs["dropped"] == ["rare_theme"]
    assert kd.attrs["n_model"] == 540 and kd.attrs["n_excluded"] == {"blank comment": 60}
    direct = key_drivers(d[d["comment"].notna()], outcome="score", themes=THEMES)
    pd.testing.assert_series_equal(kd.set_index("theme")["coef"].sort_index(),
                                   direct.set_index("theme")["coef"].sort_index())


def test_output_says_association_not_causation():
    kd = key_drivers(simulated(300), outcome="score", themes=THEMES)
    assert "Association, not causation" in repr(kd)
    assert "Association, not causation" in kd._repr_html_()
    assert kd.attrs["note"] == ASSOCIATION_NOTE
    plain = kd.round(2)
    assert type(plain) is pd.DataFrame


def test_plot_drivers(tmp_path):
    kd = key_drivers(simulated(400), outcome="score", themes=THEMES)
    ax = plot_drivers(kd)
    assert len(ax.get_yticklabels()) == 4
    assert any("Association, not causation" in t.get_text() for t in ax.figure.texts)
    ax.figure.savefig(tmp_path / "drivers.png")
    kl = key_drivers(simulated(400).assign(nps=lambda x: x["score"].round()), themes=THEMES, kind="logit")
    assert plot_drivers(kl).get_xscale() == "log"


def test_bad_input():
    d = simulated(200)
    with pytest.raises(JourneylabError, match="outcome="):
        key_drivers(d, themes=THEMES)                                 # no 'nps' column
    with pytest.raises(JourneylabError, match="themes"):
        key_drivers(d, outcome="score")
    with pytest.raises(JourneylabError, match=r"theme column 'persona', row 0: expected 0/1"):
        key_drivers(d, outcome="score", themes=["persona"])
    with pytest.raises(JourneylabError, match="min_n"):
        key_drivers(d, outcome="score", themes=["form"], min_n=500)
    with pytest.raises(JourneylabError, match=r"outcome column 'persona', row 0: expected a number"):
        key_drivers(d, outcome="persona", themes=["form"])
    with pytest.raises(JourneylabError, match="`kind` must be one of"):
        key_drivers(d, outcome="score", themes=["form"], kind="probit")


def test_sample_study_key_drivers(sample_study):
    import journeylab as jl

    study = sample_study
    s = study.survey
    seg = s.loc[s["comment"].notna(), ["respondent_id", "comment"]].rename(
        columns={"respondent_id": "segment_id", "comment": "text"})
    codings = jl.autocode(seg, codebook=study.codebook)
    kd = key_drivers(s, codings=codings, text="comment", transform="nps").set_index("theme")
    # detractors write about the form and delivery costs; slow delivery does not go with a lower NPS
    assert kd.loc["shipping_form_tedious", "coef"] < 0 and kd.loc["shipping_cost_surprise", "coef"] < 0
    assert kd.loc["slow_delivery", "ci_high"] > 0
