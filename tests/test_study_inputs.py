"""Study inputs as researchers have them: CSVs saved by Excel or Google Sheets in other encodings,
codings files with their spans (doc_id, start, end), and codings on interviewer turns."""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

import journeylab as jl

OTHER = Path(__file__).parent / "data" / "other_study"


@pytest.fixture
def study_dir(tmp_path):
    root = tmp_path / "study"
    shutil.copytree(OTHER, root)
    return root


def problems_of(root, file):
    return [p for p in jl.validate_study(root) if p.file == file]


# ----------------------------------------------------------------------------- encodings

ACCENTED = "Zoë Ångström, café"


def _participants_text(root) -> str:
    text = (root / "participants.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    first = lines[1].split(",")
    first[1] = ACCENTED.split(",")[0]  # the name column gets accents
    return "\r\n".join([lines[0], ",".join(first)] + lines[2:]) + "\r\n"


@pytest.mark.parametrize("encoding, data_of, shown, severity, message", [
    ("utf-16-le BOM", lambda t: b"\xff\xfe" + t.encode("utf-16-le"), "UTF-16 LE with BOM", "info",
     "read as UTF-16 LE (byte-order mark found)"),
    ("utf-16-be BOM", lambda t: b"\xfe\xff" + t.encode("utf-16-be"), "UTF-16 BE with BOM", "info",
     "read as UTF-16 BE (byte-order mark found)"),
    ("utf-8 BOM", lambda t: t.encode("utf-8-sig"), "UTF-8 with BOM", "info", "read as UTF-8 with a byte-order mark"),
    ("cp1252", lambda t: t.encode("cp1252"), "cp1252", "warning", "read as Windows-1252 (cp1252)"),
    ("utf-16-le no BOM", lambda t: t.encode("utf-16-le"), "UTF-16 LE", "warning", "read as UTF-16 LE: the file has no"),
])
def test_csv_encodings_are_detected_and_reported(study_dir, encoding, data_of, shown, severity, message):
    text = _participants_text(study_dir)
    (study_dir / "participants.csv").write_bytes(data_of(text))
    found = problems_of(study_dir, "participants.csv")
    assert [p.severity for p in found] == [severity], found
    assert message in found[0].message
    study = jl.load_study(study_dir, redact=False)
    assert study.participants["name"].iloc[0] == "Zoë Ångström"
    assert study.sources.set_index("file").loc["participants.csv", "encoding"] == shown
    assert any(message in p.message for p in study.problems)


def test_excel_unicode_text_is_utf16_and_tab_separated(study_dir):
    text = _participants_text(study_dir).replace(",", "\t")
    (study_dir / "participants.csv").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    study = jl.load_study(study_dir, redact=False)
    assert study.participants["name"].iloc[0] == "Zoë Ångström"
    assert study.sources.set_index("file").loc["participants.csv", "format"] == "tsv"


def test_utf8_csv_gets_no_encoding_line(study_dir):
    assert problems_of(study_dir, "participants.csv") == []
    assert jl.load_study(study_dir).sources.set_index("file").loc["participants.csv", "encoding"] == "UTF-8"


def test_undecodable_bytes_name_the_file_and_line(study_dir):
    text = _participants_text(study_dir).encode("cp1252")
    lines = text.split(b"\r\n")
    lines[3] = lines[3] + b"\x81"  # undefined in cp1252, invalid in UTF-8
    (study_dir / "participants.csv").write_bytes(b"\r\n".join(lines))
    errors = [p for p in problems_of(study_dir, "participants.csv") if p.severity == "error"]
    assert len(errors) == 1 and errors[0].line == 4
    assert "byte 0x81" in errors[0].message and "neither in UTF-8" in errors[0].message


def test_utf16_bom_with_broken_bytes_is_an_error_with_a_line(study_dir):
    text = _participants_text(study_dir)
    data = b"\xff\xfe" + text.encode("utf-16-le")
    (study_dir / "participants.csv").write_bytes(data + b"\x00\xd8")  # a lone high surrogate at the end
    errors = [p for p in problems_of(study_dir, "participants.csv") if p.severity == "error"]
    assert errors and "cannot decode the file as UTF-16" in errors[0].message and errors[0].line is not None


def test_binary_spreadsheet_is_still_refused(study_dir):
    (study_dir / "participants.csv").write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4)
    errors = [p for p in problems_of(study_dir, "participants.csv") if p.severity == "error"]
    assert errors and "spreadsheet saved as .xlsx/binary" in errors[0].message


def test_utf16_codings_and_survey_load(study_dir, other_study):
    for name in ("survey.csv", "codings/lee.csv"):
        path = study_dir / name
        path.write_bytes(b"\xff\xfe" + path.read_text(encoding="utf-8").encode("utf-16-le"))
    before = other_study
    after = jl.load_study(study_dir)
    pd.testing.assert_frame_equal(before.codings, after.codings)
    pd.testing.assert_frame_equal(before.survey, after.survey)
    enc = after.sources.set_index("file")["encoding"]
    assert enc["survey.csv"] == enc["codings/lee.csv"] == "UTF-16 LE with BOM"


# ----------------------------------------------------------------------------- codings with spans


def _span_rows(study, n=6):
    seg = study.segments[study.segments.speaker_role == "participant"].head(n)
    texts = study.documents.set_index("doc_id")["text"]
    rows = []
    for i, r in enumerate(seg.itertuples()):
        a, b = r.start + 1 + i % 3, r.end - 1
        rows.append({"doc_id": r.doc_id, "start": a, "end": b, "text": texts[r.doc_id][a:b],
                     "code": study.codebook.names[i % len(study.codebook.names)], "coder": "kim", "origin": "manual",
                     "memo": ""})
    return pd.DataFrame(rows), seg


def test_codings_with_spans_load_and_take_the_turn_they_start_in(study_dir):
    plain = jl.load_study(study_dir, redact=False)
    rows, seg = _span_rows(plain)
    rows.to_csv(study_dir / "codings" / "kim.csv", index=False)
    assert not [p for p in jl.validate_study(study_dir) if p.severity == "error"]
    study = jl.load_study(study_dir, redact=False)
    kim = study.codings[study.codings.coder == "kim"].reset_index(drop=True)
    assert list(study.codings.columns[:9]) == ["doc_id", "start", "end", "text", "segment_id", "code", "coder",
                                               "origin", "memo"]
    assert kim["segment_id"].tolist() == seg["segment_id"].tolist()
    assert kim["start"].tolist() == rows["start"].tolist() and kim["text"].tolist() == rows["text"].tolist()
    # the old segment_id-only files still load, without spans
    lee = study.codings[study.codings.coder == "lee"]
    assert lee["start"].isna().all() and lee["segment_id"].notna().all()


def test_span_starting_on_a_speaker_label_takes_the_turn_after_it(study_dir):
    plain = jl.load_study(study_dir, redact=False)
    r = plain.segments[plain.segments.speaker_role == "participant"].iloc[2]
    text = plain.documents.set_index("doc_id").loc[r.doc_id, "text"]
    label_at = text.rfind("\n", 0, r.start) + 1  # the line's start: "G1: ..." before the turn's text
    pd.DataFrame([{"doc_id": r.doc_id, "start": label_at, "end": r.start + 3, "code": plain.codebook.names[0]}]) \
        .to_csv(study_dir / "codings" / "kim.csv", index=False)
    study = jl.load_study(study_dir, redact=False)
    assert study.codings.loc[study.codings.coder == "kim", "segment_id"].tolist() == [r.segment_id]


def test_span_on_a_label_only_is_left_out_with_a_warning(study_dir):
    plain = jl.load_study(study_dir, redact=False)
    r = plain.segments.iloc[0]
    pd.DataFrame([{"doc_id": r.doc_id, "start": 0, "end": 2, "code": plain.codebook.names[0]}]) \
        .to_csv(study_dir / "codings" / "kim.csv", index=False)
    found = problems_of(study_dir, "codings/kim.csv")
    assert [p.severity for p in found] == ["warning"] and "covers no turn's text" in found[0].message
    assert found[0].line == 2


@pytest.mark.parametrize("row, message, column", [
    ({"doc_id": "nope", "start": 0, "end": 3}, "doc_id 'nope' is not a transcript", "doc_id"),
    ({"start": 5, "end": 999999}, "does not fit transcript", "start"),
    ({"start": 5, "end": 5}, "does not fit transcript", "start"),
    ({"start": "five", "end": 9}, "expected whole-number character positions", "start"),
    ({"segment_id": "G4-t002"}, "does not overlap the span", "segment_id"),
])
def test_bad_spans_are_errors_with_line_and_column(study_dir, row, message, column):
    # without a text column (the coded text, which would re-anchor the span: test_anchor.py)
    plain = jl.load_study(study_dir, redact=False)
    rows, _ = _span_rows(plain, n=2)
    rows["segment_id"] = ""
    rows = rows.drop(columns="text").astype(object)
    for k, v in row.items():
        rows.loc[1, k] = v
    rows.to_csv(study_dir / "codings" / "kim.csv", index=False)
    errors = [p for p in problems_of(study_dir, "codings/kim.csv") if p.severity == "error"]
    assert len(errors) == 1, errors
    assert message in errors[0].message and errors[0].line == 3 and errors[0].column == column


@pytest.mark.parametrize("row", [{"start": 5, "end": 999999}, {"start": 5, "end": 5}])
def test_a_misplaced_span_with_its_text_is_re_anchored_and_reported(study_dir, row):
    plain = jl.load_study(study_dir, redact=False)
    rows, _ = _span_rows(plain, n=2)
    rows = rows.astype(object)
    for k, v in row.items():
        rows.loc[1, k] = v
    rows.to_csv(study_dir / "codings" / "kim.csv", index=False)
    found = problems_of(study_dir, "codings/kim.csv")
    assert [p.severity for p in found] == ["warning"] and "re-anchored" in found[0].message
    assert found[0].line == 3


def test_a_span_whose_text_is_gone_is_reported_not_placed(study_dir):
    plain = jl.load_study(study_dir, redact=False)
    rows, _ = _span_rows(plain, n=2)
    rows.loc[1, "text"] = "not what the transcript says"
    rows.to_csv(study_dir / "codings" / "kim.csv", index=False)
    found = problems_of(study_dir, "codings/kim.csv")
    assert [p.severity for p in found] == ["warning"] and "could not be placed" in found[0].message
    assert found[0].line == 3 and "left out" in found[0].message


def test_spans_follow_redaction(study_dir):
    plain = jl.load_study(study_dir, redact=False)
    red = jl.load_study(study_dir)
    assert len(red.redactions), "the fixture study has something to redact"
    doc = red.redactions["doc_id"].iloc[0]
    seg = plain.segments[(plain.segments.doc_id == doc) & (plain.segments.speaker_role == "participant")]
    text = plain.documents.set_index("doc_id").loc[doc, "text"]
    last = seg.iloc[-1]
    pd.DataFrame([{"doc_id": doc, "start": last.start, "end": last.end, "code": plain.codebook.names[0]}]) \
        .to_csv(study_dir / "codings" / "kim.csv", index=False)
    red = jl.load_study(study_dir)
    row = red.codings[red.codings.coder == "kim"].iloc[0]
    red_text = red.documents.set_index("doc_id").loc[doc, "text"]
    red_seg = red.segments.set_index("segment_id").loc[last.segment_id]
    assert (row.start, row.end) == (red_seg.start, red_seg.end)
    assert row.text == red_text[row.start:row.end] == red_seg.text
    assert text[last.start:last.end] == last.text


# ----------------------------------------------------------------------------- interviewer turns


def test_codings_on_interviewer_turns_are_counted_the_same_everywhere(study_dir):
    plain = jl.load_study(study_dir, redact=False)
    seg = plain.segments
    mod = seg[seg.speaker_role == "interviewer"].head(4)
    part = seg[seg.speaker_role == "participant"]
    codes = plain.codebook.names
    rows = [{"segment_id": s, "code": codes[0], "coder": c, "origin": "manual"} for s in mod.segment_id
            for c in ("lee", "sam")]
    extra = pd.DataFrame(rows)
    for coder in ("lee", "sam"):
        path = study_dir / "codings" / f"{coder}.csv"
        old = pd.read_csv(path, dtype=str, keep_default_na=False)
        pd.concat([old, extra[extra.coder == coder].drop(columns="coder")], ignore_index=True) \
            .to_csv(path, index=False)
    found = [p for p in jl.validate_study(study_dir) if "interviewer turns" in p.message]
    assert len(found) == 1 and found[0].message.startswith("8 codings on interviewer turns are left out of ")
    study = jl.load_study(study_dir)
    assert len(study.codings) == len(plain.codings) + 8  # nothing is dropped from the study itself

    def caught(call):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = call()
        return out, [str(x.message) for x in w if issubclass(x.category, jl.InterviewerCodingsWarning)]

    freq, w = caught(lambda: jl.code_frequencies(study.codings, segments=study.segments, coder="lee"))
    assert w == ["4 codings on interviewer turns are left out of code frequencies (they record what the research "
                 "team said; see docs/coding.md)"]
    base = jl.code_frequencies(plain.codings, segments=plain.segments, coder="lee")
    pd.testing.assert_frame_equal(freq, base)

    _, w = caught(lambda: jl.agreement(study.codings, segments=study.segments, n_boot=0))
    assert len(w) == 1 and w[0].startswith("8 codings on interviewer turns are left out of agreement()")
    a_new = jl.agreement(study.codings, segments=study.segments, n_boot=0)
    a_old = jl.agreement(plain.codings, segments=plain.segments, n_boot=0)
    pd.testing.assert_frame_equal(a_new, a_old)

    coder_new, w = caught(lambda: jl.LearnedCoder(min_positive=2).fit(study.segments, study.codings, coder="lee"))
    assert len(w) == 1 and w[0].startswith("4 codings on interviewer turns are left out of LearnedCoder.fit()")
    coder_old = jl.LearnedCoder(min_positive=2).fit(plain.segments, plain.codings, coder="lee")
    # trained on the same turns and the same positives as without the interviewer codings
    assert list(coder_new.training_units_) == list(coder_old.training_units_)
    pd.testing.assert_series_equal(coder_new.n_positive_, coder_old.n_positive_)
    assert set(mod.segment_id).isdisjoint(set(coder_new.training_units_))

    kept = jl.participant_codings(study.codings, segments=study.segments, what="x", warn=False)
    assert kept.n_left_out == 8 and set(kept.codings.segment_id) <= set(part.segment_id) | set(plain.codings.segment_id)


def test_evidence_table_leaves_interviewer_codings_out_and_says_how_many(study_dir):
    plain = jl.load_study(study_dir)
    mod = plain.segments[plain.segments.speaker_role == "interviewer"].head(3)
    extra = pd.DataFrame({"segment_id": mod.segment_id, "code": plain.codebook.names[0], "coder": "lee",
                          "origin": "manual", "memo": pd.NA})
    cod = pd.concat([plain.codings, extra], ignore_index=True)
    with pytest.warns(jl.InterviewerCodingsWarning, match="3 codings on interviewer turns are left out of the "
                                                          "evidence table"):
        ev = jl.evidence_table(plain, codings=cod, n_boot=100)
    assert ev.attrs["journeylab"]["codings"]["n_interviewer_codings_left_out"] == 3
    base = jl.evidence_table(plain, codings=plain.codings, n_boot=100)
    pd.testing.assert_frame_equal(ev.drop(columns=[c for c in ev.columns if ev[c].dtype == object and
                                                   c not in ("code", "claim_id")]),
                                  base.drop(columns=[c for c in base.columns if base[c].dtype == object and
                                                     c not in ("code", "claim_id")]))


def test_validate_prints_the_detected_encoding_as_info(study_dir, capsys):
    from journeylab.run.cli import main

    text = _participants_text(study_dir)
    (study_dir / "participants.csv").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    assert main(["validate", str(study_dir)]) == 0
    out = capsys.readouterr().out
    assert "info: participants.csv: read as UTF-16 LE (byte-order mark found)" in out
