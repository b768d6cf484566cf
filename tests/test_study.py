"""Study folder loading and validation: every error path names its place."""
from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import journeylab as jl
from journeylab.errors import JourneylabError, StudyError

STUDY_YML = """\
name: Mini study
stages:
  - name: discover
    touchpoints: [ads]
  - name: buy
    touchpoints: [basket, checkout]
events:
  ad_click: {stage: discover, touchpoint: ads}
  add_to_basket: {stage: buy, touchpoint: basket}
  paid: {stage: buy, touchpoint: checkout}
funnel:
  steps: [ad_click, add_to_basket, paid]
  window: 3D
changes:
  - date: 2026-01-10
    name: new checkout
    touchpoint: checkout
survey:
  nps: nps
  csat_scale: [1, 5]
  csat:
    csat_checkout: checkout
personas: [saver, spender]
"""

PARTICIPANTS = """\
participant_id,name,persona,device
P01,Ada Lovelace,saver,mobile
P02,Bob Brown,spender,desktop
"""

P01_TXT = """\
[00:00:01] Interviewer: Hello Ada, thanks for joining.
[00:00:05] P01: Happy to help. My email is ada@example.com by the way.
[00:00:12] Interviewer: How was checkout?
[00:00:15] P01: The checkout form was so annoying,
it asked for my address twice.
"""

P02_VTT = """\
WEBVTT

00:00:01.000 --> 00:00:03.000
Interviewer: What brought you to the shop?

00:00:04.000 --> 00:00:06.000
P02: An ad, I think.

00:00:06.500 --> 00:00:09.000
P02: Then I added things to the basket.
"""

SURVEY = """\
respondent_id,user_id,submitted_at,nps,csat_checkout,comment
R1,u1,2026-01-05T10:00:00Z,9,5,Great - Ada Lovelace
R2,u2,2026-01-06T11:00:00Z,3,2,Checkout form too long
R3,u3,2026-01-12T12:00:00Z,,4,
"""

EVENTS = """\
user_id,timestamp,event,device
u1,2026-01-05T09:00:00Z,ad_click,mobile
u1,2026-01-05T09:05:00Z,add_to_basket,mobile
u1,2026-01-05T09:09:00Z,paid,mobile
u2,2026-01-06T10:00:00Z,ad_click,desktop
"""

CODEBOOK = """\
name: Mini codebook
version: "1"
codes:
  - name: checkout_pain
    kind: pain_point
    stage: buy
    touchpoint: checkout
    definition: Checkout was hard.
    rules:
      phrases: [checkout form]
  - name: ad_found
    kind: behaviour
    stage: discover
    touchpoint: ads
    definition: Found the shop through an ad.
"""

CODINGS = """\
segment_id,code,coder,origin,memo
P01-t004,checkout_pain,ann,manual,
P02-t002,ad_found,ann,manual,clear case
"""


def make_study(root: Path, **override) -> Path:
    """Write a small valid study; ``override`` maps relative path -> text (None deletes)."""
    files = {
        "study.yml": STUDY_YML,
        "participants.csv": PARTICIPANTS,
        "transcripts/P01.txt": P01_TXT,
        "transcripts/P02.vtt": P02_VTT,
        "survey.csv": SURVEY,
        "events.csv": EVENTS,
        "codebook.yml": CODEBOOK,
        "codings/ann.csv": CODINGS,
    }
    files.update(override)
    for rel, text in files.items():
        if text is None:
            continue
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding="utf-8")
    return root


def errors(path) -> list[str]:
    return [str(p) for p in jl.validate_study(path) if p.severity == "error"]


# ---------------------------------------------------------------------------- valid study


def test_valid_study_loads_every_part(tmp_path):
    study = jl.load_study(make_study(tmp_path))
    assert study.stages == ["discover", "buy"]
    assert study.stage_touchpoints == {"discover": ["ads"], "buy": ["basket", "checkout"]}
    assert study.funnel_steps == ["ad_click", "add_to_basket", "paid"]
    assert study.funnel_window == "3D"
    assert list(study.participants["participant_id"]) == ["P01", "P02"]
    assert "name" not in study.participants.columns  # real names never leave the loader
    assert len(study.survey) == 3 and study.survey["nps"].isna().sum() == 1
    assert str(study.survey["submitted_at"].dtype).startswith("datetime64")
    assert len(study.events) == 4 and str(study.events["timestamp"].dtype).startswith("datetime64")
    assert set(study.documents["doc_id"]) == {"P01", "P02"}
    assert len(study.codings) == 2 and set(study.codings["coder"]) == {"ann"}
    assert study.changes["date"].iloc[0] == pd.Timestamp("2026-01-10")
    assert study.csat_columns == {"csat_checkout": "checkout"}
    summary = study.summary().set_index("part")["n"]
    assert summary["participants"] == 2 and summary["events"] == 4
    assert "Mini study" in study._repr_html_()


def test_segments_trace_back_to_their_document(tmp_path):
    study = jl.load_study(make_study(tmp_path))
    texts = study.documents.set_index("doc_id")["text"]
    for seg in study.segments.itertuples():
        assert texts[seg.doc_id][seg.start:seg.end] == seg.text
    p02 = study.segments[study.segments["doc_id"] == "P02"]
    # the two cues of P02 are one speaker turn
    assert list(p02["speaker_role"]) == ["interviewer", "participant"]


def test_redaction_is_on_by_default(tmp_path):
    study = jl.load_study(make_study(tmp_path))
    all_text = " ".join(study.segments["text"]) + " ".join(study.documents["text"])
    assert "ada@example.com" not in all_text and "Ada" not in all_text
    assert "[EMAIL]" in all_text and "[NAME:P01]" in all_text
    assert set(study.redactions["kind"]) >= {"email", "name"}
    assert "ada@example.com" not in study.redactions.to_string()
    # a participant's name in a survey comment gets the same placeholder as in the transcripts
    assert "[NAME:P01]" in " ".join(study.survey["comment"].dropna())
    raw = jl.load_study(tmp_path, redact=False)
    assert "ada@example.com" in " ".join(raw.segments["text"])


def test_redaction_covers_every_free_text_and_its_settings_are_checked(tmp_path):
    survey = SURVEY.replace(",comment\n", ",comment,why_left,channel_note,device\n")
    survey = survey.replace("Great - Ada Lovelace\n", "Great - Ada Lovelace,call 07911 123456,my sister Chiara,mobile\n")
    survey = survey.replace("Checkout form too long\n", "Checkout form too long,,,desktop\n")
    survey = survey.replace("R3,u3,2026-01-12T12:00:00Z,,4,\n", "R3,u3,2026-01-12T12:00:00Z,,4,,,,tablet\n")
    yml = STUDY_YML + "redaction: {region: GB, columns: [channel_note]}\n"
    codings = CODINGS.replace("clear case", "Bob said to email bob.brown@example.com")
    root = make_study(tmp_path, **{"survey.csv": survey, "study.yml": yml, "codings/ann.csv": codings})
    study = jl.load_study(root)
    row = study.survey.set_index("respondent_id").loc["R1"]
    assert row["why_left"] == "call [PHONE]" and row["channel_note"] == "my sister [PERSON]"
    assert row["device"] == "mobile"  # not free text: untouched
    assert study.codings["memo"].dropna().tolist() == ["[NAME:P02] said to email [EMAIL]"]
    assert set(study.redactions["source"]) == {"transcripts", "survey", "codings"}
    assert "name" not in study.participants.columns
    bad = make_study(tmp_path / "bad", **{"study.yml": STUDY_YML + "redaction:\n  region: Britain\n"})
    assert any("study.yml, line" in e and "redaction region: expected a two-letter region code" in e and "'Britain'" in e
               for e in errors(bad)), errors(bad)


def test_participant_aliases_are_always_replaced(tmp_path):
    parts = PARTICIPANTS.replace("name,persona", "name,aliases,persona").replace(
        "Ada Lovelace,saver", "Ada Lovelace,Countess;ady,saver").replace("Bob Brown,spender", "Bob Brown,,spender")
    txt = P01_TXT.replace("by the way.", "by the way, ady to my friends.")
    study = jl.load_study(make_study(tmp_path, **{"participants.csv": parts, "transcripts/P01.txt": txt}))
    text = " ".join(study.segments["text"])
    assert "[NAME:P01] to my friends" in text and "ady" not in text
    assert "aliases" not in study.participants.columns


def test_column_names_can_be_mapped_in_study_yml(tmp_path):
    yml = STUDY_YML + "columns:\n  events: {user_id: visitor, timestamp: ts, event: action}\n"
    ev = EVENTS.replace("user_id,timestamp,event", "visitor,ts,action")
    study = jl.load_study(make_study(tmp_path, **{"study.yml": yml, "events.csv": ev}))
    assert {"user_id", "timestamp", "event"} <= set(study.events.columns)


def test_events_can_be_gzip_or_parquet(tmp_path):
    make_study(tmp_path, **{"events.csv": None})
    with gzip.open(tmp_path / "events.csv.gz", "wt") as fh:
        fh.write(EVENTS)
    assert len(jl.load_study(tmp_path).events) == 4
    (tmp_path / "events.csv.gz").unlink()
    pd.read_csv(pd.io.common.StringIO(EVENTS)).to_parquet(tmp_path / "events.parquet")
    assert len(jl.load_study(tmp_path).events) == 4


# ---------------------------------------------------------------------------- error paths


@pytest.mark.parametrize(
    "override, expected",
    [
        ({"participants.csv": "id,persona\nP01,saver\n"}, r"participants.csv, line 1, column 'participant_id': missing required column"),
        ({"participants.csv": PARTICIPANTS + "P02,Bob Again,saver,mobile\n"}, r"participants.csv, line 4, column 'participant_id': duplicate participant_id 'P02' \(first seen on line 3\)"),
        ({"participants.csv": PARTICIPANTS.replace("spender,desktop", "whale,desktop")}, r"participants.csv, line 3, column 'persona': persona 'whale'"),
        ({"survey.csv": SURVEY.replace("R2,u2,2026-01-06T11:00:00Z,3", "R2,u2,2026-01-06T11:00:00Z,11")}, r"survey.csv, line 3, column 'nps': expected an NPS score .* found '11'"),
        ({"survey.csv": SURVEY.replace(",5,Great", ",7,Great")}, r"survey.csv, line 2, column 'csat_checkout': expected a CSAT score on the 1–5 scale .* found '7'"),
        ({"survey.csv": SURVEY.replace("R3,", "R1,")}, r"survey.csv, line 4, column 'respondent_id': duplicate"),
        ({"survey.csv": SURVEY.replace(",csat_checkout,", ",csat_check,")}, r"survey.csv, line 1, column 'csat_checkout': study.yml names CSAT column"),
        ({"events.csv": EVENTS.replace("2026-01-05T09:05:00Z", "yesterday")}, r"events.csv, line 3, column 'timestamp': expected a timestamp like .* found 'yesterday'"),
        ({"events.csv": EVENTS + "u3,2026-01-07T10:00:00Z,wishlist,mobile\n"}, r"events.csv, line 6, column 'event': event 'wishlist' \(1 rows\) belongs to no known stage"),
        ({"events.csv": EVENTS + "u3,2026-01-07T10:00:00Z,paid,mobile,extra\n"}, r"events.csv, line 6: expected 4 fields \(as in the header\), found 5"),
        ({"events.csv": ""}, r"events.csv: the file is empty"),
        ({"transcripts/P03.txt": "Interviewer: Hi\nP03: Hello\n"}, r"transcripts/P03.txt, line 2: speaker 'P03' is not in participants.csv"),
        ({"transcripts/P03.txt": b"Interviewer: Hi\nP01: \xff\xfe\x00 bad\n"}, r"transcripts/P03.txt"),
        ({"transcripts/P03.txt": ""}, r"transcripts/P03.txt.*empty"),
        ({"codings/ann.csv": CODINGS + "P09-t001,checkout_pain,ann,manual,\n"}, r"codings/ann.csv, line 4, column 'segment_id': segment_id 'P09-t001' matches no transcript segment"),
        ({"codings/ann.csv": CODINGS + "P01-t002,made_up,ann,manual,\n"}, r"codings/ann.csv, line 4, column 'code': code 'made_up' is not in codebook.yml"),
        ({"study.yml": STUDY_YML.replace("paid: {stage: buy", "paid: {stage: pay")}, r"study.yml, line 10: event 'paid': stage 'pay' is not one of the stages"),
        ({"study.yml": STUDY_YML.replace("window: 3D", "window: soon")}, r"study.yml, line 13: funnel window: expected a duration"),
        ({"study.yml": STUDY_YML.replace("[ad_click, add_to_basket, paid]", "[ad_click, checkout]")}, r"funnel step 2 names event 'checkout'"),
        ({"transcripts/P03.srt": "1\n00:00:01,000 --> soon\nP01: hi\n"}, r"^transcripts/P03.srt, line 2: (?!transcripts/)"),
        ({"codebook.yml": CODEBOOK.replace("stage: buy", "stage: pay")}, r"^codebook.yml, line 6: code 'checkout_pain': stage 'pay'"),
        ({"codebook.yml": CODEBOOK.replace("Checkout was hard.\n", "Checkout was hard.\n    colour: [\n")}, r"^codebook.yml, line 11: not valid YAML"),
        ({"study.yml": "name: [unclosed\n"}, r"study.yml, line \d+: not valid YAML"),
        ({"study.yml": None}, r"study.yml: not found"),
    ],
)
def test_each_problem_is_reported_with_its_place(tmp_path, override, expected):
    make_study(tmp_path, **override)
    found = errors(tmp_path)
    assert any(re.search(expected, e) for e in found), found
    with pytest.raises(StudyError):
        jl.load_study(tmp_path)


def test_every_problem_is_listed_not_just_the_first(tmp_path):
    make_study(tmp_path, **{
        "survey.csv": SURVEY.replace(",9,5,", ",12,9,"),
        "events.csv": EVENTS.replace("2026-01-05T09:05:00Z", "not a time"),
        "participants.csv": PARTICIPANTS + "P01,Dup,saver,mobile\n",
    })
    found = errors(tmp_path)
    assert len(found) >= 4, found
    with pytest.raises(StudyError) as info:
        jl.load_study(tmp_path)
    assert len(info.value.problems) >= 4
    assert "nps" in str(info.value) and "timestamp" in str(info.value) and "duplicate" in str(info.value)


def test_cp1252_transcript_is_decoded_with_a_warning(tmp_path):
    text = "Interviewer: Caf\xe9?\nP01: Oui, le caf\xe9 \u2013 lovely.\n".encode("cp1252")
    make_study(tmp_path, **{"transcripts/P01.txt": text, "codings/ann.csv": None})
    study = jl.load_study(tmp_path)
    warnings = [str(p) for p in study.problems]
    assert any("P01.txt" in w and "cp1252" in w for w in warnings), warnings
    assert "café – lovely" in " ".join(study.segments["text"])


def test_unmapped_events_can_be_excluded_and_are_counted(tmp_path):
    make_study(tmp_path, **{"study.yml": STUDY_YML + "unmapped_events: exclude\n",
                            "events.csv": EVENTS + "u3,2026-01-07T10:00:00Z,wishlist,mobile\n"})
    study = jl.load_study(tmp_path)
    assert len(study.events) == 4
    assert study.exclusions["rows"].sum() == 1 and "wishlist" in study.exclusions["reason"].iloc[0]


def test_not_a_folder_is_a_clear_error(tmp_path):
    with pytest.raises(JourneylabError, match="not a folder"):
        jl.load_study(tmp_path / "nope")


# ---------------------------------------------------------------------------- the command


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "journeylab.run.cli", *map(str, args)], capture_output=True, text=True)


def test_cli_validate_lists_each_problem_and_fails(tmp_path):
    make_study(tmp_path, **{"survey.csv": SURVEY.replace(",9,5,", ",12,9,")})
    res = _cli("validate", tmp_path)
    assert res.returncode == 1
    assert "survey.csv, line 2, column 'nps'" in res.stdout
    assert "survey.csv, line 2, column 'csat_checkout'" in res.stdout
    assert "2 error(s)" in res.stdout


def test_cli_validate_passes_a_valid_study(tmp_path):
    res = _cli("validate", make_study(tmp_path))
    assert res.returncode == 0, res.stdout
    assert "valid" in res.stdout


def test_sample_study_is_valid(sample_path):
    if not (sample_path / "transcripts").is_dir():
        pytest.skip("sample study not generated yet")
    problems = jl.validate_study(sample_path)
    assert [str(p) for p in problems if p.severity == "error"] == []


def test_broken_copy_of_the_sample_lists_each_problem(sample_path, tmp_path):
    if not (sample_path / "transcripts").is_dir():
        pytest.skip("sample study not generated yet")
    copy = tmp_path / "broken"
    shutil.copytree(sample_path, copy)
    survey = (copy / "survey.csv").read_text().splitlines()
    header = survey[0].split(",")
    row = survey[1].split(",")
    row[header.index("nps")] = "42"
    survey[1] = ",".join(row)
    (copy / "survey.csv").write_text("\n".join(survey) + "\n")
    (copy / "participants.csv").write_text((copy / "participants.csv").read_text().replace("P14,", "P99,"))
    res = _cli("validate", copy)
    assert res.returncode == 1
    assert "survey.csv, line 2, column 'nps'" in res.stdout
    assert "speaker 'P14' is not in participants.csv" in res.stdout
