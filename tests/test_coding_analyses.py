"""Analyses of codings on a tiny hand-made study; every expected number is worked out in the comments."""
from __future__ import annotations

import pandas as pd
import pytest

import journeylab as jl
from journeylab.coding.analysis import (
    MAX_SATURATION_LABELS,
    co_occurrence,
    code_frequencies,
    evaluate_codings,
    exemplar_quotes,
    plot_co_occurrence,
    plot_saturation,
    saturation,
    stop_words,
    suggest_codes,
)
from journeylab.errors import JourneylabError
from journeylab.study.codebook import Code, Codebook

# Four participants; P1, P2 persona A; P3, P4 persona B. One document per participant.
#   seg  doc  participant  codes (gold)
#   a    D1   P1           x, y
#   b    D1   P1           x
#   c    D2   P2           x, z
#   d    D2   P2           y
#   e    D3   P3           y
#   g    D3   P3           -            "address lookup was broken"
#   f    D4   P4           -            "The address lookup failed twice"
#   h    D4   P4           -            "address lookup, again"
#   i    D4   interviewer  z
SEG = [
    ("a", "D1", "P1", "participant", 0, 17, "refund took weeks"),
    ("b", "D1", "P1", "participant", 18, 60, "the address form reset itself twice over"),
    ("c", "D2", "P2", "participant", 0, 30, "the address form was so slow"),
    ("d", "D2", "P2", "participant", 31, 60, "refund took weeks to arrive"),
    ("e", "D3", "P3", "participant", 0, 17, "I love the colour"),
    ("g", "D3", "P3", "participant", 18, 44, "address lookup was broken"),
    ("f", "D4", "P4", "participant", 0, 31, "The address lookup failed twice"),
    ("h", "D4", "P4", "participant", 32, 53, "address lookup, again"),
    ("i", "D4", None, "interviewer", 58, 80, "any delivery charges?"),
]


@pytest.fixture
def segments():
    return pd.DataFrame(SEG, columns=["segment_id", "doc_id", "participant_id", "speaker_role", "start", "end", "text"])


@pytest.fixture
def participants():
    return pd.DataFrame({"participant_id": ["P1", "P2", "P3", "P4"], "persona": ["A", "A", "B", "B"]})


@pytest.fixture
def codings():
    pairs = [("a", "x"), ("a", "y"), ("b", "x"), ("c", "x"), ("c", "z"), ("d", "y"), ("e", "y"), ("i", "z")]
    gold = pd.DataFrame(pairs, columns=["segment_id", "code"]).assign(coder="gold", origin="manual", memo=None)
    other = pd.DataFrame([("f", "x")], columns=["segment_id", "code"]).assign(coder="ana", origin="manual", memo=None)
    return pd.concat([gold, other], ignore_index=True)


@pytest.fixture
def codebook():
    return Codebook([Code("w", stage="s1"), Code("x", stage="s1", kind="pain_point"),
                     Code("y", stage="s2", kind="delight"), Code("z")])


def test_frequencies_people_vs_mentions(codings, segments, participants):
    with pytest.warns(jl.InterviewerCodingsWarning, match="1 coding on interviewer turns is left out of code "
                                                          "frequencies"):
        f = code_frequencies(codings, segments=segments, participants=participants, coder="gold")
    # x: segments a,b,c (3) from P1,P2 (2 of 4); y: a,d,e (3) from P1,P2,P3 (3 of 4);
    # z: c (1 segment, P2: 1 of 4); its coding on the interviewer turn i is left out (participant_codings)
    assert f[["code", "n_segments", "n_participants", "n_participants_total", "mentioned_by"]].values.tolist() == [
        ["y", 3, 3, 4, "3 of 4"], ["x", 3, 2, 4, "2 of 4"], ["z", 1, 1, 4, "1 of 4"]]
    assert f["share_participants"].tolist() == [0.75, 0.5, 0.25]
    # without a participants frame the denominator is the participants seen in the segments: also 4
    assert code_frequencies(codings, segments=segments, coder="gold")["mentioned_by"].tolist() == ["3 of 4", "2 of 4", "1 of 4"]


def test_frequencies_by_persona(codings, segments, participants):
    f = code_frequencies(codings, segments=segments, participants=participants, by="persona", coder="gold")
    # persona A = P1, P2 (2 people), B = P3, P4 (2 people); the interviewer's z on i has no persona
    assert f[["code", "persona", "n_segments", "n_participants", "mentioned_by"]].values.tolist() == [
        ["x", "A", 3, 2, "2 of 2"], ["y", "A", 2, 2, "2 of 2"], ["y", "B", 1, 1, "1 of 2"], ["z", "A", 1, 1, "1 of 2"]]


def test_frequencies_with_codebook(codings, segments, participants, codebook):
    f = code_frequencies(codings, segments=segments, participants=participants, codebook=codebook, coder="gold")
    # codebook order, never-applied w listed with zeros, stage and kind added
    got = f[["code", "n_segments", "n_participants", "mentioned_by", "stage", "kind"]].fillna("-")
    assert got.values.tolist() == [
        ["w", 0, 0, "0 of 4", "s1", "-"], ["x", 3, 2, "2 of 4", "s1", "pain_point"],
        ["y", 3, 3, "3 of 4", "s2", "delight"], ["z", 1, 1, "1 of 4", "-", "-"]]  # i (interviewer) left out
    by_stage = code_frequencies(codings, segments=segments, participants=participants, by="stage", codebook=codebook, coder="gold")
    assert list(by_stage.columns[:2]) == ["code", "stage"]


def test_frequencies_coder_choice(codings, segments):
    with pytest.raises(JourneylabError, match=r"several coders \(ana, gold\); pass coder="):
        code_frequencies(codings, segments=segments)
    # any coder: x gains segment f (P4): 4 segments, 3 participants
    f = code_frequencies(codings, segments=segments, coder="any").set_index("code")
    assert (f.loc["x", "n_segments"], f.loc["x", "n_participants"]) == (4, 3)
    with pytest.raises(JourneylabError, match="no coder 'bob'"):
        code_frequencies(codings, segments=segments, coder="bob")
    with pytest.raises(JourneylabError, match="pass `participants`"):
        code_frequencies(codings, segments=segments, by="persona", coder="gold")


def test_co_occurrence_segment(codings, segments):
    with pytest.warns(jl.InterviewerCodingsWarning, match="1 coding on interviewer turns is left out of co-occurrence"):
        co = co_occurrence(codings, segments=segments, coder="gold")
    # units: a{x,y} b{x} c{x,z} d{y} e{y} (i{z} is an interviewer turn: left out); n: x 3, y 3, z 1
    # (x,z): c -> 1, Jaccard 1/(3+1-1) = 1/3; (x,y): a -> 1, Jaccard 1/(3+3-1) = 0.2; (y,z): never
    assert co.values.tolist() == [["x", "z", 3, 1, 1, 1 / 3], ["x", "y", 3, 3, 1, 0.2]]
    allpairs = co_occurrence(codings, segments=segments, coder="gold", min_count=0)
    assert allpairs[["code_a", "code_b", "count"]].values.tolist()[-1] == ["y", "z", 0]


def test_co_occurrence_participant(codings, segments):
    co = co_occurrence(codings, segments=segments, level="participant", coder="gold")
    # P1{x,y} P2{x,y,z} P3{y} (the interviewer turn has no participant); n: x 2, y 3, z 1
    # (x,y): 2, 2/(2+3-2) = 2/3; (x,z): 1, 1/(2+1-1) = 1/2; (y,z): 1, 1/(3+1-1) = 1/3
    assert co[["code_a", "code_b", "n_a", "n_b", "count"]].values.tolist() == [
        ["x", "y", 2, 3, 2], ["x", "z", 2, 1, 1], ["y", "z", 3, 1, 1]]
    assert co["jaccard"].round(6).tolist() == [round(2 / 3, 6), 0.5, round(1 / 3, 6)]
    with pytest.raises(JourneylabError, match="`level` must be one of 'segment', 'participant'"):
        co_occurrence(codings, segments=segments, level="doc", coder="gold")


def test_saturation(codings, segments):
    s = saturation(codings, segments=segments, coder="gold")
    # D1 {x,y}: 2 new; D2 {x,y,z}: z new; D3 {y}: none; D4 {z} (interviewer turn): none
    assert s[["position", "doc_id", "n_codes", "new_codes", "cumulative_codes", "new_code_names"]].values.tolist() == [
        [1, "D1", 2, 2, 2, "x, y"], [2, "D2", 3, 1, 3, "z"], [3, "D3", 1, 0, 3, ""], [4, "D4", 1, 0, 3, ""]]
    assert s["share_of_codes"].round(4).tolist() == [0.6667, 1.0, 1.0, 1.0]
    s2 = saturation(codings, segments=segments, order=["D3", "D1", "D2", "D4"], coder="gold")
    # D3 {y} 1 new; D1 {x,y}: x; D2: z; D4: nothing new
    assert s2["new_codes"].tolist() == [1, 1, 1, 0] and s2["cumulative_codes"].tolist() == [1, 2, 3, 3]
    with pytest.raises(JourneylabError, match="`order` leaves out 'D4'"):
        saturation(codings, segments=segments, order=["D1", "D2", "D3"], coder="gold")
    ax = plot_saturation(s)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["D1", "D2", "D3", "D4"]
    ax.figure.savefig("/tmp/jl_saturation_test.png", dpi=80)


def test_exemplar_quotes(codings, segments):
    q = exemplar_quotes(codings, segments=segments, code="y", coder="gold", min_chars=5)
    assert list(q.columns) == ["code", "rank", "participant_id", "doc_id", "segment_id", "start", "end", "text",
                               "n_chars", "score"]
    # y is on a, d (both about a slow refund) and e (an outlier): e is least like the centroid
    assert q["segment_id"].tolist()[-1] == "e" and q["rank"].tolist() == [1, 2, 3]
    row = q.set_index("segment_id").loc["d"]
    assert (row["participant_id"], row["doc_id"], row["start"], row["end"]) == ("P2", "D2", 31, 60)
    # x is on a, b (both P1) and c (P2): one quote per participant by default -> 2 quotes
    qx = exemplar_quotes(codings, segments=segments, code="x", coder="gold", min_chars=5)
    assert sorted(qx["participant_id"]) == ["P1", "P2"]
    assert len(exemplar_quotes(codings, segments=segments, code="x", coder="gold", max_per_participant=2, min_chars=5)) == 3
    # quotes longer than max_chars are skipped while a shorter one exists
    short = exemplar_quotes(codings, segments=segments, code="x", coder="gold", n=1, max_chars=30, min_chars=5)
    assert short["n_chars"].item() <= 30
    with pytest.raises(JourneylabError, match="code 'w' has no codings"):
        exemplar_quotes(codings, segments=segments, code="w", coder="gold")


def test_suggest_codes(codings, segments):
    s = suggest_codes(codings, segments=segments, top=3)
    # uncoded participant turns: g, h (f is coded by ana, so it is left out too)
    # g "address lookup broken", h "address lookup": "address lookup" twice, in P3's and P4's turns
    top = s.iloc[0]
    assert (top["bigram"], top["n"], top["n_segments"], top["n_participants"]) == ("address lookup", 2, 2, 2)
    assert top["example_segment_id"] == "h"  # the shorter example
    assert "the" in stop_words() and "yeah" in stop_words() and "not" not in stop_words()
    only_gold = suggest_codes(codings[codings.coder == "gold"], segments=segments, top=1)
    assert only_gold["n"].item() == 3  # f is uncoded now


def test_plot_co_occurrence(codings, segments):
    ax = plot_co_occurrence(co_occurrence(codings, segments=segments, coder="gold"))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y", "z"]


def test_inputs_not_mutated_and_exports(codings, segments, participants):
    c0, s0 = codings.copy(), segments.copy()
    code_frequencies(codings, segments=segments, participants=participants, coder="gold")
    co_occurrence(codings, segments=segments, coder="gold")
    saturation(codings, segments=segments, coder="gold")
    pd.testing.assert_frame_equal(codings, c0)
    pd.testing.assert_frame_equal(segments, s0)
    for name in ["code_frequencies", "co_occurrence", "exemplar_quotes", "saturation", "plot_saturation",
                 "suggest_codes"]:
        assert getattr(jl, name) is not None


def test_evaluate_codings(codings, segments):
    gold = codings[codings.coder == "gold"]
    rules = pd.DataFrame({"segment_id": ["a", "b", "d", "e", "f", "i"], "code": ["x", "y", "y", "y", "x", "z"]})
    ev = evaluate_codings(rules, reference=gold, segments=segments).set_index("code")
    # documents the reference coded: D1-D4 (i is D4, but an interviewer turn: left out of both)
    # gold pairs: a-x a-y b-x c-x c-z d-y e-y (7); rules: a-x b-y d-y e-y f-x (5); both: a-x d-y e-y (3)
    assert ev.loc["(all codes)", ["n_predicted", "n_reference", "n_both"]].tolist() == [5, 7, 3]
    assert ev.loc["(all codes)", "precision"] == 3 / 5 and ev.loc["(all codes)", "recall"] == 3 / 7
    # x: rules a, f; gold a, b, c -> both a: precision 1/2, recall 1/3, F1 = 2*(1/2)(1/3)/(5/6) = 0.4
    assert ev.loc["x", ["n_predicted", "n_reference", "n_both"]].tolist() == [2, 3, 1]
    assert round(ev.loc["x", "f1"], 10) == 0.4
    # z: gold on c only (i is an interviewer turn); rules never on participant turns -> precision undefined
    assert ev.loc["z", "n_predicted"] == 0 and pd.isna(ev.loc["z", "precision"]) and ev.loc["z", "recall"] == 0
    # F1 = 2TP / (2TP + FP + FN) is 0 there, not NaN: the rules never find the reference's z
    assert ev.loc["z", "f1"] == 0
    # a rule that fires but never hits: TP = 0, FP = 1, FN = 0 -> F1 = 0 (recall undefined)
    miss = evaluate_codings(pd.DataFrame({"segment_id": ["a"], "code": ["w"]}), reference=gold, segments=segments).set_index("code")
    assert pd.isna(miss.loc["w", "recall"]) and miss.loc["w", "f1"] == 0
    only_d1 = evaluate_codings(rules, reference=gold, segments=segments, documents=["D1"]).set_index("code")
    assert only_d1.loc["(all codes)", ["n_predicted", "n_reference", "n_both"]].tolist() == [2, 3, 1]


def test_plot_saturation_stays_readable_for_hundreds_of_interviews():
    """504 interviews: a figure at most 16 inches wide naming at most MAX_SATURATION_LABELS of them (it was
    229 inches wide with 504 labels); 14 interviews keep every label."""
    for n, labels in [(14, 14), (504, 39)]:
        sat = pd.DataFrame({"position": range(1, n + 1), "doc_id": [f"P{i:03d}" for i in range(n)],
                            "new_codes": [1] * n, "cumulative_codes": list(range(1, n + 1))})
        ax = plot_saturation(sat)
        assert ax.figure.get_figwidth() <= 16
        shown = [t.get_text() for t in ax.get_xticklabels()]
        assert len(shown) == labels <= MAX_SATURATION_LABELS and shown[0] == "P000"
