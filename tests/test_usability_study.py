"""The bundled usability study (data/usability_study) and what issue 18 (item 4) puts on the map and in
the evidence: task success and time in the metrics lane, task failure as a quantitative signal,
priorities in participants, a linked questionnaire. One `journeylab run` on the study (kernel starts
are slow: one run only).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import journeylab as jl
from journeylab.errors import StudyError
from journeylab.map.render import _metric_items

ROOT = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).parent / "journeylab"


@pytest.fixture(scope="module")
def study():
    return jl.load_study(jl.datasets.usability_study_path())


@pytest.fixture(scope="module")
def evidence(study):
    codings = pd.concat([study.codings, jl.autocode(study.segments, codebook=study.codebook)], ignore_index=True)
    return jl.evidence_table(study, codings=codings, n_boot=200)


def test_bundled_and_shaped_as_documented(study):
    assert "usability_study" in jl.datasets.list_datasets()
    assert len(study.participants) == 8 and study.tasks["task"].nunique() == 5 and len(study.events) == 0
    assert study.questionnaire["instrument"] == "sus"
    assert study.segment_stages is not None and set(study.segment_stages["task"]) == {"T1", "T2", "T3", "T4", "T5"}
    # a hypothesis test of the path, not a copy of the sample study
    assert not set(study.stages) & set(jl.load_study(jl.datasets.sample_study_path()).stages)


def test_generator_is_deterministic(tmp_path):
    """The committed folder is what data/make_usability_study.py writes (seeded)."""
    src = ROOT / "data" / "make_usability_study.py"
    shutil.copy(src, tmp_path / src.name)
    subprocess.run([sys.executable, str(tmp_path / src.name)], check=True, cwd=tmp_path)
    made, kept = tmp_path / "usability_study", ROOT / "data" / "usability_study"
    files = sorted(p.relative_to(kept) for p in kept.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(made) for p in made.rglob("*") if p.is_file())
    for f in files:
        assert (made / f).read_bytes() == (kept / f).read_bytes(), f


def test_sus_scores_by_hand(study):
    """SUS = 2.5 × (Σ odd (x − 1) + Σ even (5 − x)) (Brooke 1996), from the raw survey.csv."""
    raw = pd.read_csv(jl.datasets.usability_study_path() / "survey.csv")
    items = raw[[f"sus_{k}" for k in range(1, 11)]].to_numpy()
    hand = 2.5 * ((items[:, 0::2] - 1).sum(axis=1) + (5 - items[:, 1::2]).sum(axis=1))
    got = jl.study_questionnaire(study)
    np.testing.assert_allclose(got["sus"].to_numpy(), hand)
    summ = jl.study_questionnaire(study, summary=True)
    assert summ["mean"].iloc[0] == pytest.approx(hand.mean()) and summ.attrs["stage"] is None


def test_task_metric_rows_equal_task_metrics(study, evidence):
    tm = jl.task_metrics(study.tasks).set_index("task")
    rows = evidence[evidence["metric"].astype(str).str.startswith("task:")].set_index("task")
    assert sorted(rows.index) == ["T1", "T2", "T3", "T4", "T5"]
    for t, r in rows.iterrows():
        assert r["kind"] == "metric" and r["stage"] == study.tasks.loc[study.tasks["task"] == t, "stage"].iloc[0]
        assert r["task_success_rate"] == pytest.approx(tm.loc[t, "success_rate"])
        assert r["task_ci_low"] == pytest.approx(tm.loc[t, "ci_low"])
        assert r["task_time_geomean_s"] == pytest.approx(tm.loc[t, "time_geomean_s"])


def test_failed_task_corroborates_a_pain_point_at_its_stage(study, evidence):
    pp = evidence[evidence["kind"] == "pain_point"].set_index("claim_id")
    # T4 (pay): 5 of 8 did not succeed; T5 (account): 4 of 8 -> "half the participants failed"
    assert pp.loc["pay/fee_payment/fee_payment_error", "task_signal"] == "problem"
    assert pp.loc["pay/fee_payment/fee_payment_error", "grade"] == "strong"
    assert pp.loc["account/account_settings/menu_hard_to_find", "grade"] == "strong"
    assert "task T5: 4 of 8" in pp.loc["account/account_settings/menu_hard_to_find", "grade_reason"]
    # the same theme at a task everyone completed is not corroborated (and not contradicted)
    assert pp.loc["renew/loans_list/menu_hard_to_find", "grade"] == "qualitative_only"
    # a stricter rule: half is no longer enough
    strict = jl.grade_claims(evidence, rules=jl.GradingRules(task_failure_share=0.6)).set_index("claim_id")
    assert strict.loc["account/account_settings/menu_hard_to_find", "grade"] == "qualitative_only"
    assert strict.loc["pay/fee_payment/fee_payment_error", "grade"] == "strong"


def test_failed_task_without_a_theme_is_a_metric_only_pain_point(study):
    codings = study.codings[~study.codings["code"].isin(["fee_payment_error", "menu_hard_to_find"])]
    ev = jl.evidence_table(study, codings=codings, n_boot=200).set_index("claim_id")
    row = ev.loc["pay/fee_payment/low:task:T4"]
    assert row["kind"] == "pain_point" and row["grade"] == "quantitative_only"
    assert "no interview theme explains it" in row["claim"]


def test_map_metrics_lane_and_priorities_speak_of_tasks(study, evidence, tmp_path):
    jmap = jl.JourneyMap.build(study, evidence)
    lane = [i["text"] for i in _metric_items(jmap, "pay")]
    assert any(t.startswith("Task T4: 3/8 succeeded") and "time" in t for t in lane)
    pr = jmap.prioritise()
    top = pr.iloc[0]
    assert top["stage"] == "pay" and "participants did not complete task T4" in top["upside"]
    assert not pr["upside"].str.contains("conversions|a week").any()
    html = jmap.to_html(tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Usability task" in html and "succeeded unaided" in html
    # the methods record the tasks, the session stages and the questionnaire's score
    us = jmap.methods["usability"]
    assert us["tasks"]["n_attempts"] == len(study.tasks) and us["session_stages"]["sources"] == ["marker"]
    sus = jl.study_questionnaire(study)["sus"].mean()
    assert us["questionnaire"]["scales"][0]["mean"] == pytest.approx(sus)
    assert f"SUS {sus:.1f}" in html
    assert jl.JourneyMap.load(jmap.save(tmp_path / "map.json")) == jmap


def test_report_first_page_heads_with_tasks_and_the_questionnaire(study, evidence, tmp_path):
    """A usability study has no NPS, funnel or CSAT: its first page heads with each task's unaided
    success (adjusted-Wald interval, as jl.task_metrics) and the questionnaire's score."""
    from journeylab.map.decision import headline_metrics

    h = headline_metrics(study).set_index("metric")
    tm = jl.task_metrics(study.tasks).set_index("task")
    for task, r in tm.iterrows():
        row = h.loc[f"task:{task}"]
        assert row["value"] == pytest.approx(r["success_rate"]) and row["ci_low"] == pytest.approx(r["ci_low"])
        assert row["text"] == f"{int(r['successes'])} of {int(r['n'])}"
    q = jl.study_questionnaire(study, summary=True).iloc[0]
    assert h.loc["questionnaire:sus", "value"] == pytest.approx(q["mean"])
    html = jl.JourneyMap.build(study, evidence).to_html(tmp_path / "r.html", study=study).read_text(encoding="utf-8")
    first = html[html.index("id='first-page'"):html.index("</section>", html.index("id='first-page'"))]
    assert "SUS score (questionnaire)" in first and f"{q['mean']:.1f}, grade {q['grade']}" in first
    assert first.count("completed unaided") == len(tm)


def test_headline_metrics_of_a_study_with_none_is_empty_with_its_columns(study):
    from dataclasses import replace

    from journeylab.map.decision import headline_metrics

    bare = replace(study, tasks=None, questionnaire=None)
    h = headline_metrics(bare)
    assert len(h) == 0 and list(h.columns)[:3] == ["metric", "label", "value"]
    assert h["metric"].dtype == object   # the report filters it with .str


def test_library_pipeline_end_to_end(study, tmp_path):
    """load → autocode → evidence → map → report, on the usability study."""
    codings = pd.concat([study.codings, jl.autocode(study.segments, codebook=study.codebook)], ignore_index=True)
    ev = jl.evidence_table(study, codings=codings, persona="each", n_boot=200)
    assert set(ev["persona"]) == {"regular borrower", "occasional visitor"}
    for persona in ("regular borrower", "occasional visitor"):
        part = ev[(ev["persona"] == persona) & ev["metric"].astype(str).str.startswith("task:")]
        assert (part["task_n"] == 4).all()  # each persona's own participants' attempts
    jmap = jl.JourneyMap.build(study, ev, persona="regular borrower")
    path = jl.save_map(jmap, path=tmp_path / "map.png")
    assert path.stat().st_size > 10_000
    assert jmap.to_html(tmp_path / "r.html").stat().st_size > 5_000


def test_linked_questionnaire_shows_at_its_stage(tmp_path):
    root = tmp_path / "u"
    shutil.copytree(jl.datasets.usability_study_path(), root)
    yml = root / "study.yml"
    yml.write_text(yml.read_text().replace("  instrument: sus\n", "  instrument: sus\n  stage: account\n"))
    study = jl.load_study(root)
    ev = jl.evidence_table(study, codings=study.codings, n_boot=200)
    q = ev[ev["metric"] == "questionnaire:sus"]
    assert q["stage"].tolist() == ["account"] and q["claim"].iloc[0].startswith("SUS ")
    jmap = jl.JourneyMap.build(study, ev)
    assert any(i["text"].startswith("SUS ") for i in _metric_items(jmap, "account"))


def test_questionnaire_answers_are_validated(tmp_path):
    root = tmp_path / "u"
    shutil.copytree(jl.datasets.usability_study_path(), root)
    sv = root / "survey.csv"
    sv.write_text(sv.read_text().replace("U03,regular borrower,4,", "U03,regular borrower,9,"))
    with pytest.raises(StudyError, match=r"survey.csv, line 4, column 'sus_1': expected a SUS answer \(a whole "
                                         r"number from 1 to 5, or blank\), found '9'"):
        jl.load_study(root)


@pytest.mark.parametrize("old, new, match", [
    ("instrument: sus", "instrument: sys", r"study.yml, line \d+: questionnaire instrument: expected one of sus"),
    ("sus_10]", "sus_11]", r"survey.csv, line 1, column 'sus_11': study.yml's questionnaire names item column"),
    ("  instrument: sus\n", "  instrument: sus\n  stage: checkout\n", r"questionnaire stage: 'checkout' is not one"),
])
def test_questionnaire_config_is_validated(tmp_path, old, new, match):
    root = tmp_path / "u"
    shutil.copytree(jl.datasets.usability_study_path(), root)
    yml = root / "study.yml"
    yml.write_text(yml.read_text().replace(old, new))
    with pytest.raises(StudyError, match=match):
        jl.load_study(root)


def test_questionnaire_instruments_match_the_scorer():
    from journeylab.measure.questionnaires import INSTRUMENTS
    from journeylab.study.load import _ANSWER_RANGES, QUESTIONNAIRE_INSTRUMENTS

    assert set(QUESTIONNAIRE_INSTRUMENTS) == set(INSTRUMENTS)
    for name, (lo, hi) in _ANSWER_RANGES.items():
        assert INSTRUMENTS[name].answers == (lo, hi), name


def test_sections_plan_on_the_usability_study(study):
    plan = jl.section_plan(study)
    runs = dict(zip(plan["section"], plan["runs"]))
    assert runs["05.tasks"] and runs["05.questionnaire"] and not runs["05.funnel"]
    sample = jl.section_plan(jl.load_study(jl.datasets.sample_study_path()))
    reasons = dict(zip(sample["section"], sample["reason"]))
    assert "tasks.csv" in reasons["05.tasks"] and "questionnaire" in reasons["05.questionnaire"]


def test_journeylab_run(tmp_path):
    """The whole notebook sequence on the usability study (one run: about three minutes)."""
    out = tmp_path / "out"
    r = subprocess.run([str(CLI), "run", str(jl.datasets.usability_study_path()), "--out", str(out)],
                       capture_output=True, text=True, timeout=1800, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    for product in ("journey_map.png", "journey_map.json", "report.html", "evidence_table.csv", "manifest.json"):
        assert (out / product).is_file(), product
    ev = pd.read_csv(out / "evidence_table.csv")
    tasks_all = ev[(ev["persona"] == "all") & ev["metric"].astype(str).str.startswith("task:")]
    assert sorted(tasks_all["task"]) == ["T1", "T2", "T3", "T4", "T5"]
    assert ev.loc[ev["claim_id"] == "pay/fee_payment/fee_payment_error", "grade"].tolist() == ["strong"]
    tasks = pd.read_csv(out / "tasks.csv")   # notebook 05's usability section ran
    assert tasks["task"].tolist() == ["T1", "T2", "T3", "T4", "T5"] and "stage" in tasks.columns
    assert (out / "questionnaire_summary.csv").is_file()
    jmap = json.loads((out / "journey_map.json").read_text(encoding="utf-8"))
    assert "task" in json.dumps(jmap)
