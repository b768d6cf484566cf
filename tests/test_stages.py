"""Stages that follow the session (issue 18, item 3): stage markers in transcripts, segment_stages.csv,
codings at the stage of the text they are on, shares among the participants who reached a stage.

The studies here are written in a temporary folder (a three-task test of a fictional ticket
machine) or are the bundled usability study; none is the sample study.
"""
from __future__ import annotations

from pathlib import Path

import pytest

import journeylab as jl
from journeylab.errors import StudyError
from journeylab.study.transcripts import parse_transcript

STUDY_YML = """\
name: Ticket machine test
stages:
  - name: choose
    touchpoints: [destination_screen]
  - name: pay
    touchpoints: [card_reader]
  - name: collect
    touchpoints: [ticket_slot]
interviewer_labels: [Moderator]
transcripts:
  stage_marker: '{marker}'
tasks:
  stages:
    "1": choose
    "2": {{stage: pay, touchpoint: card_reader}}
    "3": collect
"""

CODEBOOK = """\
name: ticket codes
codes:
  - name: screen_confusing
    kind: pain_point
    stage: choose
    touchpoint: destination_screen
    definition: Could not tell what the screen wanted.
  - name: card_slow
    kind: pain_point
    stage: pay
    touchpoint: card_reader
    definition: The card reader was slow.
"""

# A1 and A2 do all three tasks; A3 stops after task 2 (never reaches "collect").
TRANSCRIPTS = {
    "A1": """\
Moderator: Welcome, tell me about your last trip.
A1: I mostly take the bus.
## Task 1
Moderator: Please buy a ticket to the airport.
A1: The screen is confusing, too many buttons.
## Task 2
Moderator: Now pay by card.
A1: The screen is confusing here as well, where do I tap?
A1: And the card reader is slow.
## Task 3
Moderator: Collect your ticket.
A1: Still confusing, which slot is it?
""",
    "A2": """\
## Task 1
Moderator: Please buy a ticket to the airport.
A2: Fine, found it.
## Task 2
Moderator: Now pay by card.
A2: The screen is confusing.
## Task 3
Moderator: Collect your ticket.
A2: There it is.
""",
    "A3": """\
## Task 1
Moderator: Please buy a ticket to the airport.
A3: Confusing screen.
## Task 2
Moderator: Now pay by card.
A3: I give up, it is confusing.
""",
}

# (doc, turn) -> code
CODINGS = [("A1", 2, "card_slow"), ("A1", 4, "screen_confusing"), ("A1", 6, "screen_confusing"),
           ("A1", 7, "card_slow"), ("A1", 9, "screen_confusing"), ("A2", 4, "screen_confusing"),
           ("A3", 2, "screen_confusing"), ("A3", 4, "screen_confusing")]


def _write(tmp_path: Path, *, marker: str = r"^## Task (?P<task>\d)", transcripts=None, extra=None) -> Path:
    root = tmp_path / "ticket_study"
    (root / "transcripts").mkdir(parents=True)
    (root / "codings").mkdir()
    (root / "study.yml").write_text(STUDY_YML.format(marker=marker), encoding="utf-8")
    (root / "codebook.yml").write_text(CODEBOOK, encoding="utf-8")
    (root / "participants.csv").write_text("participant_id\nA1\nA2\nA3\n", encoding="utf-8")
    for doc, text in (transcripts or TRANSCRIPTS).items():
        (root / "transcripts" / f"{doc}.txt").write_text(text, encoding="utf-8")
    rows = "".join(f"{d}-t{t:03d},{c},kim,manual\n" for d, t, c in CODINGS)
    (root / "codings" / "kim.csv").write_text("segment_id,code,coder,origin\n" + rows, encoding="utf-8")
    for name, text in (extra or {}).items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def _stages(study) -> dict:
    ss = study.segment_stages
    return dict(zip(ss["segment_id"], ss["stage"]))


def test_heading_markers_give_every_turn_its_stage(tmp_path):
    study = jl.load_study(_write(tmp_path))
    st = _stages(study)
    # A1: t001/t002 are the warm-up before the first marker: no session stage
    assert "A1-t001" not in st and "A1-t002" not in st
    assert [st[f"A1-t{t:03d}"] for t in range(3, 10)] == ["choose"] * 2 + ["pay"] * 3 + ["collect"] * 2
    assert st["A3-t004"] == "pay" and set(study.segment_stages["task"].dropna()) == {"1", "2", "3"}
    assert set(study.segment_stages["source"]) == {"marker"}
    # heading lines are not text of any turn, and text[start:end] still holds
    assert not study.segments["text"].str.contains("## Task").any()
    doc = study.documents.set_index("doc_id")["text"]
    for r in study.segments.itertuples():
        assert doc[r.doc_id][r.start:r.end] == r.text


def test_inline_markers_in_a_turn(tmp_path):
    inline = {d: t.replace("## Task 1\nModerator: ", "Moderator: [T1] ")
              .replace("## Task 2\nModerator: ", "Moderator: [T2] ")
              .replace("## Task 3\nModerator: ", "Moderator: [T3] ") for d, t in TRANSCRIPTS.items()}
    study = jl.load_study(_write(tmp_path, marker=r"\[T(?P<task>\d)\]", transcripts=inline))
    st = _stages(study)
    assert st["A1-t003"] == "choose" and st["A1-t005"] == "pay" and st["A1-t009"] == "collect"
    assert "A1-t002" not in st


def test_codings_take_the_stage_of_their_text(tmp_path):
    study = jl.load_study(_write(tmp_path))
    cs = jl.coding_stages(study, codings=study.codings)
    got = dict(zip(cs["segment_id"] + "/" + cs["code"], zip(cs["stage"], cs["stage_source"])))
    assert got["A1-t004/screen_confusing"] == ("choose", "session")
    assert got["A1-t006/screen_confusing"] == ("pay", "session")
    assert got["A1-t009/screen_confusing"] == ("collect", "session")
    # before the first marker: the code's own stage (code-linked, today's way)
    assert got["A1-t002/card_slow"] == ("pay", "codebook")


def test_a_code_at_several_stages_with_shares_among_those_who_reached_them(tmp_path):
    study = jl.load_study(_write(tmp_path))
    reach = jl.stage_reach(study).set_index("stage")["n_reached"].to_dict()
    assert reach == {"choose": 3, "pay": 3, "collect": 2}  # A3 never reached task 3
    ev = jl.evidence_table(study, codings=study.codings, n_boot=100)
    sc = ev[ev["code"] == "screen_confusing"].set_index("stage")
    assert list(sc.index) == ["choose", "pay", "collect"]
    assert sc["n_participants"].to_dict() == {"choose": 2, "pay": 3, "collect": 1}
    assert sc["n_participants_total"].to_dict() == {"choose": 3, "pay": 3, "collect": 2}
    assert sc.loc["collect", "share_participants"] == pytest.approx(1 / 2)
    # the claim at another stage takes that stage's touchpoint; ids differ per stage
    assert sc.loc["pay", "touchpoint"] == "card_reader" and sc["claim_id"].is_unique
    jmap = jl.JourneyMap.build(study, ev)
    assert sorted(jmap.pain_points.loc[jmap.pain_points["code"] == "screen_confusing", "stage"]) == \
        ["choose", "collect", "pay"]


def test_code_linked_stages_remain_without_markers(tmp_path):
    root = _write(tmp_path)
    text = (root / "study.yml").read_text().replace("transcripts:\n  stage_marker: '^## Task (?P<task>\\d)'\n", "")
    (root / "study.yml").write_text(text)
    # without a marker pattern the headings are ordinary lines: keep them out of the transcripts
    for p in (root / "transcripts").iterdir():
        p.write_text("\n".join(x for x in p.read_text().splitlines() if not x.startswith("##")) + "\n")
    study = jl.load_study(root)
    assert study.segment_stages is None
    ev = jl.evidence_table(study, codings=study.codings, n_boot=100)
    sc = ev[ev["code"] == "screen_confusing"]
    assert sc["stage"].tolist() == ["choose"] and int(sc["n_participants"].iloc[0]) == 3
    assert set(jl.coding_stages(study, codings=study.codings)["stage_source"]) == {"codebook"}


def test_segment_stages_csv(tmp_path):
    root = _write(tmp_path, extra={"segment_stages.csv": "segment_id,stage\nA1-t002,collect\nA2-t002,pay\n"})
    study = jl.load_study(root)
    st = _stages(study)
    assert st["A1-t002"] == "collect"        # a turn before any marker gets the file's stage
    assert st["A2-t002"] == "pay"            # the file wins over the marker (task 1 -> choose)
    src = study.segment_stages.set_index("segment_id")["source"]
    assert src["A1-t002"] == "segment_stages.csv" and src["A1-t004"] == "marker"


def test_segment_stages_csv_alone_by_task(tmp_path):
    root = _write(tmp_path, extra={"segment_stages.csv": "segment_id,task\nA1-t004,2\n"})
    text = (root / "study.yml").read_text().replace("  stage_marker: '^## Task (?P<task>\\d)'\n", "  speaker_labels: true\n")
    (root / "study.yml").write_text(text)
    for p in (root / "transcripts").iterdir():
        p.write_text("\n".join(x for x in p.read_text().splitlines() if not x.startswith("##")) + "\n")
    study = jl.load_study(root)
    assert study.segment_stages[["segment_id", "stage", "task"]].values.tolist() == [["A1-t004", "pay", "2"]]


@pytest.mark.parametrize("content, match", [
    ("segment_id,stage\nA1-t004,choose\nA9-t001,pay\n", r"segment_stages.csv, line 3, column 'segment_id'.*'A9-t001'"),
    ("segment_id,stage\nA1-t004,checkout\n", r"line 2, column 'stage'.*'checkout' is not one of the stages"),
    ("segment_id,stage\nA1-t004,pay\nA1-t004,pay\n", r"line 3.*listed twice \(first on line 2\)"),
    ("segment_id,task\nA1-t004,9\n", r"line 2, column 'task'.*task '9' is not mapped"),
    ("segment,stage\nA1-t004,pay\n", r"segment_stages.csv, line 1: expected the columns segment_id and either stage"),
])
def test_segment_stages_csv_errors(tmp_path, content, match):
    root = _write(tmp_path, extra={"segment_stages.csv": content})
    with pytest.raises(StudyError, match=match):
        jl.load_study(root)


def test_marker_naming_an_unknown_task_names_the_transcript_line(tmp_path):
    bad = dict(TRANSCRIPTS, A2=TRANSCRIPTS["A2"].replace("## Task 3", "## Task 7"))
    with pytest.raises(StudyError, match=r"transcripts/A2.txt, line 7: stage marker '## Task 7': task '7' is not "
                                         r"mapped"):
        jl.load_study(_write(tmp_path, transcripts=bad))


@pytest.mark.parametrize("marker, match", [
    (r"^## Task (\d)", "needs exactly one named group"),
    (r"^## Task (?P<task>\d", "not a valid regular expression"),
])
def test_bad_stage_marker_names_study_yml_line(tmp_path, marker, match):
    with pytest.raises(StudyError, match=r"study.yml, line 11: transcripts stage_marker: .*" + match):
        jl.load_study(_write(tmp_path, marker=marker))


def test_validate_reports_stage_problems(tmp_path):
    root = _write(tmp_path, extra={"segment_stages.csv": "segment_id,stage\nA1-t004,nowhere\n"})
    problems = jl.validate_study(root)
    assert any(p.file == "segment_stages.csv" and p.line == 2 and p.column == "stage" for p in problems)


def test_parse_transcript_heading_ends_the_turn():
    doc = parse_transcript(
        "## T1 Find it\nModerator: Go.\nP1: Done.\n## T2 Pay\nModerator: Pay now.\n", format="txt", doc_id="P1",
        stage_marker=r"^## (?P<task>T\d)")
    assert doc.segments["text"].tolist() == ["Go.", "Done.", "Pay now."]


def test_usability_study_code_at_four_stages():
    study = jl.load_study(jl.datasets.usability_study_path())
    ev = jl.evidence_table(study, codings=study.codings, n_boot=100)
    menu = ev[(ev["code"] == "menu_hard_to_find") & (ev["kind"] == "pain_point")]
    assert len(menu) == 4 and menu["stage"].is_unique
    cs = jl.coding_stages(study, codings=study.codings)
    per_stage = cs[cs["code"] == "menu_hard_to_find"].merge(
        study.segments[["segment_id", "participant_id"]], on="segment_id").groupby("stage")["participant_id"].nunique()
    assert menu.set_index("stage")["n_participants"].to_dict() == per_stage.to_dict()
    assert (menu["n_participants_total"] == 8).all()


def test_heading_in_a_transcript_without_speaker_labels():
    doc = parse_transcript("## T1\nWhere do I start?\nI found it.\n## T2\nPaying now.\n", format="txt", doc_id="P2",
                           speaker_labels=False, stage_marker=r"^## (?P<task>T\d)")
    assert doc.segments["text"].tolist() == ["Where do I start?", "I found it.", "Paying now."]
    text = doc.text
    assert all(text[r.start:r.end] == r.text for r in doc.segments.itertuples())
