"""Codings as spans (issue 15): merging keeps removals, parent codes aggregate their children,
span-aware analyses and sentiment, faithful span imports/exports, agreement on spans."""
from __future__ import annotations

import pandas as pd
import pytest

import journeylab as jl

# ---------------------------------------------------------------- merging keeps removals (item 6)


def _store_with_export(tmp_path):
    store = jl.CodingStore(tmp_path / "c.db")
    store.apply("G1-t002", "podcast_discovery", "kim")
    store.apply("G1-t006", "fresh_ingredients_delight", "kim")
    export = store.export_csv(tmp_path / "kim.csv", "kim")
    store.remove("G1-t006", "fresh_ingredients_delight", "kim")
    return store, export


def test_removal_after_export_is_not_brought_back(tmp_path):
    store, export = _store_with_export(tmp_path)
    for src in (store, store.path):  # the store object or its file
        merged, report = jl.merge_codings(export, src), jl.merge_report(export, src)
        assert merged[["segment_id", "code"]].values.tolist() == [["G1-t002", "podcast_discovery"]]
        removed = report[report["kind"] == "removed"]
        assert removed[["segment_id", "code"]].values.tolist() == [["G1-t006", "fresh_ingredients_delight"]]
        assert "not brought back" in removed["detail"].iloc[0]
    store.close()


def test_applied_again_after_the_removal_is_kept(tmp_path):
    store, export = _store_with_export(tmp_path)
    later = pd.read_csv(export, dtype=str, keep_default_na=False)
    later["decided_at"] = "2099-01-01T00:00:00+00:00"  # decided after the store's removal
    merged, report = jl.merge_codings(later, store), jl.merge_report(later, store)
    store.close()
    assert ("G1-t006", "fresh_ingredients_delight") in set(zip(merged["segment_id"], merged["code"]))
    assert report["kind"].tolist().count("reapplied") == 1


def test_without_a_store_nothing_is_removed(tmp_path):
    store, export = _store_with_export(tmp_path)
    store.close()
    merged = jl.merge_codings(export)
    assert len(merged) == 2


# ---------------------------------------------------------------- parent codes aggregate children

def test_parent_code_aggregates_its_children():
    cb = jl.Codebook([jl.Code("feelings"), jl.Code("joy", parent="feelings"), jl.Code("anger", parent="feelings"),
                      jl.Code("price")])
    seg = pd.DataFrame({"segment_id": ["a", "b", "c", "d"], "participant_id": ["P1", "P1", "P2", "P3"]})
    cod = pd.DataFrame({"segment_id": ["a", "a", "b", "c", "d"], "code": ["joy", "anger", "anger", "feelings", "price"]})
    f = jl.code_frequencies(cod, segments=seg, codebook=cb).set_index("code")
    # feelings: a (joy, anger: one segment), b, c (itself) -> 3 segments, P1 and P2
    assert f.loc["feelings", ["n_segments", "n_participants"]].tolist() == [3, 2]
    assert f.loc["feelings", "includes"] == "itself + joy, anger"
    assert f.loc["joy", "includes"] == "" and f.loc["joy", "n_segments"] == 1
    plain = jl.code_frequencies(cod, segments=seg, codebook=cb, aggregate=False).set_index("code")
    assert plain.loc["feelings", "n_segments"] == 1 and plain.loc["feelings", "includes"] == ""


# ---------------------------------------------------------------- spans in analyses and sentiment (items 1, 7)

TURN = "The throw is lovely, but the courier was rude and late."
SEG = pd.DataFrame({"segment_id": ["a", "b"], "participant_id": ["P1", "P2"], "doc_id": ["d", "d"],
                    "start": [0, 60], "end": [len(TURN), 81], "text": [TURN, "The courier was late."]})


def _span_codings():
    def span(phrase):
        a = TURN.index(phrase)
        return a, a + len(phrase)
    rows = [("a", "delight", *span("The throw is lovely"), "The throw is lovely"),
            ("a", "courier", *span("the courier was rude and late."), "the courier was rude and late."),
            ("a", "late", *span("late."), "late."),
            ("b", "courier", None, None, None), ("b", "late", None, None, None)]
    cod = pd.DataFrame(rows, columns=["segment_id", "code", "start", "end", "text"]).assign(doc_id="d")
    return cod.astype({"start": "Int64", "end": "Int64"})


def test_code_sentiment_is_the_sentiment_of_the_span():
    """The issue's example: the turn is negative overall; the span coded as a delight is positive."""
    cod = _span_codings()
    sf = jl.sentiment(SEG)
    turn = sf.set_index("segment_id").loc["a", "compound"]
    assert turn < -0.05
    out = jl.code_sentiment(cod, sentiment=sf, segments=SEG, random_state=1).set_index("code")
    assert out.loc["delight", "mean"] == pytest.approx(jl.sentiment(["The throw is lovely"])["compound"].iloc[0])
    assert out.loc["delight", "mean"] > 0.05
    # whole-turn codings keep their turn's score: 'late' on b is b's compound, on a the span "late."
    late = (sf.set_index("segment_id").loc["b", "compound"] + jl.sentiment(["late."])["compound"].iloc[0]) / 2
    assert out.loc["late", "mean"] == pytest.approx(late)


def test_exemplar_quotes_quote_the_span():
    q = jl.exemplar_quotes(_span_codings(), segments=SEG, code="delight", min_chars=1)
    assert q[["text", "start", "end", "segment_id"]].values.tolist() == [["The throw is lovely", 0, 19, "a"]]
    q = jl.exemplar_quotes(_span_codings(), segments=SEG, code="courier", min_chars=1).sort_values("segment_id")
    assert q["text"].tolist() == ["the courier was rude and late.", "The courier was late."]


def test_co_occurrence_by_overlap_within_a_turn():
    cod = _span_codings()
    by_turn = jl.co_occurrence(cod, segments=SEG, min_count=0).set_index(["code_a", "code_b"])["count"]
    by_overlap = jl.co_occurrence(cod, segments=SEG, level="overlap", min_count=0)
    assert "overlap" in by_overlap.attrs["unit"]
    by_overlap = by_overlap.set_index(["code_a", "code_b"])["count"]
    assert by_turn[("courier", "delight")] == 1 and by_overlap[("courier", "delight")] == 0  # side by side
    assert by_overlap[("courier", "late")] == 2  # nested span on a, whole turns on b
    assert by_overlap[("delight", "late")] == 0


# ---------------------------------------------------------------- faithful exports/imports (item 4)

def test_qdpx_round_trip_keeps_every_span_exactly(tmp_path):
    from pathlib import Path

    study = jl.load_study(Path(__file__).parent / "data" / "other_study", redact=False)
    texts = dict(zip(study.documents["doc_id"], study.documents["text"]))
    seg = study.segments[study.segments["speaker_role"] == "participant"].head(6)
    rows = []
    for i, r in enumerate(seg.itertuples()):
        a = r.start + 4 * (i % 3)
        b = r.end if i % 2 else r.start + len(r.text) // 2
        rows.append({"segment_id": r.segment_id, "code": "podcast_discovery", "coder": "kim", "doc_id": r.doc_id,
                     "span_start": a, "span_end": b})
    # one span across three turns, and two overlapping codes in one turn
    g1 = study.segments[study.segments["doc_id"] == "G1"]
    rows.append({"segment_id": g1["segment_id"].iloc[1], "code": "plan_confusion", "coder": "kim", "doc_id": "G1",
                 "span_start": int(g1["start"].iloc[1]) + 3, "span_end": int(g1["end"].iloc[3]) - 2})
    rows.append({"segment_id": g1["segment_id"].iloc[1], "code": "wants_skip_week", "coder": "kim", "doc_id": "G1",
                 "span_start": int(g1["start"].iloc[1]), "span_end": int(g1["start"].iloc[1]) + 9})
    codings = pd.DataFrame(rows)
    back = jl.import_qdpx(jl.export_qdpx(study, codings=codings, path=tmp_path / "spans.qdpx"))
    key = ["doc_id", "span_start", "span_end", "code", "coder"]
    got = back.codings[key].astype(str).sort_values(key).values.tolist()
    assert got == codings[key].astype(str).sort_values(key).values.tolist()  # one coding per selection
    doc = dict(zip(back.documents["doc_id"], back.documents["text"]))
    for r in back.codings.itertuples():
        assert doc[r.doc_id][r.span_start:r.span_end] == texts[r.doc_id][r.span_start:r.span_end]


# ---------------------------------------------------------------- agreement on spans (item 5)

def _units(rows, shift=0):
    return pd.DataFrame([(c, g, b - shift, b - shift + n) for c, g, b, n in rows],
                        columns=["coder", "code", "start", "end"]).assign(doc_id="d")


def test_unitizing_alpha_krippendorff_2004_worked_example():
    """Krippendorff (2004), Content Analysis 2nd ed., p. 254: a continuum [150, 450), observers i
    and j, categories c and k (units as begin, length). Published: c D_o = .0144, D_e = .0532,
    u-alpha = .7286; k D_o = 0, D_e = .0490, u-alpha = 1; both categories .8591 (values as
    reproduced in DKPro Statistics' Krippendorff2004Test)."""
    rows = [("i", "c", 225, 70), ("i", "c", 370, 30), ("j", "c", 220, 80), ("j", "c", 355, 20), ("j", "c", 400, 20),
            ("i", "k", 180, 60), ("i", "k", 300, 50), ("j", "k", 180, 60), ("j", "k", 300, 50)]
    docs = pd.DataFrame({"doc_id": ["d"], "text": ["x" * 300]})
    out = jl.unitizing_alpha(_units(rows, shift=150), documents=docs).set_index("code")
    assert out["measure"].iloc[0].startswith("Krippendorff's u-alpha")
    assert out.loc["c", "d_observed"] == pytest.approx(0.0144, abs=5e-5)
    assert out.loc["c", "d_expected"] == pytest.approx(0.0532, abs=5e-5)
    assert out.loc["c", "u_alpha"] == pytest.approx(0.7286, abs=5e-5)
    assert out.loc["k", "d_expected"] == pytest.approx(0.0490, abs=5e-5)
    assert out.loc["k", "u_alpha"] == 1.0
    assert out.loc["(all codes)", "u_alpha"] == pytest.approx(0.8591, abs=5e-4)


def test_unitizing_alpha_krippendorff_1995_examples():
    """Krippendorff (1995), Sociological Methodology 25, p. 57: 24-unit continua; on a fine grid
    (each unit stretched 500 times, towards the continuous case) category A has D_e = .0699 and
    u-alpha = .553, D (D_o = .3872) .066 (as reproduced in DKPro Statistics' Krippendorff1995Test)."""
    s = 500
    a = [("i", "A", 2, 8), ("i", "A", 14, 6), ("j", "A", 4, 4), ("j", "A", 15, 2)]
    d = [("i", "D", 0, 2), ("i", "D", 2, 8), ("i", "D", 10, 4), ("i", "D", 14, 6), ("i", "D", 20, 4),
         ("j", "D", 0, 4), ("j", "D", 4, 4), ("j", "D", 8, 7), ("j", "D", 15, 2), ("j", "D", 17, 7)]
    rows = [(c, g, b * s, n * s) for c, g, b, n in a + d]
    docs = pd.DataFrame({"doc_id": ["d"], "text": ["x" * (24 * s)]})
    # D's units touch (end == next start): one coder's adjacent units stay separate units
    out = jl.unitizing_alpha(_units(rows), documents=docs).set_index("code")
    assert out.loc["A", "d_expected"] == pytest.approx(0.0699, abs=5e-4)
    assert out.loc["A", "u_alpha"] == pytest.approx(0.553, abs=0.005)
    assert out.loc["D", "d_observed"] == pytest.approx(0.3872, abs=5e-4)
    assert out.loc["D", "u_alpha"] == pytest.approx(0.066, abs=0.005)


def test_unitizing_alpha_identical_spans_and_whole_turns():
    from pathlib import Path

    study = jl.load_study(Path(__file__).parent / "data" / "other_study", redact=False)
    both = study.codings[study.codings["coder"] == "lee"]
    same = pd.concat([both, both.assign(coder="kim")])
    out = jl.unitizing_alpha(same, documents=study.documents, segments=study.segments)
    assert (out["u_alpha"].dropna() == 1.0).all() and out["d_observed"].eq(0).all()
    real = jl.unitizing_alpha(study.codings, documents=study.documents, segments=study.segments)
    assert real.iloc[-1]["code"] == "(all codes)" and real.iloc[-1]["u_alpha"] < 1
    with pytest.raises(jl.JourneylabError, match="exactly two coders"):
        jl.unitizing_alpha(pd.concat([same, both.assign(coder="zed")]), documents=study.documents,
                           segments=study.segments)


def test_emotion_curve_uses_the_span_sentiment():
    cod = _span_codings()
    sf = jl.sentiment(SEG)
    curve = jl.emotion_curve(sf, segments=SEG, codings=cod, stages=["first", "second"], min_n=1, n_boot=100, random_state=1,
                             code_stages={"delight": "first", "courier": "second", "late": "second"}).set_index("stage")
    # turn a's whole compound is negative; the span coded with the "first" stage's code is positive
    assert curve.loc["first", "mean"] == pytest.approx(jl.sentiment(["The throw is lovely"])["compound"].iloc[0])
    plain = jl.emotion_curve(sf, segments=SEG, codings=cod[["segment_id", "code"]], stages=["first", "second"], min_n=1, n_boot=100,
                             random_state=1, code_stages={"delight": "first", "courier": "second", "late": "second"})
    assert plain.set_index("stage").loc["first", "mean"] == pytest.approx(sf.set_index("segment_id").loc["a", "compound"])
