"""Grading on stated, absolute criteria (issue 19, item 1).

A metric signal compares the metric with a benchmark the study declares (study.yml ``targets:``)
and counts only when its interval excludes it; without one the signal is "no benchmark" and the
claim is graded on the interviews, which its reason says. Sources that disagree in part give
"mixed". The rank of a step among the study's steps decides nothing.
"""
from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint
from test_journeymap import write_tiny_study

import journeylab as jl
from journeylab.errors import JourneylabError


def claim(n=5, total=12, kind="pain_point", **metrics):
    return {"kind": kind, "n_participants": n, "n_participants_total": total, "share_participants": n / total,
            "touchpoint": "form", **metrics}


def one_step(conv_count, n_from, target=None):
    lo, hi = proportion_confint(conv_count, n_from, method="wilson")
    return dict(step="b", step_from="a", step_conversion=conv_count / n_from, step_ci_low=lo, step_ci_high=hi,
                step_users_from=n_from, step_rank=1, funnel_n_steps=1, funnel_median=conv_count / n_from,
                step_target=target)


def test_the_only_step_at_99_percent_is_not_a_problem_without_a_target():
    # issue 19: a step converting 99% (n = 5,000), the funnel's only step, was a "problem" by rank,
    # and a claim linked to it "strong"
    out = jl.grade_claims(pd.DataFrame([claim(**one_step(4950, 5000))])).iloc[0]
    assert out["step_signal"] == "no benchmark"
    assert out["grade"] == "qualitative_only"
    assert "graded on the interviews" in out["grade_reason"] and "no benchmark" in out["grade_reason"]
    # with a target it is judged against that target, and only when the CI excludes it
    assert jl.grade_claims(pd.DataFrame([claim(**one_step(4950, 5000, target=0.995))]))["step_signal"].item() == "problem"
    assert jl.grade_claims(pd.DataFrame([claim(**one_step(4950, 5000, target=0.98))]))["step_signal"].item() == "healthy"
    assert jl.grade_claims(pd.DataFrame([claim(**one_step(4950, 5000, target=0.99))]))["step_signal"].item() == "inconclusive"


def test_a_healthy_step_makes_a_claim_mixed_never_strong():
    csat_low = dict(csat_top2=0.40, csat_top2_ci_low=0.35, csat_top2_ci_high=0.45, csat_n=400, csat_target=0.65)
    healthy = one_step(930, 1000, target=0.85)         # 93%, CI 91.3-94.4%, above the 85% target
    out = jl.grade_claims(pd.DataFrame([claim(**healthy, **csat_low)])).iloc[0]
    assert (out["step_signal"], out["csat_signal"]) == ("healthy", "problem")
    assert out["grade"] == "mixed"
    reason = out["grade_reason"]
    assert "disagree" in reason and "CSAT form" in reason and "funnel step a → b" in reason
    # the same claim without the step is strong
    assert jl.grade_claims(pd.DataFrame([claim(**csat_low)]))["grade"].item() == "strong"
    # a delight mirrors it
    d = jl.grade_claims(pd.DataFrame([claim(kind="delight", **healthy, **csat_low)])).iloc[0]
    assert d["grade"] == "mixed"
    # too few participants and disagreeing metrics: weak, not "numbers only"
    assert jl.grade_claims(pd.DataFrame([claim(n=1, **healthy, **csat_low)]))["grade"].item() == "weak"


def test_rank_among_steps_no_longer_matters_on_a_study(tmp_path):
    """The tiny study without targets: no step signals anything, so no metric-only pain point from the
    funnel; with targets declared the steps are judged against them."""
    root = write_tiny_study(tmp_path / "s")
    yml = (root / "study.yml").read_text(encoding="utf-8")
    start = yml.index("targets:")
    end = yml.index("changes:")
    (root / "study.yml").write_text(yml[:start] + yml[end:], encoding="utf-8")
    study = jl.load_study(root)
    assert jl.study_targets(study) == {"steps": {}, "csat": {}, "questionnaire": {}}
    tm = jl.touchpoint_metrics(study)
    assert tm.loc[tm["metric"] == "step", "signal"].eq("no benchmark").all()
    ev = jl.evidence_table(study, codings=jl.autocode(study.segments, codebook=study.codebook), n_boot=100)
    assert not ev["claim_id"].str.contains("low:step").any()
    # the CSAT default target still applies (a convention the rules state), and says where it came from
    assert tm.loc[tm["metric"] == "csat", "target_source"].str.startswith("default").all()
    # declared targets: per step event and per touchpoint
    with_targets = dataclasses.replace(study, config={**study.config, "targets": {
        "steps": {"form_submitted": 0.3}, "csat": {"form": 0.1}}})
    tm = jl.touchpoint_metrics(with_targets).set_index("name")
    assert tm.loc["form_submitted", "signal"] == "healthy"       # 40%, CI 31-50%, target 30%
    assert tm.loc["add_to_cart", "signal"] == "no benchmark"
    assert tm.loc["csat_form", "target"] == 0.1 and tm.loc["csat_form", "signal"] == "healthy"
    assert tm.loc["csat_form", "target_source"] == "study.yml targets: csat: form"


def test_other_study_plan_confusion_is_not_strong_by_rank():
    # issue 19: in tests/data/other_study a step at exactly the funnel's median (74%) made
    # plan_confusion "strong"; that study declares no targets
    study = jl.load_study("tests/data/other_study")
    ev = jl.evidence_table(study, codings=study.codings, n_boot=100).set_index("code")
    assert ev.loc["plan_confusion", "step_signal"] == "no benchmark"
    assert ev.loc["plan_confusion", "grade"] == "qualitative_only"


def test_targets_in_study_yml_are_checked(tmp_path):
    root = write_tiny_study(tmp_path / "s")
    yml = (root / "study.yml").read_text(encoding="utf-8")
    (root / "study.yml").write_text(yml.replace("form_submitted: 0.7,", "form_submitted: 70,"), encoding="utf-8")
    with pytest.raises(JourneylabError, match=r"study.yml.*targets steps 'form_submitted'.*share between 0 and 1"):
        jl.load_study(root)


def test_rules_are_described_and_printed_in_the_report(tmp_path):
    rules = jl.GradingRules(min_participants=4, csat_top2_min=None)
    text = rules.describe({"steps": {"form_submitted": 0.7}, "csat": {}})
    joined = " ".join(text)
    assert "at least 4 participants" in joined and "form_submitted 70%" in joined
    assert "no default elsewhere" in joined and "mixed" in joined and "no benchmark" in joined
    study = jl.load_study(write_tiny_study(tmp_path / "s"))
    ev = jl.evidence_table(study, codings=jl.autocode(study.segments, codebook=study.codebook), n_boot=100, thresholds=rules)
    jmap = jl.JourneyMap.build(study, ev)
    assert jmap.methods["rules_text"] == rules.describe(jl.study_targets(study))
    from journeylab.map.report import render_html

    html = render_html(jmap)
    assert "at least 4 participants" in html and "form_submitted 70%" in html


# ----------------------------------------------------------------------------- provenance (item 7)


def test_rule_only_evidence_of_precision_half_is_never_strong():
    csat_low = dict(csat_top2=0.40, csat_top2_ci_low=0.35, csat_top2_ci_high=0.45, csat_n=400, csat_target=0.65)
    # 8 of 12 participants, all on rule codings alone, rules of measured precision 0.5: counts as 4 -> meets
    # the bar, the CSAT shows the problem, but rules cannot make it strong by themselves
    r = claim(n=8, n_participants_human=0, rule_precision=0.5, rule_precision_ci_low=0.3, rule_precision_ci_high=0.7,
              **csat_low)
    out = jl.grade_claims(pd.DataFrame([r])).iloc[0]
    assert out["grade"] == "quantitative_only"
    assert "cannot make a claim strong" in out["grade_reason"] and "precision 0.50" in out["grade_reason"]
    # with 3 of them from human codings it is strong
    assert jl.grade_claims(pd.DataFrame([{**r, "n_participants_human": 3}]))["grade"].item() == "strong"
    # 4 rule-only participants at precision 0.5 count as 2: below the bar of 3 (and 2/12 < 25%)
    few = claim(n=4, n_participants_human=0, rule_precision=0.5)
    assert jl.grade_claims(pd.DataFrame([few]))["grade"].item() == "weak"
    # no measured precision: counted as they are, and the reason says so
    unknown = jl.grade_claims(pd.DataFrame([claim(n=4, n_participants_human=1)])).iloc[0]
    assert unknown["grade"] == "qualitative_only" and "no measured precision" in unknown["grade_reason"]


def test_provenance_and_precision_by_hand(tmp_path):
    """Tiny study: a person coded transcript T1; the rules ran on all four. form_tedious is coded by the
    rules in T1-t002 and the person agreed; slow_delivery fired on T1-t004, which
    the person left uncoded -> precision 1/1 and 0/1."""
    study = jl.load_study(write_tiny_study(tmp_path / "s"))
    rules_cod = jl.autocode(study.segments, codebook=study.codebook)
    doc = rules_cod["segment_id"].map(study.segments.set_index("segment_id")["doc_id"])
    t1 = rules_cod[(doc == doc.min()).to_numpy()]
    assert set(zip(t1["segment_id"], t1["code"])) == {("T1-t002", "form_tedious"), ("T1-t004", "slow_delivery")}
    human = t1[t1["code"] != "slow_delivery"].assign(origin="manual", coder="ann")
    ev = jl.evidence_table(study, codings=pd.concat([rules_cod, human], ignore_index=True), n_boot=100)
    form = ev.set_index("code").loc["form_tedious"]
    assert form["n_participants_human"] == 1 and form["n_participants_rule_only"] == form["n_participants"] - 1
    assert form["rule_precision"] == 1.0
    slow = ev.set_index("code").loc["slow_delivery"]
    assert slow["rule_precision"] == 0.0
    lo, hi = proportion_confint(0, 1, method="wilson")
    assert (slow["rule_precision_ci_low"], slow["rule_precision_ci_high"]) == pytest.approx((lo, hi))
    assert slow["n_participants_human"] == 0 and slow["grade"] == "weak"
    # quotes come from human codings first
    assert form["quote_ids"].split("; ")[0] in set(human.loc[human["code"] == "form_tedious", "segment_id"])


def test_regrading_under_another_csat_default_moves_undeclared_targets_only():
    csat = dict(csat_top2=0.87, csat_top2_ci_low=0.85, csat_top2_ci_high=0.89, csat_n=1400)
    rows = pd.DataFrame([claim(**csat, csat_target=0.65, csat_target_source="default (GradingRules.csat_top2_min)"),
                         claim(**csat, csat_target=0.80, csat_target_source="study.yml targets: csat: form")])
    out = jl.grade_claims(rows, rules=jl.GradingRules(csat_top2_min=0.90))
    assert out["csat_target"].tolist() == [0.90, 0.80]
    assert out["csat_signal"].tolist() == ["problem", "healthy"]
    assert out["grade"].tolist() == ["strong", "contradicted"]


def test_an_earlier_period_is_the_benchmark_when_no_target_is_declared():
    """baseline=: each step's conversion (and CSAT share) in the earlier period is the number the later
    period's interval must exclude; a target study.yml declares wins. Checked against touchpoint_metrics
    of the two periods of the sample study (its shipping-form change)."""
    study = jl.load_study(jl.datasets.sample_study_path())
    change = study.changes["date"].iloc[0]
    before, after = jl.study_between(study, end=change), jl.study_between(study, start=change)
    tb = jl.touchpoint_metrics(before).set_index("name")
    ta = jl.touchpoint_metrics(after, baseline=before).set_index("name")
    declared = set(jl.study_targets(study)["steps"])
    assert declared == {"shipping_submitted"}
    checked = 0
    for name in tb.index.intersection(ta.index):
        r = ta.loc[name]
        if name in declared:
            assert r["target"] == jl.study_targets(study)["steps"][name]
            assert r["target_source"].startswith("study.yml")
            continue
        assert r["target"] == pytest.approx(tb.loc[name, "value"])
        assert r["target_source"].startswith("earlier period")
        expected = ("inconclusive" if r["n"] < jl.GradingRules().min_metric_n else
                    "problem" if r["ci_high"] < r["target"] else "healthy" if r["ci_low"] >= r["target"]
                    else "inconclusive")
        assert r["signal"] == expected
        checked += 1
    assert checked >= 6
    # the shipping-form CSAT jumped after the fix: healthy against its earlier value
    assert ta.loc["csat_shipping_form", "signal"] == "healthy"
    text = " ".join(jl.GradingRules().describe({**jl.study_targets(study), "baseline": before.name}))
    assert "earlier period" in text


def test_rule_precision_is_measured_behind_the_runs_analysis_codings(sample_study):
    """The run's codings take people's codings where they exist, so they hold no rule hits in those
    transcripts; the rules are still measured there (item 7): a code whose rules fire in a
    human-coded transcript has a precision, and one measured at 0 cannot be carried by its rules."""
    study = sample_study
    codings = jl.analysis_codings(study)
    ev = jl.evidence_table(study, codings=codings, n_boot=100)
    human_docs = set(study.segments.loc[study.segments["segment_id"].isin(
        codings.loc[codings["origin"] == "manual", "segment_id"]), "doc_id"])
    seg = study.segments[study.segments["doc_id"].isin(human_docs) & (study.segments["speaker_role"] == "participant")]
    fired = set(jl.autocode(seg, codebook=study.codebook)["code"])
    claims = ev[ev["code"].isin(fired) & ev["kind"].isin(["pain_point", "delight"])]
    assert len(claims) >= 3
    assert claims["rule_precision"].notna().all(), claims.loc[claims["rule_precision"].isna(), "code"].tolist()
    zero = claims[(claims["rule_precision"] == 0) & (claims["n_participants_human"] < 3)]
    assert not zero["grade"].isin(["strong", "mixed", "qualitative_only"]).any(), zero[["code", "grade"]]
