"""Issue 19, item 4 (the rest): rank on the data after a recorded change, a recovery range that the
upside's interval carries, and an upside for pain points without a funnel step (or why there is none)."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd
import pytest

import journeylab as jl
from journeylab.errors import JourneylabError
from journeylab.map import decision

STUDY_YML = """\
name: Ticket shop
stages:
  - name: choose
    touchpoints: [seat_map, extras_page]
events:
  opened: {stage: choose, touchpoint: seat_map}
  seat_picked: {stage: choose, touchpoint: seat_map}
  extras_done: {stage: choose, touchpoint: extras_page}
funnel:
  steps: [opened, seat_picked, extras_done]
  window: 2D
changes:
  - {date: 2026-02-15, name: bigger seat map, touchpoint: seat_map}
interviewer_labels: [Host]
vocabulary: {conversion: bookings, period: week}
"""

CODEBOOK_YML = """\
name: Ticket codes
codes:
  - {name: seats_tiny, kind: pain_point, stage: choose, touchpoint: seat_map, definition: The seat map was too small.}
  - {name: extras_pushy, kind: pain_point, stage: choose, touchpoint: extras_page, definition: Extras were pushed.}
"""


def _events() -> str:
    """Before the change the seat map loses 60 of 100 a day and the extras page 4 of the 40 left; after it 5
    and 10 of the 95 left."""
    rows = ["user_id,timestamp,event"]
    for day in range(28):   # 2026-02-01 .. 2026-02-28; the change on the 15th
        after = day >= 14
        for k in range(100):
            u, t = f"u{day:02d}{k:02d}", pd.Timestamp("2026-02-01T09:00:00") + pd.Timedelta(days=day, minutes=k)
            rows.append(f"{u},{t.isoformat()}Z,opened")
            if k < (95 if after else 40):
                rows.append(f"{u},{(t + pd.Timedelta(minutes=1)).isoformat()}Z,seat_picked")
                if k % 10:   # 10% of those lost on the extras page
                    rows.append(f"{u},{(t + pd.Timedelta(minutes=2)).isoformat()}Z,extras_done")
    return "\n".join(rows) + "\n"


def write_ticket_study(root: Path) -> Path:
    (root / "transcripts").mkdir(parents=True)
    (root / "codings").mkdir()
    (root / "study.yml").write_text(STUDY_YML, encoding="utf-8")
    (root / "codebook.yml").write_text(CODEBOOK_YML, encoding="utf-8")
    pids = ["V1", "V2", "V3", "V4"]
    (root / "participants.csv").write_text("participant_id\n" + "\n".join(pids) + "\n", encoding="utf-8")
    rows = ["segment_id,code,coder,origin"]
    for pid in pids:   # both pain points raised by every participant, in the same words: only size differs
        turns = ["Host: How was choosing?", f"{pid}: The seat map was hard to use.",
                 "Host: And then?", f"{pid}: The extras page was hard to use."]
        (root / "transcripts" / f"{pid}.txt").write_text("\n\n".join(turns) + "\n", encoding="utf-8")
        rows += [f"{pid}-t002,seats_tiny,ana,manual", f"{pid}-t004,extras_pushy,ana,manual"]
    (root / "codings" / "ana.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (root / "events.csv").write_text(_events(), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def ticket(tmp_path_factory):
    study = jl.load_study(write_ticket_study(tmp_path_factory.mktemp("ticket") / "study"))
    ev = jl.evidence_table(study, codings=study.codings, n_boot=200)
    return study, jl.JourneyMap.build(study, ev)


def test_ranks_on_the_events_after_the_change_and_says_so(ticket):
    """Over the whole month the seat map loses most (60 a day for two weeks, 5 a day after): it ranks first.
    Since the change it loses 5 a day and the extras page 10: the extras page ranks first, and the
    sentence says on which events it was sized."""
    _, jmap = ticket
    rk = jmap.methods["ranking"]
    assert (rk["change"], rk["date"]) == ("bigger seat map", "2026-02-15")
    assert (rk["steps"]["seat_picked"]["lost"], rk["steps"]["extras_done"]["lost"]) == (14 * 5, 14 * 10)
    assert rk["steps"]["extras_done"]["lost_per_week"] == pytest.approx(2 * rk["steps"]["seat_picked"]["lost_per_week"])
    whole = jmap.prioritise(after_change=False, recovery=0.1)
    now = jmap.prioritise(recovery=0.1)
    assert whole["code"].tolist() == ["seats_tiny", "extras_pushy"]
    assert now["code"].tolist() == ["extras_pushy", "seats_tiny"]
    assert set(whole["sized_on"]) == {"the whole period"}
    top = now.iloc[0]
    assert top["sized_on"] == "events since the change of 2026-02-15 (bigger seat map)"
    assert "sized on events since the change of 2026-02-15" in top["upside"]
    # 0.1 × the users lost a week since the change × 100% of those who pass the extras page finish
    assert top["step_lost_per_week"] == rk["steps"]["extras_done"]["lost_per_week"]
    assert top["upside_per_week"] == pytest.approx(0.1 * top["step_lost_per_week"])
    assert "bookings a week" in top["upside"]          # the study's vocabulary


def test_the_report_says_it_ranked_after_the_change(ticket, tmp_path):
    study, jmap = ticket
    text = Path(jmap.to_html(tmp_path / "r.html", study=study)).read_text(encoding="utf-8")
    assert "Ranked and sized on the events after the last recorded change, bigger seat map of 2026-02-15" in text


def test_a_change_after_the_last_event_ranks_on_the_whole_period_and_says_so(ticket, tmp_path):
    study, _ = ticket
    late = study.changes.assign(date=pd.Timestamp("2026-06-01"))
    s2 = dataclasses.replace(study, changes=late)
    m = jl.JourneyMap.build(s2, jl.evidence_table(s2, codings=s2.codings, n_boot=100))
    assert m.methods["ranking"]["steps"] == {} and "no event follows the change" in m.methods["ranking"]["note"]
    assert set(m.prioritise()["sized_on"]) == {"the whole period"}


def test_recovery_range_from_study_yml_reaches_the_interval():
    cfg = type("S", (), {"config": {"sizing": {"recovery": [0.05, 0.25]}}})()
    s = decision.sizing_assumptions(cfg)
    assert s["recovery_range"] == (0.05, 0.25) and s["recovery"] == pytest.approx(0.15)
    d = decision.sizing_assumptions(type("S", (), {"config": {}})())
    assert d["recovery_range"] == (0.05, 0.15) and d["recovery_source"] == "default"
    for bad in ([0.3, 0.1], [0.1], "a lot", 0, [0.1, 2]):
        with pytest.raises(JourneylabError, match="study.yml sizing: recovery:.*range"):
            decision.sizing_assumptions(type("S", (), {"config": {"sizing": {"recovery": bad}}})())


def test_a_maps_own_sizing_range_is_prioritises_default(ticket):
    _, jmap = ticket
    jmap2 = jl.JourneyMap.from_dict({**jmap.to_dict(), "methods": {**jmap.methods, "sizing": {"recovery": [0.1, 0.3]}}})
    a = jmap2.prioritise().iloc[0]
    b = jmap2.prioritise(recovery=(0.1, 0.3)).iloc[0]
    assert (a["upside_ci_low"], a["upside_ci_high"]) == (b["upside_ci_low"], b["upside_ci_high"])
    assert "10%–30%" in a["upside"]


def _ev(**extra):
    row = {"claim_id": "a", "stage": "s", "stage_order": 0, "persona": "all", "kind": "pain_point", "code": "slow",
           "grade": "weak", "n_participants": 2, "n_participants_total": 10, "share_participants": 0.2}
    return pd.DataFrame([{**row, **extra}])


def test_nps_upside_of_a_pain_point_without_a_funnel_step():
    """20 of 100 commenters raise it with an NPS 30 points below the others' (CI -50 to -10): were they
    like the others, the commenters' NPS would rise by 30 × 20/100 = 6 points (CI 2 to 10)."""
    p = jl.prioritise(_ev(nps_gap=-30.0, nps_gap_ci_low=-50.0, nps_gap_ci_high=-10.0, nps_n_theme=20,
                          nps_n_others=80)).iloc[0]
    assert (p["upside_nps_points"], p["upside_nps_ci_low"], p["upside_nps_ci_high"]) == pytest.approx((6, 2, 10))
    assert math.isnan(p["upside_per_week"])
    assert "commenters' NPS would rise by ≈6.0 points (95% CI +2.0 to +10.0)" in p["upside"]
    spans = jl.prioritise(_ev(nps_gap=-5.0, nps_gap_ci_low=-20.0, nps_gap_ci_high=10.0, nps_n_theme=20,
                              nps_n_others=80)).iloc[0]
    assert "possibly none" in spans["upside"]
    better = jl.prioritise(_ev(nps_gap=12.0, nps_gap_ci_low=-5.0, nps_gap_ci_high=30.0, nps_n_theme=20,
                               nps_n_others=80)).iloc[0]
    assert better["upside_nps_points"] == 0 and "no upside in NPS" in better["upside"]


def test_no_upside_says_why():
    p = jl.prioritise(_ev(csat_top2=0.55, csat_top2_ci_low=0.45, csat_top2_ci_high=0.65)).iloc[0]
    assert p["upside"].startswith("no upside estimate: not linked to a funnel step, no usability task")
    assert "no survey comment raises it" in p["upside"] and "55% top-2 box" in p["upside"]


def test_theme_csat_gap_interval_is_newcombes():
    """Compare to statsmodels' confint_proportions_2indep(method="newcomb") (Newcombe 1998, method 10)."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    rows = [("R%d" % i, 5 if i < 3 else 1, "slow and late" if i < 12 else "fine") for i in range(12)]
    rows += [("S%d" % i, 5 if i < 30 else 2, "ok") for i in range(40)]
    survey = pd.DataFrame(rows, columns=["respondent_id", "csat_x", "comment"])
    codes = pd.DataFrame({"segment_id": [f"R{i}" for i in range(12)], "code": "slow"})
    r = jl.theme_csat(survey, comment_codings=codes, column="csat_x").iloc[0]
    assert (r["csat_n_theme"], r["csat_n_others"]) == (12, 40)
    assert r["csat_gap"] == pytest.approx(3 / 12 - 30 / 40)
    lo, hi = confint_proportions_2indep(3, 12, 30, 40, method="newcomb", compare="diff")
    assert (r["csat_gap_ci_low"], r["csat_gap_ci_high"]) == pytest.approx((lo, hi), abs=1e-9)


def test_csat_upside_of_a_pain_point_without_a_funnel_step():
    """20 of 100 commenters raise it; 30 points fewer of them satisfied (CI -50 to -10): 6 points (2 to 10)."""
    p = jl.prioritise(_ev(touchpoint="seat_map", csat_column="csat_seats", csat_gap=-0.3, csat_gap_ci_low=-0.5,
                          csat_gap_ci_high=-0.1, csat_n_theme=20, csat_n_others=80)).iloc[0]
    assert (p["upside_csat_points"], p["upside_csat_ci_low"], p["upside_csat_ci_high"]) == pytest.approx((6, 2, 10))
    assert "30 points less often satisfied" in p["upside"] and "rating seat map" in p["upside"]
    assert "top-2 box would rise by ≈6.0 points (95% CI +2.0 to +10.0)" in p["upside"]


def test_evidence_table_carries_the_csat_gap_of_those_raising_a_theme():
    study = jl.load_study(jl.datasets.sample_study_path())
    sv = study.survey.dropna(subset=["comment"])
    comments = pd.DataFrame({"segment_id": sv["respondent_id"].astype(str), "text": sv["comment"]})
    sc = jl.autocode(comments, codebook=study.codebook)
    ev = jl.evidence_table(study, codings=jl.autocode(study.segments, codebook=study.codebook), survey_codings=sc,
                           n_boot=100)
    rows = ev[ev["csat_n_theme"].notna()]
    assert len(rows) and rows["csat_column"].notna().all()
    for r in rows.head(3).to_dict("records"):
        ref = jl.theme_csat(study.survey, comment_codings=sc, column=r["csat_column"],
                            scale=study.csat_scale).set_index("code")
        assert r["csat_gap"] == pytest.approx(ref.loc[r["code"], "csat_gap"])
        assert r["csat_n_theme"] == ref.loc[r["code"], "csat_n_theme"]


def test_small_upsides_are_not_rounded_to_nothing(other_study):
    """A step losing a user or two a week gives an upside of a fraction: it reads as that fraction,
    not "≈ 0 more ... (0–0)" (issue 19), and one user is "1 user"."""
    from journeylab.map.journey_map import _amount

    assert [_amount(x) for x in (0.0, 0.004, 0.13, 1.26, 12.4, 1234.5)] == ["0", "< 0.01", "0.13", "1.3", "12",
                                                                          "1,234"]
    ev = jl.evidence_table(other_study, codings=jl.analysis_codings(other_study), n_boot=100)
    p = jl.prioritise(ev)
    sized = p[p["upside_per_week"].notna() & (p["upside_per_week"] > 0)]
    assert len(sized)
    for text in sized["upside"]:
        assert "≈ 0 more" not in text and "interval 0–0" not in text and " 1 users " not in text, text
