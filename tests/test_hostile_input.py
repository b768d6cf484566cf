"""Hostile input: every parser and loader either reads a file or raises a JourneylabError naming
the place — never another exception, never a hang (issue 10, section 2).

Property-based (hypothesis, bounded: at most 100 examples per test, derandomized, no example
database) plus explicit regressions for every bug the properties found.
"""
from __future__ import annotations

import sqlite3
import time
import traceback
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_study import CODEBOOK, CODINGS, EVENTS, PARTICIPANTS, STUDY_YML, SURVEY, make_study

import journeylab as jl
from journeylab.errors import JourneylabError
from journeylab.study.transcripts import parse_transcript, read_document

FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])


def _only_journeylab_errors(call, *, place: str | None = None):
    """Run ``call``; a JourneylabError (naming ``place`` when given) is fine, anything else fails."""
    try:
        return call()
    except JourneylabError as exc:
        if place is not None:
            assert place in str(exc), f"error does not name {place!r}: {exc}"
        return None
    except Exception as exc:  # noqa: BLE001 - that is the point of the test
        where = traceback.format_exc(limit=-3)
        pytest.fail(f"{type(exc).__name__} instead of JourneylabError: {exc}\n{where}")


def _check_offsets(doc) -> None:
    seg = doc.segments
    assert len(seg) > 0
    for start, end, text in zip(seg["start"], seg["end"], seg["text"]):
        assert 0 <= start <= end <= len(doc.text)
        assert doc.text[start:end] == text


# ============================================================================ transcripts

_PIECES = [
    "WEBVTT", "WEBVTT - Zoom", "", "1", "12", "NOTE a note", "STYLE", "Kind: captions",
    "00:00:01.000 --> 00:00:02.000", "00:00:01,000 --> 00:00:02,000", "00:00:05.000 --> 00:00:02.000",
    "00:01.000 --> 00:02.000 align:start", "00:00:01.000 -> 00:00:02.000", "00:00:01 --> 00:00:02",
    "0:0:1.0 --> x", "-->", "1 --> 2", "99:99:99.999 --> 99:99:99.999",
    "P01: hello there", "Interviewer: how was it?", "<v Ann>hi</v>", "<v>x", "<v Bob Smith>", "</v>",
    "<b>bold</b> <00:00:01.000>word", "&amp; &lt; &#0; &#xD800; &bogus;", "[00:00:01] P01: yes",
    "(1:02) I: q", "99999999:00:00 P1: x", "P01:", ":", " - P01: dash", "Speaker 1: x", "\t", " ",
    "\r", "\ufeff", "é€", "\u2028", "\x85", "\x0c", "\x1c", "\x00",
]
_line = st.one_of(st.sampled_from(_PIECES), st.text(max_size=30),
                  st.lists(st.sampled_from(_PIECES), min_size=2, max_size=3).map(" ".join))
_transcript_text = st.lists(_line, max_size=25).map("\n".join)


@FUZZ
@given(_transcript_text, st.sampled_from([None, "txt", "vtt", "srt"]), st.sampled_from([None, "sentence"]))
def test_parse_transcript_round_trips_offsets_or_names_the_place(text, fmt, split):
    doc = _only_journeylab_errors(lambda: parse_transcript(text, format=fmt, doc_id="p07", split=split,
                                                           display_path="transcripts/p07.x"),
                                  place="transcripts/p07.x")
    if doc is not None:
        _check_offsets(doc)


_ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252", "latin-1", "utf-32"]


@FUZZ
@given(_transcript_text, st.sampled_from(_ENCODINGS), st.sampled_from([".txt", ".vtt", ".srt", ".TXT", ""]),
       st.binary(max_size=8), st.integers(0, 300))
def test_read_document_of_any_bytes_round_trips_or_names_the_file(tmp_path, text, encoding, suffix, junk, at):
    data = text.encode(encoding, errors="replace")
    data = data[:at] + junk + data[at:]
    path = tmp_path / f"p07{suffix}"
    path.write_bytes(data)
    doc = _only_journeylab_errors(lambda: read_document(path), place=path.name)
    if doc is not None:
        _check_offsets(doc)


@pytest.mark.parametrize("text, fmt, line", [
    ("WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nP01: hi\n", "vtt", 3),          # one-dash arrow
    ("WEBVTT\n\n00:00:01 --> 00:00:02\nP01: hi\n", "vtt", 3),                # no milliseconds
    ("WEBVTT\n\n1\n00:00:01.000 --> later\nP01: hi\n", "vtt", 4),            # identifier, bad end
    ("WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nP01: hi\n", "vtt", 3),        # ends before it starts
    ("WEBVTT\n\nP01: hi there\n", "vtt", 3),                                 # no timing at all
    ("1\n00:00:01,000 --> 00:00:02,000\nP01: hi\n\n2\n00:00:03,000 --> \nP01: x\n", "srt", 6),
    ("1\n00:00:01,000 --> 00:00:02,000\nP01: hi\n\nx\n00:00:03,000 --> 00:00:04,000\nP01: x\n", "srt", 5),
    ("1\n00:00:01,000 --> 00:00:02,000\nP01: hi\n\n2\n", "srt", 6),         # number, then nothing
])
def test_malformed_timing_lines_name_the_line(text, fmt, line):
    with pytest.raises(JourneylabError, match=rf"transcripts/p07\.{fmt}, line {line}:"):
        parse_transcript(text, format=fmt, doc_id="p07", display_path=f"transcripts/p07.{fmt}")


@pytest.mark.parametrize("data, encoding, first_turn", [
    ("P01: café\nInterviewer: ok\n".encode("utf-8"), "utf-8", "café"),
    ("P01: café\nInterviewer: ok\n".encode("utf-8-sig"), "utf-8-sig", "café"),
    ("P01: café\nInterviewer: ok\n".encode("utf-16"), "utf-16", "café"),
    ("P01: café – 5€\nInterviewer: ok\n".encode("cp1252"), "cp1252", "café – 5€"),
])
def test_encodings_are_decoded_and_round_trip(tmp_path, data, encoding, first_turn):
    path = tmp_path / "p01.txt"
    path.write_bytes(data)
    doc = read_document(path)
    assert doc.encoding == encoding
    assert doc.segments["text"].iloc[0] == first_turn
    _check_offsets(doc)


@pytest.mark.parametrize("data, match", [
    (b"P01: caf\xc3\xa9\nInterviewer: ok \x93quoted\x94\n", None),          # utf-8 and cp1252 mixed: cp1252 wins
    (b"P01: hello\x00world\n", r"p01\.txt, line 1: .*NUL byte"),
    (b"P01: hi\nInterviewer: ok\n\x00\x00", r"p01\.txt, line 3: .*NUL byte"),
    ("P01: hi\n".encode("utf-16-le"), r"p01\.txt, line 1: .*NUL byte"),     # UTF-16 without a BOM
    (b"\xff\xfeP\x00:", r"p01\.txt: .*UTF-16"),                               # odd-length UTF-16
    (b"P01: \x81\x8d\x8f\x90\x9d\n", r"p01\.txt, line 1: cannot decode"),    # bytes undefined in cp1252
])
def test_mixed_encodings_and_nul_bytes(tmp_path, data, match):
    path = tmp_path / "p01.txt"
    path.write_bytes(data)
    if match is None:
        doc = read_document(path)
        assert doc.encoding == "cp1252" and doc.warnings and doc.warnings[0].line == 2
        _check_offsets(doc)
    else:
        with pytest.raises(JourneylabError, match=match):
            read_document(path)


_MB = 1_000_000
_CUE = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n"


@pytest.mark.parametrize("text, n_segments", [
    ("P01: " + "x" * _MB, 1),
    ("x" * _MB, None),                                                    # no label at all
    ("A" + " a" * (_MB // 2) + ": x", None),                               # a label too long to be one
    ("[00:00:01] " + "\t" * _MB + "P01: x", 1),
    (_CUE + "P01: " + "x" * _MB, 1),
    (_CUE + "P01: <" + "a" * _MB, 1),                                     # an unclosed tag
    (_CUE + "P01: <" + "1:" * (_MB // 2), 1),
    (_CUE + "<v " * (_MB // 3), None),                                    # was quadratic: hung for minutes
    (_CUE + "<v.a" * (_MB // 4), None),
    ("WEBVTT\n\n00:00:01.000 --> " + "1" * _MB + "\nP01: x", None),
    ("1\n00:00:01,000 --> 00:00:02,000\nP01: " + "x" * _MB, 1),
])
def test_one_megabyte_single_lines_are_read_quickly(text, n_segments):
    t0 = time.perf_counter()
    doc = _only_journeylab_errors(lambda: parse_transcript(text, doc_id="p07"), place="p07")
    assert time.perf_counter() - t0 < 10, "a 1 MB line must not take super-linear time"
    if n_segments is None:
        assert doc is None
    else:
        assert len(doc.segments) == n_segments
        _check_offsets(doc)


@pytest.mark.slow
def test_a_100_megabyte_transcript_is_read_exactly(tmp_path):
    """~100 MB, 1.1 million turns: read in about 45-75 s (2 cores, shared), 1.6 GB peak RSS."""
    block = ("Interviewer: And then what happened when you reached the checkout page on your phone?\n"
             "P07: It asked for my address twice, which was annoying, and the card form kept clearing it.\n") * 1000
    path = tmp_path / "p07.txt"
    with open(path, "w", encoding="utf-8") as fh:
        for _ in range(100_000_000 // len(block) + 1):
            fh.write(block)
    assert path.stat().st_size >= 100_000_000
    doc = read_document(path)
    seg = doc.segments
    n = 2 * 1000 * (100_000_000 // len(block) + 1)
    assert len(seg) == n
    assert seg["turn"].iloc[-1] == n
    step = max(1, n // 5000)
    for start, end, text in zip(seg["start"][::step], seg["end"][::step], seg["text"][::step]):
        assert doc.text[start:end] == text
    assert seg["end"].iloc[-1] == len(doc.text) - 1


# ============================================================================ study folder

_BASE_FILES = {"study.yml": STUDY_YML, "participants.csv": PARTICIPANTS, "survey.csv": SURVEY,
               "events.csv": EVENTS, "codebook.yml": CODEBOOK, "codings/ann.csv": CODINGS}
_JUNK = st.one_of(st.none(), st.integers(-3, 3), st.integers(10**20, 10**21), st.floats(), st.text(max_size=5),
                  st.booleans(), st.dates(),
                  st.lists(st.one_of(st.integers(), st.text(max_size=3), st.none(), st.booleans()), max_size=3),
                  st.dictionaries(st.text(max_size=4), st.one_of(st.integers(), st.text(max_size=3), st.none()),
                                  max_size=2))


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


@st.composite
def _yaml_with_wrong_types(draw, text):
    """The valid YAML ``text`` with 1-3 values anywhere replaced by a value of another type."""
    data = yaml.safe_load(text)
    spots = list(_paths(data))[1:]
    for _ in range(draw(st.integers(1, 3))):
        spot = draw(st.sampled_from(spots))
        node = data
        try:
            for key in spot[:-1]:
                node = node[key]
            node[spot[-1]] = draw(_JUNK)
        except (KeyError, IndexError, TypeError):
            pass
    return yaml.safe_dump(data, allow_unicode=True)


def _load(root: Path):
    study = _only_journeylab_errors(lambda: jl.load_study(root))
    if study is not None and len(study.segments):
        texts = study.documents.set_index("doc_id")["text"]
        for doc_id, start, end, text in study.segments[["doc_id", "start", "end", "text"]].itertuples(index=False):
            assert texts[doc_id][start:end] == text
    return study


@FUZZ
@given(st.sampled_from(["study.yml", "codebook.yml"]).flatmap(
    lambda rel: st.tuples(st.just(rel), _yaml_with_wrong_types(_BASE_FILES[rel]))))
def test_yaml_of_any_shape_loads_or_names_the_file(tmp_path_factory, case):
    rel, text = case
    root = make_study(tmp_path_factory.mktemp("s"), **{rel: text})
    _load(root)


_EDITS = ['"', ',', '"a,b', '\x00', ':', '- ', '{', '[', '*a', '&a', 'é', '\r', ',,,,,,', '=HYPERLINK("x")',
          '-', '  - name: x', 'stages: 3', 'funnel: 3', 'codes: 5', '!!python/object:os.system', '\ufeff']


@st.composite
def _edited_file(draw):
    """One study file with lines deleted, duplicated, inserted, cut or swapped; in some encoding."""
    rel = draw(st.sampled_from(sorted(_BASE_FILES)))
    lines = _BASE_FILES[rel].split("\n")
    for op, i, s in draw(st.lists(st.tuples(st.sampled_from(["del", "dup", "ins", "cut", "swap"]),
                                            st.integers(0, 40),
                                            st.one_of(st.sampled_from(_EDITS), st.text(max_size=10))),
                                  min_size=1, max_size=4)):
        i %= len(lines) + 1
        j = i % len(lines)
        if op == "del" and len(lines) > 1:
            lines.pop(j)
        elif op == "dup":
            lines.insert(i, lines[j])
        elif op == "ins":
            lines.insert(i, s)
        elif op == "cut":
            k = draw(st.integers(0, len(lines[j])))
            lines[j] = lines[j][:k] + s + lines[j][k:]
        elif op == "swap" and len(lines) > 1:
            lines[j], lines[j - 1] = lines[j - 1], lines[j]
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "cp1252", "utf-16"]))
    return rel, "\n".join(lines).encode(encoding, errors="replace")


@FUZZ
@given(_edited_file())
def test_edited_study_files_load_or_name_the_file(tmp_path_factory, case):
    rel, data = case
    root = make_study(tmp_path_factory.mktemp("s"), **{rel: data})
    _load(root)


@pytest.mark.parametrize("rel, text, line, match", [
    ("study.yml", STUDY_YML + "funnel: 3\n", None, "'funnel:' must be"),  # duplicate key; the last wins
    ("study.yml", STUDY_YML.replace("personas: [saver, spender]", "personas: [true, 3]"), 23, "'personas:' must be"),
    ("study.yml", STUDY_YML.replace("  csat:\n    csat_checkout: checkout", "  csat: [1, 2]"), 21, "survey csat"),
    ("study.yml", STUDY_YML.replace("  nps: nps", "  nps: [1]"), 19, "survey nps"),
    ("study.yml", STUDY_YML.replace("steps: [ad_click, add_to_basket, paid]", "steps: 5"), 12, "funnel steps"),
    ("study.yml", STUDY_YML.replace("  steps: [ad_click, add_to_basket, paid]", "  steps: [{a: 1}]"), 12,
     "funnel steps"),
    ("study.yml", STUDY_YML.replace("paid: {stage: buy, touchpoint: checkout}", "paid: {stage: buy, touchpoint: [x]}"),
     10, "event 'paid'"),
    ("study.yml", STUDY_YML.replace("paid: {stage: buy, touchpoint: checkout}", "paid: {stage: {a: 1}}"),
     10, "event 'paid'"),
    ("study.yml", STUDY_YML.replace("changes:", "changes: 3\nx:"), 14, "'changes:' must be"),
    ("study.yml", STUDY_YML.replace("survey:\n  nps: nps\n  csat_scale: [1, 5]\n  csat:\n    csat_checkout: checkout\n",
                                    "survey: 0.5\n"), 18, "'survey:' must be"),
    ("study.yml", STUDY_YML.encode("cp1252") + "name2: é\n".encode("cp1252"), 24, "not valid UTF-8"),
    ("study.yml", STUDY_YML.encode("utf-16"), 1, "UTF-16"),
])
def test_study_yml_of_the_wrong_type_names_the_line(tmp_path, rel, text, line, match):
    """Each of these raised AttributeError/TypeError/UnicodeDecodeError before (found by the fuzz tests)."""
    root = make_study(tmp_path, **{rel: text})
    with pytest.raises(JourneylabError, match=match) as info:
        jl.load_study(root)
    problem = next(p for p in info.value.problems if p.severity == "error")
    assert problem.file == rel
    if line is not None:
        assert problem.line == line


@pytest.mark.parametrize("rel, text, line, match", [
    ("participants.csv", PARTICIPANTS + 'P03,"Cy Young,saver,mobile\nP04,Di,saver,mobile\n', 4, "unbalanced quote"),
    ("participants.csv", 'participant_id,"name,persona,device\nP01,A,saver,mobile\n', 1, "unbalanced quote"),
    ("survey.csv", SURVEY.replace('R2,u2,2026-01-06T11:00:00Z,3,2,Checkout form too long',
                                  'R2,u2,2026-01-06T11:00:00Z,3,2,"Checkout ""form"" too long\nsecond line"') +
     'R4,u4,2026-01-12T12:00:00Z,,4,"never closed\n', 6, "unbalanced quote"),
    ("events.csv", EVENTS + "u3,2026-01-05T09:00:00Z,ad_click,mobile,extra,fields\n", 6, "expected 4 fields"),
    ("codings/ann.csv", CODINGS + "P01-t002,checkout_pain,ann,manual,,surplus\n", 4, "expected 5 fields"),
])
def test_csv_with_unbalanced_quotes_or_ragged_rows_names_the_line(tmp_path, rel, text, line, match):
    root = make_study(tmp_path, **{rel: text})
    with pytest.raises(JourneylabError, match=match) as info:
        jl.load_study(root)
    problem = next(p for p in info.value.problems if p.file == rel)
    assert problem.line == line, str(problem)


def test_short_rows_are_padded_not_dropped(tmp_path):
    """A row with fewer fields than the header (spreadsheets drop trailing blanks) keeps its place."""
    root = make_study(tmp_path, **{"participants.csv": PARTICIPANTS + "P03\n"})
    study = jl.load_study(root)
    assert study.participants["participant_id"].tolist() == ["P01", "P02", "P03"]
    assert study.participants.loc[2, ["persona", "device"]].isna().all()


# ============================================================================ codebook, Taguette, REFI-QDA, store

DATA = Path(__file__).parent / "data"


@st.composite
def _damaged(draw, data: bytes):
    """``data`` with 1-4 bytes flipped, runs inserted or deleted, or the tail cut."""
    out = bytearray(data)
    for op, i, junk in draw(st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete", "truncate"]),
                                               st.integers(0, 10**6), st.binary(min_size=1, max_size=6)),
                                     min_size=1, max_size=4)):
        if not out:
            out = bytearray(junk)
        i %= len(out)
        if op == "flip":
            out[i] ^= junk[0] or 1
        elif op == "insert":
            out[i:i] = junk
        elif op == "delete":
            del out[i:i + 10 * len(junk)]
        else:
            del out[i:]
    return bytes(out)


_CODEBOOK_FILES = {name: (DATA / "taguette" / name).read_bytes()
                   for name in ["codebook.qdc", "codebook.csv", "journeylab_codebook.csv"]}


@FUZZ
@given(st.sampled_from(sorted(_CODEBOOK_FILES)).flatmap(
    lambda name: st.tuples(st.just(name), _damaged(_CODEBOOK_FILES[name]))))
def test_damaged_codebook_files_read_or_name_the_file(tmp_path_factory, case):
    name, data = case
    path = tmp_path_factory.mktemp("cb") / name
    path.write_bytes(data)
    if name.endswith(".qdc"):
        _only_journeylab_errors(lambda: jl.Codebook.from_qdc(path), place=name)
    else:
        _only_journeylab_errors(lambda: jl.Codebook.from_csv(path), place=name)
        _only_journeylab_errors(lambda: jl.interop.taguette.read_codebook(path), place=name)


@pytest.fixture(scope="module")
def taguette_project():
    return jl.import_taguette(DATA / "taguette" / "project.sqlite3")


_TAGUETTE_FILES = {name: (DATA / "taguette" / name).read_bytes() for name in ["highlights.csv", "project.sqlite3"]}


@FUZZ
@given(st.sampled_from(sorted(_TAGUETTE_FILES)).flatmap(
    lambda name: st.tuples(st.just(name), _damaged(_TAGUETTE_FILES[name]))))
def test_damaged_taguette_exports_import_or_name_the_file(tmp_path_factory, taguette_project, case):
    name, data = case
    path = tmp_path_factory.mktemp("tg") / name
    path.write_bytes(data)
    study = _only_journeylab_errors(lambda: jl.import_taguette(path, study=taguette_project), place=name)
    if study is not None:
        texts = study.documents.set_index("doc_id")["text"]
        placed = study.codings.dropna(subset=["span_start"])
        for doc_id, a, b in placed[["doc_id", "span_start", "span_end"]].itertuples(index=False):
            assert 0 <= a <= b <= len(texts[doc_id])


@pytest.mark.parametrize("tag, outcome", [
    ("delivery . late", "late"),          # spaces around the dot: KeyError before
    ("The checkout .", "line 2: tag"),    # an empty part: KeyError before
    ("a..b", "line 2: tag"),
    ("x.", "line 2: tag"),
])
def test_taguette_csv_tags_with_odd_dots(tmp_path, taguette_project, tag, outcome):
    path = tmp_path / "highlights.csv"
    path.write_text(f"id,document,tag,content\n1,P21 — entretien,{tag},Ça va?\n", encoding="utf-8")
    if outcome.startswith("line"):
        with pytest.raises(JourneylabError, match=rf"highlights\.csv, {outcome}"):
            jl.import_taguette(path, study=taguette_project)
    else:
        assert jl.import_taguette(path, study=taguette_project).codings["code"].tolist() == [outcome]


_QDPX = {n: (DATA / "qdpx" / f"{n}.qdpx") for n in ["crlf_one", "crlf_two"]}
_XML_VALUES = ["", "-1", "99999999999999999999", "abc", "1e5", "NaN", "{bad}", "internal://missing.txt",
               "relative://x", "true", "2026-13-45", "5", "0", "internal://../../etc/passwd", "#GGG"]


def _rezip(source: Path, project: bytes, tweak=None) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(buf, "w") as zout:
        zout.writestr("project.qde", project)
        for n in zin.namelist():
            if n != "project.qde":
                zout.writestr(n, tweak(zin.read(n)) if tweak else zin.read(n))
    return buf.getvalue()


@st.composite
def _damaged_qdpx(draw):
    import xml.etree.ElementTree as ET
    import zipfile

    source = _QDPX[draw(st.sampled_from(sorted(_QDPX)))]
    with zipfile.ZipFile(source) as z:
        root = ET.fromstring(z.read("project.qde"))
    parents = {child: parent for parent in root.iter() for child in parent}
    elements = list(root.iter())
    for _ in range(draw(st.integers(1, 4))):
        el = draw(st.sampled_from(elements))
        op = draw(st.sampled_from(["set", "drop_attr", "text", "remove", "duplicate"]))
        value = draw(st.one_of(st.sampled_from(_XML_VALUES), st.text(max_size=5)))
        if op == "set" and el.attrib:
            el.set(draw(st.sampled_from(sorted(el.attrib))), value)
        elif op == "drop_attr" and el.attrib:
            del el.attrib[draw(st.sampled_from(sorted(el.attrib)))]
        elif op == "text":
            el.text = value
        elif el in parents and el in list(parents[el]):
            parents[el].remove(el) if op == "remove" else parents[el].append(el)
    junk = draw(st.binary(max_size=4))
    at = draw(st.integers(0, 200))
    ET.register_namespace("", "urn:QDA-XML:project:1.0")
    return _rezip(source, ET.tostring(root, encoding="utf-8", xml_declaration=True),
                  (lambda b: b[:at] + junk + b[at:]) if junk else None)


@FUZZ
@given(_damaged_qdpx())
def test_damaged_qdpx_imports_or_names_the_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("q") / "project.qdpx"
    path.write_bytes(data)
    study = _only_journeylab_errors(lambda: jl.import_qdpx(path), place="project.qdpx")
    if study is not None:
        texts = study.documents.set_index("doc_id")["text"]
        for doc_id, start, end, text in study.segments[["doc_id", "start", "end", "text"]].itertuples(index=False):
            assert texts[doc_id][start:end] == text


def _qde(source: Path, old: str, new: str) -> bytes:
    import zipfile

    with zipfile.ZipFile(source) as z:
        text = z.read("project.qde").decode("utf-8")
    assert old in text
    return _rezip(source, text.replace(old, new, 1).encode("utf-8"))


@pytest.mark.parametrize("old, new, match", [
    ('<User guid="7A1F2C3D-0000-4000-8000-000000000001" name="Enric"/>', '<User name="Enric"/>',
     "User name='Enric'.*no guid"),                                                      # AttributeError before
    ("<IntegerValue>34</IntegerValue>", "<IntegerValue>thirty</IntegerValue>",
     "case 'Case P01', variable 'age': expected a number"),                               # ValueError before
    ('name="score" typeOfVariable="Float"', 'name="age" typeOfVariable="Float"', "'age', already used"),
    ('name="city" typeOfVariable="Text"', 'name="participant_id" typeOfVariable="Text"', "already used"),
    ("<BooleanValue>true</BooleanValue>", "<IntegerValue>7</IntegerValue>", "'vip' is declared Boolean"),
])
def test_qdpx_with_bad_users_or_variables_names_the_file(tmp_path, old, new, match):
    path = tmp_path / "project.qdpx"
    path.write_bytes(_qde(_QDPX["crlf_one"], old, new))
    with pytest.raises(JourneylabError, match=rf"project\.qdpx: project\.qde: .*{match}"):
        jl.import_qdpx(path)


def test_qdpx_selection_far_outside_the_text_is_reported_not_an_overflow(tmp_path):
    path = tmp_path / "project.qdpx"
    path.write_bytes(_qde(_QDPX["crlf_one"], 'startPosition="53"', 'startPosition="99999999999999999999"'))
    study = jl.import_qdpx(path)
    assert any("far outside any text" in p.message for p in study.problems)


@pytest.fixture(scope="module")
def store_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "codings.sqlite"
    with jl.CodingStore(path) as store:
        store.apply("P01-t001", "checkout_pain", "ann")
        store.apply("P01-t002", "ad_found", "bob", memo="=HYPERLINK(\"http://x\")")
    return path.read_bytes()


@settings(FUZZ, max_examples=50)
@given(st.integers(0, 10**6), st.binary(min_size=1, max_size=16), st.booleans())
def test_damaged_store_reads_or_names_the_file(tmp_path_factory, store_bytes, at, junk, truncate):
    at %= len(store_bytes)
    path = tmp_path_factory.mktemp("st") / "codings.sqlite"
    path.write_bytes(store_bytes[:at] if truncate else store_bytes[:at] + junk + store_bytes[at + len(junk):])
    _only_journeylab_errors(lambda: jl.read_codings(path), place="codings.sqlite")


@pytest.mark.parametrize("make", ["text", "other_schema", "folder"])
def test_not_a_store_is_named(tmp_path, make):
    path = tmp_path / "codings.sqlite"
    if make == "text":
        path.write_text("segment_id,code\n")
    elif make == "other_schema":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE t (a)")
        con.commit()
        con.close()
    else:
        path.mkdir()
    with pytest.raises(JourneylabError, match="codings.sqlite"):
        jl.read_codings(path)


# ============================================================================ formula injection

HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\r=1", "=cmd|' /C calc'!A0"]
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _cells(path: Path) -> list[str]:
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def _assert_no_formula(path: Path):
    bad = [c for c in _cells(path) if c.startswith(_TRIGGERS)]
    assert not bad, f"{path.name}: cells a spreadsheet would run: {bad}"


def test_write_csv_neutralises_text_cells_but_not_numbers(tmp_path):
    from journeylab.utils.tables import write_csv

    frame = pd.DataFrame({"quote": HOSTILE, "score": [-0.5] * len(HOSTILE), "n": range(-3, len(HOSTILE) - 3)})
    path = write_csv(frame, path=tmp_path / "out.csv")
    _assert_no_formula_in_text = [c for c in _cells(path)[3::3]]
    assert _assert_no_formula_in_text == ["'" + q for q in HOSTILE]
    assert _cells(path)[4::3] == ["-0.5"] * len(HOSTILE)                           # numbers stay numbers
    assert _cells(path)[5::3] == [str(n) for n in range(-3, len(HOSTILE) - 3)]
    assert frame["quote"].tolist() == HOSTILE                        # the caller's frame is not changed


def test_codebook_csv_exports_neutralise_and_read_back(tmp_path):
    from journeylab.study.codebook import Code

    cb = jl.Codebook([Code("-minus", definition=HOSTILE[0]), Code("@mention", parent="-minus",
                                                                     definition="+1 for this")])
    cb.to_csv(tmp_path / "codebook.csv")
    jl.write_taguette_codebook(cb, path=tmp_path / "taguette.csv")
    for name in ("codebook.csv", "taguette.csv"):
        _assert_no_formula(tmp_path / name)
        assert jl.Codebook.from_csv(tmp_path / name).names == ["-minus", "@mention"]
        assert jl.Codebook.from_csv(tmp_path / name)["-minus"].definition == HOSTILE[0]
        assert jl.interop.taguette.read_codebook(tmp_path / name).names == ["-minus", "@mention"]
    assert (tmp_path / "taguette.csv").read_bytes()[:3] == b"\xef\xbb\xbf"   # Taguette needs the BOM


def test_coding_store_export_neutralises_memos_and_the_study_reads_them_back(tmp_path):
    root = make_study(tmp_path / "study")
    store = jl.CodingStore(tmp_path / "codings.sqlite")
    for memo, segment in zip(HOSTILE[:2], ["P01-t004", "P02-t002"]):
        store.apply(segment, "checkout_pain", "cat", memo=memo)
    path = store.export_csv(root / "codings" / "cat.csv", "cat")
    store.close()
    _assert_no_formula(path)
    codings = jl.load_study(root).codings
    assert sorted(codings.loc[codings["coder"] == "cat", "memo"]) == sorted(HOSTILE[:2])


def test_a_bare_carriage_return_in_a_cell_does_not_split_the_row(tmp_path):
    """csv/pandas quote only the "\\n" terminator's characters: "a\\rb" was written unquoted before."""
    from journeylab.study.codebook import Code
    from journeylab.utils.tables import write_csv

    path = write_csv(pd.DataFrame({"memo": ["line one\rline two", "ok"], "n": [1, 2]}), path=tmp_path / "m.csv")
    assert _cells(path) == ["memo", "n", "line one\rline two", "1", "ok", "2"]
    jl.Codebook([Code("late", definition="first\rsecond")]).to_csv(tmp_path / "cb.csv")
    assert len(_cells(tmp_path / "cb.csv")) == 4


@pytest.mark.parametrize("dtype", ["string", "str", object])
def test_an_empty_table_with_text_columns_is_written(tmp_path, dtype):
    """Issue 14: an evidence table with no rows (a study nobody coded, without rules) has pandas
    "string" columns; write_csv raised "Cannot perform reduction 'any' with string dtype"."""
    from journeylab.utils.tables import write_csv

    frame = pd.DataFrame({"grade": pd.Series([], dtype=dtype), "n": pd.Series([], dtype=float)})
    path = write_csv(frame, path=tmp_path / "empty.csv")
    assert path.read_text(encoding="utf-8") == "grade,n\n"
