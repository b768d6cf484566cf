"""Transcripts researchers have: .docx (python-docx) and .odt (odfpy), and transcripts without
speaker labels (one paragraph per turn). Fixture documents are made in the test."""
from __future__ import annotations

import shutil
from pathlib import Path

import docx
import pytest
from odf.opendocument import OpenDocumentText
from odf.table import Table, TableCell, TableRow
from odf.text import LineBreak, P, S, Span

import journeylab as jl
from journeylab.errors import JourneylabError
from journeylab.study.transcripts import TranscriptError, parse_transcript, read_document

OTHER = Path(__file__).parent / "data" / "other_study"

PARAGRAPHS = ["[00:00:03] Interviewer: Welcome — could you tell me about the café?",
              "[00:00:09] P01: It was fine, the crème brûlée 😡 arrived late.",
              "",
              "Interviewer: And then?",
              "P01: Then I cancelled."]


def make_docx(path: Path, paragraphs=PARAGRAPHS, *, soft_break=False, table=False, picture=False) -> Path:
    d = docx.Document()
    for text in paragraphs:
        p = d.add_paragraph()
        if soft_break and "P01: It" in text:
            head, tail = text.split(", ", 1)
            p.add_run(head + ",")
            r = p.add_run()
            r.add_break()
            r.add_text(tail)
        else:
            p.add_run(text[:5]).bold = True  # runs split mid-label: the paragraph's text still reads whole
            p.add_run(text[5:])
    if table:
        t = d.add_table(rows=1, cols=2)
        t.cell(0, 0).text, t.cell(0, 1).text = "P01", "a cell"
    if picture:
        png = Path(__file__).parent.parent / "docs" / "images"
        img = next(png.glob("*.png"))
        d.add_picture(str(img))
    d.save(str(path))
    return path


def make_odt(path: Path, paragraphs=PARAGRAPHS, *, table=False, pid="P01") -> Path:
    o = OpenDocumentText()
    for text in paragraphs:
        p = P()
        if f"{pid}: It" in text:  # a span, a double space (text:s) and a line break inside a paragraph
            p.addText(text.split(f"{pid}: ")[0])
            p.addElement(Span(text=f"{pid}: "))
            p.addText("It was fine,")
            p.addElement(LineBreak())
            p.addText("the crème")
            p.addElement(S(c=2))
            p.addText("brûlée 😡 arrived late.")
        else:
            p.addText(text)
        o.text.addElement(p)
    if table:
        t = Table()
        row = TableRow()
        cell = TableCell()
        cell.addElement(P(text="inside a table"))
        row.addElement(cell)
        t.addElement(row)
        o.text.addElement(t)
    o.save(str(path))
    return path


def check_offsets(doc):
    assert len(doc.segments)
    for row in doc.segments.itertuples():
        assert doc.text[row.start:row.end] == row.text, row.segment_id


def test_docx_reads_like_the_same_text_transcript(tmp_path):
    doc = read_document(make_docx(tmp_path / "P01.docx"))
    same = parse_transcript("\n".join(PARAGRAPHS), doc_id="P01")
    assert doc.format == "docx" and doc.encoding is None
    assert doc.text == "\n".join(PARAGRAPHS)
    check_offsets(doc)
    assert doc.segments.drop(columns=[]).equals(same.segments)
    seg = doc.segments
    assert list(seg.speaker_role) == ["interviewer", "participant", "interviewer", "participant"]
    assert seg.time_start.tolist()[:2] == [3.0, 9.0]
    assert seg.text[1] == "It was fine, the crème brûlée 😡 arrived late."


def test_docx_line_break_inside_a_paragraph_becomes_a_space(tmp_path):
    doc = read_document(make_docx(tmp_path / "P01.docx", soft_break=True))
    check_offsets(doc)
    assert doc.segments.text[1] == "It was fine, the crème brûlée 😡 arrived late."


def test_odt_reads_spans_spaces_and_line_breaks(tmp_path):
    doc = read_document(make_odt(tmp_path / "P01.odt"))
    assert doc.format == "odt"
    check_offsets(doc)
    assert doc.segments.text.tolist() == ["Welcome — could you tell me about the café?",
                                          "It was fine, the crème  brûlée 😡 arrived late.",
                                          "And then?", "Then I cancelled."]


def test_tables_are_not_read_and_say_so(tmp_path):
    for doc in (read_document(make_docx(tmp_path / "a.docx", table=True)),
                read_document(make_odt(tmp_path / "b.odt", table=True))):
        assert "a cell" not in doc.text and "inside a table" not in doc.text
        assert any("1 table(s) not read" in w.message for w in doc.warnings)


@pytest.mark.parametrize("maker, suffix", [(make_docx, ".docx"), (make_odt, ".odt")])
def test_document_without_paragraph_text_names_the_file(tmp_path, maker, suffix):
    path = maker(tmp_path / f"empty{suffix}", paragraphs=[], table=True)
    with pytest.raises(TranscriptError, match=rf"empty{suffix}: holds no text paragraphs \(only 1 table"):
        read_document(path)


def test_docx_with_a_picture_only(tmp_path):
    path = make_docx(tmp_path / "pic.docx", paragraphs=[], picture=True)
    with pytest.raises(TranscriptError, match=r"pic.docx: holds no text paragraphs \(only 1 picture"):
        read_document(path)


@pytest.mark.parametrize("suffix", [".docx", ".odt"])
def test_not_a_zip_is_an_error_naming_the_file(tmp_path, suffix):
    path = tmp_path / f"P09{suffix}"
    path.write_text("P09: I am plain text with the wrong suffix\n", encoding="utf-8")
    with pytest.raises(JourneylabError, match=rf"P09{suffix}: cannot be read as .*not a zip archive"):
        read_document(path)


def test_zip_that_is_not_a_word_document(tmp_path):
    import zipfile

    path = tmp_path / "P09.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(JourneylabError, match=r"P09.docx: cannot be read as a Word document"):
        read_document(path)


# ----------------------------------------------------------------------------- without speaker labels

UNLABELLED = ["(Moderator) How did you find the shop?", "A friend told me about it.", "",
              "[00:01:02] (Moderator) And the checkout?", "[00:01:09] It was slow, honestly."]


def test_unlabelled_transcript_one_paragraph_per_turn(tmp_path):
    path = make_docx(tmp_path / "P03.docx", paragraphs=UNLABELLED)
    with pytest.raises(TranscriptError, match="speaker_labels: false"):
        read_document(path)
    doc = read_document(path, speaker_labels=False, moderator_pattern=r"^\(Moderator\)")
    check_offsets(doc)
    seg = doc.segments
    assert seg.text.tolist() == ["(Moderator) How did you find the shop?", "A friend told me about it.",
                                 "(Moderator) And the checkout?", "It was slow, honestly."]
    assert seg.speaker_role.tolist() == ["interviewer", "participant", "interviewer", "participant"]
    assert seg.participant_id.tolist()[1] == "P03" and seg.participant_id.isna().tolist() == [True, False, True, False]
    assert seg.time_start.tolist()[2:] == [62.0, 69.0]
    everyone = read_document(path, speaker_labels=False)
    assert (everyone.segments.speaker_role == "participant").all()


def test_unlabelled_options_are_checked():
    with pytest.raises(JourneylabError, match="`moderator_pattern`.*not a valid regular expression"):
        parse_transcript("a\nb", doc_id="x", speaker_labels=False, moderator_pattern="(")
    with pytest.raises(JourneylabError, match="applies to transcripts without speaker labels"):
        parse_transcript("P1: a", doc_id="x", moderator_pattern="^Q:")
    with pytest.raises(JourneylabError, match="`speaker_labels` must be True or False"):
        parse_transcript("P1: a", doc_id="x", speaker_labels="no")


def _study_with(tmp_path, files: dict, yml_extra: str = "") -> Path:
    root = tmp_path / "study"
    shutil.copytree(OTHER, root)
    for p in (root / "transcripts").iterdir():
        p.unlink()
    shutil.rmtree(root / "codings")
    for name, maker in files.items():
        maker(root / "transcripts" / name)
    yml = (root / "study.yml").read_text(encoding="utf-8")
    (root / "study.yml").write_text(yml + "\n" + yml_extra, encoding="utf-8")
    return root


def test_study_folder_with_docx_odt_and_unlabelled_transcripts(tmp_path):
    pids = (OTHER / "participants.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    labelled = [p.replace("P01", pids).replace("Interviewer", "Moderator") for p in PARAGRAPHS]
    root = _study_with(tmp_path, {
        f"{pids}.docx": lambda p: make_docx(p, labelled),
        "G2.odt": lambda p: make_odt(p, [x.replace("Interviewer", "Moderator").replace("P01", "G2") for x in PARAGRAPHS],
                                     pid="G2"),
        "G3.docx": lambda p: make_docx(p, UNLABELLED),
    }, "transcripts:\n  unlabelled: [G3]\n  moderator_pattern: '^\\(Moderator\\)'\n")
    problems = jl.validate_study(root)
    assert not [p for p in problems if p.severity == "error"], problems
    study = jl.load_study(root)
    docs = study.documents.set_index("doc_id")
    assert docs.loc["G3", "format"] == "docx" and docs.loc["G2", "format"] == "odt"
    g3 = study.segments[study.segments.doc_id == "G3"]
    assert g3.speaker_role.tolist() == ["interviewer", "participant", "interviewer", "participant"]
    assert set(g3.participant_id.dropna()) == {"G3"}
    src = study.sources.set_index("file")
    assert src.loc["transcripts/G2.odt", "format"] == "odt" and src.loc["transcripts/G3.docx", "rows"] == 4


@pytest.mark.parametrize("extra, message", [
    ("transcripts: [a]\n", "'transcripts:' must be a mapping"),
    ("transcripts:\n  speaker_labels: maybe\n", "speaker_labels: expected true"),
    ("transcripts:\n  speaker_labels: false\n  moderator_pattern: '('\n", "is not a valid regular expression"),
    ("transcripts:\n  moderator_pattern: '^Q:'\n", "applies only to transcripts without speaker labels"),
    ("transcripts:\n  participant_from: folder\n", "participant_from: expected 'label'"),
    ("transcripts:\n  unlabelled: [G9]\n", "'G9' is not a transcript"),
    ("transcripts:\n  speakers: false\n", "unknown key 'speakers'"),
])
def test_study_yml_transcripts_keys_are_validated(tmp_path, extra, message):
    root = _study_with(tmp_path, {"G1.txt": lambda p: shutil.copy(OTHER / "transcripts" / "G1.txt", p)}, extra)
    errors = [p for p in jl.validate_study(root) if p.severity == "error"]
    assert any(message in p.message for p in errors), errors
    assert all(p.file == "study.yml" for p in errors if message in p.message)


def test_bad_docx_in_a_study_is_a_problem_naming_the_file(tmp_path):
    root = _study_with(tmp_path, {"G1.txt": lambda p: shutil.copy(OTHER / "transcripts" / "G1.txt", p),
                                  "G2.docx": lambda p: p.write_bytes(b"not a zip at all")})
    errors = [p for p in jl.validate_study(root) if p.severity == "error"]
    assert [p.file for p in errors] == ["transcripts/G2.docx"]
    assert "cannot be read as a Word document" in errors[0].message


def test_empty_and_zero_byte_word_files(tmp_path):
    with pytest.raises(TranscriptError, match=r"blank.docx: holds no text paragraphs; expected one paragraph"):
        read_document(make_docx(tmp_path / "blank.docx", paragraphs=[]))
    with pytest.raises(TranscriptError, match=r"blank.odt: holds no text paragraphs; expected one paragraph"):
        read_document(make_odt(tmp_path / "blank.odt", paragraphs=[]))
    (tmp_path / "zero.docx").write_bytes(b"")
    with pytest.raises(TranscriptError, match=r"zero.docx: the file is empty"):
        read_document(tmp_path / "zero.docx")


def test_participant_from_file_names_each_transcripts_participant_by_its_stem(tmp_path):
    def same_label(p):
        p.write_text("Interviewer: How was it?\nParticipant: Fine.\nInterviewer: And then?\nParticipant: Slow.\n",
                     encoding="utf-8")

    root = _study_with(tmp_path, {"G1.txt": same_label, "G2.txt": same_label},
                       "transcripts:\n  participant_from: file\ninterviewer_labels: [Interviewer]\n")
    yml = (root / "study.yml").read_text(encoding="utf-8").replace("interviewer_labels: [Moderator]\n", "")
    (root / "study.yml").write_text(yml, encoding="utf-8")
    study = jl.load_study(root, redact=False)
    part = study.segments[study.segments.speaker_role == "participant"]
    assert part.groupby("doc_id")["participant_id"].unique().map(list).to_dict() == {"G1": ["G1"], "G2": ["G2"]}
    assert (part["speaker"] == "Participant").all()
