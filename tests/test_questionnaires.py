"""Standard questionnaires: scores equal hand computation from the raw items by each instrument's
published rules (Brooke 1996 for the SUS; Lewis, Utesch & Maher 2013 for UMUX-Lite; Lewis 1995,
2002 for the PSSUQ), the Sauro–Lewis curved grading scale's boundaries, t intervals, errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import journeylab as jl
from journeylab.errors import JourneylabError
from journeylab.measure.questionnaires import SUS_GRADES

SUS_TEXT = [
    "I think that I would like to use this system frequently.", "I found the system unnecessarily complex.",
    "I thought the system was easy to use.",
    "I think that I would need the support of a technical person to be able to use this system.",
    "I found the various functions in this system were well integrated.",
    "I thought there was too much inconsistency in this system.",
    "I would imagine that most people would learn to use this system very quickly.",
    "I found the system very cumbersome to use.", "I felt very confident using the system.",
    "I needed to learn a lot of things before I could get going with this system.",
]


def _sus_by_hand(answers):
    # Brooke (1996): odd items contribute x - 1, even items 5 - x; the sum times 2.5.
    return 2.5 * sum((a - 1) if k % 2 == 0 else (5 - a) for k, a in enumerate(answers))


def _sus_frame(rows, ids=None):
    return pd.DataFrame({"respondent_id": ids or [f"R{i}" for i in range(1, len(rows) + 1)],
                         **{f"sus{k + 1}": [r[k] for r in rows] for k in range(10)}})


# ----------------------------------------------------------------------------- SUS


def test_sus_equals_hand_computation():
    rows = [[4, 2, 5, 1, 4, 2, 5, 1, 4, 3], [1, 5, 1, 5, 1, 5, 1, 5, 1, 5], [5, 1, 5, 1, 5, 1, 5, 1, 5, 1],
            [3, 3, 3, 3, 3, 3, 3, 3, 3, 3], [2, 4, 3, 2, 3, 4, 2, 3, 4, 2]]
    s = jl.score_questionnaire(_sus_frame(rows), instrument="sus")
    assert list(s.columns) == ["respondent_id", "sus"]
    assert s["sus"].tolist() == [_sus_by_hand(r) for r in rows] == [82.5, 0.0, 100.0, 50.0, 47.5]


def test_sus_from_a_google_forms_export_with_comment_columns_and_question_text():
    answers = [[4, 2, 5, 1, 4, 2, 5, 1, 4, 3], [3, 3, 4, 2, 4, 2, 4, 2, 3, 3]]
    data = {"Timestamp": ["2026/03/01 10:00", "2026/03/01 11:00"]}
    for k, text in enumerate(SUS_TEXT):
        data[text] = [a[k] for a in answers]
        data[f"Comments on: {text}"] = ["", "too many menus" if k == 1 else None]
    export = pd.DataFrame(data)
    s = jl.score_questionnaire(export, instrument="sus", respondent=None, comments="after", keep="Timestamp")
    assert s["respondent_id"].tolist() == [1, 2]
    assert s["sus"].tolist() == [_sus_by_hand(a) for a in answers]
    assert s["Timestamp"].tolist() == data["Timestamp"]
    c = jl.questionnaire_comments(export.drop(columns="Timestamp"), instrument="sus", respondent=None)
    assert c.to_dict("records") == [{"respondent_id": 2, "item": "sus_2", "column": f"Comments on: {SUS_TEXT[1]}",
                                     "comment": "too many menus"}]


def test_sus_items_by_position_and_by_mapping_in_any_column_order():
    rows = [[4, 2, 5, 1, 4, 2, 5, 1, 4, 3]]
    f = _sus_frame(rows)
    shuffled = f[["respondent_id"] + [f"sus{k}" for k in (3, 1, 2, 10, 4, 5, 6, 7, 8, 9)]]
    expected = _sus_by_hand(rows[0])
    by_map = jl.score_questionnaire(shuffled, instrument="sus", items={f"sus{k}": k for k in range(1, 11)})
    by_pos = jl.score_questionnaire(shuffled, instrument="sus", items=[2, 3, 1, 5, 6, 7, 8, 9, 10, 4])
    by_name = jl.score_questionnaire(shuffled, instrument="sus", items=[f"sus{k}" for k in range(1, 11)])
    assert by_map.loc[0, "sus"] == by_pos.loc[0, "sus"] == by_name.loc[0, "sus"] == expected
    # read naively in the shuffled order, the score differs: the order matters
    assert jl.score_questionnaire(shuffled, instrument="sus").loc[0, "sus"] != expected


def test_sus_reversed_export_is_declared_not_guessed():
    rows = [[4, 2, 5, 1, 4, 2, 5, 1, 4, 3]]
    flipped = _sus_frame([[6 - a for a in rows[0]]])  # exported with 1 = strongly agree
    assert jl.score_questionnaire(flipped, instrument="sus", reverse=True).loc[0, "sus"] == _sus_by_hand(rows[0])
    assert jl.score_questionnaire(flipped, instrument="sus").loc[0, "sus"] == _sus_by_hand([6 - a for a in rows[0]])
    # one item reversed (item 3's scale printed the other way round)
    one = _sus_frame([rows[0][:2] + [6 - rows[0][2]] + rows[0][3:]])
    assert jl.score_questionnaire(one, instrument="sus", reverse=["sus3"]).loc[0, "sus"] == _sus_by_hand(rows[0])


def test_sus_answer_labels_and_blank_items():
    labels = {"Strongly disagree": 1, "Disagree": 2, "Neutral": 3, "Agree": 4, "Strongly agree": 5}
    inv = {v: k for k, v in labels.items()}
    rows = [[4, 2, 5, 1, 4, 2, 5, 1, 4, 3], [4, 2, 5, 1, 4, 2, 5, 1, 4, 3]]
    f = _sus_frame([[inv[a] for a in r] for r in rows])
    f.loc[1, "sus7"] = ""  # an unanswered item: no SUS score for that respondent
    s = jl.score_questionnaire(f, instrument="sus", answers={k.lower() + "  ": v for k, v in labels.items()})
    assert s.loc[0, "sus"] == _sus_by_hand(rows[0]) and np.isnan(s.loc[1, "sus"])
    with pytest.raises(JourneylabError, match=r"column 'sus1' \(System Usability Scale item 1\), row 0 .*"
                                              r"'Agree'.*answers=\{'<label>': <number>"):
        jl.score_questionnaire(f, instrument="sus")


# ----------------------------------------------------------------------------- UMUX-Lite, PSSUQ


def test_umux_lite_and_its_sus_equivalent_by_hand():
    # Lewis, Utesch & Maher (2013): UMUX-LITE = (i1 + i2 - 2) * 100/12; SUS equivalent
    # (regression-adjusted UMUX-LITEr) = 0.65 * UMUX-LITE + 22.9.
    f = pd.DataFrame({"respondent_id": ["a", "b", "c", "d"], "capabilities": [6, 7, 1, 4],
                      "easy": [5, 7, 1, None]})
    s = jl.score_questionnaire(f, instrument="umux_lite")
    assert s["umux_lite"].tolist()[:3] == pytest.approx([75.0, 100.0, 0.0])
    assert s["umux_lite_sus_equivalent"].tolist()[:3] == pytest.approx([71.65, 87.9, 22.9])
    assert np.isnan(s.loc[3, "umux_lite"])


def test_pssuq_v3_scales_leave_na_out_of_the_means():
    # Lewis (2002): overall = items 1-16, SysUse 1-6, InfoQual 7-12, IntQual 13-15; an N/A answer is
    # left out of the average.
    a = [2, 3, 1, 2, "N/A", 2, 3, "", 4, 3, 2, 3, 1, 2, 2, 3]
    b = [7] * 6 + ["n/a"] * 6 + [5, 6, 7, 1]
    f = pd.DataFrame([["p1"] + a, ["p2"] + b], columns=["respondent_id"] + [f"Q{k}" for k in range(1, 17)])
    s = jl.score_questionnaire(f, instrument="pssuq")
    assert list(s.columns) == ["respondent_id", "overall", "sysuse", "infoqual", "intqual"]
    assert s.loc[0, "sysuse"] == pytest.approx(np.mean([2, 3, 1, 2, 2]))
    assert s.loc[0, "infoqual"] == pytest.approx(np.mean([3, 4, 3, 2, 3]))
    assert s.loc[0, "intqual"] == pytest.approx(np.mean([1, 2, 2]))
    assert s.loc[0, "overall"] == pytest.approx(33 / 14)  # 14 answered items summing to 33
    assert s.loc[1, "sysuse"] == 7 and np.isnan(s.loc[1, "infoqual"]) and s.loc[1, "intqual"] == 6
    assert s.loc[1, "overall"] == pytest.approx((42 + 5 + 6 + 7 + 1) / 10)


def test_pssuq_v2_item_ranges():
    # Lewis (1995): overall 1-19, SysUse 1-8, InfoQual 9-15, IntQual 16-18 (item 19 only in overall).
    answers = [1, 2, 3, 4, 5, 6, 7, 1, 2, 2, 2, 2, 2, 2, 2, 6, 6, 6, 7]
    f = pd.DataFrame([answers], columns=[f"item {k}" for k in range(1, 20)])
    s = jl.score_questionnaire(f, instrument="pssuq_v2", respondent=None)
    assert s.loc[0, "sysuse"] == pytest.approx(np.mean(answers[:8]))
    assert s.loc[0, "infoqual"] == 2 and s.loc[0, "intqual"] == 6
    assert s.loc[0, "overall"] == pytest.approx(np.mean(answers))
    with pytest.raises(JourneylabError, match="PSSUQ version 3 has 16 items; found 19"):
        jl.score_questionnaire(f, instrument="pssuq", respondent=None)


# ----------------------------------------------------------------------------- one item per task


def test_seq_one_column_per_task_with_labels_and_ces_csat_nps_ranges():
    f = pd.DataFrame({"respondent_id": ["r1", "r2"], "How easy was finding a plan?": [7, 3],
                      "How easy was paying?": [5, None]})
    s = jl.score_questionnaire(f, instrument="seq", items={"How easy was finding a plan?": "find_plan",
                                                "How easy was paying?": "pay"})
    assert list(s.columns) == ["respondent_id", "seq_find_plan", "seq_pay"]
    assert s["seq_find_plan"].tolist() == [7, 3] and np.isnan(s.loc[1, "seq_pay"])
    one = jl.score_questionnaire(f[["respondent_id", "How easy was paying?"]], instrument="seq")
    assert list(one.columns) == ["respondent_id", "seq"]
    c = pd.DataFrame({"respondent_id": ["r1"], "csat_delivery": [4], "csat_payment": [5]})
    assert list(jl.score_questionnaire(c, instrument="csat").columns) == ["respondent_id", "csat_delivery", "csat_payment"]
    with pytest.raises(JourneylabError, match=r"column 'csat_payment' \(csat_payment\), row 0 .*from 1 to 5"):
        jl.score_questionnaire(c.assign(csat_payment=[6]), instrument="csat")
    assert jl.score_questionnaire(c.assign(csat_payment=[6]), instrument="csat", scale=(1, 7)).loc[0, "csat_payment"] == 6
    e = pd.DataFrame({"respondent_id": ["r1", "r2"], "effort": [1, 7]})
    assert jl.score_questionnaire(e, instrument="ces")["ces"].tolist() == [1, 7]
    with pytest.raises(JourneylabError, match="from 1 to 5"):
        jl.score_questionnaire(e, instrument="ces", scale=(1, 5))
    n = pd.DataFrame({"respondent_id": ["r1", "r2"], "recommend": [0, 10]})
    assert jl.score_questionnaire(n, instrument="nps")["nps"].tolist() == [0, 10]
    with pytest.raises(JourneylabError, match="from 0 to 10"):
        jl.score_questionnaire(n.assign(recommend=[11, 3]), instrument="nps")


# ----------------------------------------------------------------------------- grades


@pytest.mark.parametrize("grade, low, high, pct", SUS_GRADES)
def test_sus_grade_table_boundaries(grade, low, high, pct):
    # Sauro & Lewis (2016), Quantifying the User Experience, 2nd ed., ch. 8: the curved grading scale
    # (also at measuringu.com/interpret-sus-score).
    g = jl.sus_grade([low, high])
    assert g["grade"].tolist() == [grade, grade] and g["percentile_range"].tolist() == [pct, pct]
    if low > 0:
        below = jl.sus_grade(round(low - 0.1, 1)).loc[0, "grade"]
        names = [x[0] for x in SUS_GRADES]
        assert below == names[names.index(grade) + 1]


def test_sus_grade_published_landmarks_and_rounding():
    # Sauro & Lewis: 68 (the average) is a C; above 80.3 (the old A cut) now splits A-/A at 80.8.
    g = jl.sus_grade([68, 80.3, 84.05, 84.04, 0, 100, np.nan])
    assert g["grade"].tolist()[:6] == ["C", "A-", "A+", "A", "F", "A+"] and pd.isna(g.loc[6, "grade"])
    assert [x[0] for x in SUS_GRADES] == ["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D", "F"]
    with pytest.raises(JourneylabError, match="from 0 to 100"):
        jl.sus_grade([50, 101])
    with pytest.raises(JourneylabError, match="`scores` must be"):
        jl.sus_grade("A")


# ----------------------------------------------------------------------------- summary


def test_summary_t_interval_by_hand_and_sus_grade_of_the_mean():
    s = pd.DataFrame({"respondent_id": range(6), "sus": [72.5, 85.0, 67.5, 77.5, np.nan, 60.0],
                      "device": ["app", "app", "web", "web", "web", "app"]})
    r = jl.questionnaire_summary(s, instrument="sus")
    v = np.array([72.5, 85.0, 67.5, 77.5, 60.0])
    half = stats.t.ppf(0.975, 4) * v.std(ddof=1) / np.sqrt(5)
    row = r.iloc[0]
    assert row["n"] == 5 and row["n_missing"] == 1 and row["mean"] == pytest.approx(v.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((v.mean() - half, v.mean() + half))
    assert row["mean"] == 72.5 and row["grade"] == jl.sus_grade(v.mean()).loc[0, "grade"] == "C+"  # 71.1–72.5
    assert "clipped to the scale's range 0–100" in row["method"]
    g = jl.questionnaire_summary(s, instrument="sus", by="device")
    assert g["device"].tolist() == ["app", "web"] and g["n"].tolist() == [3, 2] and g["n_missing"].tolist() == [0, 1]


def test_summary_interval_is_clipped_to_the_scale():
    s = pd.DataFrame({"respondent_id": range(4), "sus": [100.0, 97.5, 100.0, 90.0]})
    r = jl.questionnaire_summary(s, instrument="sus").iloc[0]
    v = np.array([100.0, 97.5, 100.0, 90.0])
    half = stats.t.ppf(0.975, 3) * v.std(ddof=1) / np.sqrt(4)
    assert v.mean() + half > 100 and r["ci_high"] == 100 and r["ci_low"] == pytest.approx(v.mean() - half)
    p = pd.DataFrame({"respondent_id": range(3), "overall": [1.0, 1.0, 1.5], "sysuse": [1.0, 1.1, 1.0],
                      "infoqual": [2, 3, 2], "intqual": [1, 1, 1]})
    pr = jl.questionnaire_summary(p, instrument="pssuq").set_index("scale")
    assert list(pr.index) == ["overall", "sysuse", "infoqual", "intqual"]
    assert pr.loc["overall", "ci_low"] == 1 and pr.loc["intqual", "ci_low"] == 1 and pr.loc["intqual", "sd"] == 0
    assert (pr["range_low"] == 1).all() and (pr["range_high"] == 7).all()


def test_summary_nps_matches_jl_nps_and_umux_lite_sus_equivalent_is_graded():
    n = pd.DataFrame({"respondent_id": range(10), "nps": [10, 9, 9, 10, 9, 8, 7, 7, 3, 6]})
    r = jl.questionnaire_summary(n, instrument="nps").iloc[0]
    ref = jl.nps(n)
    assert r["nps"] == ref.loc[0, "nps"] == 30 and r["nps_ci_low"] == ref.loc[0, "ci_low"]
    assert r["mean"] == pytest.approx(7.8) and r["range_high"] == 10
    u = jl.score_questionnaire(pd.DataFrame({"respondent_id": [1, 2], "a": [7, 6], "b": [6, 6]}), instrument="umux_lite")
    ur = jl.questionnaire_summary(u, instrument="umux_lite").set_index("scale")
    assert ur.loc["umux_lite_sus_equivalent", "grade"] == jl.sus_grade(
        ur.loc["umux_lite_sus_equivalent", "mean"]).loc[0, "grade"]
    assert ur.loc["umux_lite_sus_equivalent", "range_low"] == 22.9


def test_summary_csat_top_box_matches_jl_csat():
    c = pd.DataFrame({"respondent_id": range(5), "csat_delivery": [5, 4, 4, 2, None]})
    r = jl.questionnaire_summary(jl.score_questionnaire(c, instrument="csat"), instrument="csat").iloc[0]
    ref = jl.csat(c).iloc[0]
    assert r["scale"] == "csat_delivery" and r["n"] == 4 and r["n_missing"] == 1
    assert r["top_box"] == "4–5" and r["top_box_share"] == ref["top_box_share"] == 0.75
    assert (r["top_box_ci_low"], r["top_box_ci_high"]) == (ref["top_box_ci_low"], ref["top_box_ci_high"])
    assert (r["mean"], r["ci_low"], r["ci_high"]) == pytest.approx((ref["mean"], ref["mean_ci_low"],
                                                                    ref["mean_ci_high"]))


def test_summary_one_score_and_no_scores():
    one = jl.questionnaire_summary(pd.DataFrame({"respondent_id": [1], "sus": [70.0]}), instrument="sus").iloc[0]
    assert one["n"] == 1 and np.isnan(one["ci_low"]) and one["grade"] == "C"
    none = jl.questionnaire_summary(pd.DataFrame({"respondent_id": [], "sus": []}), instrument="sus").iloc[0]
    assert none["n"] == 0 and np.isnan(none["mean"])


# ----------------------------------------------------------------------------- errors


def test_out_of_range_answer_names_column_item_row_and_respondent():
    f = _sus_frame([[4, 2, 5, 1, 4, 2, 5, 1, 4, 3], [4, 2, 5, 1, 4, 2, 5, 6, 4, 3]])
    with pytest.raises(JourneylabError, match=r"score_questionnaire\(\): column 'sus8' \(System Usability Scale "
                                              r"item 8\), row 1 \(index 1, respondent_id 'R2'\): expected a whole "
                                              r"number from 1 to 5 \(or a blank / N/A\), found 6"):
        jl.score_questionnaire(f, instrument="sus")
    f["sus8"] = [1.0, 3.5]
    with pytest.raises(JourneylabError, match="column 'sus8'.*found 3.5; 1 such value") as e:
        jl.score_questionnaire(f, instrument="sus")
    assert "answers=" not in str(e.value)  # a number out of range is not a label problem


@pytest.mark.parametrize("kwargs, message", [
    (dict(instrument="sus2"), "`instrument` must be one of 'sus', 'umux_lite', 'pssuq', 'pssuq_v2', 'seq'"),
    (dict(instrument="sus", items=["sus1", "sus2"]), "System Usability Scale has 10 items; found 2"),
    (dict(instrument="sus", items=["sus1", "nope"]), "`items` names column 'nope', which `responses` lacks"),
    (dict(instrument="sus", items=[0, 99]), "`items` position 99 is outside the frame's 11 columns"),
    (dict(instrument="sus", items={f"sus{k}": k + 1 for k in range(1, 11)}), "item number, 1 to 10, each once"),
    (dict(instrument="sus", respondent="Response ID"), "`respondent` column 'Response ID' is not in `responses`"),
    (dict(instrument="sus", reverse=["respondent_id"]), "`reverse` names 'respondent_id', which is not one of"),
    (dict(instrument="sus", comments="after"), "found 5 item column(s) (comments='after' took every second column"),
    (dict(instrument="sus", scale=(1, 7)), "`scale` applies to 'csat' and 'ces' only"),
    (dict(instrument="sus", answers=["a"]), "`answers` must be a dict"),
])
def test_argument_errors(kwargs, message):
    f = _sus_frame([[4, 2, 5, 1, 4, 2, 5, 1, 4, 3]])
    with pytest.raises(JourneylabError, match=message.replace("(", r"\(").replace(")", r"\)")):
        jl.score_questionnaire(f, **kwargs)


def test_duplicate_and_blank_respondent_ids():
    f = _sus_frame([[3] * 10, [3] * 10], ids=["R1", "R1"])
    with pytest.raises(JourneylabError, match="column 'respondent_id', row 1: respondent id 'R1' appears twice"):
        jl.score_questionnaire(f, instrument="sus")
    with pytest.raises(JourneylabError, match="row 0: empty respondent id"):
        jl.score_questionnaire(_sus_frame([[3] * 10], ids=[" "]), instrument="sus")


def test_summary_errors():
    with pytest.raises(JourneylabError, match="none of the System Usability Scale's score columns"):
        jl.questionnaire_summary(pd.DataFrame({"respondent_id": [1], "umux_lite": [50.0]}), instrument="sus")
    with pytest.raises(JourneylabError, match="no column 'seq' or 'seq_<item>'"):
        jl.questionnaire_summary(pd.DataFrame({"respondent_id": [1], "ease": [5]}), instrument="seq")
    with pytest.raises(JourneylabError, match="`confidence` must be a number between 0 and 1"):
        jl.questionnaire_summary(pd.DataFrame({"sus": [50.0]}), instrument="sus", confidence=95)
    with pytest.raises(JourneylabError, match=r"missing column\(s\) 'persona'"):
        jl.questionnaire_summary(pd.DataFrame({"sus": [50.0]}), instrument="sus", by="persona")


def test_comments_by_mapping_and_errors():
    f = pd.DataFrame({"respondent_id": ["r1", "r2"], "a": [6, 7], "b": [5, 5], "why a": [" slow ", None],
                      "why b": ["", "N/A"]})
    c = jl.questionnaire_comments(f, instrument="umux_lite", items=["a", "b"], comments={"a": "why a", "b": "why b"})
    assert c.to_dict("records") == [{"respondent_id": "r1", "item": "umux_lite_1", "column": "why a",
                                     "comment": "slow"}]
    s = jl.score_questionnaire(f, instrument="umux_lite", comments={"a": "why a", "b": "why b"})
    assert s["umux_lite"].tolist() == pytest.approx([75.0, 83.333333])
    with pytest.raises(JourneylabError, match="item column 'b' is not followed by a comment column"):
        jl.questionnaire_comments(f[["respondent_id", "a", "why a", "b"]], instrument="umux_lite", items=["a", "b"])
    with pytest.raises(JourneylabError, match="comments='after' needs the columns to alternate item, comment"):
        jl.score_questionnaire(f[["respondent_id", "a", "why a", "b"]], instrument="umux_lite", comments="after")
    with pytest.raises(JourneylabError, match="`comments` maps 'why b', which is not one of the item columns"):
        jl.questionnaire_comments(f, instrument="umux_lite", items=["a", "b"], comments={"why b": "why a"})
