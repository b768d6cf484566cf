"""Usability-test tasks: tasks.csv loading and validation, and jl.task_metrics (adjusted-Wald success
rates, geometric-mean time on task) against published worked examples and the formulas."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import journeylab as jl
from journeylab.errors import JourneylabError, StudyError

OTHER = Path(__file__).parent / "data" / "other_study"


def _attempts(task, outcomes, times=None, **extra):
    n = len(outcomes)
    return pd.DataFrame({"participant_id": [f"P{i}" for i in range(1, n + 1)], "task": task,
                         "outcome": outcomes, "time_s": times if times is not None else [np.nan] * n, **extra})


def _awald_by_hand(x, n, z=stats.norm.ppf(0.975)):
    p = (x + z * z / 2) / (n + z * z)
    h = z * np.sqrt(p * (1 - p) / (n + z * z))
    return p - h, p + h


# ----------------------------------------------------------------------------- success rates


def test_adjusted_wald_4_of_5_matches_tullis_albert():
    # Tullis & Albert, "Measuring the User Experience" (2008), p. 69, worked example reproduced at
    # measuringux.com/adjustedwald.htm: 4 of 5 successes, 95 % -> 0.3596 to 0.9796 (z = 1.96).
    r = jl.task_metrics(_attempts("T1", ["success"] * 4 + ["failed"]))
    assert r.loc[0, "n"] == 5 and r.loc[0, "successes"] == 4 and r.loc[0, "success_rate"] == 0.8
    assert r.loc[0, "ci_low"] == pytest.approx(0.3596, abs=2e-4)
    assert r.loc[0, "ci_high"] == pytest.approx(0.9796, abs=2e-4)
    assert r.loc[0, "method"].startswith("adjusted Wald")


def test_adjusted_wald_7_of_10_matches_sauro_lewis():
    # "A new formula for quantitative UX decision making", UX Magazine article 850 (7 August 2012),
    # on Sauro & Lewis's adjusted-Wald interval: 7 of 10 users, 95 % interval "from about 39% to
    # 90%".
    r = jl.task_metrics(_attempts("T1", ["success"] * 7 + ["abandoned"] * 3))
    assert round(r.loc[0, "ci_low"], 2) == 0.39 and round(r.loc[0, "ci_high"], 2) == 0.90


def test_adjusted_wald_9_of_10_is_clipped_at_one():
    # Sauro's completion-rate calculator (measuringu.com/wald.htm): for 9 of 10 the adjusted
    # proportion is (9 + 1.96²/2)/(10 + 1.96²) "approx. 11/14"; the Wald formula around it gives an
    # upper limit above 1 (1.004), clipped to 1. statsmodels' agresti_coull gives (0.5740, 1.0).
    r = jl.task_metrics(_attempts("T1", ["success"] * 9 + ["failed"]))
    lo, hi = _awald_by_hand(9, 10)
    assert (9 + 1.96 ** 2 / 2) / (10 + 1.96 ** 2) == pytest.approx(11 / 14, abs=0.005)
    assert hi > 1
    assert r.loc[0, "ci_low"] == pytest.approx(lo) == pytest.approx(0.5740, abs=1e-4)
    assert r.loc[0, "ci_high"] == 1.0


@pytest.mark.parametrize("x, n", [(0, 3), (1, 8), (3, 3), (12, 20), (5, 5), (0, 1)])
def test_adjusted_wald_formula_and_statsmodels(x, n):
    from statsmodels.stats.proportion import proportion_confint

    r = jl.task_metrics(_attempts("T", ["success"] * x + ["failed"] * (n - x)))
    lo, hi = _awald_by_hand(x, n)
    assert r.loc[0, "ci_low"] == pytest.approx(max(lo, 0)) and r.loc[0, "ci_high"] == pytest.approx(min(hi, 1))
    assert (r.loc[0, "ci_low"], r.loc[0, "ci_high"]) == pytest.approx(
        proportion_confint(x, n, method="agresti_coull"))
    assert 0 <= r.loc[0, "ci_low"] <= r.loc[0, "success_rate"] <= r.loc[0, "ci_high"] <= 1


def test_confidence_level_changes_z():
    wide = jl.task_metrics(_attempts("T", ["success"] * 6 + ["failed"] * 4), confidence=0.99)
    lo, hi = _awald_by_hand(6, 10, z=stats.norm.ppf(0.995))
    assert (wide.loc[0, "ci_low"], wide.loc[0, "ci_high"]) == pytest.approx((lo, hi))


def test_assisted_counts_as_failure_by_default_and_as_success_on_request():
    t = _attempts("T", ["success", "assisted", "assisted", "failed"], [30, 90, 120, 200])
    fail = jl.task_metrics(t)
    ok = jl.task_metrics(t, assisted="success")
    assert fail.loc[0, "successes"] == 1 and ok.loc[0, "successes"] == 3
    assert fail.loc[0, "method"].endswith("assisted counted as failure")
    assert ok.loc[0, "method"].endswith("assisted counted as success")
    # only attempts counted as successes are timed
    assert fail.loc[0, "n_timed"] == 1 and fail.loc[0, "time_geomean_s"] == pytest.approx(30)
    assert ok.loc[0, "time_geomean_s"] == pytest.approx((30 * 90 * 120) ** (1 / 3))
    assert ok.loc[0, "time_median_s"] == 90


# ----------------------------------------------------------------------------- time on task


def test_time_interval_matches_sauros_calculator_example():
    # Sauro, "Graph and calculator for confidence intervals for task times" (measuringu.com/
    # time_intervals.php, 2006): times 55, 65, 75, 62, 45, 135 -> "Average Time: 68 seconds, 95% CI
    # (46, 101)" (geometric mean; t interval on the log times, back-transformed).
    times = [55, 65, 75, 62, 45, 135]
    r = jl.task_metrics(_attempts("T", ["success"] * 6, times))
    assert round(r.loc[0, "time_geomean_s"]) == 68
    assert round(r.loc[0, "time_ci_low_s"]) == 46 and round(r.loc[0, "time_ci_high_s"]) == 101
    assert r.loc[0, "time_median_s"] == 63.5


def test_time_formula_by_hand_with_failures_and_blanks_left_out():
    times = [12.0, 20.0, 31.0, 18.0, np.nan, 400.0, 9.0]
    outcomes = ["success", "success", "success", "success", "success", "failed", "success"]
    r = jl.task_metrics(_attempts("T", outcomes, times))
    y = np.log([12.0, 20.0, 31.0, 18.0, 9.0])
    half = stats.t.ppf(0.975, 4) * y.std(ddof=1) / np.sqrt(5)
    assert r.loc[0, "n"] == 7 and r.loc[0, "successes"] == 6 and r.loc[0, "n_timed"] == 5
    assert r.loc[0, "time_geomean_s"] == pytest.approx(np.exp(y.mean()))
    assert r.loc[0, "time_ci_low_s"] == pytest.approx(np.exp(y.mean() - half))
    assert r.loc[0, "time_ci_high_s"] == pytest.approx(np.exp(y.mean() + half))
    assert r.loc[0, "time_median_s"] == 18.0


def test_one_or_no_timed_success_gives_nan_intervals():
    r = jl.task_metrics(pd.concat([_attempts("A", ["success", "failed"], [40, 10]),
                                   _attempts("B", ["failed", "abandoned"], [50, 60])]))
    a, b = r.set_index("task").loc["A"], r.set_index("task").loc["B"]
    assert a["time_geomean_s"] == 40 and np.isnan(a["time_ci_low_s"]) and np.isnan(a["time_ci_high_s"])
    assert b["n_timed"] == 0 and np.isnan(b["time_geomean_s"]) and np.isnan(b["time_median_s"])
    assert b["successes"] == 0 and b["ci_low"] == 0.0


def test_rows_per_task_and_group_in_order():
    t = pd.concat([_attempts("T2", ["success", "failed", "success", "success"], [10, 5, 20, 30],
                             device=["web", "web", "app", "app"]),
                   _attempts("T1", ["success", "success", "failed", "assisted"], [8, 9, 3, 4],
                             device=["app", "web", "web", "app"])])
    plain = jl.task_metrics(t)
    assert plain["task"].tolist() == ["T2", "T1"]  # order of first appearance, not T1 < T2
    assert list(plain.columns) == ["task", "n", "successes", "success_rate", "ci_low", "ci_high", "method",
                                   "n_timed", "time_geomean_s", "time_ci_low_s", "time_ci_high_s",
                                   "time_median_s"]
    g = jl.task_metrics(t, by="device")
    assert g[["device", "task"]].values.tolist() == [["app", "T2"], ["app", "T1"], ["web", "T2"], ["web", "T1"]]
    assert g["n"].tolist() == [2, 2, 2, 2] and g["successes"].tolist() == [2, 1, 1, 1]
    assert list(g.columns)[:2] == ["device", "task"]


def test_outcome_words_are_case_insensitive_and_times_may_be_text():
    t = _attempts("T", [" Success", "FAILED", "assisted"], ["12", "", "7.5"])
    r = jl.task_metrics(t)
    assert r.loc[0, "successes"] == 1 and r.loc[0, "n_timed"] == 1 and r.loc[0, "time_geomean_s"] == 12


def test_own_column_names():
    t = pd.DataFrame({"who": ["a", "b"], "step": ["x", "x"], "result": ["success", "failed"], "secs": [3, 4]})
    r = jl.task_metrics(t, task="step", outcome="result", time="secs", participant="who")
    assert r.loc[0, "task"] == "x" and r.loc[0, "successes"] == 1
    assert r.loc[0, "time_geomean_s"] == pytest.approx(3)


def test_without_a_time_column_times_are_missing():
    r = jl.task_metrics(_attempts("T", ["success", "failed"]).drop(columns="time_s"))
    assert r.loc[0, "successes"] == 1 and r.loc[0, "n_timed"] == 0 and np.isnan(r.loc[0, "time_geomean_s"])


def test_empty_tasks_give_an_empty_frame_with_the_columns():
    r = jl.task_metrics(_attempts("T", ["success"]).iloc[:0])
    assert len(r) == 0 and "success_rate" in r.columns and "time_geomean_s" in r.columns


# ----------------------------------------------------------------------------- errors


def test_unknown_outcome_names_column_row_and_participant():
    t = _attempts("T", ["success", "done", "failed"])
    with pytest.raises(JourneylabError, match=r"column 'outcome', row 1 .*participant_id 'P2'.*'done'") as e:
        jl.task_metrics(t)
    assert "success, assisted, failed, abandoned" in str(e.value) and "study.yml" in str(e.value)


@pytest.mark.parametrize("bad", [-3, "fast", "inf"])
def test_bad_time_names_column_and_row(bad):
    t = _attempts("T", ["success", "success"], [10, bad])
    with pytest.raises(JourneylabError, match=r"column 'time_s', row 1 .*expected a time in seconds"):
        jl.task_metrics(t)


def test_zero_time_of_a_success_is_an_error_but_not_of_a_failure():
    jl.task_metrics(_attempts("T", ["success", "failed"], [10, 0]))
    with pytest.raises(JourneylabError, match=r"row 0 .*0 seconds; the geometric mean needs positive times"):
        jl.task_metrics(_attempts("T", ["success", "failed"], [0, 10]))


def test_argument_errors():
    t = _attempts("T", ["success"])
    with pytest.raises(JourneylabError, match="`assisted` must be one of 'failure', 'success'; got 'yes'"):
        jl.task_metrics(t, assisted="yes")
    for bad in (95, 0, "0.95", True):
        with pytest.raises(JourneylabError, match="`confidence` must be a number between 0 and 1"):
            jl.task_metrics(t, confidence=bad)
    with pytest.raises(JourneylabError, match=r"missing column\(s\) 'persona'"):
        jl.task_metrics(t, by="persona")
    with pytest.raises(JourneylabError, match=r"missing column\(s\) 'outcome'.*study.tasks"):
        jl.task_metrics(t.drop(columns="outcome"))


# ----------------------------------------------------------------------------- tasks.csv in a study


TASKS_YML = """
tasks:
  outcomes: {completed: success, "with help": assisted, gave up: abandoned}
  stages:
    T1: try
    T2: {stage: subscribe, touchpoint: payment}
"""


@pytest.fixture
def study_dir(tmp_path):
    d = tmp_path / "greenbox"
    shutil.copytree(OTHER, d)
    with open(d / "study.yml", "a", encoding="utf-8") as fh:
        fh.write(TASKS_YML)
    return d


def _write_tasks(d, text):
    (d / "tasks.csv").write_text(text, encoding="utf-8")


def test_study_without_tasks_csv_has_tasks_none(tmp_path):
    d = tmp_path / "s"
    shutil.copytree(OTHER, d)
    study = jl.load_study(d)
    assert study.tasks is None


def test_tasks_csv_loads_with_mapped_words_stages_and_blank_times(study_dir):
    _write_tasks(study_dir, "participant_id,task,outcome,time_s,notes\n"
                            "G1,T1,completed,41.5,Found it via the menu\n"
                            "G2,T1,With help,,Asked Felix Amaro where the menu is\n"
                            "G3,T1,failed,120,\n"
                            "G1,T2,success,63,\n"
                            "G2,T2,gave up,200,\n")
    study = jl.load_study(study_dir)
    t = study.tasks
    assert list(t.columns) == ["participant_id", "task", "outcome", "time_s", "notes", "stage", "touchpoint"]
    assert t["outcome"].tolist() == ["success", "assisted", "failed", "success", "abandoned"]
    assert t["stage"].tolist() == ["try", "try", "try", "subscribe", "subscribe"]
    assert t["touchpoint"].isna().tolist() == [True, True, True, False, False]
    assert np.isnan(t.loc[1, "time_s"]) and t.loc[0, "time_s"] == 41.5
    assert "Felix Amaro" not in t.loc[1, "notes"] and "[NAME:G2]" in t.loc[1, "notes"]  # redacted like comments
    assert pd.isna(t.loc[2, "notes"])
    r = jl.task_metrics(study.tasks, by="stage")
    assert r[["stage", "task", "n", "successes"]].values.tolist() == [["subscribe", "T2", 2, 1], ["try", "T1", 3, 1]]


def test_tasks_csv_column_names_mapped_in_study_yml(study_dir):
    text = (study_dir / "study.yml").read_text(encoding="utf-8")
    text = text.replace("columns:\n", "columns:\n  tasks: {participant_id: pid, outcome: result}\n", 1)
    (study_dir / "study.yml").write_text(text, encoding="utf-8")
    _write_tasks(study_dir, "pid,task,result\nG1,T1,success\nG4,T2,failed\n")
    t = jl.load_study(study_dir).tasks
    assert t["participant_id"].tolist() == ["G1", "G4"] and t["outcome"].tolist() == ["success", "failed"]
    assert t["time_s"].isna().all()


def test_tasks_csv_problems_name_file_line_and_column(study_dir):
    _write_tasks(study_dir, "participant_id,task,outcome,time_s\n"
                            "G1,T1,success,30\n"         # line 2: fine
                            "G9,T1,success,30\n"         # line 3: unknown participant
                            "G2,T1,finished,30\n"        # line 4: unknown outcome word
                            "G3,T1,failed,-5\n"          # line 5: negative time
                            "G4,T1,success,2 min\n"      # line 6: not a number
                            "G1,T1,failed,12\n"          # line 7: duplicate of line 2
                            "G2,T3,success,9\n")         # line 8: task without a stage
    problems = [str(p) for p in jl.validate_study(study_dir) if p.severity == "error"]
    expect = [
        "tasks.csv, line 3, column 'participant_id': participant 'G9' is not in participants.csv",
        "tasks.csv, line 4, column 'outcome': unknown outcome 'finished'; expected one of success, assisted, "
        "failed, abandoned",
        "tasks.csv, line 5, column 'time_s': expected a time in seconds (a number ≥ 0, or blank when not timed), "
        "found '-5'",
        "tasks.csv, line 6, column 'time_s': expected a time in seconds (a number ≥ 0, or blank when not timed), "
        "found '2 min'",
        "tasks.csv, line 7, column 'task': participant 'G1' has task 'T1' twice (first on line 2)",
        "tasks.csv, line 8, column 'task': task 'T3' is not mapped to a stage",
    ]
    for e in expect:
        assert any(p.startswith(e) for p in problems), (e, problems)
    assert len([p for p in problems if p.startswith("tasks.csv")]) == len(expect)
    with pytest.raises(StudyError, match="tasks.csv, line 3"):
        jl.load_study(study_dir)


def test_tasks_csv_missing_required_column(study_dir):
    _write_tasks(study_dir, "participant_id,task,time_s\nG1,T1,3\n")
    problems = [str(p) for p in jl.validate_study(study_dir)]
    assert any(p.startswith("tasks.csv, line 1, column 'outcome': missing required column 'outcome'")
               for p in problems), problems


@pytest.mark.parametrize("yml, message", [
    ("tasks: [T1, T2]\n", "'tasks:' must be a mapping {outcomes:"),
    ("tasks:\n  outcome: {done: success}\n", "tasks: unknown key 'outcome'"),
    ("tasks:\n  outcomes: {done: finished}\n", "tasks outcomes: 'done' maps to 'finished'; expected one of success"),
    ("tasks:\n  stages: {T1: checkout}\n", "task 'T1': stage 'checkout' is not one of the stages"),
    ("tasks:\n  stages: {T1: {stage: try, touchpoint: basket}}\n",
     "task 'T1': touchpoint 'basket' is not listed under any stage"),
    ("tasks:\n  stages: {T1: [try]}\n", "task 'T1': expected a stage name or {stage: <stage>"),
])
def test_study_yml_tasks_keys_are_validated(tmp_path, yml, message):
    d = tmp_path / "s"
    shutil.copytree(OTHER, d)
    with open(d / "study.yml", "a", encoding="utf-8") as fh:
        fh.write(yml)
    problems = [str(p) for p in jl.validate_study(d) if p.severity == "error"]
    assert any(p.startswith("study.yml, line ") and message in p for p in problems), problems


def test_mapped_task_without_rows_is_a_warning(study_dir):
    _write_tasks(study_dir, "participant_id,task,outcome\nG1,T1,success\n")
    study = jl.load_study(study_dir)
    assert any("task 'T2' is mapped under `tasks: stages:` but has no row" in str(p) for p in study.problems)
