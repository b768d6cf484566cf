"""Taguette import: SQLite export (UTF-8 byte offsets), highlights CSV, codebook CSV in and out.

The fixtures were exported by a real Taguette 1.5.2 server driven through its HTTP API
(tests/data/taguette/NOTES.md); ``expected_highlights.json`` holds, for each highlight, the text
it was made on, which the fixture script checked against the snippet Taguette itself stored.
"""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import journeylab as jl
from journeylab.errors import JourneylabError
from journeylab.interop import taguette
from journeylab.study.codebook import Code, Codebook

DATA = Path(__file__).parent / "data" / "taguette"
EXPECTED = json.loads((DATA / "expected_highlights.json").read_text(encoding="utf-8"))
TAG_CODE = {"interesting": "interesting", "delivery.late": "delivery.late", "refund.late": "refund.late",
            "delivery.packaging": "packaging", "support.friendly": "friendly",
            "checkout.address_form": "address_form", "discovery.social": "social", "émotion.colère": "colère"}


@pytest.fixture(scope="module")
def project():
    return jl.import_taguette(DATA / "project.sqlite3")


def span_texts(study, hid):
    docs = study.documents.set_index("doc_id")["text"]
    rows = study.codings[study.codings["highlight_id"] == hid]
    return {docs[r.doc_id][r.span_start:r.span_end] for r in rows.itertuples()}


def test_every_highlight_is_at_its_exact_place(project):
    assert len(EXPECTED["highlights"]) == 11
    for hl in EXPECTED["highlights"]:
        assert span_texts(project, hl["highlight_id"]) == {hl["text"]}, hl
        codes = set(project.codings.loc[project.codings["highlight_id"] == hl["highlight_id"], "code"])
        assert codes == {TAG_CODE[t] for t in hl["tags"]}
    # 11 highlights, 14 (highlight, tag) pairs: one coding each (issue 15), the two-paragraph
    # highlight too (one row, its whole span, on the turn it starts in)
    pairs = project.codings.drop_duplicates(["highlight_id", "code"])
    assert len(pairs) == 14
    assert len(project.codings) == 14


def test_taguette_snippets_match_character_by_character(project):
    con = sqlite3.connect(DATA / "project.sqlite3")
    snippets = dict(con.execute("SELECT id, snippet FROM highlights"))
    offsets = {i: (a, b) for i, a, b in con.execute("SELECT id, start_offset, end_offset FROM highlights")}
    con.close()
    for hid, snippet in snippets.items():
        (text,) = span_texts(project, hid)
        shown = "".join(node for _, _, node in taguette.html_text(snippet).nodes)  # Taguette's text nodes
        assert list(text) == list(shown)
    # offsets are UTF-8 bytes, not characters: "Ça va?" is bytes 22-29 but characters 22-28
    assert offsets[4] == (22, 29)
    row = project.codings[project.codings["highlight_id"] == 4].iloc[0]
    assert (row.span_start, row.span_end) == (22, 28)
    # the first highlight ends after "😡." : 108 bytes, 101 characters (é, — and 😡 are 2, 3, 4 bytes)
    assert offsets[1] == (60, 108)
    row = project.codings[project.codings["highlight_id"] == 1].iloc[0]
    assert (row.span_start, row.span_end) == (59, 101)


def test_segments_participants_codebook_and_coder(project):
    seg = project.segments
    p21 = seg[seg["doc_id"] == "P21 — entretien"]
    assert p21["speaker_role"].tolist() == ["interviewer", "participant"] * 2
    assert p21["participant_id"].dropna().unique().tolist() == ["P21"]
    # notes without speaker labels: one segment per line, reported
    assert seg.loc[seg["doc_id"] == "P23 call notes", "text"].tolist() == [
        "Call notes – P23", "Wanted next-day delivery; paid £4.99 extra.",
        "Parcel left at the neighbour’s — “no problem”."]
    assert [p.message.startswith("no speaker turns recognised") for p in project.problems] == [True]
    assert project.participants["participant_id"].tolist() == ["P21", "P22"]
    cb = project.codebook
    assert "late" not in cb and cb.path("delivery.late") == "delivery/delivery.late"  # two tags end in "late"
    assert cb.path("packaging") == "delivery/packaging"
    assert cb.path("colère") == "émotion/colère"
    assert cb["friendly"].definition == "Support staff were kind or helpful."
    assert cb["friendly"].include == "named agents, tone."
    assert set(project.codings["coder"]) == {"admin"}
    assert project.codings["decided_at"].str.match(r"2026-\d\d-\d\dT\d\d:\d\d:\d\d").all()
    other = jl.import_taguette(DATA / "project.sqlite3", coder="rosa")
    assert set(other.codings["coder"]) == {"rosa"}


def test_highlights_csv_is_placed_like_the_sqlite_and_the_ambiguous_one_is_reported(project):
    study = jl.import_taguette(DATA / "highlights.csv", study=project, codebook=DATA / "codebook.csv")
    csv_rows = pd.read_csv(DATA / "highlights.csv")
    assert len(study.codings.drop_duplicates(["highlight_id", "code"])) == len(csv_rows) == 14  # all accounted for
    exact = project.codings.set_index(["highlight_id", "code", "segment_id"])[["span_start", "span_end"]]
    placed = study.codings.dropna(subset=["span_start"])
    got = placed.set_index(["highlight_id", "code", "segment_id"])[["span_start", "span_end"]]
    pd.testing.assert_frame_equal(got.sort_index(), exact.drop(index=7, level=0).sort_index())
    # "the lamp" occurs twice in P22 and the CSV has no offsets: kept, unplaced, reported
    lamp = study.codings[study.codings["highlight_id"] == 7]
    assert len(lamp) == 1 and lamp["segment_id"].isna().all() and lamp["span_start"].isna().all()
    (msg,) = [p.message for p in study.problems]
    assert "highlight 7 (interesting): 'the lamp' occurs 2 times in 'P22'" in msg
    assert study.codebook["friendly"].include == "named agents, tone."  # descriptions from the codebook CSV


def test_csv_import_reports_unknown_documents_and_missing_snippets(project, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("id,document,tag,content\n1,P21 — entretien,delivery.late,not in the text\n"
                    "2,Somebody else,delivery.late,hello\n3,P22,,untagged\n", encoding="utf-8")
    study = jl.import_taguette(path, study=project)
    messages = [p.message for p in study.problems]
    assert any("'not in the text' is not in document 'P21 — entretien'" in m for m in messages)
    assert any("document 'Somebody else' is not a document of the study" in m for m in messages)
    assert any("highlight 3 has no tag" in m for m in messages)
    assert study.codings["segment_id"].isna().all() and len(study.codings) == 2


def test_sqlite_problems_are_reported_not_dropped(tmp_path):
    db = tmp_path / "p.sqlite3"
    shutil.copy(DATA / "project.sqlite3", db)
    con = sqlite3.connect(db)
    con.execute("UPDATE highlights SET end_offset = 99999 WHERE id = 2")
    con.execute("DELETE FROM highlight_tags WHERE highlight_id = 4")
    con.commit()
    con.close()
    study = jl.import_taguette(db)
    messages = " | ".join(p.message for p in study.problems)
    assert "highlight 2 in 'P21 — entretien': byte offsets [109, 99999) do not fit" in messages
    assert "highlight 4 in 'P21 — entretien' has no tag" in messages
    row = study.codings[study.codings["highlight_id"] == 2]
    assert len(row) == 1 and row["segment_id"].isna().all()


def test_errors_name_the_file(tmp_path, project):
    with pytest.raises(JourneylabError, match="holds no document text; pass study="):
        jl.import_taguette(DATA / "highlights.csv")
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(JourneylabError, match=r"x.csv, line 1: missing column\(s\) id, document, tag, content"):
        jl.import_taguette(bad, study=project)
    fake = tmp_path / "y.sqlite3"
    fake.write_text("hello", encoding="utf-8")
    with pytest.raises(JourneylabError, match="not an SQLite file"):
        jl.import_taguette(fake)
    with pytest.raises(JourneylabError, match="no project 'nope'; projects: 1 \\('journeylab fixture'\\)"):
        jl.import_taguette(DATA / "project.sqlite3", project="nope")


# ----------------------------------------------------------------------------- HTML text and offsets


def test_html_text_counts_bytes_of_decoded_text_nodes():
    t = taguette.html_text("<p>a &amp; b</p>\r\n<p>Ça <strong>😀</strong>x<br>y</p>")
    assert t.text == "a & b\nÇa 😀x\ny"  # \r\n normalised; the <br> gets a line break
    assert t.n_bytes == len("a & b\nÇa 😀xy".encode("utf-8"))
    # "x" starts at byte 6 + 1 + 3 + 4 = 14 (Ç two bytes, 😀 four); as a character it is 10
    assert t.char_offset(14, end=False) == (10, True)
    assert t.char_offset(14, end=True) == (10, True)
    # byte 15 ends "x"; as a start it is "y", after the line break the <br> added
    assert t.char_offset(15, end=True) == (11, True)
    assert t.char_offset(15, end=False) == (12, True)
    # inside the emoji: moved past it, as Taguette's split_utf8 does, and flagged
    assert t.char_offset(12, end=True) == (10, False)


# ----------------------------------------------------------------------------- codebook CSV


def test_read_taguette_codebook_csv():
    cb = taguette.read_codebook(DATA / "codebook.csv")
    assert cb.names == ["interesting", "delivery", "delivery.late", "packaging", "refund", "refund.late",
                        "support", "friendly", "checkout", "address_form", "discovery", "social", "émotion",
                        "colère"]
    assert cb["social"].definition == "Found the shop through social media (小红书, Instagram...)."
    with pytest.raises(JourneylabError, match="appears twice"):
        Codebook.from_csv(DATA / "codebook.csv")  # why read_codebook exists: repeated last parts


def fixture_codebook() -> Codebook:
    # the codebook NOTES.md step 2 wrote
    return Codebook([
        Code("delivery", definition="Anything about getting the order."),
        Code("late", parent="delivery", definition="Arrived after the promised date — even by a day.",
             include="Waiting, missed slots.", exclude="Refund delays (refund_slow)."),
        Code("packaging", parent="delivery", definition="Packaging comments, e.g. « trop de plastique »."),
        Code("refund_slow", definition="Refund took longer than promised 🙄.", examples=["ten days & three emails"]),
        Code("découverte", definition="How they found the shop (小红书, Instagram, a friend)."),
    ], name="fixture codebook")


def test_write_codebook_is_what_taguette_imported(tmp_path):
    out = tmp_path / "cb.csv"
    text = jl.write_taguette_codebook(fixture_codebook(), path=out)
    assert out.read_bytes() == (DATA / "journeylab_codebook.csv").read_bytes()
    assert out.read_bytes() == b"\xef\xbb\xbf" + (DATA / "journeylab_codebook_plain.csv").read_bytes()
    assert text == fixture_codebook().to_csv()
    checks = EXPECTED["codebook_import"]
    assert checks["journeylab_codebook_plain.csv"].startswith("rejected")
    assert checks["journeylab_codebook.csv"].startswith("imported")
    # what Taguette exported after importing ours reads back as our codebook (plus its default tag)
    back = taguette.read_codebook(DATA / "journeylab_codebook_via_taguette.csv")
    mine = fixture_codebook()
    assert [n for n in back.names if n != "interesting"] == ["delivery", "late", "packaging", "découverte",
                                                             "refund_slow"]
    for name in mine.names:
        a, b = mine[name], back[name]
        assert (a.parent, a.definition, a.include, a.exclude, a.examples) == (
            b.parent, b.definition, b.include, b.exclude, b.examples)


def test_a_taguette_project_goes_on_to_other_qda_tools(project, shared_dir, tmp_path):
    etree = pytest.importorskip("lxml.etree")
    out = jl.export_qdpx(project, codings=project.codings, path=tmp_path / "from_taguette.qdpx")
    with zipfile.ZipFile(out) as zf:
        doc = etree.fromstring(zf.read("project.qde"))
    etree.XMLSchema(etree.parse(str(shared_dir / "refi-qda" / "Project-mrt2019.xsd"))).assertValid(doc)
    back = jl.import_qdpx(out)
    docs = back.documents.set_index("doc_id")["text"]
    texts = {docs[r.doc_id][r.span_start:r.span_end] for r in back.codings.itertuples()}
    assert texts == {hl["text"] for hl in EXPECTED["highlights"]}


def test_sample_reference_project_reproduces_the_reference_coding(sample_path, sample_study):
    """sample_reference.sqlite3: the sample study's reference coding of four interviews, entered in
    Taguette (make_sample_project.py); imported, it must be exactly that coding, on the same turns."""
    ref_path = sample_path.parent / "sources" / "reference_codings.csv"
    if not ref_path.is_file() or not (sample_path / "study.yml").is_file():
        pytest.skip("the sample study sources are not there")
    study = sample_study
    imported = jl.import_taguette(sample_path / "taguette.sqlite3", coder="reference",
                                  interviewer_labels=["Interviewer"])
    assert imported.problems == []
    docs = ["P01", "P05", "P08", "P11"]
    ours = study.segments[study.segments["doc_id"].isin(docs)].reset_index(drop=True)
    cols = ["segment_id", "doc_id", "participant_id", "speaker_role", "turn", "text"]
    # the project was entered from the transcripts as the study's redaction once left them; since
    # then the study also replaces other people's names (and words it learns are names in a
    # document) by [PERSON], and places by [PLACE]: the turns are the same, word for word, up to those
    structure = [c for c in cols if c != "text"]
    pd.testing.assert_frame_equal(imported.segments[structure].astype(str), ours[structure].astype(str))
    for theirs, mine in zip(imported.segments["text"], ours["text"]):
        pattern = r"[\w'’. -]+?".join(re.escape(part) for part in re.split(r"\[(?:PERSON|PLACE)\]", mine))
        assert re.fullmatch(pattern, theirs), (theirs, mine)
    ref = pd.read_csv(ref_path)
    ref = ref[ref["segment_id"].str[:3].isin(docs)]
    got = sorted(map(tuple, imported.codings[["segment_id", "code"]].astype(str).values))
    assert got == sorted(map(tuple, ref[["segment_id", "code"]].values))
    # each highlight covers exactly its turn's words
    seg_text = imported.segments.set_index("segment_id")["text"]
    texts = imported.documents.set_index("doc_id")["text"]
    for r in imported.codings.itertuples():
        assert texts[r.doc_id][r.span_start:r.span_end] == seg_text[r.segment_id]
