"""Tests of journeylab.coding.reliability: agreement statistics, disagreements, merging coders.

Expected values are hand-computed (the arithmetic is in the comments) or taken from published
worked examples, named in each test.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylab.coding.reliability import OVERALL, agreement, krippendorff_alpha, krippendorff_band, landis_koch
from journeylab.errors import JourneylabError

nan = np.nan


def codings_from(decisions: dict[str, dict[str, list[int]]], unit_prefix: str = "u") -> tuple[pd.DataFrame, list[str]]:
    """Codings frame from {coder: {code: [0/1 per unit]}}; returns (codings, unit ids)."""
    rows = []
    n = None
    for coder, per_code in decisions.items():
        for code, values in per_code.items():
            n = len(values)
            for i, v in enumerate(values):
                if v:
                    rows.append({"segment_id": f"{unit_prefix}{i:03d}", "code": code, "coder": coder,
                                 "origin": "manual", "memo": pd.NA})
    units = [f"{unit_prefix}{i:03d}" for i in range(n)]
    return pd.DataFrame(rows, columns=["segment_id", "code", "coder", "origin", "memo"]), units


def table_2x2(a: int, b: int, c: int, d: int) -> tuple[list[int], list[int]]:
    """Two coders' decisions from a 2x2 table: a = both yes, b = A only, c = B only, d = both no."""
    first = [1] * a + [1] * b + [0] * c + [0] * d
    second = [1] * a + [0] * b + [1] * c + [0] * d
    return first, second


def row(table: pd.DataFrame, code: str) -> pd.Series:
    return table.set_index("code").loc[code]


# ----------------------------------------------------------------------------- Cohen's kappa


def test_cohen_kappa_textbook_2x2():
    # Wikipedia "Cohen's kappa", worked example: 50 proposals, both yes 20, A yes/B no 5,
    # A no/B yes 10, both no 15. Po = 35/50 = 0.70; A says yes 25/50 = .5, B 30/50 = .6;
    # Pe = .5*.6 + .5*.4 = 0.50; kappa = (.70 - .50) / (1 - .50) = 0.40.
    a, b = table_2x2(20, 5, 10, 15)
    codings, units = codings_from({"A": {"x": a}, "B": {"x": b}})
    r = row(agreement(codings, units=units, n_boot=0), "x")
    assert r["n_units"] == 50 and r["n_coders"] == 2 and r["n_positive"] == 35
    assert r["percent_agreement"] == pytest.approx(0.70, abs=5e-4)
    assert r["cohen_kappa"] == pytest.approx(0.400, abs=5e-4)
    assert np.isnan(r["fleiss_kappa"])
    assert r["pabak"] == pytest.approx(0.400, abs=5e-4)  # 2 * .70 - 1
    assert r["prevalence"] == pytest.approx(0.55, abs=5e-4)  # (.5 + .6) / 2
    assert r["bias_index"] == pytest.approx(0.10, abs=5e-4)  # |.5 - .6|
    assert r["interpretation"] == "fair"


def test_expected_agreement_is_sum_of_marginal_products_not_yes_times_no():
    # 50 units, both yes 40, A only 5, B only 5, both no 0. Each coder: P(yes) = .9.
    # Po = .80. Standard Pe = .9*.9 + .1*.1 = .82 -> kappa = (.80 - .82) / .18 = -0.111.
    # The wrong P(yes)*P(no) = .09 would give (.80 - .09) / .91 = 0.780.
    a, b = table_2x2(40, 5, 5, 0)
    codings, units = codings_from({"A": {"x": a}, "B": {"x": b}})
    r = row(agreement(codings, units=units, n_boot=0), "x")
    assert r["cohen_kappa"] == pytest.approx(-0.111, abs=5e-4)
    assert r["cohen_kappa"] != pytest.approx(0.780, abs=0.01)
    assert r["pabak"] == pytest.approx(0.600, abs=5e-4)
    assert r["interpretation"] == "poor"


def test_prevalence_paradox_warns_and_reports_pabak():
    # 100 units: both yes 1, A only 1, B only 1, both no 97. Po = .98, p_A = p_B = .02,
    # Pe = .02^2 + .98^2 = .9608, kappa = (.98 - .9608) / .0392 = 0.490; PABAK = 2*.98 - 1 = .96.
    a, b = table_2x2(1, 1, 1, 97)
    codings, units = codings_from({"A": {"rare": a}, "B": {"rare": b}})
    r = row(agreement(codings, units=units, n_boot=0), "rare")
    assert r["cohen_kappa"] == pytest.approx(0.490, abs=5e-4)
    assert r["pabak"] == pytest.approx(0.960, abs=5e-4)
    assert r["prevalence"] == pytest.approx(0.02)
    assert "prevalence 2.0%" in r["warning"] and "pabak" in r["warning"]


def test_krippendorff_binary_example_two_observers():
    # Krippendorff (2011), "A. Binary or dichotomous data, two observers, no missing data":
    # alpha = 0.095. Cohen's kappa by hand: agree on 6/10 units (Po = .6), p_A = .2, p_B = .4,
    # Pe = .2*.4 + .8*.6 = .56, kappa = (.6 - .56) / .44 = 0.0909.
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    codings, units = codings_from({"A": {"x": a}, "B": {"x": b}})
    r = row(agreement(codings, units=units, n_boot=0), "x")
    assert r["krippendorff_alpha"] == pytest.approx(0.095, abs=5e-4)
    assert r["cohen_kappa"] == pytest.approx(0.091, abs=5e-4)
    assert r["alpha_interpretation"] == "unreliable"
    assert "only 10 units" in r["warning"]


# ----------------------------------------------------------------------------- Fleiss' kappa


WIKI_FLEISS = [  # Wikipedia "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_wikipedia_example_through_pooled_kappa():
    # Each category is a code; rater r applies code j to subject i if it chose category j.
    # Fleiss (1971) shows kappa = sum_j p_j q_j kappa_j / sum_j p_j q_j, which equals the pooled
    # kappa (mean Po - mean Pe) / (1 - mean Pe) over the one-vs-rest codes: the overall row must
    # reproduce Wikipedia's P-bar = 0.378, Pe-bar = 0.213, kappa = 0.210.
    rows = []
    for i, counts in enumerate(WIKI_FLEISS):
        rater = 0
        for j, c in enumerate(counts):
            for _ in range(c):
                rows.append({"segment_id": f"s{i}", "code": f"cat{j + 1}", "coder": f"r{rater:02d}"})
                rater += 1
    codings = pd.DataFrame(rows)
    table = agreement(codings, units=[f"s{i}" for i in range(10)], n_boot=0)
    overall = row(table, OVERALL)
    assert overall["n_coders"] == 14 and overall["n_units"] == 10
    assert overall["fleiss_kappa"] == pytest.approx(0.210, abs=5e-4)
    assert np.isnan(overall["cohen_kappa"])
    assert table["fleiss_kappa"].iloc[:5].notna().all()


def test_fleiss_kappa_three_coders_binary_by_hand():
    # 3 coders, 6 units; number of coders saying yes per unit k = 3, 0, 2, 1, 3, 0.
    # P_i = (k(k-1) + (3-k)(2-k)) / 6 = 1, 1, 1/3, 1/3, 1, 1 -> P-bar = 0.7778;
    # p = 9/18 = .5, Pe = .5^2 + .5^2 = .5; kappa = (.7778 - .5) / .5 = 0.556.
    # Alpha: n.. = 18, n_1 = n_0 = 9, o_01 + o_10 = 2 + 2 = 4 (units with k = 2 and k = 1),
    # alpha = 1 - 17 * 4 / (2 * 9 * 9) = 0.580.
    codings, units = codings_from({
        "A": {"x": [1, 0, 1, 1, 1, 0]},
        "B": {"x": [1, 0, 1, 0, 1, 0]},
        "C": {"x": [1, 0, 0, 0, 1, 0]},
    })
    r = row(agreement(codings, units=units, n_boot=0), "x")
    assert r["fleiss_kappa"] == pytest.approx(0.556, abs=5e-4)
    assert r["percent_agreement"] == pytest.approx(0.778, abs=5e-4)
    assert r["krippendorff_alpha"] == pytest.approx(0.580, abs=5e-4)
    assert r["pabak"] == pytest.approx(2 * 7 / 9 - 1, abs=5e-4)
    assert np.isnan(r["cohen_kappa"])


# ----------------------------------------------------------------------------- Krippendorff's alpha

KRIPP_C = [  # Krippendorff (2011), "C. Nominal data, any number of observers, missing data"
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
]


def test_krippendorff_published_example_with_missing_data():
    assert krippendorff_alpha(KRIPP_C) == pytest.approx(0.743, abs=5e-4)
    # None and pd.NA are missing too; a DataFrame in the same layout gives the same value
    as_objects = [[None if (isinstance(v, float) and np.isnan(v)) else v for v in r] for r in KRIPP_C]
    assert krippendorff_alpha(as_objects) == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(pd.DataFrame(KRIPP_C)) == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_nominal_two_observers_letters():
    # Krippendorff (2011), "B. Nominal data, two observers, no missing data": alpha = 0.692.
    a = "a a b b d c c c e d d a".split()
    b = "b a b b b c c c e d d d".split()
    assert krippendorff_alpha([a, b]) == pytest.approx(0.692, abs=5e-4)


def test_krippendorff_matches_package():
    krippendorff = pytest.importorskip("krippendorff")
    expected = krippendorff.alpha(reliability_data=KRIPP_C, level_of_measurement="nominal")
    assert krippendorff_alpha(KRIPP_C) == pytest.approx(expected, abs=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from([0, 1, 2, None]), min_size=8, max_size=8), min_size=2, max_size=4))
def test_krippendorff_random_data_matches_package(data):
    krippendorff = pytest.importorskip("krippendorff")
    arr = np.array([[np.nan if v is None else v for v in r] for r in data], dtype=float)
    ours = krippendorff_alpha(arr)
    try:
        theirs = krippendorff.alpha(reliability_data=arr, level_of_measurement="nominal")
    except ValueError:  # the package refuses data with a single category or no pairable unit
        theirs = nan
    if np.isnan(theirs) or np.isnan(ours):
        assert np.isnan(ours) or np.isnan(theirs)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


def test_agreement_alpha_matches_package_per_code():
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(7)
    dec = {c: {k: rng.integers(0, 2, 40).tolist() for k in ("p", "q")} for c in ("A", "B", "C")}
    codings, units = codings_from(dec)
    table = agreement(codings, units=units, n_boot=0)
    for code in ("p", "q"):
        data = [dec[c][code] for c in ("A", "B", "C")]
        assert row(table, code)["krippendorff_alpha"] == pytest.approx(
            krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"), abs=1e-9)


def test_krippendorff_alpha_rejects_other_levels():
    with pytest.raises(JourneylabError, match="level"):
        krippendorff_alpha(KRIPP_C, level="interval")


# ----------------------------------------------------------------------------- units, restriction


@pytest.fixture
def tiny():
    """Three documents; interviewer turns are not units. A codes D1-D3, B codes D1-D2."""
    seg = []
    for doc in ("D1", "D2", "D3"):
        for turn in range(1, 5):
            seg.append({"segment_id": f"{doc}-t{turn:03d}", "doc_id": doc,
                        "participant_id": doc.replace("D", "P") if turn % 2 == 0 else pd.NA,
                        "speaker_role": "participant" if turn % 2 == 0 else "interviewer",
                        "turn": turn, "text": f"text of {doc} turn {turn}"})
    segments = pd.DataFrame(seg)
    codings = pd.DataFrame([
        ("D1-t002", "price", "A"), ("D1-t002", "price", "B"),
        ("D1-t004", "delivery", "A"),
        ("D2-t002", "delivery", "A"), ("D2-t002", "delivery", "B"), ("D2-t004", "price", "B"),
        ("D3-t002", "price", "A"),
    ], columns=["segment_id", "code", "coder"])
    return segments, codings


def test_units_rule_uses_participant_turns_of_documents_both_coded(tiny):
    segments, codings = tiny
    table = agreement(codings, segments=segments, n_boot=0)
    # units: participant turns of D1 and D2 (D3 was not coded by B) = 4 segments
    assert set(table["n_units"]) == {4}
    price = row(table, "price")
    # price: A = [1, 0, 0, 0], B = [1, 0, 0, 1] over D1-t002, D1-t004, D2-t002, D2-t004
    assert price["percent_agreement"] == pytest.approx(0.75)
    # Pe = .25*.5 + .75*.5 = .5 -> kappa = (.75 - .5)/.5 = .5
    assert price["cohen_kappa"] == pytest.approx(0.5)


def test_restriction_to_documents_and_codes(tiny):
    segments, codings = tiny
    table = agreement(codings, segments=segments, documents=["D2"], codes=["delivery"], n_boot=0)
    assert table["code"].tolist() == ["delivery", OVERALL]
    # D2 participant turns: both coded delivery on t002, neither on t004 -> perfect agreement
    d = row(table, "delivery")
    assert d["n_units"] == 2 and d["percent_agreement"] == 1.0 and d["cohen_kappa"] == pytest.approx(1.0)


def test_codes_nobody_applied_are_undefined(tiny):
    segments, codings = tiny
    r = row(agreement(codings, segments=segments, codes=["price", "gift"], n_boot=0), "gift")
    assert r["n_positive"] == 0 and np.isnan(r["cohen_kappa"]) and np.isnan(r["krippendorff_alpha"])
    assert r["percent_agreement"] == 1.0
    assert "undefined" in r["warning"] and r["interpretation"] == "undefined"


def test_without_segments_units_are_coded_segments(tiny):
    _, codings = tiny
    table = agreement(codings, n_boot=0)
    assert row(table, "price")["n_units"] == 5  # segments coded by A or B


def test_input_not_mutated(tiny):
    segments, codings = tiny
    before_c, before_s = codings.copy(), segments.copy()
    agreement(codings, segments=segments, n_boot=50)
    pd.testing.assert_frame_equal(codings, before_c)
    pd.testing.assert_frame_equal(segments, before_s)


# ----------------------------------------------------------------------------- bootstrap, bands, errors


def test_bootstrap_interval_is_seeded_and_brackets_estimate():
    a, b = table_2x2(20, 5, 10, 15)
    codings, units = codings_from({"A": {"x": a, "y": b}, "B": {"x": b, "y": b}})
    t1 = agreement(codings, units=units, n_boot=300, random_state=3)
    t2 = agreement(codings, units=units, n_boot=300, random_state=3)
    pd.testing.assert_frame_equal(t1, t2)
    r = row(t1, "x")
    assert r["ci_low"] < r["cohen_kappa"] < r["ci_high"]
    assert r["alpha_ci_low"] < r["krippendorff_alpha"] < r["alpha_ci_high"]
    o = row(t1, OVERALL)
    assert o["ci_low"] < o["cohen_kappa"] < o["ci_high"]
    # y: perfect agreement -> degenerate interval at 1
    assert row(t1, "y")["ci_low"] == pytest.approx(1.0)
    t3 = agreement(codings, units=units, n_boot=0)
    assert t3[["ci_low", "ci_high", "alpha_ci_low", "alpha_ci_high"]].isna().all().all()


def test_overall_row_pools_codes():
    # two codes with known Po/Pe: x: Po .7, Pe .5 (above); z: both yes 10, A only 0, B only 0, no 40:
    # Po 1, p = .2, Pe = .04 + .64 = .68. Pooled kappa = (.85 - .59) / (1 - .59) = 0.634.
    a, b = table_2x2(20, 5, 10, 15)
    z = [1] * 10 + [0] * 40
    codings, units = codings_from({"A": {"x": a, "z": z}, "B": {"x": b, "z": z}})
    o = row(agreement(codings, units=units, n_boot=0), OVERALL)
    assert o["percent_agreement"] == pytest.approx(0.85)
    assert o["cohen_kappa"] == pytest.approx(0.634, abs=5e-4)
    assert o["pabak"] == pytest.approx(0.70)


@pytest.mark.parametrize("kappa, band", [(-0.1, "poor"), (0.0, "slight"), (0.2, "slight"), (0.21, "fair"),
                                         (0.5, "moderate"), (0.8, "substantial"), (0.81, "almost perfect")])
def test_landis_koch_bands(kappa, band):
    assert landis_koch(kappa) == band


@pytest.mark.parametrize("alpha, band", [(0.5, "unreliable"), (0.667, "tentative"), (0.79, "tentative"),
                                         (0.8, "reliable")])
def test_krippendorff_bands(alpha, band):
    assert krippendorff_band(alpha) == band


def test_errors_name_the_problem(tiny):
    segments, codings = tiny
    with pytest.raises(JourneylabError, match=r"coder\(s\) 'C' not found.*'A', 'B'"):
        agreement(codings, coders=["A", "C"])
    with pytest.raises(JourneylabError, match="at least 2 coders"):
        agreement(codings, coders=["A"])
    with pytest.raises(JourneylabError, match="`documents=` needs `segments=`"):
        agreement(codings, documents=["D1"])
    with pytest.raises(JourneylabError, match="missing column.*'coder'"):
        agreement(codings.drop(columns="coder"))
    with pytest.raises(JourneylabError, match="not in `segments`"):
        agreement(codings, segments=segments[segments["doc_id"] != "D3"])
    with pytest.raises(JourneylabError, match="document.*'D9'"):
        agreement(codings, segments=segments, documents=["D9"])


# ----------------------------------------------------------------------------- disagreements, compare_coders

from journeylab.coding.reliability import compare_coders, disagreements  # noqa: E402


@pytest.fixture
def with_memos(tiny):
    segments, codings = tiny
    codings = codings.assign(memo=[pd.NA, "", "arrived late", pd.NA, pd.NA, "cost <too> high", pd.NA])
    segments = segments.assign(text=segments["text"] + " <script>")
    return segments, codings


def test_disagreements_rows_and_memos(with_memos):
    segments, codings = with_memos
    diff = disagreements(codings, segments=segments)
    assert diff.columns.tolist() == ["segment_id", "doc_id", "participant_id", "code", "text",
                                     "A", "B", "memo_A", "memo_B"]
    # units D1-t002, D1-t004, D2-t002, D2-t004: A alone coded delivery on D1-t004, B alone price on D2-t004
    assert diff[["segment_id", "code", "A", "B"]].values.tolist() == [
        ["D1-t004", "delivery", True, False], ["D2-t004", "price", False, True]]
    assert diff["memo_A"].tolist() == ["arrived late", ""]
    assert diff["memo_B"].tolist() == ["", "cost <too> high"]
    assert diff["participant_id"].tolist() == ["P1", "P2"]
    assert diff["text"].iloc[0] == "text of D1 turn 4 <script>"


def test_disagreements_count_matches_agreement(with_memos):
    segments, codings = with_memos
    diff = disagreements(codings, segments=segments)
    table = agreement(codings, segments=segments, n_boot=0).set_index("code")
    for code in ("price", "delivery"):
        n_diff = (diff["code"] == code).sum()
        assert n_diff == round(table.loc[code, "n_units"] * (1 - table.loc[code, "percent_agreement"]))


def test_disagreements_restricted_and_empty(with_memos):
    segments, codings = with_memos
    assert disagreements(codings, segments=segments, documents=["D1"])["segment_id"].tolist() == ["D1-t004"]
    empty = disagreements(codings, segments=segments, codes=["price"], documents=["D1"])
    assert len(empty) == 0 and "memo_B" in empty.columns


def test_coder_name_clash_is_an_error(with_memos):
    segments, codings = with_memos
    with pytest.raises(JourneylabError, match="'text'.*clash"):
        disagreements(codings.replace({"coder": {"A": "text"}}), segments=segments)


def test_compare_coders_matrix_and_escaped_html(with_memos):
    segments, codings = with_memos
    view = compare_coders(codings, segments=segments)
    assert view.matrix.index.tolist() == ["D1-t004", "D2-t004"]
    assert view.codes == ["price", "delivery"]
    assert view.matrix.loc["D1-t004", ("delivery", "A")] and not view.matrix.loc["D1-t004", ("delivery", "B")]
    assert view.matrix.loc["D2-t004", ("price", "B")]
    long = view.to_frame()
    assert len(long) == 2 * 2 * 2 and long["applied"].sum() == 2
    page = view._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.count("#fdd49e") == 2  # two disagreement cells highlighted
    assert "2 disagreements" in repr(view)
    everything = compare_coders(codings, segments=segments, only_disagreements=False)
    assert len(everything.matrix) == 4 and "#d9f0d3" in everything.to_html()  # D1-t002 price: both applied


# ----------------------------------------------------------------------------- merge_codings

from journeylab.coding.reliability import merge_codings, merge_report, normalize_coder  # noqa: E402


def frame(rows, columns=("segment_id", "code", "coder", "origin", "memo", "decided_at")):
    return pd.DataFrame(rows, columns=list(columns))


def test_normalize_coder_folds_case_space_and_unicode():
    names = ["Amara", "amara ", "AMARA", " amara", "Ａｍａｒａ", "ama\u0072a"]
    assert {normalize_coder(n) for n in names} == {"amara"}
    assert normalize_coder("Anna  Lee") == normalize_coder("anna lee")
    # NFKC: a decomposed "é" (e + combining acute) is the same coder as the precomposed one
    assert normalize_coder("Rene\u0301") == normalize_coder("Ren\u00e9")
    assert normalize_coder("Amara") != normalize_coder("Amaru")


def test_merge_keeps_first_spelling_and_reports():
    a = frame([("s1", "price", "Amara", "manual", None, "2026-01-01T10:00:00")])
    b = frame([("s2", "price", "amara ", "manual", None, "2026-01-01T11:00:00"),
               ("s3", "gift", "AMARA", "manual", None, "2026-01-01T12:00:00"),
               ("s1", "price", "Jonas", "manual", None, "2026-01-01T10:00:00")])
    merged, report = merge_codings(a, b), merge_report(a, b)
    assert merged["coder"].tolist() == ["Amara", "Amara", "Amara", "Jonas"]
    assert merged[["segment_id", "code"]].values.tolist() == [["s1", "price"], ["s2", "price"], ["s3", "gift"], ["s1", "price"]]
    renamed = report[report["kind"] == "coder_merged"]
    assert sorted(renamed["original"]) == ["AMARA", "amara "]
    assert set(renamed["coder"]) == {"Amara"} and renamed["n_rows"].tolist() == [1, 1]
    assert merged.attrs["merge_report"][0]["kind"] == "coder_merged"


def test_merge_collapses_exact_duplicates_without_losing_decisions():
    a = frame([("s1", "price", "amara", "manual", "cheap", "2026-01-01T10:00:00"),
               ("s2", "price", "amara", "manual", None, "2026-01-01T10:00:00")])
    merged, report = merge_codings(a, a.copy(), a.assign(coder="Amara")), merge_report(a, a.copy(), a.assign(coder="Amara"))
    assert len(merged) == 2 and merged["memo"].tolist()[0] == "cheap"
    dup = report[report["kind"] == "duplicate"]
    assert len(dup) == 2 and dup["n_rows"].tolist() == [3, 3]
    # blank and missing memos are the same decision
    c = frame([("s2", "price", "amara", "manual", "", "2026-01-01T10:00:00")])
    merged2, report2 = merge_codings(a, c), merge_report(a, c)
    assert len(merged2) == 2 and report2["kind"].tolist() == ["duplicate"]


def test_merge_conflict_keeps_latest_and_reports_both():
    old = frame([("s1", "price", "amara", "manual", "first thought", "2026-01-01T10:00:00")])
    new = frame([("s1", "price", "Amara", "manual", "on reflection", "2026-01-03T09:00:00")])
    merged, report = merge_codings(new, old), merge_report(new, old)  # the newer one comes first
    assert merged["memo"].tolist() == ["on reflection"] and merged["coder"].tolist() == ["Amara"]
    conflict = report[report["kind"] == "conflict"].iloc[0]
    assert "latest decided_at" in conflict["detail"]
    assert "first thought" in conflict["detail"] and "on reflection" in conflict["detail"]
    assert conflict["source"] == "frame 2"
    # a removal recorded later (present=False) wins over an earlier application
    p1 = old.assign(present=True)
    p2 = old.assign(present=False, decided_at="2026-01-05T00:00:00")
    merged = merge_codings(p1, p2)
    assert merged["present"].tolist() == [False]


def test_merge_without_timestamps_later_source_wins():
    a = frame([("s1", "price", "amara", "manual", "A")], columns=("segment_id", "code", "coder", "origin", "memo"))
    b = a.assign(memo="B")
    merged, report = merge_codings(a, b), merge_report(a, b)
    assert merged["memo"].tolist() == ["B"]
    assert "later source wins" in report["detail"].iloc[0]


def test_merge_spans_are_separate_decisions():
    cols = ("segment_id", "code", "coder", "span_start", "span_end")
    a = frame([("s1", "price", "amara", 0, 5), ("s1", "price", "amara", 10, 20)], columns=cols)
    assert len(merge_codings(a, a)) == 2


def test_merge_reads_csv_files_and_folders(tmp_path):
    folder = tmp_path / "codings"
    folder.mkdir()
    (folder / "amara.csv").write_text("segment_id,code,origin,memo\ns1,price,manual,\ns2,gift,manual,nice\n")
    (folder / "jonas.csv").write_text("segment_id,code,coder,origin,memo\ns1,price,Jonas ,manual,\n")
    extra = frame([("s1", "price", "AMARA", "manual", None, None)])
    merged, report = merge_codings(folder, extra), merge_report(folder, extra)
    assert sorted(map(tuple, merged[["coder", "segment_id"]].values.tolist())) == [
        ("Jonas", "s1"), ("amara", "s1"), ("amara", "s2")]
    assert merged.loc[merged["segment_id"] == "s2", "memo"].item() == "nice"
    assert pd.isna(merged.loc[(merged["coder"] == "amara") & (merged["segment_id"] == "s1"), "memo"].item())
    assert "duplicate" in set(report["kind"])
    with pytest.raises(JourneylabError, match="does not exist"):
        merge_codings(tmp_path / "nope.sqlite")
    with pytest.raises(JourneylabError, match="at least one source"):
        merge_codings()
    with pytest.raises(JourneylabError, match="source 1 must be"):
        merge_codings(42)


def test_merge_does_not_mutate_inputs():
    a = frame([("s1", "price", "amara ", "manual", "", "2026-01-01")])
    before = a.copy()
    merge_codings(a, a)
    pd.testing.assert_frame_equal(a, before)


# ----------------------------------------------------------------------------- sample study


def test_sample_study_agreement_matches_statsmodels_on_participant_turns(sample_study):
    from statsmodels.stats.inter_rater import cohens_kappa


    study = sample_study
    if study.codings["coder"].nunique() < 2:
        pytest.skip("sample study has fewer than two coders yet")
    seg, cod = study.segments, study.codings
    docs = set.intersection(*[set(seg.set_index("segment_id").loc[g["segment_id"], "doc_id"])
                              for _, g in cod.groupby("coder")])
    units = seg[(seg["speaker_role"] == "participant") & seg["doc_id"].isin(docs)]["segment_id"]
    table = agreement(cod, segments=seg, n_boot=20).set_index("code")
    assert (table["n_units"] == len(units)).all()
    a_name, b_name = sorted(cod["coder"].unique())
    for code in ("frustration", "shipping_form_tedious"):
        a = units.isin(cod[(cod["coder"] == a_name) & (cod["code"] == code)]["segment_id"])
        b = units.isin(cod[(cod["coder"] == b_name) & (cod["code"] == code)]["segment_id"])
        t = [[(a & b).sum(), (a & ~b).sum()], [(~a & b).sum(), (~a & ~b).sum()]]
        assert table.loc[code, "cohen_kappa"] == pytest.approx(cohens_kappa(t, return_results=False))


def test_plot_agreement_draws_every_defined_code(tiny):
    from journeylab.coding.reliability import plot_agreement

    segments, codings = tiny
    table = agreement(codings, segments=segments, codes=["price", "delivery", "gift"], n_boot=50)
    ax = plot_agreement(table)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == OVERALL and "gift" not in labels  # gift: undefined kappa, left out
    assert set(labels) == {"price", "delivery", OVERALL}
    ax2 = plot_agreement(table, statistic="alpha")
    assert "Krippendorff" in ax2.get_xlabel()
    with pytest.raises(JourneylabError, match="`statistic`"):
        plot_agreement(table, statistic="pi")


def test_plot_agreement_draws_a_zero_width_interval_as_unknown(tiny):
    """A bootstrap interval of zero width (few positive turns) is drawn across the scale, not as certainty."""
    from journeylab.coding.reliability import plot_agreement

    segments, codings = tiny
    table = agreement(codings, segments=segments, codes=["price", "delivery"], n_boot=50)
    flat = table.assign(ci_low=table["cohen_kappa"], ci_high=table["cohen_kappa"])
    legend = [t.get_text() for t in plot_agreement(flat).get_legend().get_texts()]
    assert any("zero width" in t for t in legend)
    legend = [t.get_text() for t in plot_agreement(table.assign(ci_low=-0.5, ci_high=0.9)).get_legend().get_texts()]
    assert not any("zero width" in t for t in legend)
