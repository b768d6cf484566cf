"""Emotion that answers to the coding (issue 19, item 9): the coded balance per stage, its interval,
and the disagreement with the lexicon on the map and in the report."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import journeylab as jl
from journeylab.errors import JourneylabError

# ----------------------------------------------------------------------------- a think-aloud study, written here

STUDY_YML = """\
name: Upbeat think-aloud
stages:
  - name: browse
    touchpoints: [catalogue]
  - name: pay
    touchpoints: [card_entry]
interviewer_labels: [Moderator]
"""

CODEBOOK_YML = """\
name: Think-aloud codes
codes:
  - {name: card_rejected, kind: pain_point, stage: pay, touchpoint: card_entry, definition: The card entry failed.}
  - {name: logged_out, kind: pain_point, stage: pay, touchpoint: card_entry, definition: The session ended.}
  - {name: quick_pay, kind: delight, stage: pay, touchpoint: card_entry, definition: Paying was quick.}
  - {name: pictures_liked, kind: delight, stage: browse, touchpoint: catalogue, definition: Liked the pictures.}
  - {name: filter_hidden, kind: pain_point, stage: browse, touchpoint: catalogue, definition: Could not find a filter.}
"""

#: Upbeat conversational words (VADER reads every one of them clearly positive) for a turn that
#: reports a failure: what think-aloud speech sounds like.
UPBEAT_FAILURES = [
    "Haha okay, great, yeah, I love this. Oh wait, it wants my card number again. Fine, thanks, cool!",
    "Yeah sure, so, lovely, okay. Hmm it logged me out again. Haha, great, fun, okay.",
    "Okay cool, nice, thanks. So the button does nothing. Yeah, haha, sure, good good.",
    "Right, yes, lovely! It says error. Okay, no worries, great, fine, thank you!",
]
BROWSING = [
    "Nice pictures, I like these a lot.",
    "Where is the size filter? I can't find it anywhere, annoying.",
    "Okay, scrolling, these look fine I suppose.",
]
N = 10


def write_upbeat_study(root: Path) -> Path:
    """Ten participants; at *pay* nine of them hit a failure (coded a pain point) in upbeat words."""
    (root / "transcripts").mkdir(parents=True)
    (root / "codings").mkdir()
    (root / "study.yml").write_text(STUDY_YML, encoding="utf-8")
    (root / "codebook.yml").write_text(CODEBOOK_YML, encoding="utf-8")
    pids = [f"Q{i:02d}" for i in range(1, N + 1)]
    (root / "participants.csv").write_text("participant_id\n" + "\n".join(pids) + "\n", encoding="utf-8")
    rows = ["segment_id,code,coder,origin"]
    for i, pid in enumerate(pids):
        browse = BROWSING[i % 3]
        pay = UPBEAT_FAILURES[i % 4] if i < N - 1 else "Great, done, that was quick and easy, thanks!"
        turns = ["Moderator: Please find something you like.", f"{pid}: {browse}",
                 "Moderator: Now pay for it, and think aloud.", f"{pid}: {pay}"]
        (root / "transcripts" / f"{pid}.txt").write_text("\n\n".join(turns) + "\n", encoding="utf-8")
        rows.append(f"{pid}-t002,{['pictures_liked', 'filter_hidden', 'pictures_liked'][i % 3]},ana,manual")
        rows.append(f"{pid}-t004,{'quick_pay' if i == N - 1 else ['card_rejected', 'logged_out'][i % 2]},ana,manual")
    (root / "codings" / "ana.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def upbeat(tmp_path_factory):
    study = jl.load_study(write_upbeat_study(tmp_path_factory.mktemp("upbeat") / "study"))
    ev = jl.evidence_table(study, codings=study.codings, n_boot=400)
    return study, ev, jl.JourneyMap.build(study, ev)


# ----------------------------------------------------------------------------- the measure


def test_balance_counts_participants_once_and_its_interval_is_the_nps_interval():
    """3 pain, 1 delight of 4 -> -0.5; the interval is jl.nps's adjusted-Wald (Rocks 2016) on the
    same trinomial counts: a delight-only participant a promoter, a pain-only one a detractor."""
    segs = pd.DataFrame({"segment_id": list("abcdef"), "participant_id": ["P1", "P1", "P2", "P3", "P4", "P5"]})
    codings = pd.DataFrame({"segment_id": list("abcdef"), "code": ["slow", "slow", "slow", "nice", "slow", "nice"]})
    out = jl.coded_emotion(codings, segments=segs, stages=["buy", "after"],
                           code_kinds={"slow": "pain_point", "nice": "delight"}, code_stages={"slow": "buy",
                                                                                           "nice": "buy"})
    r = out.set_index("stage").loc["buy"]
    assert (r["n_participants"], r["n_pain"], r["n_delight"], r["n_both"]) == (5, 3, 2, 0)
    assert r["balance"] == pytest.approx(-0.2)
    ref = jl.nps(pd.DataFrame({"nps": [0, 0, 0, 10, 10]})).iloc[0]   # 3 detractors, 2 promoters
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((ref["ci_low"] / 100, ref["ci_high"] / 100))
    after = out.set_index("stage").loc["after"]   # every stage has a row; nobody coded there: balance 0
    assert after["n_pain"] == 0 and after["balance"] == 0


def test_both_a_pain_and_a_delight_count_zero():
    segs = pd.DataFrame({"segment_id": ["a", "b", "c"], "participant_id": ["P1", "P1", "P2"]})
    codings = pd.DataFrame({"segment_id": ["a", "b", "c"], "code": ["slow", "nice", "slow"], "stage": "buy"})
    r = jl.coded_emotion(codings, segments=segs, stages=["buy"],
                         code_kinds={"slow": "pain_point", "nice": "delight"}).iloc[0]
    assert (r["n_pain"], r["n_delight"], r["n_both"], r["balance"]) == (2, 1, 1, -0.5)


def test_reached_sets_the_denominator():
    segs = pd.DataFrame({"segment_id": ["a"], "participant_id": ["P1"]})
    codings = pd.DataFrame({"segment_id": ["a"], "code": ["slow"], "stage": "buy"})
    r = jl.coded_emotion(codings, segments=segs, stages=["buy"], code_kinds={"slow": "pain_point"},
                         reached={"buy": ["P1", "P2", "P3", "P4"]}).iloc[0]
    assert r["n_participants"] == 4 and r["balance"] == pytest.approx(-0.25)


def test_coded_emotion_errors():
    segs = pd.DataFrame({"segment_id": ["a"], "participant_id": ["P1"]})
    codings = pd.DataFrame({"segment_id": ["a"], "code": ["slow"]})
    with pytest.raises(JourneylabError, match="no stage.*code_stages"):
        jl.coded_emotion(codings, segments=segs, stages=["buy"], code_kinds={"slow": "pain_point"})
    with pytest.raises(JourneylabError, match="'later' are not in `stages`"):
        jl.coded_emotion(codings, segments=segs, stages=["buy"], code_kinds={"slow": "pain_point"},
                         code_stages={"slow": "later"})
    with pytest.raises(JourneylabError, match="code_kinds"):
        jl.coded_emotion(codings, segments=segs, stages=["buy"], code_kinds=["slow"], code_stages={"slow": "buy"})


@pytest.mark.parametrize("lex, coded, disagree", [
    ((0.3, 0.2, 0.4), (-0.8, -1.0, -0.5), True),
    ((-0.3, -0.4, -0.2), (0.6, 0.3, 0.9), True),
    ((0.3, 0.0, 0.4), (-0.8, -1.0, -0.5), False),     # an interval that touches zero is not a side
    ((0.3, 0.2, 0.4), (-0.2, -0.5, 0.1), False),      # the codes' interval spans zero
    ((0.3, 0.2, 0.4), (0.5, 0.2, 0.8), False),        # same side
    ((np.nan, np.nan, np.nan), (-0.8, -1.0, -0.5), False),
])
def test_disagreement_is_opposite_sides_beyond_both_intervals(lex, coded, disagree):
    curve = pd.DataFrame({"stage": ["s"], "mean": [lex[0]], "ci_low": [lex[1]], "ci_high": [lex[2]]})
    cod = pd.DataFrame({"stage": ["s"], "balance": [coded[0]], "ci_low": [coded[1]], "ci_high": [coded[2]]})
    assert bool(jl.compare_emotion(curve, coded=cod)["disagree"].iloc[0]) is disagree


def test_too_little_lexicon_data_never_disagrees():
    curve = pd.DataFrame({"stage": ["s"], "mean": [0.3], "ci_low": [0.2], "ci_high": [0.4], "enough_data": [False]})
    cod = pd.DataFrame({"stage": ["s"], "balance": [-0.8], "ci_low": [-1.0], "ci_high": [-0.5]})
    r = jl.compare_emotion(curve, coded=cod).iloc[0]
    assert r["lexicon_side"] == "unclear" and not r["disagree"]


# ----------------------------------------------------------------------------- the required case, end to end


def test_upbeat_pain_points_disagree_at_that_stage(upbeat):
    """Nearly every coding at *pay* is a pain point, spoken in words a lexicon reads as positive:
    the evidence table, the map, its image and the report say the two disagree at *pay*, and only there."""
    study, ev, jmap = upbeat
    emo = ev[ev["kind"] == "emotion"].set_index("stage")
    pay = emo.loc["pay"]
    assert pay["sentiment_ci_low"] > 0.3                   # the words: clearly positive
    assert (pay["coded_n_pain"], pay["coded_n_delight"], pay["coded_n"]) == (9, 1, 10)
    assert pay["coded_balance"] == pytest.approx(-0.8)
    assert pay["coded_ci_high"] < 0                         # the codes: clearly negative
    assert bool(pay["emotion_disagree"]) is True
    assert bool(emo.loc["browse", "emotion_disagree"]) is False
    e = jmap.emotion.set_index("stage")
    assert e["disagree"].to_dict() == {"browse": False, "pay": True}
    # the map's image: its emotion lane writes the disagreement under the pay stage
    fig = jmap.plot()
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    warn = [t for t in texts if "disagree" in t.lower() and "words read positive" in t]
    assert warn, "the emotion lane does not say the two measures disagree"
    assert any("codes: share with a delight" in t or "codes\n(delights" in t for t in texts)   # the legend
    # the report: the pay stage's section says so, browse's does not
    html_text = Path(jmap.to_html(Path(study.path).parent / "report.html", study=study)).read_text(encoding="utf-8")
    blocks = [b.split("</section>", 1)[0] for b in html_text.split("<section class='stage'")[1:]]
    sections = {s: next(b for b in blocks if f"data-stage='{s}'" in b.split(">", 1)[0]) for s in ("browse", "pay")}
    assert "They disagree" in sections["pay"] and "They disagree" not in sections["browse"]
    assert "Emotion in the codes" in sections["pay"]
    assert html_text.count("They disagree") == 2   # the stage section and the map-as-table cell


def test_a_map_saved_before_the_coded_balance_still_loads(upbeat, tmp_path):
    _, _, jmap = upbeat
    data = jmap.to_dict()
    for row in data["emotion"]:
        for k in ("coded_balance", "coded_ci_low", "coded_ci_high", "coded_n", "coded_n_pain", "coded_n_delight",
                  "disagree"):
            row.pop(k)
    p = tmp_path / "old.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    old = jl.JourneyMap.load(p)
    assert old.emotion["coded_balance"].isna().all() and not old.emotion["disagree"].any()
    fig = old.plot()   # draws the words alone, as before
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    assert not any(t.startswith("codes") or "They disagree" in t or "dashed diamonds" in t for t in texts)
    assert jl.JourneyMap.from_dict(jmap.to_dict()) == jmap


def test_notebook_view_shows_both_and_the_disagreement(upbeat):
    _, _, jmap = upbeat
    html_text = jmap._repr_html_()
    assert "codes -0.80" in html_text and "they disagree" in html_text
