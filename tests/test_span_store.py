"""Span decisions in the coding store (schema version 3, issue 15 item 3).

- a version-2 store (``tests/data/stores/codings_v2.sqlite``, written by journeylab's own code at
  schema version 2, see ``make_v2_store.py``) is backed up, migrated, and reads exactly what
  version 2 read (``codings_v2_reads.json``, recorded by that version);
- span decisions go to the one log with their covered text and fingerprint; whole-turn decisions
  are untouched; the codings frame carries the spans' exact ``doc_id, start, end, text``;
- a store's span codings exported with ``export_csv(study=...)`` load back as the same spans.
"""
from __future__ import annotations

import json
import math
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

import journeylab as jl
from journeylab.coding.store import SCHEMA_VERSION, CodingStore, StoreMigratedWarning
from journeylab.errors import JourneylabError
from journeylab.study.anchor import fingerprint

STORES = Path(__file__).resolve().parent / "data" / "stores"
V2_STORE = STORES / "codings_v2.sqlite"


def _frame(split: dict) -> pd.DataFrame:
    return pd.DataFrame(split["data"], columns=split["columns"], index=split["index"])


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for col in got.columns:
        for a, b in zip(got[col].tolist(), want[col].tolist()):
            missing = [v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) for v in (a, b)]
            assert missing[0] == missing[1] and (missing[0] or a == b), (col, a, b)


def _rows(df: pd.DataFrame, columns: list[str]) -> list[list]:
    """Rows as lists, missing values as None."""
    part = df[columns].astype(object)
    return part.where(part.notna(), None).values.tolist()


def test_version_2_store_is_backed_up_migrated_and_reads_as_before(tmp_path):
    path = tmp_path / "codings.sqlite"
    shutil.copy(V2_STORE, path)
    want = json.loads((STORES / "codings_v2_reads.json").read_text(encoding="utf-8"))
    assert sqlite3.connect(path).execute("SELECT version FROM schema_version").fetchone() == (2,)
    with pytest.warns(StoreMigratedWarning, match=r"codings\.sqlite: the coding store was migrated from schema "
                                                  r"version 2 to 3; the file as it was is kept at .*codings\.sqlite"
                                                  r"\.v2\.bak"):
        store = CodingStore(path)
    with store:
        assert store.schema_version == SCHEMA_VERSION == 3
        assert store.backup_path_ == tmp_path / "codings.sqlite.v2.bak"
        _same(store.codings(), _frame(want["codings"]))
        _same(store.decisions(), _frame(want["decisions"]).assign(value=lambda d: d["value"].astype(bool)))
        _same(store.memos(), _frame(want["memos"]))
        _same(store.coders(), _frame(want["coders"]))
        for coder, done in want["done"].items():
            assert sorted(store.done_segments(coder)) == done
            assert store.position(coder) == want["position"][coder]
        assert store.spans().empty and store.span_decisions().empty
        # and it takes span decisions now, after the old log
        n = len(store.decisions())
        assert store.apply_span("P05", 10, 14, "price_surprise", "carla", segment_id="P05-t002", text="fees") > n
        assert list(store.codings().columns[:4]) == ["doc_id", "start", "end", "text"]
    # the backup is the untouched version-2 file
    backup = tmp_path / "codings.sqlite.v2.bak"
    con = sqlite3.connect(backup)
    assert con.execute("SELECT version FROM schema_version").fetchone() == (2,)
    assert "span_state" not in {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    con.close()
    # a migrated store has the schema of a new one; opening again migrates nothing
    CodingStore(tmp_path / "new.sqlite").close()

    def schema(p):
        c = sqlite3.connect(p)
        rows = set(c.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
        c.close()
        return rows
    assert schema(path) == schema(tmp_path / "new.sqlite")
    with CodingStore(path) as store:
        assert store.backup_path_ is None
    assert sorted(p.name for p in tmp_path.glob("*.bak")) == ["codings.sqlite.v2.bak"]


def test_span_decisions_and_turn_decisions_side_by_side(tmp_path):
    text = "A: hi\nB: the fee 💸 was a shock\n"
    a, b = text.index("the fee"), text.index(" was")
    with CodingStore(tmp_path / "c.sqlite") as store:
        store.apply("d1-t2", "pricing", "Ana")
        assert list(store.codings().columns) == jl.coding.store.CODING_COLUMNS  # no spans yet: as before
        fp = fingerprint(text, a, b)
        store.apply_span("d1", a, b, "fee_shock", "Ana", segment_id="d1-t2", text=text[a:b], fingerprint=fp,
                         memo="the emoji too")
        store.apply_span("d1", a, a + 3, "fee_shock", "ana", segment_id="d1-t2", text="the")
        store.remove_span("d1", a, a + 3, "fee_shock", "ANA", segment_id="d1-t2", text="the")
        cod = store.codings()
        assert _rows(cod, ["doc_id", "start", "end", "text", "segment_id", "code", "memo"]) == [
            ["d1", a, b, "the fee 💸", "d1-t2", "fee_shock", "the emoji too"],  # sorted by coder, turn, code
            [None, None, None, None, "d1-t2", "pricing", None]]
        assert str(cod["start"].dtype) == "Int64"
        assert store.decisions()[["segment_id", "code", "value"]].values.tolist() == [["d1-t2", "pricing", True]]
        log = store.span_decisions()
        assert log[["decision_id", "start", "end", "value"]].values.tolist() == [[2, a, b, True], [3, a, a + 3, True],
                                                                                 [4, a, a + 3, False]]
        assert _rows(log, ["fingerprint"]) == [[fp], [None], [None]]
        assert store.coders()[["coder", "n_decisions", "n_codings"]].values.tolist() == [["Ana", 4, 2]]
        assert store.done_segments("ana") == {"d1-t2"}
        # the turn decision's removal leaves the span
        store.remove("d1-t2", "pricing", "ana")
        assert store.codings("ana")[["code", "start"]].values.tolist() == [["fee_shock", a]]


@pytest.mark.parametrize("kwargs, message", [
    (dict(start=5, end=5), r"expected 0 <= start < end; got start=5, end=5"),
    (dict(start=-1, end=3), r"expected 0 <= start < end"),
    (dict(start="3", end=6), r"`start` must be a whole number"),
    (dict(start=3, end=6, text="toolong"), r"`text` must be the covered text, 3 characters \(end - start\); "
                                           r"found 7 characters"),
    (dict(start=3, end=6, text="abc", fingerprint="zz"), r"expected a fingerprint like"),
    (dict(start=3, end=6, text="abc", fingerprint=fingerprint("xyzabc", 3, 6).replace("|3|", "|4|")),
     r"is not the fingerprint of `text`"),
    (dict(start=3, end=6, text="abc", segment_id=" "), r"`segment_id` must be non-empty text"),
])
def test_bad_span_decisions_are_refused(tmp_path, kwargs, message):
    args = dict(start=3, end=6, text="abc", segment_id="d1-t1") | kwargs
    with CodingStore(tmp_path / "c.sqlite") as store:
        with pytest.raises(JourneylabError, match=message):
            store.decide_span("d1", args.pop("start"), args.pop("end"), "x", "ana", True, **args)
        assert store.span_decisions().empty


def test_exported_spans_load_back_as_the_same_spans(tmp_path, sample_path):
    study_dir = shutil.copytree(sample_path, tmp_path / "study")
    for f in (study_dir / "codings").glob("*.csv"):
        f.unlink()
    study = jl.load_study(study_dir, redact=False)
    seg = study.segments[study.segments["speaker_role"] == "participant"].iloc[1]
    doc = dict(zip(study.documents["doc_id"], study.documents["text"]))[seg["doc_id"]]
    a = int(seg["start"]) + 4
    b = a + 20
    code = next(c.name for c in study.codebook if c.codable)
    with CodingStore(tmp_path / "codings.sqlite") as store:
        store.apply_span(seg["doc_id"], a, b, code, "ana", segment_id=seg["segment_id"], text=doc[a:b])
        store.apply(seg["segment_id"], code, "ana")
        store.export_csv(study_dir / "codings" / "ana.csv", "ana", study=study)
    back = jl.load_study(study_dir, redact=False).codings
    assert _rows(back, ["doc_id", "start", "end", "text", "segment_id", "code", "coder"]) == [[None, None, None, None, seg["segment_id"], code, "ana"],
                                   [seg["doc_id"], a, b, doc[a:b], seg["segment_id"], code, "ana"]]


def _starts(frame: pd.DataFrame) -> list:
    """The rows' span starts (-1 for a whole-turn coding), sorted, whatever the column's type (CSV text, Int64)."""
    return sorted(-1 if str(v).strip() in ("", "nan", "<NA>", "None") else int(float(v)) for v in frame["start"])


def test_merge_keeps_each_span_and_the_store_removes_exported_spans(tmp_path):
    text = "B: the fee was a shock and the fee again\n"
    first, second = text.index("the fee"), text.rindex("the fee")
    with CodingStore(tmp_path / "c.sqlite") as store:
        store.apply("d1-t1", "fee_shock", "ana")
        for a in (first, second):  # two spans of one code in one turn: two decisions
            store.apply_span("d1", a, a + 7, "fee_shock", "ana", segment_id="d1-t1", text="the fee")
        export = store.export_csv(tmp_path / "ana.csv", "ana")
        assert _starts(jl.merge_codings(export, store)) == [-1, first, second]
        assert jl.merge_report(export, store)["kind"].tolist() == ["duplicate"] * 3
        # the store removes the second span: the older export does not bring it back
        store.remove_span("d1", second, second + 7, "fee_shock", "ana", segment_id="d1-t1", text="the fee")
        merged, report = jl.merge_codings(export, store), jl.merge_report(export, store)
    assert _starts(merged) == [-1, first]
    removed = report[report["kind"] == "removed"]
    assert removed[["segment_id", "code"]].values.tolist() == [["d1-t1", "fee_shock"]]


def test_spans_coded_on_redacted_text_are_exported_at_the_files_positions(tmp_path, sample_path):
    # load_study redacts by default: "[NAME:P01]" in P01's first turn shifts every later position
    study_dir = shutil.copytree(sample_path, tmp_path / "study")
    for f in (study_dir / "codings").glob("*.csv"):
        f.unlink()
    study = jl.load_study(study_dir)
    seg = study.segments[study.segments["speaker_role"] == "participant"].iloc[1]
    red = dict(zip(study.documents["doc_id"], study.documents["text"]))[seg["doc_id"]]
    raw = jl.load_study(study_dir, redact=False)
    raw_text = dict(zip(raw.documents["doc_id"], raw.documents["text"]))[seg["doc_id"]]
    a = int(seg["start"]) + 4
    b = a + 20
    assert red[a:b] != raw_text[a:b]  # the redaction moved this span's position
    code = next(c.name for c in study.codebook if c.codable)
    with CodingStore(tmp_path / "codings.sqlite") as store:
        store.apply_span(seg["doc_id"], a, b, code, "ana", segment_id=seg["segment_id"], text=red[a:b])
        out = store.export_csv(study_dir / "codings" / "ana.csv", "ana", study=study)
        by_path = store.export_csv(tmp_path / "by_path.csv", "ana", study=study_dir)
    assert out.read_text(encoding="utf-8") == by_path.read_text(encoding="utf-8")
    exported = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert "text" not in exported.columns  # it would be the unredacted words
    a_raw, b_raw = int(exported["start"].iloc[0]), int(exported["end"].iloc[0])
    assert raw_text[a_raw:b_raw] == red[a:b]  # no placeholder inside: the same words, at the files' positions
    again = jl.load_study(study_dir)  # redacted again: the span is back at the position the coder saw
    assert _rows(again.codings, ["doc_id", "start", "end", "text", "segment_id", "code"]) == [
        [seg["doc_id"], a, b, red[a:b], seg["segment_id"], code]]
    assert again.anchoring.empty  # the fingerprint matched the files' text: nothing moved or lost


def test_record_codings_keeps_spans(tmp_path):
    cod = pd.DataFrame({"segment_id": ["d1-t1", "d1-t1", "d1-t2"], "code": ["price", "price", "late"],
                        "coder": ["ana"] * 3, "origin": ["manual"] * 3,
                        "doc_id": ["d1", "d1", pd.NA], "start": pd.array([3, 20, pd.NA], dtype="Int64"),
                        "end": pd.array([10, 24, pd.NA], dtype="Int64"), "text": ["the fee", "cost", pd.NA]})
    with CodingStore(tmp_path / "c.sqlite") as store:
        assert store.record_codings(cod) == 3
        assert _rows(store.codings(), ["doc_id", "start", "end", "text", "segment_id", "code"]) == [
            ["d1", 3, 10, "the fee", "d1-t1", "price"], ["d1", 20, 24, "cost", "d1-t1", "price"],
            [None, None, None, None, "d1-t2", "late"]]
        with pytest.raises(JourneylabError, match=r"row 0: a span needs doc_id, whole-number start < end and its "
                                                  r"covered text"):
            store.record_codings(cod.assign(text="x"))
        assert len(store.span_decisions()) == 2
