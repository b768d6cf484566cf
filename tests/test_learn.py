"""Tests of journeylab.coding.learned.LearnedCoder on a small hand-made study whose codes are learnable
(refund, late) or pure noise (coin), so the cross-validated numbers have a known direction."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeylab.coding.learned import LearnedCoder, _kappa_2x2, text_features
from journeylab.coding.reliability import OVERALL
from journeylab.errors import JourneylabError, NotFittedError

REFUND = ["I asked for a refund and it took weeks", "the refund never arrived", "they refunded me in the end",
          "still waiting on my refund", "getting refunds is painful", "I wanted a refund for the lamp",
          "the refund form was fine but slow money", "refunded after three emails", "no refund yet",
          "a refund took a month"]
LATE = ["the delivery was late again", "my parcel arrived late", "late delivery ruined the gift",
        "it came two days late", "delivery was very late", "the courier was late", "late parcel, again",
        "arrived late and damaged", "the sofa delivery ran late", "late, late, late"]
NEUTRAL = ["I like the colour of the cushions", "we moved flat in March", "my sister likes linen",
           "the website looks nice", "I shop on my phone mostly", "the throw is soft", "I work in a shop",
           "my cat sleeps on the rug", "we have a small kitchen", "the lamp is bright", "I read the blog",
           "we painted the wall green", "the mugs are lovely", "I bought candles", "the bed is big",
           "I use a laptop at work", "the garden is tiny", "we cook a lot", "the chair is comfy",
           "I listen to podcasts"]


@pytest.fixture(scope="module")
def study():
    rng = np.random.default_rng(11)
    texts = [(t, "refund") for t in REFUND] + [(t, "late") for t in LATE] + [(t, None) for t in NEUTRAL]
    order = rng.permutation(len(texts))
    segs, cods = [], []
    for i, k in enumerate(order):
        text, code = texts[k]
        doc = f"D{i % 5 + 1}"
        turn = 2 * (i // 5) + 2
        sid = f"{doc}-t{turn:03d}"
        segs.append({"segment_id": f"{doc}-t{turn - 1:03d}", "doc_id": doc, "participant_id": pd.NA,
                     "speaker_role": "interviewer", "text": "Tell me more about that?"})
        segs.append({"segment_id": sid, "doc_id": doc, "participant_id": doc.replace("D", "P"),
                     "speaker_role": "participant", "text": text})
        if code:
            cods.append({"segment_id": sid, "code": code, "coder": "gold", "origin": "manual", "memo": pd.NA})
        if rng.random() < 0.5:  # a code with no relation to the text
            cods.append({"segment_id": sid, "code": "coin", "coder": "gold", "origin": "manual", "memo": pd.NA})
    segments = pd.DataFrame(segs)
    codings = pd.DataFrame(cods)
    # a rare code (4 examples: two lamps, the throw, candles) and a second coder
    rare = segments[segments["text"].str.contains("lamp|throw|candles")]["segment_id"]
    codings = pd.concat([codings, pd.DataFrame({"segment_id": rare, "code": "rare", "coder": "gold",
                                                "origin": "manual", "memo": pd.NA}),
                         codings.head(3).assign(coder="amara")], ignore_index=True)
    # segments of a new, uncoded document
    new = pd.DataFrame([
        {"segment_id": "D9-t002", "doc_id": "D9", "participant_id": "P9", "speaker_role": "participant",
         "text": "I am still waiting for my money to be refunded"},
        {"segment_id": "D9-t004", "doc_id": "D9", "participant_id": "P9", "speaker_role": "participant",
         "text": "the delivery came late"},
        {"segment_id": "D9-t006", "doc_id": "D9", "participant_id": "P9", "speaker_role": "participant",
         "text": "we painted the kitchen"},
        {"segment_id": "D9-t007", "doc_id": "D9", "participant_id": pd.NA, "speaker_role": "interviewer",
         "text": "a refund? late?"},
    ])
    return segments, codings, new


def test_text_features_stems_and_bigrams():
    assert text_features("The refunds were not refunded") == ["refund", "not", "refund", "refund not", "not refund"]
    assert text_features("Delivery’s LATE") == ["deliveri", "late", "deliveri late"]
    assert text_features(None) == []


def test_kappa_2x2_matches_hand_and_sklearn():
    from sklearn.metrics import cohen_kappa_score

    # Wikipedia example table (20, 5, 10, 15): kappa 0.4
    y = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    p = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert _kappa_2x2(y, p) == pytest.approx(0.4)
    assert _kappa_2x2(y, p) == pytest.approx(cohen_kappa_score(y, p))
    assert np.isnan(_kappa_2x2([0, 0], [0, 0]))


def test_init_stores_params_only():
    model = LearnedCoder(C=2.0, threshold=0.4)
    assert model.get_params()["C"] == 2.0 and model.get_params()["threshold"] == 0.4
    assert not [a for a in vars(model) if a.endswith("_")]
    assert "not fitted" in repr(model)


def test_methods_need_fit(study):
    segments, codings, new = study
    model = LearnedCoder()
    for call in (lambda: model.predict(new), lambda: model.predict_proba(new), lambda: model.suggest(new),
                 lambda: model.next_to_code(new)):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            call()


def test_fit_learns_codes_and_flags_rare(study):
    segments, codings, new = study
    model = LearnedCoder(random_state=0)
    assert model.fit(segments, codings, coder="gold") is model
    assert model.coder_ == "gold"
    assert set(model.codes_) == {"refund", "late", "coin", "rare"}
    assert model.n_positive_["refund"] == 10 and model.n_positive_["rare"] == 4
    assert model.too_few_examples_ == ["rare"]
    assert len(model.training_units_) == 40  # participant turns only
    proba = model.predict_proba(new).pivot(index="segment_id", columns="code", values="probability")
    assert "rare" not in proba.columns  # flagged codes are not predicted
    assert "D9-t007" not in proba.index  # interviewer turn
    # stemming: "refunded" in the new text matches the learned "refund"
    assert proba.loc["D9-t002", "refund"] > 0.5 > proba.loc["D9-t006", "refund"]
    assert proba.loc["D9-t004", "late"] > 0.5 > proba.loc["D9-t006", "late"]
    pred = model.predict(new)
    assert {"segment_id", "code", "coder", "origin", "memo", "confidence"} <= set(pred.columns)
    assert ("D9-t002", "refund") in set(zip(pred["segment_id"], pred["code"]))
    assert set(pred["origin"]) == {"model"} and set(pred["coder"]) == {"model"}
    assert (pred["confidence"] >= pred["code"].map(model.thresholds_)).all()
    assert "fitted on coder 'gold'" in repr(model) and "<table>" in model._repr_html_()


def test_fit_is_deterministic(study):
    segments, codings, new = study
    a = LearnedCoder(random_state=3).fit(segments, codings, coder="gold").predict_proba(new)
    b = LearnedCoder(random_state=3).fit(segments, codings, coder="gold").predict_proba(new)
    pd.testing.assert_frame_equal(a, b)


def test_suggest_top_and_ranks(study):
    segments, codings, new = study
    model = LearnedCoder().fit(segments, codings, coder="gold")
    s = model.suggest(new, top=1, min_probability=0.0)
    assert s.columns.tolist() == ["segment_id", "code", "probability", "rank", "origin", "confidence"]
    assert (s["confidence"] == s["probability"]).all()
    assert s["segment_id"].tolist() == ["D9-t002", "D9-t004", "D9-t006"]
    assert (s["rank"] == 1).all() and set(s["origin"]) == {"model"}
    assert s.set_index("segment_id").loc["D9-t002", "code"] == "refund"
    s3 = model.suggest(new, top=3, min_probability=0.0)
    assert s3.groupby("segment_id").size().max() == 3
    assert (s3.groupby("segment_id")["probability"].apply(lambda p: p.is_monotonic_decreasing)).all()
    with pytest.raises(JourneylabError, match="`top`"):
        model.suggest(new, top=0)


def test_cross_validate_separates_learnable_from_noise(study):
    segments, codings, _ = study
    cvt = LearnedCoder().cross_validate(segments, codings, coder="gold", cv=5).set_index("code")
    assert cvt.loc["refund", "cohen_kappa"] > 0.8 and cvt.loc["late", "cohen_kappa"] > 0.8
    # the coin code has nothing to learn: held-out predictions must not agree beyond chance
    assert cvt.loc["coin", "cohen_kappa"] < 0.35
    assert cvt.loc["rare", "too_few_examples"] and not cvt.loc["refund", "too_few_examples"]
    assert cvt.loc["refund", "n_positive"] == 10 and (cvt["n_units"] == 40).all()
    # precision / recall from the counts
    r = cvt.loc["late"]
    assert 0 < r["precision"] <= 1 and 0 < r["recall"] <= 1
    assert OVERALL in cvt.index and cvt.loc[OVERALL, "n_positive"] == cvt.loc[["refund", "late", "coin"], "n_positive"].sum()
    # grouping by document: folds never split a document
    g = LearnedCoder().cross_validate(segments, codings, coder="gold", cv=5, groups="doc_id")
    assert len(g) == 5
    with pytest.raises(JourneylabError, match="5 distinct 'doc_id'.*cv=6"):
        LearnedCoder().cross_validate(segments, codings, coder="gold", cv=6, groups="doc_id")


def test_next_to_code_proposes_uncertain_uncoded(study):
    segments, codings, new = study
    model = LearnedCoder().fit(segments, codings, coder="gold")
    everything = pd.concat([segments, new], ignore_index=True)
    nxt = model.next_to_code(everything, n=2)
    assert nxt.columns.tolist() == ["segment_id", "doc_id", "participant_id", "text", "code", "probability",
                                    "uncertainty"]
    assert set(nxt["segment_id"]) <= {"D9-t002", "D9-t004", "D9-t006"}  # uncoded participant turns only
    proba = model.predict_proba(new)
    t = proba["code"].map(model.thresholds_)
    proba["u"] = 1 - (proba["probability"] - t).abs() / np.maximum(t, 1 - t)
    expected = proba.groupby("segment_id")["u"].max().sort_values(ascending=False)
    assert nxt["segment_id"].tolist() == expected.index[:2].tolist()
    assert nxt["uncertainty"].to_numpy() == pytest.approx(expected.to_numpy()[:2])
    assert nxt["uncertainty"].is_monotonic_decreasing
    # segments coded since fitting are excluded
    later = pd.DataFrame({"segment_id": [nxt["segment_id"].iloc[0]]})
    assert nxt["segment_id"].iloc[0] not in set(model.next_to_code(everything, n=3, codings=later)["segment_id"])


def test_coder_choice_errors(study):
    segments, codings, _ = study
    both = codings.assign(coder=np.where(codings.index % 2 == 0, "amara", "jonas"))
    with pytest.raises(JourneylabError, match="several coders.*'amara'.*coder="):
        LearnedCoder().fit(segments, both)
    with pytest.raises(JourneylabError, match="coder 'zoe' not found"):
        LearnedCoder().fit(segments, codings, coder="zoe")
    # default: "gold" when present
    assert LearnedCoder().fit(segments, codings).coder_ == "gold"
    with pytest.raises(JourneylabError, match="`threshold` must be 'auto' or a number"):
        LearnedCoder(threshold=1.5).fit(segments, codings)


def test_thresholds_auto_and_fixed(study):
    segments, codings, new = study
    auto = LearnedCoder().fit(segments, codings, coder="gold")
    grid = set(np.round(np.arange(0.10, 0.901, 0.05), 2))
    assert set(auto.thresholds_.index) == set(auto.codes_)
    assert all(round(t, 2) in grid for t in auto.thresholds_)
    fixed = LearnedCoder(threshold=0.7).fit(segments, codings, coder="gold")
    assert (fixed.thresholds_ == 0.7).all()
    pred = fixed.predict(new)
    assert (pred["confidence"] >= 0.7).all()
    proba = fixed.predict_proba(new)
    assert len(pred) == (proba["probability"] >= 0.7).sum()
    # the suggestions respect the same per-code cut-off by default
    s = fixed.suggest(new, top=3)
    assert (s["probability"] >= 0.7).all()


def test_suggestions_feed_the_coding_widget(study, tmp_path):
    """model.suggest() goes straight into CodingSession as pre-filled suggestions with origin
    'model'; accepting one stores a manual decision of the coder."""
    widgets = pytest.importorskip("journeylab.coding.widget")
    from journeylab.study.codebook import Codebook

    segments, codings, new = study
    model = LearnedCoder().fit(segments, codings, coder="gold")
    book = Codebook.from_dict({"name": "test", "codes": [{"name": c, "definition": c} for c in model.codes_]})
    sug = model.suggest(new, top=2)
    session = widgets.CodingSession(new, codebook=book, store=tmp_path / "codings.sqlite", coder="lena", suggestions=sug)
    session.goto("D9-t002")
    pending = session.state.pending_suggestions()
    refund = next(p for p in pending if p["code"] == "refund")
    assert refund["origin"] == "model"
    assert refund["confidence"] == pytest.approx(sug.set_index(["segment_id", "code"]).loc[("D9-t002", "refund"), "probability"])
    session.state.accept("refund")
    stored = session.state.store.codings("lena")
    assert stored[["segment_id", "code", "origin"]].values.tolist() == [["D9-t002", "refund", "manual"]]
    assert stored["rule"].iloc[0] == "accepted model suggestion"
