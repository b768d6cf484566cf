"""REFI-QDA projects out and in: schema validity, exact positions, stable bytes, round trips.

Expected positions are the literal phrases written into the fixtures (tests/data/qdpx/NOTES.md);
the schema is the REFI-QDA 1.5 project schema in ../shared/refi-qda/.
"""
from __future__ import annotations

import uuid
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import journeylab as jl
from journeylab.errors import JourneylabError
from journeylab.interop.qdpx import PROJECT_NS, empty_study_frames
from journeylab.study.codebook import GUID_NAMESPACE, Code, Codebook
from journeylab.study.load import Study
from journeylab.study.transcripts import parse_transcript

DATA = Path(__file__).parent / "data" / "qdpx"
Q = f"{{{PROJECT_NS}}}"

P01 = ("Interviewer: Ça va? How was the delivery?\n"
       "P01: Très bien — the sofa came on time 😀 and the 東京 store called me.\n"
       "Interviewer: And returns?\n"
       "P01: A pain. I waited three weeks for €120 🙄.\n")
P02 = ("Interviewer: How did you hear of us?\n"
       "P02: An Instagram ad, then my niña's friend — she loves the shop.\n")


def mini_study() -> Study:
    docs, segs = [], []
    for doc_id, text in (("P01", P01), ("P02", P02)):
        doc = parse_transcript(text, format="txt", doc_id=doc_id)
        segs.append(doc.segments)
        docs.append({"doc_id": doc_id, "path": f"transcripts/{doc_id}.txt", "format": "txt", "encoding": "utf-8",
                     "participant_id": doc_id, "text": doc.text})
    codebook = Codebook([
        Code("delivery", colour="#d55e00", definition="Getting the order.", stage="purchase"),
        Code("on_time", parent="delivery", definition="Arrived when promised.", include="Early counts too."),
        Code("refund_slow", colour="#0072b2", definition="Refund took long — weeks.", examples=["three weeks"]),
        Code("ad_discovery", definition="Found us through an ad 📣.", stage="awareness"),
    ], name="mini codebook")
    participants = pd.DataFrame({
        "participant_id": ["P01", "P02"], "persona": ["busy parent", "gift buyer"], "age": ["34", "51"],
        "spend": ["120.50", "80"], "vip": ["true", "false"], "interview_date": ["2026-08-11", "2026-08-12"],
        "customer_since": ["2026-07", None],
    })
    codings = pd.DataFrame([
        ("P01-t002", "on_time", "amara", "manual", "nice quote", "2026-09-01T09:00:00"),
        ("P01-t002", "on_time", "jonas", "manual", None, "2026-09-02T10:00:00"),
        ("P01-t004", "refund_slow", "amara", "manual", None, None),
        ("P01-t004", "refund_slow", "jonas", "manual", "€ and 🙄 in a memo", None),
        ("P02-t002", "ad_discovery", "amara", "manual", None, None),
        ("P02-t002", "ad_discovery", "autocoder", "rule", None, None),
    ], columns=["segment_id", "code", "coder", "origin", "memo", "decided_at"])
    segments = pd.concat(segs, ignore_index=True)
    return Study(path=Path("mini"), name="Mini study — é 😀", config={}, participants=participants,
                 segments=segments, documents=pd.DataFrame(docs), codebook=codebook, codings=codings,
                 **empty_study_frames())


def schema(shared_dir):
    etree = pytest.importorskip("lxml.etree")
    return etree.XMLSchema(etree.parse(str(shared_dir / "refi-qda" / "Project-mrt2019.xsd")))


def assert_valid(shared_dir, qdpx: Path) -> None:
    etree = pytest.importorskip("lxml.etree")
    with zipfile.ZipFile(qdpx) as zf:
        doc = etree.fromstring(zf.read("project.qde"))
    schema(shared_dir).assertValid(doc)


def qde(path: Path):
    import xml.etree.ElementTree as ET

    with zipfile.ZipFile(path) as zf:
        return ET.fromstring(zf.read("project.qde")), {n: zf.read(n) for n in zf.namelist()}


# ----------------------------------------------------------------------------- export


def test_export_is_schema_valid(shared_dir, tmp_path):
    study = mini_study()
    out = jl.export_qdpx(study, codings=study.codings, path=tmp_path / "mini.qdpx")
    assert out == tmp_path / "mini.qdpx"
    assert_valid(shared_dir, out)


def test_sample_study_export_is_schema_valid_and_holds_every_coding(shared_dir, sample_study, tmp_path):
    out = jl.export_qdpx(sample_study, codings=sample_study.codings, path=tmp_path / "sample.qdpx")
    assert_valid(shared_dir, out)
    root, files = qde(out)
    n_codings = len(root.findall(f".//{Q}PlainTextSelection/{Q}Coding"))
    assert n_codings == len(sample_study.codings.drop_duplicates(["segment_id", "code", "coder", "origin"]))
    assert len(root.findall(f"{Q}Sources/{Q}TextSource")) == len(sample_study.documents)
    assert {u.get("name") for u in root.findall(f"{Q}Users/{Q}User")} == set(sample_study.codings["coder"])


def test_contents_users_codes_cases_sources_notes(tmp_path):
    study = mini_study()
    root, files = qde(jl.export_qdpx(study, codings=None, path=tmp_path / "m.qdpx"))
    users = [(u.get("name"), u.get("id")) for u in root.findall(f"{Q}Users/{Q}User")]
    assert users == [("amara", None), ("autocoder", "journeylab:origin=rule"), ("jonas", None)]
    # hierarchy, colours, descriptions (the codebook's own writer), stage sets
    top = root.find(f"{Q}CodeBook/{Q}Codes")
    delivery = top.find(f"{Q}Code[@name='delivery']")
    assert delivery.get("color") == "#d55e00" and delivery.find(f"{Q}Code").get("name") == "on_time"
    assert delivery.find(f"{Q}Code/{Q}Description").text == "Arrived when promised.\n\nInclude: Early counts too."
    assert {s.get("name") for s in root.findall(f"{Q}Sets/{Q}Set")} == {"stage: purchase", "stage: awareness"}
    # typed variables inferred from the values
    types = {v.get("name"): v.get("typeOfVariable") for v in root.findall(f"{Q}Variables/{Q}Variable")}
    assert types == {"persona": "Text", "age": "Integer", "spend": "Float", "vip": "Boolean",
                     "interview_date": "Date", "customer_since": "Text"}
    case = root.find(f"{Q}Cases/{Q}Case[@name='P02']")
    assert len(case.findall(f"{Q}VariableValue")) == 5  # customer_since is blank: no value written
    assert case.find(f"{Q}VariableValue/{Q}BooleanValue").text == "false"
    src = {s.get("name"): s for s in root.findall(f"{Q}Sources/{Q}TextSource")}
    assert case.find(f"{Q}SourceRef").get("targetGUID") == src["P02"].get("guid")
    # embedded as UTF-8 without BOM, \n line ends, referenced internal://<GUID>.txt
    guid = src["P01"].get("guid")
    assert src["P01"].get("plainTextPath") == f"internal://{guid}.txt"
    assert files[f"sources/{guid}.txt"] == P01.encode("utf-8")
    # memos are notes referenced from their coding
    notes = {n.get("guid"): n.find(f"{Q}PlainTextContent").text for n in root.findall(f"{Q}Notes/{Q}Note")}
    assert sorted(notes.values()) == ["nice quote", "€ and 🙄 in a memo"]
    refs = [r.get("targetGUID") for r in root.iter(f"{Q}NoteRef")]
    assert sorted(refs) == sorted(notes)


def test_positions_are_code_points_end_exclusive(tmp_path):
    study = mini_study()
    root, files = qde(jl.export_qdpx(study, codings=None, path=tmp_path / "m.qdpx"))
    seg = study.segments.set_index("segment_id")
    src = root.find(f"{Q}Sources/{Q}TextSource[@name='P01']")
    text = files[f"sources/{src.get('guid')}.txt"].decode("utf-8")
    sels = src.findall(f"{Q}PlainTextSelection")
    assert [(int(s.get("startPosition")), int(s.get("endPosition"))) for s in sels] == [
        (int(seg.loc["P01-t002", "start"]), int(seg.loc["P01-t002", "end"])),
        (int(seg.loc["P01-t004", "start"]), int(seg.loc["P01-t004", "end"]))]
    a, b = int(sels[1].get("startPosition")), int(sels[1].get("endPosition"))
    assert text[a:b] == "A pain. I waited three weeks for €120 🙄."
    # counted by hand: "Interviewer: Ça va? How was the delivery?\n" is 42 code points, the P01 line
    # 69 ("😀" is one code point, two UTF-16 units), "Interviewer: And returns?\n" 26, then "P01: " 5
    assert a == 42 + 69 + 26 + 5 == 142
    assert len(text[:a].encode("utf-16-le")) // 2 == a + 1  # a UTF-16 count would be one more


def test_two_exports_are_byte_identical_with_fixed_zip_metadata(tmp_path):
    study = mini_study()
    a = jl.export_qdpx(study, codings=study.codings, path=tmp_path / "a.qdpx").read_bytes()
    b = jl.export_qdpx(mini_study(), codings=study.codings.sample(frac=1, random_state=3), path=tmp_path / "b.qdpx").read_bytes()
    assert a == b  # row order of the codings does not matter either
    with zipfile.ZipFile(tmp_path / "a.qdpx") as zf:
        names = zf.namelist()
        assert names == sorted(names) and names[0] == "project.qde"
        assert all(not n.startswith("sources/") or n.count("/") == 1 for n in names)
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_guids_are_uuid5_of_stable_keys(tmp_path):
    study = mini_study()
    root, _ = qde(jl.export_qdpx(study, codings=None, path=tmp_path / "m.qdpx"))
    ns = "Mini study — é 😀"
    users = {u.get("name"): u.get("guid") for u in root.findall(f"{Q}Users/{Q}User")}
    assert users["amara"] == str(uuid.uuid5(GUID_NAMESPACE, f"{ns}/user:amara"))
    assert users["autocoder"] == str(uuid.uuid5(GUID_NAMESPACE, f"{ns}/user:autocoder:rule"))
    src = root.find(f"{Q}Sources/{Q}TextSource[@name='P02']")
    assert src.get("guid") == str(uuid.uuid5(GUID_NAMESPACE, f"{ns}/source:P02"))
    code = root.find(f".//{Q}Code[@name='refund_slow']")
    assert code.get("guid") == str(uuid.uuid5(GUID_NAMESPACE, "mini codebook/refund_slow")) == study.codebook.guid(
        "refund_slow")


def test_codes_missing_from_the_codebook_are_added(tmp_path):
    study = mini_study()
    extra = pd.DataFrame([("P02-t002", "brand_new", "amara", "manual", None, None)], columns=study.codings.columns)
    root, _ = qde(jl.export_qdpx(study, codings=pd.concat([study.codings, extra]), path=tmp_path / "m.qdpx"))
    assert root.find(f"{Q}CodeBook/{Q}Codes/{Q}Code[@name='brand_new']") is not None


def test_export_errors_name_the_rows(tmp_path):
    study = mini_study()
    bad = pd.DataFrame([("nope", "on_time", "amara")], columns=["segment_id", "code", "coder"])
    with pytest.raises(JourneylabError, match="row 0: segment_id 'nope' is not a segment"):
        jl.export_qdpx(study, codings=bad, path=tmp_path / "x.qdpx")
    out_of_range = pd.DataFrame([("P01-t002", "on_time", "amara", "P01", 10, 9999)],
                                columns=["segment_id", "code", "coder", "doc_id", "span_start", "span_end"])
    with pytest.raises(JourneylabError, match=r"span \[10, 9999\) is not a non-empty range inside document 'P01'"):
        jl.export_qdpx(study, codings=out_of_range, path=tmp_path / "x.qdpx")
    assert not (tmp_path / "x.qdpx").exists()
    with pytest.raises(JourneylabError, match="missing column"):
        jl.export_qdpx(study, codings=bad.drop(columns="coder"), path=tmp_path / "x.qdpx")
    with pytest.raises(JourneylabError, match="expected a Integer value"):
        jl.export_qdpx(study, codings=None, path=tmp_path / "x.qdpx", variable_types={"persona": "Integer"})


# ----------------------------------------------------------------------------- round trips


def test_round_trip_export_import_export_is_identical(tmp_path):
    study = mini_study()
    first = jl.export_qdpx(study, codings=study.codings, path=tmp_path / "1.qdpx")
    back = jl.import_qdpx(first)
    second = jl.export_qdpx(back, codings=back.codings, path=tmp_path / "2.qdpx")
    assert first.read_bytes() == second.read_bytes()
    assert back.problems == []
    # the documents, segments and codings came back exactly
    assert back.documents["text"].tolist() == study.documents["text"].tolist()
    cols = ["segment_id", "doc_id", "participant_id", "speaker_role", "start", "end", "text"]
    pd.testing.assert_frame_equal(back.segments[cols].astype(str), study.segments[cols].astype(str))
    key = ["segment_id", "code", "coder", "origin"]
    got = back.codings[key + ["memo"]].astype(object).fillna("-").astype(str).sort_values(key)
    want = study.codings[key + ["memo"]].astype(object).fillna("-").astype(str).sort_values(key)
    got, want = got.reset_index(drop=True), want.reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)
    # every span points at the text that was coded, character for character
    texts = back.documents.set_index("doc_id")["text"]
    seg_text = study.segments.set_index("segment_id")["text"]
    for row in back.codings.itertuples():
        assert texts[row.doc_id][row.span_start:row.span_end] == seg_text[row.segment_id]


def test_sample_study_round_trip_is_identical(sample_study, tmp_path):
    first = jl.export_qdpx(sample_study, codings=sample_study.codings, path=tmp_path / "1.qdpx")
    back = jl.import_qdpx(first, interviewer_labels=["Interviewer"])
    second = jl.export_qdpx(back, codings=back.codings, path=tmp_path / "2.qdpx")
    assert first.read_bytes() == second.read_bytes()
    assert len(back.segments) == len(sample_study.segments)
    assert (back.segments["segment_id"].tolist() == sample_study.segments["segment_id"].tolist())
    assert sorted(map(tuple, back.codings[["segment_id", "code", "coder"]].astype(str).values)) == sorted(
        map(tuple, sample_study.codings[["segment_id", "code", "coder"]].astype(str).values))


def test_spans_inside_and_across_segments_keep_their_exact_place(tmp_path):
    study = mini_study()
    text = study.documents.set_index("doc_id").loc["P01", "text"]
    phrase = "the sofa came on time 😀"
    across = "東京 store called me.\nInterviewer: And returns?\nP01: A pain."
    a, c = text.index(phrase), text.index(across)
    codings = pd.DataFrame([
        ("P01-t002", "on_time", "amara", "P01", a, a + len(phrase)),
        (pd.NA, "refund_slow", "jonas", "P01", c, c + len(across)),
    ], columns=["segment_id", "code", "coder", "doc_id", "span_start", "span_end"])
    path = jl.export_qdpx(study, codings=codings, path=tmp_path / "spans.qdpx")
    back = jl.import_qdpx(path)
    got = back.codings[["segment_id", "code", "span_start", "span_end"]].astype(str).values.tolist()
    # one coding per selection (issue 15): the cross-turn span is one row, on the turn it starts in
    assert got == [["P01-t002", "on_time", str(a), str(a + len(phrase))],
                   ["P01-t002", "refund_slow", str(c), str(c + len(across))]]
    doc = back.documents.set_index("doc_id").loc["P01", "text"]
    assert [doc[r.span_start:r.span_end] for r in back.codings.itertuples()] == [phrase, across]
    assert jl.export_qdpx(back, codings=back.codings, path=tmp_path / "again.qdpx").read_bytes() == path.read_bytes()


# ----------------------------------------------------------------------------- import


ACROSS = "on time 😀 and the 東京 store called me.\n\nInterviewer: And the returns?"
CRLF_EXPECTED = [  # (segment_id, code, coder, selected text) from tests/data/qdpx/make_fixtures.py
    ("Interview P01-t002", "on time", "Enric", "Très bien — the sofa came on time 😀"),
    ("Interview P01-t002", "joy 😀", "Zoë", "Très bien — the sofa came on time 😀"),
    ("Interview P01-t002", "joy 😀", "Zoë", "東京 store called me."),
    ("Interview P01-t002", "on time", "Enric", ACROSS),  # one coding, though it runs into the next turn
    ("Interview P01-t004", "refund pain", "Enric", "Returns were a pain; I waited 3 weeks for €120."),
    ("Interview P01-t004", "refund pain", "Zoë", "Returns were a pain; I waited 3 weeks for €120."),
    (None, "joy 😀", "Enric", "Interviewer:"),
]


@pytest.mark.parametrize("name, line_endings", [("crlf_one.qdpx", "one"), ("crlf_two.qdpx", "two")])
def test_import_crlf_bom_non_ascii_positions_exact(name, line_endings):
    study = jl.import_qdpx(DATA / name, line_endings=line_endings)
    doc = study.documents.iloc[0]
    assert doc["encoding"] == "utf-8-sig" and not doc["text"].startswith("\ufeff") and "\r" not in doc["text"]
    got = [(None if pd.isna(r.segment_id) else r.segment_id, r.code, r.coder, doc["text"][r.span_start:r.span_end])
           for r in study.codings.itertuples()]
    assert got == CRLF_EXPECTED


def test_counting_crlf_wrongly_shifts_positions():
    # the same file read with the other convention lands elsewhere: the option matters
    study = jl.import_qdpx(DATA / "crlf_two.qdpx", line_endings="one")
    doc = study.documents.iloc[0]["text"]
    texts = [doc[r.span_start:r.span_end] for r in study.codings.itertuples()]
    assert texts[0] != CRLF_EXPECTED[0][3]


def test_import_cases_variables_notes_and_what_is_left_out():
    study = jl.import_qdpx(DATA / "crlf_one.qdpx")
    p = study.participants
    assert p.columns.tolist() == ["participant_id", "age", "score", "vip", "first_order", "interviewed_at", "city"]
    assert p.iloc[0].tolist() == ["Case P01", 34, 7.5, True, "2026-02-01", "2026-08-11T10:00:00Z", "Zürich"]
    assert str(p["age"].dtype) == "Int64" and str(p["score"].dtype) == "Float64" and str(p["vip"].dtype) == "boolean"
    # the case's source: its single speaker label P01 becomes the case
    assert set(study.segments["participant_id"].dropna()) == {"Case P01"}
    assert study.documents["participant_id"].tolist() == ["Case P01"]
    memos = study.codings["memo"].dropna().tolist()
    assert memos == ["Arrived early, très content.", "store phoned — nice touch"]
    cb = study.codebook
    assert cb.names == ["Delivery", "on time", "joy 😀", "refund pain"]
    assert cb["on time"].parent == "Delivery" and cb["Delivery"].codable is False
    assert cb.guid("Delivery") == "5215CC69-B628-4E02-AFB9-9BEEAEE55808"  # braces dropped, GUID kept
    messages = " | ".join(pr.message for pr in study.problems)
    for part in ("PictureSource 'parcel.jpg' (1 selections) not imported", "'S6' has no coding",
                 "set 'Interviews' groups sources", "1 links not imported", "overlaps no segment"):
        assert part in messages


def test_foreign_guids_survive_a_reexport(shared_dir, tmp_path):
    study = jl.import_qdpx(DATA / "crlf_one.qdpx")
    out = jl.export_qdpx(study, codings=study.codings, path=tmp_path / "re.qdpx")
    assert_valid(shared_dir, out)
    root, _ = qde(out)
    assert {u.get("guid") for u in root.findall(f"{Q}Users/{Q}User")} == {
        "7A1F2C3D-0000-4000-8000-000000000001", "7A1F2C3D-0000-4000-8000-000000000002"}
    assert root.find(f"{Q}Sources/{Q}TextSource").get("guid") == "0616FDDD-8DD6-42A0-B5B0-AB7C89729219"
    assert root.find(f"{Q}Cases/{Q}Case").get("guid") == "C6FF6C4B-80EB-4473-A361-88DAF9845D4F"
    types = [v.get("typeOfVariable") for v in root.findall(f"{Q}Variables/{Q}Variable")]
    assert types == ["Integer", "Float", "Boolean", "Date", "DateTime", "Text"]
    back = jl.import_qdpx(out)
    cols = ["segment_id", "code", "coder", "memo", "span_start", "span_end"]
    key = ["span_start", "span_end", "coder", "code", "segment_id"]
    pd.testing.assert_frame_equal(back.codings[cols].sort_values(key).reset_index(drop=True),
                                  study.codings[cols].sort_values(key).reset_index(drop=True))


def test_import_the_real_atlas_ti_export(shared_dir, tmp_path):
    path = shared_dir / "refi-qda" / "target-atlas-project.qdpx"
    study = jl.import_qdpx(path)
    assert study.name == "target-atlas-project"
    assert study.codebook.names == ["Commits", "2022-05-10T02:05:59Z 19e4dce", "2022-02-11T10:39:25Z cdbfd92"]
    assert study.codebook.children("Commits") == study.codebook.names[1:]
    assert study.codebook.guid("Commits") == "A182CD3A-D83C-4D8C-BC80-26D9103EC6D6"
    assert study.config["refi_qda"]["users"] == {"Enric Llagostera": "088B08AC-D5CD-4ADB-8B71-B4F3459C177F",
                                                 "ATLAS.ti": "C32A2BD5-537F-4838-8B17-DF9EFBAFDF4B"}
    # no sources, cases or codings: empty frames, no error
    assert len(study.documents) == len(study.segments) == len(study.codings) == len(study.participants) == 0
    assert study.problems == []
    out = jl.export_qdpx(study, codings=study.codings, path=tmp_path / "atlas-again.qdpx")
    assert_valid(shared_dir, out)
    root, _ = qde(out)
    assert [c.get("guid") for c in root.iter(f"{Q}Code")] == [
        "A182CD3A-D83C-4D8C-BC80-26D9103EC6D6", "2D2466F0-D77F-4F8C-BDF9-628966B6B74D",
        "086AC733-7B1C-4749-A138-D7182F63A5C9"]


def test_import_errors_name_the_file(tmp_path):
    with pytest.raises(JourneylabError, match="file not found"):
        jl.import_qdpx(tmp_path / "missing.qdpx")
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(JourneylabError, match="bad.qdpx: not a REFI-QDA project"):
        jl.import_qdpx(bad)
    empty = tmp_path / "empty.qdpx"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(JourneylabError, match="holds no project.qde; found readme.txt"):
        jl.import_qdpx(empty)
    with pytest.raises(JourneylabError, match="line_endings"):
        jl.import_qdpx(DATA / "crlf_one.qdpx", line_endings="three")


def test_contents_reports_what_a_project_holds(shared_dir):
    from journeylab.interop import qdpx

    table = qdpx.contents(shared_dir / "refi-qda" / "target-atlas-project.qdpx").set_index("part")
    assert table.loc["project", "detail"] == "'target-atlas-project' from ATLAS.ti for Windows 23.2.3.27778"
    assert table["n"].to_dict() == {"project": 1, "users": 2, "codes": 3, "code sets": 0, "variables": 0,
                                    "cases": 0, "text sources": 0, "other sources": 0, "text selections": 0,
                                    "codings": 0, "notes": 0, "links": 0, "files": 1}
    mixed = qdpx.contents(DATA / "crlf_one.qdpx").set_index("part")
    assert mixed.loc["other sources", "detail"] == "PictureSource ×1"
    assert mixed.loc["text selections", "n"] == 6 and mixed.loc["codings", "n"] == 8


def test_verify_round_trip_reports_every_check(tmp_path):

    study = mini_study()
    table = jl.verify_qdpx_round_trip(study, path=tmp_path / "v.qdpx", codings=study.codings)
    assert table["check"].tolist() == ["document texts identical", "segments identical", "codings identical",
                                       "every span's text exact", "re-export byte-identical"]
    assert table["ok"].all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.qdpx"]


def _one_source_project(tmp_path, data: bytes, start: int, end: int) -> Path:
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="one source">
  <Users><User guid="7A1F2C3D-0000-4000-8000-000000000001" name="Ana"/></Users>
  <CodeBook><Codes><Code guid="D7AA29DA-519B-4946-9B90-253B6DB8FD0A" name="x" isCodable="true"/></Codes></CodeBook>
  <Sources><TextSource guid="0616FDDD-8DD6-42A0-B5B0-AB7C89729219" name="notes.txt"
      plainTextPath="internal://0616FDDD-8DD6-42A0-B5B0-AB7C89729219.txt">
    <PlainTextSelection guid="C0000000-0000-4000-8000-000000000001" startPosition="{start}" endPosition="{end}">
      <Coding guid="B0000000-0000-4000-8000-000000000001" creatingUser="7A1F2C3D-0000-4000-8000-000000000001">
        <CodeRef targetGUID="D7AA29DA-519B-4946-9B90-253B6DB8FD0A"/></Coding>
    </PlainTextSelection></TextSource></Sources>
</Project>"""
    path = tmp_path / "one.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", qde.encode("utf-8"))
        zf.writestr("sources/0616FDDD-8DD6-42A0-B5B0-AB7C89729219.txt", data)
    return path


@pytest.mark.parametrize("encode", [
    lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"),  # UTF-8 with a byte-order mark
    lambda t: t.encode("utf-16"),                  # UTF-16 with its byte-order mark
    lambda t: t.encode("utf-8"),
], ids=["utf8-bom", "utf16", "utf8"])
def test_bom_is_not_counted_and_non_bmp_is_one_code_point(tmp_path, encode):
    text = "Café 😀 first line\nthe — second 東京 line\n"
    # by hand: "Café 😀 first line\n" is 18 code points (😀 is one), "the " 4 more: "—" is at 22
    path = _one_source_project(tmp_path, encode(text), 22, 30)
    study = jl.import_qdpx(path)
    row = study.codings.iloc[0]
    assert study.documents.iloc[0]["text"] == text
    assert text[22:30] == "— second"
    assert study.documents.iloc[0]["text"][row.span_start:row.span_end] == "— second"
    # no speaker labels: one segment per line, the selection is in the second
    assert row.segment_id == "notes-p002"


def test_export_refuses_text_that_is_not_normalised(tmp_path):
    study = mini_study()
    study.documents = study.documents.assign(text=study.documents["text"].str.replace("\n", "\r\n"))
    with pytest.raises(JourneylabError, match="document 'P01' contains a carriage return"):
        jl.export_qdpx(study, codings=study.codings, path=tmp_path / "x.qdpx")
