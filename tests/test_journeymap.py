"""JourneyMap: building from a tiny hand-made study, notes, JSON round trip, prioritise,
compare_maps and compare_personas on maps with known differences.

The tiny study (written by :func:`write_tiny_study`) is small enough to count by hand:

- 4 participants (T1, T2 persona "saver"; T3, T4 persona "rusher");
- T1, T2, T3 complain about the *form* (code ``form_tedious``), T1, T2, T4 say delivery was
  *late* (``slow_delivery``), T3 loves the *packaging* (``packaging_delight``);
- funnel view → cart → form → order: 200 → 100 → 40 → 36 users (50%, 40%, 90%);
- survey: 100 answers; form CSAT top-2 box 20/100, delivery CSAT top-2 box 90/100.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import journeylab as jl
from journeylab.errors import JourneylabError
from journeylab.evidence.claims import EVIDENCE_COLUMNS
from journeylab.map.journey_map import ALL_PERSONAS_WARNING, SCHEMA_VERSION, _normalise_evidence

STUDY_YML = """\
name: Tiny shop
stages:
  - name: discover
    touchpoints: [ads, product_page]
  - name: buy
    touchpoints: [cart, form, payment]
  - name: after
    touchpoints: [delivery]
events:
  ad_click: {stage: discover, touchpoint: ads}
  product_view: {stage: discover, touchpoint: product_page}
  add_to_cart: {stage: buy, touchpoint: cart}
  form_submitted: {stage: buy, touchpoint: form}
  order_completed: {stage: buy, touchpoint: payment}
  order_delivered: {stage: after, touchpoint: delivery}
funnel:
  steps: [product_view, add_to_cart, form_submitted, order_completed]
  window: 7D
targets:
  steps: {add_to_cart: 0.7, form_submitted: 0.7, order_completed: 0.75}
changes:
  - {date: 2026-01-10, name: shorter form, stage: buy, touchpoint: form}
survey:
  nps: nps
  csat_scale: [1, 5]
  csat: {csat_form: form, csat_delivery: delivery}
personas: [saver, rusher]
interviewer_labels: [Interviewer]
"""

CODEBOOK_YML = """\
name: Tiny codebook
version: "2"
codes:
  - name: form_tedious
    kind: pain_point
    stage: buy
    touchpoint: form
    definition: The address form was long or lost input.
    rules: {keywords: [form]}
  - name: slow_delivery
    kind: pain_point
    stage: after
    touchpoint: delivery
    definition: Delivery took longer than expected.
    rules: {keywords: [late]}
  - name: packaging_delight
    kind: delight
    stage: after
    touchpoint: delivery
    definition: Pleasure at the packaging.
    rules: {keywords: [packaging]}
  - name: wants_paypal
    kind: need
    stage: buy
    touchpoint: payment
    definition: Wants to pay with PayPal.
    rules: {keywords: [paypal]}
"""

PARTICIPANTS = """\
participant_id,persona,interview_date
T1,saver,2026-01-05
T2,saver,2026-01-06
T3,rusher,2026-01-07
T4,rusher,2026-01-15
"""

TRANSCRIPTS = {
    "T1": ["Interviewer: How was buying?", "T1: The form was awful, it lost my address twice.",
           "Interviewer: And delivery?", "T1: It came late, a week late, which was annoying."],
    "T2": ["Interviewer: How was buying?", "T2: That form, honestly, so many boxes to fill in.",
           "Interviewer: And delivery?", "T2: Late again. I gave up waiting by the door."],
    "T3": ["Interviewer: How was buying?", "T3: I hated the form, it reset when I went back.",
           "Interviewer: And after?", "T3: I love the packaging, tissue paper and a little note!"],
    "T4": ["Interviewer: How was buying?", "T4: Fine. I wish I could pay with PayPal though.",
           "Interviewer: And delivery?", "T4: It was late, but only by a day."],
}


def _events() -> str:
    rows = ["user_id,timestamp,event"]
    t0 = pd.Timestamp("2026-01-03T10:00:00")
    for i in range(200):
        u = f"u{i:03d}"
        t = t0 + pd.Timedelta(hours=i)
        rows.append(f"{u},{t.isoformat()}Z,product_view")
        if i < 100:
            rows.append(f"{u},{(t + pd.Timedelta(minutes=5)).isoformat()}Z,add_to_cart")
        if i < 40:
            rows.append(f"{u},{(t + pd.Timedelta(minutes=9)).isoformat()}Z,form_submitted")
        if i < 36:
            rows.append(f"{u},{(t + pd.Timedelta(minutes=10)).isoformat()}Z,order_completed")
            rows.append(f"{u},{(t + pd.Timedelta(days=3)).isoformat()}Z,order_delivered")
    return "\n".join(rows) + "\n"


def _survey() -> str:
    rows = ["respondent_id,user_id,submitted_at,nps,csat_form,csat_delivery,comment,persona"]
    for i in range(100):
        form = 5 if i < 20 else 2
        delivery = 5 if i < 90 else 2
        if i < 30:  # form comments come from detractors
            nps, comment = 3, "the form was a nightmare"
        elif i < 45:  # late-delivery comments come from promoters
            nps, comment = 10, "a bit late but lovely"
        else:
            nps, comment = (9 if i % 2 else 7), ""
        persona = "saver" if i % 2 else "rusher"
        day = 1 + (i % 20)
        rows.append(f"R{i:03d},,2026-01-{day:02d}T12:00:00Z,{nps},{form},{delivery},{comment},{persona}")
    return "\n".join(rows) + "\n"


def write_tiny_study(root: Path, *, notes: str | None = None) -> Path:
    """Write the tiny study folder under ``root`` and return its path."""
    root = Path(root)
    (root / "transcripts").mkdir(parents=True, exist_ok=True)
    (root / "study.yml").write_text(STUDY_YML, encoding="utf-8")
    (root / "codebook.yml").write_text(CODEBOOK_YML, encoding="utf-8")
    (root / "participants.csv").write_text(PARTICIPANTS, encoding="utf-8")
    for pid, turns in TRANSCRIPTS.items():
        (root / "transcripts" / f"{pid}.txt").write_text("\n\n".join(turns) + "\n", encoding="utf-8")
    (root / "events.csv").write_text(_events(), encoding="utf-8")
    (root / "survey.csv").write_text(_survey(), encoding="utf-8")
    if notes is not None:
        (root / "notes.yml").write_text(notes, encoding="utf-8")
    return root


NOTES = """\
personas:
  all: {description: Everyone we spoke to., goals: [Get the order right first time]}
  saver: {description: Waits for a sale., goals: [Pay little]}
stages:
  buy:
    owner: Checkout squad
    goals: [Pay quickly]
    opportunities:
      - {text: Address lookup by postcode, code: form_tedious}
  after:
    owner: Logistics
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = write_tiny_study(tmp_path_factory.mktemp("tiny") / "study", notes=NOTES)
    study = jl.load_study(root)
    # the rules' codings, taken as a person's (the hand-counted story below is of coded interviews;
    # tests/test_grading.py covers claims that rest on rule codings alone)
    codings = jl.autocode(study.segments, codebook=study.codebook).assign(origin="manual", coder="analyst")
    ev = jl.evidence_table(study, codings=codings, persona=[None, "saver", "rusher"], n_boot=200)
    return study, codings, ev


@pytest.fixture(scope="module")
def tiny_map(tiny):
    study, _, ev = tiny
    return jl.JourneyMap.build(study, ev)


# ----------------------------------------------------------------------------- the tiny study itself


def test_tiny_study_grades(tiny):
    """The hand-counted story: form strong, late delivery contradicted (delivery CSAT 90% top-2)."""
    _, _, ev = tiny
    allp = ev[ev["persona"] == "all"].set_index("code")
    assert allp.loc["form_tedious", "n_participants"] == 3
    assert allp.loc["form_tedious", "step_conversion"] == pytest.approx(40 / 100)
    assert allp.loc["form_tedious", "csat_top2"] == pytest.approx(20 / 100)
    assert allp.loc["form_tedious", "grade"] == "strong"
    assert allp.loc["slow_delivery", "n_participants"] == 3
    assert allp.loc["slow_delivery", "csat_top2"] == pytest.approx(90 / 100)
    assert allp.loc["slow_delivery", "grade"] == "contradicted"
    # 1 of 4 participants is 25%, but the share rule needs at least 2 people: the healthy delivery
    # CSAT alone backs the delight -> numbers only
    assert allp.loc["packaging_delight", "grade"] == "quantitative_only"
    assert allp.loc["wants_paypal", "grade"] == "weak"  # a need raised by 1 of 4


# ----------------------------------------------------------------------------- build


def test_build_lanes(tiny, tiny_map):
    m = tiny_map
    assert m.stage_names == ["discover", "buy", "after"]
    assert m.persona == "all"
    assert ALL_PERSONAS_WARNING in m.warnings
    assert m.persona_card["participants"] == ["T1", "T2", "T3", "T4"]
    assert m.persona_card["description"] == "Everyone we spoke to."
    # goals: notes for buy, nothing noted and no supported need elsewhere
    assert m.goals["buy"] == ["Pay quickly"]
    # actions from events: product_view is done by all 200 users
    top = m.actions["discover"][0]
    assert (top["event"], top["users"], top["share"]) == ("product_view", 200, 1.0)
    assert [a["event"] for a in m.actions["buy"]] == ["add_to_cart", "form_submitted", "order_completed"]
    # owners from the notes ("backstage")
    assert [s["owner"] for s in m.stages] == [None, "Checkout squad", "Logistics"]
    # the analyst's opportunity is linked to its claim and inherits the stage owner
    opp = m.opportunities.set_index("text")
    assert opp.loc["Address lookup by postcode", "claim_id"] == "buy/form/form_tedious"
    assert opp.loc["Address lookup by postcode", "owner"] == "Checkout squad"
    assert opp.loc["Address lookup by postcode", "source"] == "analyst"
    # contradicted claims get no codebook opportunity
    assert "slow_delivery" not in set(m.opportunities["code"].dropna())


def test_thoughts_are_real_redacted_quotes_with_context(tiny, tiny_map):
    study = tiny[0]
    seg = study.segments.set_index("segment_id")
    docs = study.documents.set_index("doc_id")
    for stage, thoughts in tiny_map.thoughts.items():
        for t in thoughts:
            q = tiny_map.quotes[t["segment_id"]]
            assert q["text"] == seg.loc[t["segment_id"], "text"]
            assert docs.loc[q["doc_id"], "text"][q["start"]:q["end"]] == q["text"]
            flags = [c["is_quote"] for c in q["context"]]
            assert flags.count(True) == 1
    assert tiny_map.thoughts["buy"], "the buy stage has form quotes"


def test_persona_map_has_no_all_persona_warning(tiny):
    study, _, ev = tiny
    m = jl.JourneyMap.build(study, ev, persona="saver")
    assert ALL_PERSONAS_WARNING not in m.warnings
    assert m.persona_card["participants"] == ["T1", "T2"]
    assert m.persona_card["description"] == "Waits for a sale."
    assert set(m.evidence["persona"]) == {"saver"}
    assert "rests on 2 participant(s)" in " ".join(m.warnings)


def test_build_errors(tiny):
    study, _, ev = tiny
    with pytest.raises(JourneylabError, match="no rows for persona 'nobody'"):
        jl.JourneyMap.build(study, ev, persona="nobody")
    with pytest.raises(JourneylabError, match="stage 'checkout'"):
        jl.JourneyMap.build(study, ev, notes={"stages": {"checkout": {"owner": "x"}}})
    with pytest.raises(JourneylabError, match="unknown key 'owners'"):
        jl.load_notes({"stages": {"buy": {"owners": "x"}}})


# ----------------------------------------------------------------------------- JSON


def test_json_round_trip(tiny_map, tmp_path):
    path = tiny_map.save(tmp_path / "map.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema"] == "journeylab.journeymap" and data["schema_version"] == SCHEMA_VERSION
    assert data["evidence"]["columns"][:len(EVIDENCE_COLUMNS)] == EVIDENCE_COLUMNS
    back = jl.JourneyMap.load(path)
    assert back == tiny_map
    pd.testing.assert_frame_equal(back.evidence, tiny_map.evidence)
    pd.testing.assert_frame_equal(back.emotion, tiny_map.emotion)
    pd.testing.assert_frame_equal(back.opportunities, tiny_map.opportunities)
    assert back.quotes == tiny_map.quotes and back.methods == tiny_map.methods
    # saving the loaded map gives the same bytes
    assert back.save(tmp_path / "again.json").read_bytes() == path.read_bytes()
    assert "NaN" not in path.read_text(encoding="utf-8")  # strict JSON


def test_load_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "journeylab.journeymap", "schema_version": 1,', encoding="utf-8")
    with pytest.raises(JourneylabError, match="line 1, column .*not valid JSON"):
        jl.JourneyMap.load(bad)
    bad.write_text('{"schema": "something.else"}', encoding="utf-8")
    with pytest.raises(JourneylabError, match="not a journeylab journey map"):
        jl.JourneyMap.load(bad)
    bad.write_text('{"schema": "journeylab.journeymap", "schema_version": 99}', encoding="utf-8")
    with pytest.raises(JourneylabError, match="schema_version 99 is not supported"):
        jl.JourneyMap.load(bad)
    with pytest.raises(JourneylabError, match="not found"):
        jl.JourneyMap.load(tmp_path / "missing.json")


def test_repr_html_escapes(tiny_map):
    m = jl.JourneyMap.from_dict(tiny_map.to_dict())
    m.title = "<script>alert(1)</script>"
    out = m._repr_html_()
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "persona='all'" in repr(m)


# ----------------------------------------------------------------------------- prioritise


def _ev(rows):
    return _normalise_evidence(pd.DataFrame(rows))


def test_prioritise_order_and_upside():
    base = {"stage": "buy", "stage_order": 1, "persona": "all", "kind": "pain_point", "n_participants_total": 10}
    ev = _ev([
        {**base, "claim_id": "a", "code": "a", "grade": "strong", "n_participants": 6, "share_participants": 0.6,
         "sentiment_mean": -0.5, "step": "form", "step_lost": 800, "step_lost_per_week": 100.0,
         "step_to_end": 0.5, "step_to_end_n": 1000},
        {**base, "claim_id": "b", "code": "b", "grade": "contradicted", "n_participants": 8,
         "share_participants": 0.8, "sentiment_mean": -0.8},
        {**base, "claim_id": "c", "code": "c", "grade": "qualitative_only", "n_participants": 3,
         "share_participants": 0.3, "sentiment_mean": 0.1},
    ])
    p = jl.prioritise(ev, recovery=0.1, random_state=1)
    assert p["code"].tolist() == ["a", "c", "b"]
    # score of a = (0.4*1 + 0.25*0.6 + 0.15*0.5 + 0.2*1) / 1.0
    assert p.loc[0, "score"] == pytest.approx(0.4 + 0.15 + 0.075 + 0.2)
    # score of b (contradicted) = 0.25*0.8 + 0.15*0.8
    assert p.loc[2, "score"] == pytest.approx(0.2 + 0.12)
    # upside = 0.1 * 100 lost a week * 0.5 onward conversion = 5 completions a week
    assert p.loc[0, "upside_per_week"] == pytest.approx(5.0)
    assert p.loc[0, "upside_ci_low"] < 5.0 < p.loc[0, "upside_ci_high"]
    assert "a tenth" in p.loc[0, "upside"] and "≈ 5 more conversions a week" in p.loc[0, "upside"]
    # issue 14: the sentence said "completed orders", the sample shop's word, for any study
    assert "order" not in p.loc[0, "upside"]
    assert math.isnan(p.loc[1, "upside_per_week"])
    assert p.loc[1, "upside"].startswith("no upside estimate: not linked to a funnel step")
    assert "b" not in set(jl.prioritise(ev, include_contradicted=False)["code"])
    with pytest.raises(JourneylabError, match="unknown weight 'cost'"):
        jl.prioritise(ev, weights={"cost": 1})


def test_prioritise_upside_interval_covers_simulated_truth():
    """The upside interval reflects Poisson loss and Beta onward conversion: its width grows as
    counts shrink (hand check: relative half-width ~ 1.96*sqrt(1/lost + (1-p)/(p n)))."""
    base = {"stage": "buy", "stage_order": 0, "persona": "all", "kind": "pain_point", "grade": "strong",
            "n_participants": 5, "n_participants_total": 10, "share_participants": 0.5, "step": "form",
            "step_to_end": 0.5}
    big = _ev([{**base, "claim_id": "x", "code": "x", "step_lost": 8000, "step_lost_per_week": 1000.0,
                "step_to_end_n": 10000}])
    small = _ev([{**base, "claim_id": "x", "code": "x", "step_lost": 80, "step_lost_per_week": 10.0,
                  "step_to_end_n": 100}])
    pb = jl.prioritise(big, recovery=0.1, random_state=0).iloc[0]   # one share: the sampling alone
    ps = jl.prioritise(small, recovery=0.1, random_state=0).iloc[0]
    rel_b = (pb["upside_ci_high"] - pb["upside_ci_low"]) / pb["upside_per_week"]
    rel_s = (ps["upside_ci_high"] - ps["upside_ci_low"]) / ps["upside_per_week"]
    expected_s = 2 * 1.96 * math.sqrt(1 / 80 + 0.5 / (0.5 * 100))
    assert rel_s == pytest.approx(expected_s, rel=0.15)
    assert rel_b < rel_s / 5


# ----------------------------------------------------------------------------- compare_maps


def _map(claims, emotion, metrics=(), persona="all"):
    rows = []
    for cid, grade, n in claims:
        rows.append({"claim_id": cid, "stage": cid.split("/")[0], "stage_order": 0 if cid.startswith("s1") else 1,
                     "touchpoint": cid.split("/")[1], "persona": persona, "kind": "pain_point",
                     "code": cid.split("/")[2], "claim": cid, "n_participants": n, "n_participants_total": 10,
                     "share_participants": n / 10, "grade": grade})
    for cid, v, lo, hi in metrics:
        rows.append({"claim_id": cid, "stage": "s2", "stage_order": 1, "touchpoint": "form", "persona": persona,
                     "kind": "metric", "metric": "step:form", "claim": "form step", "step": "form", "step_from": "cart",
                     "step_conversion": v, "step_ci_low": lo, "step_ci_high": hi, "n_participants": 0})
    emo = pd.DataFrame([{"stage": s, "stage_order": i, "mean": m, "ci_low": lo, "ci_high": hi, "n_segments": 10,
                         "n_participants": 5, "enough_data": True} for i, (s, m, lo, hi) in enumerate(emotion)])
    return jl.JourneyMap(title="t", persona=persona, stages=[{"name": "s1", "order": 0, "touchpoints": ["ads"]},
                                                             {"name": "s2", "order": 1, "touchpoints": ["form"]}],
                         emotion=emo, evidence=_normalise_evidence(pd.DataFrame(rows)))


def test_compare_maps_known_differences():
    old = _map([("s1/ads/a", "strong", 5), ("s2/form/b", "strong", 6), ("s2/form/c", "weak", 1)],
               [("s1", 0.10, 0.00, 0.20), ("s2", -0.40, -0.50, -0.30)],
               [("s2/form/metric:step:form", 0.59, 0.57, 0.61)])
    new = _map([("s1/ads/a", "strong", 5), ("s2/form/b", "contradicted", 2), ("s2/form/d", "qualitative_only", 4)],
               [("s1", 0.12, 0.02, 0.22), ("s2", 0.10, 0.00, 0.20)],
               [("s2/form/metric:step:form", 0.72, 0.70, 0.74)])
    ch = jl.compare_maps(old, new=new)
    got = {(r.change, r.item) for r in ch.itertuples()}
    assert ("claim_added", "d") in got
    assert ("claim_removed", "c") in got
    assert ("grade_changed", "b") in got
    assert ("grade_changed", "a") not in got
    g = ch[(ch["change"] == "grade_changed")].iloc[0]
    assert (g["old"], g["new"]) == ("strong", "contradicted")
    emo = ch[ch["change"] == "emotion_moved"].set_index("stage")
    # s1: +0.02 with CIs of half-width 0.1 each: se = sqrt(2)*0.1/1.96 -> within the noise
    assert emo.loc["s1", "delta"] == pytest.approx(0.02)
    assert not emo.loc["s1", "beyond_ci"]
    # s2: +0.50, se = sqrt(2)*0.1/1.96 = 0.0722 -> CI 0.50 ± 0.1414: beyond
    assert emo.loc["s2", "delta"] == pytest.approx(0.50)
    assert emo.loc["s2", "delta_ci_low"] == pytest.approx(0.50 - math.sqrt(2) * 0.1, abs=1e-6)
    assert emo.loc["s2", "beyond_ci"]
    met = ch[ch["change"] == "metric_moved"].iloc[0]
    assert met["delta"] == pytest.approx(13.0)  # percentage points
    assert met["beyond_ci"]
    # identical maps: nothing at all (issue 19: they used to give a "+0.0 moved" row per stage and metric)
    assert jl.compare_maps(new, new=new).empty
    with pytest.raises(JourneylabError, match="must be a JourneyMap"):
        jl.compare_maps(old, new="new")


def test_compare_maps_lists_every_planted_change(tiny):
    """Plant one change of each kind in a copy of a real map's evidence and opportunities; every one is listed."""
    import copy

    study, _, ev = tiny
    old = jl.JourneyMap.build(study, ev)
    assert jl.compare_maps(old, new=jl.JourneyMap.from_dict(old.to_dict())).empty
    new = copy.deepcopy(old)
    e = new.evidence.copy()
    i = e.index[e["code"] == "form_tedious"][0]
    cid = e.at[i, "claim_id"]
    n_old, tot = int(e.at[i, "n_participants"]), int(e.at[i, "n_participants_total"])
    e.at[i, "n_participants"] = tot                                        # share up to all participants
    e.at[i, "share_participants"] = 1.0
    e.at[i, "sentiment_mean"], e.at[i, "sentiment_ci_low"], e.at[i, "sentiment_ci_high"] = -0.60, -0.70, -0.50
    e.at[i, "grade"] = "mixed"
    e.at[i, "csat_signal"] = "healthy"
    e.at[i, "quote_ids"] = "T9-t001"
    new.evidence = e
    opp = new.opportunities.copy()
    assert len(opp), "the tiny map should have an opportunity to change"
    opp.loc[0, "owner"] = "someone else"
    opp = pd.concat([opp, opp.iloc[[0]].assign(text="A brand new idea", owner=None)], ignore_index=True)
    new.opportunities = opp
    ch = jl.compare_maps(old, new=new)
    form = ch[ch["claim_id"] == cid].set_index("change")
    assert {"grade_changed", "share_changed", "sentiment_changed", "signal_changed", "quotes_changed"} <= set(form.index)
    assert "owner_changed" in set(ch["change"]) and "opportunity_added" in set(ch["change"])
    sh = form.loc["share_changed"]
    assert sh["old"] == f"{n_old}/{tot}" and sh["new"] == f"{tot}/{tot}"
    # Newcombe's interval for the difference of two independent proportions (statsmodels)
    from statsmodels.stats.proportion import confint_proportions_2indep

    lo, hi = confint_proportions_2indep(tot, tot, n_old, tot, method="newcomb", compare="diff")
    assert (sh["delta_ci_low"], sh["delta_ci_high"]) == pytest.approx((100 * lo, 100 * hi))
    assert bool(sh["beyond_ci"]) == bool(lo > 0)
    se = form.loc["sentiment_changed"]
    assert se["new"] == "-0.60" and se["delta"] == pytest.approx(-0.60 - old.evidence.at[i, "sentiment_mean"])
    assert bool(se["beyond_ci"]) == bool(se["delta_ci_high"] < 0 or se["delta_ci_low"] > 0)
    assert pd.isna(form.loc["grade_changed", "beyond_ci"])               # not a number: no interval
    assert "added T9-t001" in form.loc["quotes_changed", "detail"]
    # an NPS gap of a group below min_nps_n has no interval: the counts, and no verdict on the noise
    e = new.evidence.copy()
    e.at[i, "nps_gap"], e.at[i, "nps_n_theme"], e.at[i, "nps_gap_ci_low"], e.at[i, "nps_gap_ci_high"] = \
        104.0, 3, float("nan"), float("nan")
    new.evidence = e
    gap = jl.compare_maps(old, new=new).set_index(["claim_id", "change"]).loc[(cid, "nps_gap_changed")]
    assert pd.isna(gap["beyond_ci"]) and "commenters raising it" in gap["detail"]
    assert "no interval, too few to tell from the noise" in gap["detail"] and "within" not in gap["detail"]
    # different personas (or studies) need an explicit argument
    saver = jl.JourneyMap.build(study, ev, persona="saver")
    with pytest.raises(JourneylabError, match="different personas.*across=True"):
        jl.compare_maps(old, new=saver)
    assert len(jl.compare_maps(old, new=saver, across=True)) > 0
    renamed = copy.deepcopy(old)
    renamed.methods = {**renamed.methods, "study": "Another shop"}
    with pytest.raises(JourneylabError, match="different studies"):
        jl.compare_maps(old, new=renamed)
    # two periods of one study are versions of one map
    before = jl.study_between(study, end="2026-01-10")
    assert jl.compare_maps(jl.JourneyMap.build(before, jl.evidence_table(before, codings=before.codings.iloc[:0], n_boot=100)),
                           new=old) is not None


def test_compare_personas(tiny):
    study, _, ev = tiny
    maps = [jl.JourneyMap.build(study, ev, persona=p) for p in ("saver", "rusher")]
    long = jl.compare_personas(maps)
    form = long[(long["code"] == "form_tedious")].set_index("persona")
    assert form.loc["saver", "n_participants"] == 2 and form.loc["rusher", "n_participants"] == 1
    wide = jl.compare_personas(maps, view="wide")
    assert list(wide.columns) == ["stage", "touchpoint", "kind", "code", "saver", "rusher"]
    row = wide[wide["code"] == "packaging_delight"].iloc[0]
    assert row["saver"] == "—" and row["rusher"].startswith("1/2 (50%) · ")  # the share names its base
    # each stage's emotion twice: the words and the codes' balance, per persona
    coded = long[long["code"] == "coded_emotion"]
    assert len(coded) and set(coded["persona"]) == {"saver", "rusher"}
    for m in maps:
        em = m.emotion.dropna(subset=["coded_balance"]).set_index("stage")["coded_balance"]
        got = coded[coded["persona"] == m.persona].set_index("stage")["coded_balance"]
        assert got.to_dict() == pytest.approx(em.to_dict())
    assert (wide["code"] == "coded_emotion").sum() == coded["stage"].nunique()
    with pytest.raises(JourneylabError, match="two maps have persona 'saver'"):
        jl.compare_personas([maps[0], maps[0]])


def test_study_between_splits_interviews_events_survey(tiny):
    study = tiny[0]
    before = jl.study_between(study, end="2026-01-10")
    after = jl.study_between(study, start="2026-01-10")
    assert sorted(before.participants["participant_id"]) == ["T1", "T2", "T3"]
    assert sorted(after.participants["participant_id"]) == ["T4"]
    assert set(after.segments["doc_id"]) == {"T4"}
    assert len(before.events) + len(after.events) == len(study.events)
    assert len(before.survey) + len(after.survey) == len(study.survey)
    assert (before.events["timestamp"] < pd.Timestamp("2026-01-10")).all()
    assert len(study.events) == len(jl.study_between(study).events)  # nothing filtered, input unchanged
    with pytest.raises(JourneylabError, match="must be before"):
        jl.study_between(study, start="2026-02-01", end="2026-01-01")


def test_period_where_funnel_steps_never_happen(tiny):
    """After 2026-01-10 the tiny log holds only product views: no funnel, but a map all the same."""
    study, codings, _ = tiny
    after = jl.study_between(study, start="2026-01-10")
    ev = jl.evidence_table(after, codings=codings[codings["segment_id"].isin(after.segments["segment_id"])], n_boot=100)
    assert (ev["kind"] == "metric").sum() == 2  # the two CSAT columns, no funnel step
    assert ev["step"].isna().all()
    m = jl.JourneyMap.build(after, ev)
    assert m.persona_card["participants"] == ["T4"]


def test_prioritise_recovery_range_widens_the_upside_interval():
    """issue 19: "13 (13–14)" ignored the recovery assumption; a range carries it into the interval."""
    ev = pd.DataFrame({"claim_id": ["a"], "stage": "buy", "stage_order": 0, "persona": "all", "kind": "pain_point",
                       "code": ["form"], "grade": ["strong"], "n_participants": [6], "n_participants_total": 10,
                       "share_participants": [0.6], "step": ["form"], "step_lost": [800],
                       "step_lost_per_week": [100.0], "step_to_end": [0.5], "step_to_end_n": [1000]})
    point = jl.prioritise(ev, recovery=0.1).iloc[0]
    ranged = jl.prioritise(ev, recovery=(0.05, 0.15)).iloc[0]
    default = jl.prioritise(ev).iloc[0]   # the default is that range, stated (DEFAULT_RECOVERY)
    assert (default["upside_ci_low"], default["upside_ci_high"]) == (ranged["upside_ci_low"], ranged["upside_ci_high"])
    assert ranged["upside_per_week"] == pytest.approx(point["upside_per_week"]) == pytest.approx(5.0)
    # uniform recovery on [0.05, 0.15]: the interval spans roughly 0.05 * 50 to 0.15 * 50
    assert ranged["upside_ci_low"] < 3.0 < 7.0 < ranged["upside_ci_high"]
    assert point["upside_ci_high"] - point["upside_ci_low"] < 1.5
    assert "5%–15%" in ranged["upside"]
    with pytest.raises(JourneylabError, match="recovery"):
        jl.prioritise(ev, recovery=(0.2, 0.1))


def test_compare_maps_lists_a_moved_coded_emotion(tiny):
    """The codes' balance per stage (delights − pain points) is compared like the words' emotion."""
    import copy

    study, _, ev = tiny
    old = jl.JourneyMap.build(study, ev)
    assert "coded_balance" in old.emotion.columns
    stage = old.emotion.dropna(subset=["coded_balance"])["stage"].iloc[0]
    new = copy.deepcopy(old)
    em = new.emotion.copy()
    j = em.index[em["stage"] == stage][0]
    was = float(em.at[j, "coded_balance"])
    em.at[j, "coded_balance"], em.at[j, "coded_ci_low"], em.at[j, "coded_ci_high"] = -0.9, -1.0, -0.7
    new.emotion = em
    ch = jl.compare_maps(old, new=new)
    row = ch[ch["change"] == "coded_emotion_moved"]
    assert row["stage"].tolist() == [stage]
    assert row["delta"].iloc[0] == pytest.approx(-0.9 - was)
    assert "emotion_moved" not in set(ch["change"])               # the words did not move
    assert jl.compare_maps(old, new=jl.JourneyMap.from_dict(old.to_dict())).empty
