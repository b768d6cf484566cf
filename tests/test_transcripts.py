"""Transcripts → segments: formats, offsets that round-trip, errors that name the line."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journeylab as jl
from journeylab.errors import JourneylabError
from journeylab.study.transcripts import SEGMENT_COLUMNS, TranscriptError, parse_transcript, read_document

DATA = Path(__file__).parent / "data" / "transcripts"
GOOD = ["plain.txt", "timestamped.txt", "zoom.vtt", "teams.vtt", "sample.srt", "cp1252.txt", "bom_crlf.vtt",
        "out_of_order.vtt", "utf16.txt"]


def check_round_trip(doc):
    for row in doc.segments.itertuples():
        assert doc.text[row.start:row.end] == row.text, row.segment_id
        assert row.text == row.text.strip() and row.text


@pytest.mark.parametrize("name", GOOD)
def test_every_fixture_round_trips_to_its_document_text(name):
    doc = read_document(DATA / name)
    check_round_trip(doc)
    seg = doc.segments
    assert list(seg.columns) == SEGMENT_COLUMNS
    assert seg["segment_id"].is_unique
    assert (seg["turn"].diff().dropna() > 0).all()
    assert str(seg["turn"].dtype) == "int64" and str(seg["start"].dtype) == "int64"
    assert str(seg["end"].dtype) == "int64" and seg["time_start"].dtype == float
    for c in ("segment_id", "doc_id", "participant_id", "speaker", "speaker_role", "text"):
        assert str(seg[c].dtype) == "string", c
    # interviewer turns have no participant; participant turns always have one
    assert seg.loc[seg.speaker_role == "interviewer", "participant_id"].isna().all()
    assert seg.loc[seg.speaker_role == "participant", "participant_id"].notna().all()
    # same input, same ids
    again = read_document(DATA / name).segments
    pd.testing.assert_frame_equal(seg, again)


def test_plain_text_multi_line_turns_and_blank_lines():
    doc = read_document(DATA / "plain.txt")
    seg = doc.segments
    assert doc.format == "txt" and doc.encoding == "utf-8" and doc.doc_id == "plain"
    assert doc.text == (DATA / "plain.txt").read_text(encoding="utf-8")  # txt: the file text itself
    assert list(seg.segment_id) == ["plain-t001", "plain-t002", "plain-t003", "plain-t004"]
    assert list(seg.speaker) == ["Interviewer", "P07", "Interviewer", "P07"]
    assert list(seg.speaker_role) == ["interviewer", "participant", "interviewer", "participant"]
    assert list(seg.participant_id.astype(object).where(seg.participant_id.notna(), None)) == [None, "P07", None, "P07"]
    assert seg.text[1] == "Sure. It was an Instagram ad,\na throw on a sofa.\n\nI screenshotted it and went back later."
    assert seg.text[3] == "I bought it in the sale."  # surrounding spaces stripped
    # "Interviewer: " is 13 characters; line 1 is 51 characters + newline, line 2 is 34 characters
    assert (seg.start[0], seg.end[0]) == (13, 86)
    assert seg.time_start.isna().all() and seg.time_end.isna().all()


def test_plain_text_timestamps_in_brackets_and_bare():
    seg = jl.read_transcript(DATA / "timestamped.txt")
    assert list(seg.time_start) == [5.0, 9.0, 62.0, 70.0]  # [00:00:05], [00:00:09], 00:01:02, [01:10]
    assert seg.time_end.isna().all()
    assert list(seg.speaker) == ["Interviewer", "P01", "Interviewer", "P01"]
    assert seg.text[3] == "The form cleared everything.\nIt was nearly midnight."


def test_zoom_vtt_merges_split_cues_and_continues_unlabelled_cues():
    doc = read_document(DATA / "zoom.vtt", speaker_map={"Maya Okafor": "P01"})
    seg = doc.segments
    assert doc.format == "vtt"
    assert list(seg.segment_id) == ["zoom-t001", "zoom-t002", "zoom-t003", "zoom-t004"]
    assert list(seg.speaker) == ["Interviewer", "Maya Okafor", "Interviewer", "Maya Okafor"]
    assert list(seg.participant_id.fillna("-")) == ["-", "P01", "-", "P01"]
    # cues 2, 3 and the unlabelled cue that follows are one turn, from 5.0 to 15.0 seconds
    assert seg.text[1] == ("So the first thing I noticed was the delivery price, which only showed up at the very "
                           "end. and that annoyed me.")
    assert (seg.time_start[1], seg.time_end[1]) == (5.0, 15.0)
    assert (seg.time_start[0], seg.time_end[0]) == (1.0, 4.5)  # cue settings after the timing ignored
    assert (seg.time_start[3], seg.time_end[3]) == (62.0, 65.5)
    assert seg.text[3] == 'Because I\'d already "decided".'  # entities decoded
    # the rendered document: one paragraph per turn, the NOTE block left out
    assert doc.text.startswith("[00:00:01] Interviewer: Welcome, and thanks for making time.\n\n"
                               "[00:00:05] Maya Okafor: So the first")
    assert "\n\n[00:01:02] Maya Okafor: Because" in doc.text and "NOTE" not in doc.text
    assert seg.start[0] == len("[00:00:01] Interviewer: ")


def test_teams_vtt_voice_tags_and_accents():
    seg = jl.read_transcript(DATA / "teams.vtt", interviewer_labels=["anna smith"],
                             speaker_map={"Lucía Fernández": "P11"})
    assert list(seg.speaker) == ["Lucía Fernández", "Anna Smith", "Lucía Fernández"]
    assert list(seg.speaker_role) == ["participant", "interviewer", "participant"]
    assert list(seg.participant_id.fillna("-")) == ["P11", "-", "P11"]
    assert seg.text[0] == "Vale, so I ordered the lamp on Monday. It came on Friday."
    assert list(seg.time_start) == [2.12, 8.0, 10.5] and list(seg.time_end) == [7.4, 10.0, 13.0]
    assert seg.text[2] == "No! I paid for next day."  # <v.loud ...> without a closing tag


def test_srt_numbered_cues_comma_milliseconds_and_tags():
    doc = read_document(DATA / "sample.srt")
    seg = doc.segments
    assert doc.format == "srt"
    assert list(seg.segment_id) == ["sample-t001", "sample-t002", "sample-t003"]
    assert seg.text[1] == "I tried to. It said not valid. Twice."  # two cues, <i> removed
    assert list(seg.time_start) == [1.0, 3.5, 8.5] and list(seg.time_end) == [3.0, 8.0, 10.0]
    assert doc.text == ("[00:00:01] Interviewer: Did you use a discount code?\n\n"
                        "[00:00:03] P03: I tried to. It said not valid. Twice.\n\n"
                        "[00:00:08] Interviewer: OK.\n")


def test_cp1252_is_decoded_with_a_warning_naming_the_line():
    doc = read_document(DATA / "cp1252.txt", display_path="transcripts/cp1252.txt")
    assert doc.encoding == "cp1252"
    assert doc.segments.text.tolist() == ["Was the café open?", "Oui – the café was lovely."]
    (w,) = doc.warnings
    assert w.severity == "warning" and w.file == "transcripts/cp1252.txt" and w.line == 1
    assert "cp1252" in w.message and "0xe9" in w.message


def test_bom_and_crlf_are_normalised():
    doc = read_document(DATA / "bom_crlf.vtt")
    assert doc.encoding == "utf-8-sig" and "\r" not in doc.text and "\ufeff" not in doc.text
    assert doc.segments.text.tolist() == ["Ready?", "Ready — go. Still me."]
    assert doc.segments.speaker_role.tolist() == ["interviewer", "participant"]  # Moderator is a default label


def test_utf16_with_bom_is_read():
    doc = read_document(DATA / "utf16.txt")
    assert doc.encoding == "utf-16" and doc.segments.text.tolist() == ["Hi.", "Hello."]


def test_out_of_order_times_are_only_a_warning():
    doc = read_document(DATA / "out_of_order.vtt")
    assert len(doc.segments) == 2
    (w,) = doc.warnings
    assert w.line == 6 and "backwards" in w.message


def test_sentence_split_ids_and_offsets():
    text = "Interviewer: Hi. How are you?\nP07: Fine. The form was long. Really long!\n"
    doc = parse_transcript(text, format="txt", doc_id="P07", split="sentence")
    seg = doc.segments
    assert list(seg.segment_id) == ["P07-t001-s01", "P07-t001-s02", "P07-t002-s01", "P07-t002-s02", "P07-t002-s03"]
    assert list(seg.text) == ["Hi.", "How are you?", "Fine.", "The form was long.", "Really long!"]
    assert list(seg.turn) == [1, 1, 2, 2, 2]
    # "Interviewer: " = 13 chars; "Hi. " = 4; line 1 = 29 chars + newline; "P07: " = 5
    assert list(seg.start) == [13, 17, 35, 41, 60]
    check_round_trip(doc)


def test_sentence_split_of_vtt_round_trips():
    doc = read_document(DATA / "zoom.vtt", split="sentence")
    check_round_trip(doc)
    assert "zoom-t002-s02" in set(doc.segments.segment_id)


def test_a_colon_phrase_seen_once_is_not_a_new_speaker():
    text = ("Interviewer: What did you think?\nP04: It was fine.\nHonestly: the form was too long.\n"
            "Interviewer: Why?\nP04: Postcode.\n")
    doc = parse_transcript(text, format="txt", doc_id="P04")
    assert list(doc.segments.speaker) == ["Interviewer", "P04", "Interviewer", "P04"]
    assert doc.segments.text[1] == "It was fine.\nHonestly: the form was too long."
    (w,) = doc.warnings
    assert w.line == 3 and "Honestly" in w.message


def test_named_speakers_seen_twice_are_speakers():
    text = "Sam: Hi Maya.\nMaya: Hello.\nSam: Shall we start?\nMaya: Sure.\n"
    seg = parse_transcript(text, doc_id="d", interviewer_labels=["Sam"], speaker_map={"maya": "P01"}).segments
    assert list(seg.speaker_role) == ["interviewer", "participant"] * 2
    assert list(seg.participant_id.fillna("-")) == ["-", "P01"] * 2  # speaker_map matches case-insensitively


def test_format_detected_from_content():
    assert parse_transcript("WEBVTT\n\n00:01.000 --> 00:02.000\nP1: hi\n", doc_id="a").format == "vtt"
    assert parse_transcript("1\n00:00:01,000 --> 00:00:02,000\nP1: hi\n", doc_id="a").format == "srt"
    assert parse_transcript("P1: hi\nI: ok\n", doc_id="a").format == "txt"


def test_empty_turn_is_skipped_with_a_warning():
    doc = parse_transcript("Interviewer: Hi.\nP01:\nInterviewer: Still there?\nP01: Yes.\n", doc_id="d")
    assert list(doc.segments.segment_id) == ["d-t001", "d-t002", "d-t003"]
    assert any(w.line == 2 and "no text" in w.message for w in doc.warnings)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("name, pattern", [
    ("empty.txt", r"^transcripts/empty\.txt: the file is empty"),
    ("blank.vtt", r"^transcripts/blank\.vtt: the file is empty"),
    ("nolabel.txt", r"^transcripts/nolabel\.txt, line 1: no speaker label found; expected lines like 'P07: \.\.\.' "
                    r"or 'Interviewer: \.\.\.'"),
    ("preamble.txt", r"^transcripts/preamble\.txt, line 3: text before the first speaker label: "
                     r"'Interview with P07, 20 August'"),
    ("bad_timing.vtt", r"^transcripts/bad_timing\.vtt, line 8: expected a cue timing like "
                       r"'00:01:02\.000 --> 00:01:05\.500', found 'hello'$"),
    ("bad_timing_value.srt", r"^transcripts/bad_timing_value\.srt, line 6: expected a cue timing like "
                             r"'00:01:02,000 --> 00:01:05,500', found '00:00:03,000 -> 00:00:04,000'"),
    ("end_before_start.srt", r"^transcripts/end_before_start\.srt, line 6: the cue ends \(00:00:04,000\) before "
                             r"it starts \(00:00:09,000\)"),
    ("no_number.srt", r"^transcripts/no_number\.srt, line 5: expected a cue number like '12'"),
    ("no_header.vtt", r"^transcripts/no_header\.vtt, line 1: expected the header 'WEBVTT'"),
    ("no_speaker.vtt", r"^transcripts/no_speaker\.vtt, line 4: cue text without a speaker"),
    ("nul.txt", r"^transcripts/nul\.txt, line 2: the file contains a NUL byte \(byte offset 23\)"),
    ("bad_bytes.txt", r"^transcripts/bad_bytes\.txt, line 2: cannot decode the file: byte 0x81 at byte offset 25"),
])
def test_errors_name_the_file_and_line(name, pattern):
    with pytest.raises(JourneylabError, match=pattern) as info:
        read_document(DATA / name, display_path=f"transcripts/{name}")
    assert isinstance(info.value, TranscriptError)
    assert info.value.file == f"transcripts/{name}"


def test_messages_use_the_file_name_without_display_path():
    with pytest.raises(JourneylabError, match=r"^bad_timing\.vtt, line 8:"):
        jl.read_transcript(DATA / "bad_timing.vtt")
    with pytest.raises(JourneylabError, match=r"missing\.txt: file not found"):
        jl.read_transcript(DATA / "missing.txt")


def test_bad_options_are_rejected():
    with pytest.raises(JourneylabError, match="split"):
        jl.read_transcript(DATA / "plain.txt", split="paragraph")
    with pytest.raises(JourneylabError, match="format"):
        parse_transcript("P1: hi", format="docx", doc_id="d")


def test_error_line_counts_crlf_as_one_line(tmp_path):
    p = tmp_path / "x.vtt"
    p.write_bytes(b"WEBVTT\r\n\r\n00:00:01.000 --> 00:00:02.000\r\nP1: hi\r\n\r\n00:00:03.000 --> 00:00:0x\r\nP1: yo\r\n")
    with pytest.raises(JourneylabError, match=r"x\.vtt, line 6: expected a cue timing"):
        read_document(p)


# ----------------------------------------------------------------------------- properties

_words = st.text(alphabet="abc xyz.,!?é’\t", min_size=1, max_size=30).filter(lambda s: s.strip())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Interviewer", "P01", "P02"]), st.lists(_words, min_size=1, max_size=3)),
                min_size=1, max_size=6),
       st.sampled_from(["\n", "\r\n"]))
def test_round_trip_property_txt(turns, newline):
    text = newline.join(f"{spk}: {newline.join(lines)}" for spk, lines in turns) + newline
    doc = parse_transcript(text, format="txt", doc_id="h")
    check_round_trip(doc)
    assert len(doc.segments) == len(turns)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Interviewer", "P01", None]), _words), min_size=1, max_size=8))
def test_round_trip_property_vtt(cues):
    cues = [("P01", cues[0][1])] + cues[1:]
    body = "".join(f"00:00:{i:02d}.000 --> 00:00:{i + 1:02d}.000\n{spk + ': ' if spk else ''}{txt}\n\n"
                   for i, (spk, txt) in enumerate(cues))
    doc = parse_transcript("WEBVTT\n\n" + body, format="vtt", doc_id="h", split="sentence")
    check_round_trip(doc)
    merged = [s for i, (s, _) in enumerate(cues) if s is not None and (i == 0 or s != next(
        x for x, _ in reversed(cues[:i]) if x is not None))]
    assert doc.segments.turn.max() == len(merged)
