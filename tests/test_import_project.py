"""`journeylab import` / jl.import_project: a QDA project becomes a study folder that validates,
with every coding of the source and its exact span."""
from __future__ import annotations

import html
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

import journeylab as jl
from journeylab.errors import JourneylabError
from journeylab.run.cli import main

DATA = Path(__file__).parent / "data"
TAGUETTE = DATA / "taguette" / "project.sqlite3"
QDPX = DATA / "qdpx" / "crlf_one.qdpx"
ATLAS = Path(__file__).parent.parent.parent / "shared" / "refi-qda" / "target-atlas-project.qdpx"


def taguette_pairs(path: Path) -> list:
    """(document name, start byte, end byte, tag path) of every highlight-tag pair, straight from SQLite."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("SELECT d.name, h.start_offset, h.end_offset, t.path, h.snippet FROM highlight_tags ht "
                           "JOIN highlights h ON h.id = ht.highlight_id JOIN tags t ON t.id = ht.tag_id "
                           "JOIN documents d ON d.id = h.document_id").fetchall()
    finally:
        con.close()


def test_taguette_project_every_highlight_tag_pair_arrives_with_its_span(tmp_path):
    out = tmp_path / "my_study"
    report = jl.import_project(TAGUETTE, out_dir=out)
    pairs = taguette_pairs(TAGUETTE)
    assert len(pairs) == 14
    assert report.counts["codings_in_source"] == len(pairs) == report.counts["codings_written"]
    assert report.counts["codings_not_written"] == 0 and report.counts["documents"] == 3
    assert not [p for p in jl.validate_study(out) if p.severity == "error"]
    study = jl.load_study(out, redact=False)
    assert len(study.codings) == len(pairs)
    # every span holds exactly the text Taguette shows for the highlight: its stored snippet (HTML) with the
    # tags and whitespace taken out, character for character
    texts = study.documents.set_index("doc_id")["text"]
    got = sorted("".join(texts[r.doc_id][int(r.start):int(r.end)].split()) for r in study.codings.itertuples())
    want = sorted("".join(html.unescape(re.sub(r"<[^>]+>", "", snippet)).split()) for *_, snippet in pairs)
    assert got == want
    assert study.codings["code"].nunique() == len({tag for _, _, _, tag, _ in pairs})
    # segment_id is the turn the span starts in
    seg = study.segments.set_index("segment_id")
    for r in study.codings.itertuples():
        turn = seg.loc[r.segment_id]
        assert turn.doc_id == r.doc_id and int(r.start) < turn.end and turn.start < int(r.end)
    # the files: study.yml, participants, transcripts, codebook, one codings file per coder
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert names == ["codebook.yml", "codings/admin.csv", "participants.csv", "study.yml",
                     "transcripts/P21 — entretien.txt", "transcripts/P22.txt", "transcripts/P23 call notes.txt"]
    head = (out / "codings" / "admin.csv").read_text(encoding="utf-8").splitlines()[0]
    assert head.startswith("doc_id,start,end,text,segment_id,code,coder,origin,memo")
    assert "unlabelled: [P23 call notes]" in (out / "study.yml").read_text(encoding="utf-8")


def test_round_trip_export_qdpx_import_keeps_every_span(tmp_path, other_study_raw):
    study = other_study_raw
    seg = study.segments[study.segments.speaker_role == "participant"]
    rows = []
    for i, r in enumerate(seg.itertuples()):  # sub-turn spans, some with emoji/accents around
        a = r.start + i % 4
        b = min(r.end, a + 5 + (i * 11) % max(1, r.end - r.start))
        if b > a:
            rows.append({"doc_id": r.doc_id, "start": a, "end": b, "segment_id": r.segment_id,
                         "code": study.codebook.names[i % len(study.codebook)], "coder": ("ana", "bo")[i % 2],
                         "origin": "manual", "memo": None})
    cod = pd.DataFrame(rows)
    jl.export_qdpx(study, codings=cod, path=tmp_path / "p.qdpx")
    report = jl.import_project(tmp_path / "p.qdpx", out_dir=tmp_path / "back")
    assert report.counts["codings_written"] == len(cod) == report.counts["codings_in_source"]
    back = jl.load_study(tmp_path / "back", redact=False)
    texts = study.documents.set_index("doc_id")["text"]
    back_texts = back.documents.set_index("doc_id")["text"]
    assert all(back_texts[d] == texts[d] for d in texts.index)
    want = sorted((r.doc_id, r.start, r.end, r.code, r.coder, texts[r.doc_id][r.start:r.end]) for r in cod.itertuples())
    got = sorted((r.doc_id, int(r.start), int(r.end), r.code, r.coder, r.text) for r in back.codings.itertuples())
    assert got == want
    assert sorted(p.name for p in (tmp_path / "back" / "codings").iterdir()) == ["ana.csv", "bo.csv"]
    # the codebook's stages became study.yml's stages, so codebook.yml validates against them
    assert set(back.stages) == {c.stage for c in study.codebook if c.stage}


def test_qdpx_with_pictures_links_and_crlf(tmp_path):
    report = jl.import_project(QDPX, out_dir=tmp_path / "s")
    text = str(report)
    assert "PictureSource 'parcel.jpg'" in text and "links not imported" in text
    # every <Coding> of a text source in project.qde arrives (counted in the XML, independently of the reader)
    import xml.etree.ElementTree as ET
    import zipfile

    with zipfile.ZipFile(QDPX) as z:
        root = ET.fromstring(z.read(next(n for n in z.namelist() if n.lower().endswith(".qde"))))
    n_xml = sum(1 for src in root.iter() if src.tag.endswith("}TextSource")
                for el in src.iter() if el.tag.endswith("}Coding"))
    assert report.counts["codings_written"] == report.counts["codings_in_source"] == n_xml == 7
    assert report.counts["codings_on_no_turn"] == 1
    problems = jl.validate_study(tmp_path / "s")
    assert not [p for p in problems if p.severity == "error"]
    assert [p.message for p in problems if "covers no turn" in p.message]


def test_highlights_csv_needs_the_transcripts(tmp_path):
    with pytest.raises(JourneylabError, match="--transcripts DIR"):
        jl.import_project(DATA / "taguette" / "highlights.csv", out_dir=tmp_path / "s")
    first = jl.import_project(TAGUETTE, out_dir=tmp_path / "from_sqlite")
    report = jl.import_project(DATA / "taguette" / "highlights.csv", out_dir=tmp_path / "s",
                               transcripts=first.out_dir / "transcripts")
    # one snippet ("the lamp") occurs twice and the CSV has no offsets: kept aside, not lost
    assert report.counts["codings_in_source"] == 14 and report.counts["codings_written"] == 13
    assert report.counts["codings_not_written"] == 1
    left = pd.read_csv(tmp_path / "s" / "import_leftovers.csv")
    assert len(left) == 1 and left["code"].iloc[0] == "interesting"
    assert not [p for p in jl.validate_study(tmp_path / "s") if p.severity == "error"]


def test_bad_sources_and_targets(tmp_path):
    with pytest.raises(JourneylabError, match="file not found"):
        jl.import_project(tmp_path / "nope.qdpx", out_dir=tmp_path / "s")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01garbage")
    with pytest.raises(JourneylabError, match="junk.bin: expected a Taguette project"):
        jl.import_project(junk, out_dir=tmp_path / "s")
    fake = tmp_path / "fake.qdpx"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(JourneylabError, match="fake.qdpx: not a REFI-QDA project"):
        jl.import_project(fake, out_dir=tmp_path / "s")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    with pytest.raises(JourneylabError, match="is not empty"):
        jl.import_project(TAGUETTE, out_dir=busy)
    if ATLAS.is_file():  # a real ATLAS.ti export holding a codebook and no text
        with pytest.raises(JourneylabError, match="holds no text document"):
            jl.import_project(ATLAS, out_dir=tmp_path / "atlas")


def test_cli_import_then_validate(tmp_path, capsys):
    out = tmp_path / "my_study"
    assert main(["import", str(TAGUETTE), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "14 of 14 codings written with their exact spans" in printed
    assert f"journeylab validate {out}" in printed and f"journeylab run {out} --out results" in printed
    assert main(["validate", str(out)]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["import", str(TAGUETTE), "--out", str(out)]) == 2  # not empty any more
    assert "is not empty" in capsys.readouterr().err


def test_codings_on_moderator_turns_are_counted_in_the_report(tmp_path, other_study_raw):
    study = other_study_raw
    seg = study.segments
    mod = seg[seg.speaker_role == "interviewer"].head(5)
    part = seg[seg.speaker_role == "participant"].head(5)
    both = pd.concat([mod, part])
    cod = pd.DataFrame({"doc_id": both.doc_id.to_numpy(), "start": both.start.to_numpy(), "end": both.end.to_numpy(),
                        "segment_id": both.segment_id.to_numpy(), "code": study.codebook.names[0], "coder": "ana"})
    jl.export_qdpx(study, codings=cod, path=tmp_path / "p.qdpx")
    report = jl.import_project(tmp_path / "p.qdpx", out_dir=tmp_path / "s", interviewer_labels=["Moderator"])
    assert report.counts["codings_written"] == 10 and report.counts["codings_on_interviewer_turns"] == 5
    assert "5 codings sit on interviewer turns" in str(report)
    warned = [p.message for p in jl.validate_study(tmp_path / "s") if "interviewer turns" in p.message]
    assert len(warned) == 1 and warned[0].startswith("5 codings on interviewer turns are left out of ")


def test_import_validate_run_a_taguette_project(tmp_path, capsys):
    """The route README's "One command on your own study" shows: `journeylab import` a Taguette project,
    `journeylab validate` it, `journeylab run` it (every notebook; ~40 s). Every highlight-tag pair is a
    coding behind the run's map."""
    import json

    study, out = tmp_path / "imported", tmp_path / "results"
    assert main(["import", str(TAGUETTE), "--out", str(study)]) == 0
    assert main(["validate", str(study)]) == 0
    assert main(["run", str(study), "--out", str(out)]) == 0
    capsys.readouterr()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ok" and manifest["failed"] is None
    for name in ("journey_map.png", "report.html", "evidence_table.csv", "codings.csv"):
        assert (out / name).is_file(), name
    codings = pd.read_csv(out / "codings.csv", encoding="utf-8-sig", keep_default_na=False)
    assert len(codings) == len(taguette_pairs(TAGUETTE)) and set(codings["origin"]) == {"manual"}
