"""The coding store: decisions, log, memos, reviewed marks, positions, errors."""
from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

import journeylab as jl
from journeylab.coding.store import CodingStore, normalise_coder, normalize_coder, read_codings
from journeylab.errors import JourneylabError


@pytest.fixture
def store(tmp_path):
    with CodingStore(tmp_path / "codings.sqlite") as s:
        yield s


def test_apply_remove_and_current_state(store):
    store.apply("s1", "a", "ana")
    store.apply("s1", "b", "ana", memo="why b")
    store.apply("s2", "a", "ana")
    store.remove("s1", "b", "ana")
    store.apply("s1", "a", "bob", origin="rule", rule="keyword:x", confidence=0.9)
    df = store.codings()
    assert list(df.columns) == ["segment_id", "code", "coder", "origin", "memo", "rule", "confidence", "decided_at"]
    assert list(zip(df.coder, df.segment_id, df.code, df.origin)) == [
        ("ana", "s1", "a", "manual"), ("ana", "s2", "a", "manual"), ("bob", "s1", "a", "rule")]
    assert df.loc[df.coder == "bob", "rule"].item() == "keyword:x"
    assert df.loc[df.coder == "bob", "confidence"].item() == 0.9
    assert list(store.codings("ana").code) == ["a", "a"]
    assert store.codes_of("s1", "ana") == {"a": "manual"}


def test_log_is_append_only(store):
    store.apply("s1", "a", "ana")
    store.remove("s1", "a", "ana")
    store.apply("s1", "a", "ana", memo="back again")
    log = store.decisions()
    assert list(log.value) == [True, False, True]
    assert list(log.decision_id) == [1, 2, 3]
    assert log.decided_at.is_monotonic_increasing
    assert list(log.columns) == ["decision_id", "segment_id", "code", "coder", "coder_key", "value", "origin", "memo",
                                 "rule", "confidence", "decided_at"]
    # the current state reads the latest decision
    assert store.codings().memo.item() == "back again"


def test_coder_names_normalised_but_kept(store):
    assert normalise_coder("  Ana   María ") == "ana maría"
    store.apply("s1", "a", "Ana  María")
    store.apply("s2", "a", " ana maría")
    store.remove("s1", "a", "ANA MARÍA")
    assert list(store.decisions().coder) == ["Ana  María", " ana maría", "ANA MARÍA"]  # as typed
    assert set(store.decisions().coder_key) == {"ana maría"}
    cod = store.codings()
    assert list(zip(cod.segment_id, cod.coder)) == [("s2", "Ana María")]  # first spelling, spaces collapsed
    assert store.coders()[["coder", "n_decisions", "n_codings"]].values.tolist() == [["Ana María", 3, 1]]


def test_memos_reviewed_and_positions(store):
    store.apply("s1", "a", "ana")
    store.set_memo("s1", "ana", "first thought")
    store.set_memo("s1", "ana", "second thought")
    store.set_memo("s2", "bob", "bob's note")
    assert store.memo("s1", "ana") == "second thought" and store.memo("s1", "bob") is None
    assert store.codings("ana").memo.item() == "second thought"  # the segment memo travels with codings
    assert list(store.memos().memo) == ["second thought", "bob's note"]
    assert len(pd.read_sql_query("SELECT * FROM memo_log", sqlite3.connect(store.path))) == 3
    store.set_memo("s1", "ana", "")
    assert store.memo("s1", "ana") is None
    store.set_reviewed("s3", "ana")
    assert store.done_segments("ana") == {"s1", "s3"}
    store.set_reviewed("s3", "ana", False)
    assert store.done_segments("ana") == {"s1"}
    assert store.position("ana") is None
    store.set_position("ana", "s7")
    store.set_position("Ana", "s9")
    assert store.position(" ana") == "s9"


def test_reopen_resumes(tmp_path):
    p = tmp_path / "c.sqlite"
    with CodingStore(p) as s:
        s.apply("s1", "a", "ana")
        s.set_position("ana", "s1")
    with CodingStore(p) as s:
        assert s.position("ana") == "s1" and len(s.codings()) == 1 and s.schema_version == jl.coding.store.SCHEMA_VERSION == 3
    pd.testing.assert_frame_equal(read_codings(p), CodingStore(p).codings())
    assert jl.read_codings is read_codings


def test_pragmas(store):
    c = store._conn
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert c.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_record_codings_and_export_csv(store, tmp_path):
    auto = pd.DataFrame({"segment_id": ["s1", "s2"], "code": ["a", "b"], "coder": "rules", "origin": "rule",
                         "memo": [None, None], "rule": ["keyword:x", "phrase:y z"]})
    assert store.record_codings(auto) == 2
    store.apply("s1", "c", "ana", memo="m")
    out = store.export_csv(tmp_path / "codings" / "rules.csv", "rules")
    back = pd.read_csv(out)
    assert list(back.columns) == ["segment_id", "code", "coder", "origin", "memo", "rule", "confidence", "decided_at"]
    assert back[["segment_id", "code", "coder", "origin", "rule"]].values.tolist() == [
        ["s1", "a", "rules", "rule", "keyword:x"], ["s2", "b", "rules", "rule", "phrase:y z"]]
    with pytest.raises(JourneylabError, match="no coder 'zed'"):
        store.export_csv(tmp_path / "x.csv", "zed")
    with pytest.raises(JourneylabError, match="row 0: origin must be one of"):
        store.record_codings(auto.assign(origin="auto"))


def test_errors(store, tmp_path):
    with pytest.raises(JourneylabError, match="`origin` must be one of manual, rule, model; got 'human'"):
        store.apply("s1", "a", "ana", origin="human")
    with pytest.raises(JourneylabError, match="`coder` must be non-empty text"):
        store.apply("s1", "a", "  ")
    with pytest.raises(JourneylabError, match="does not exist"):
        read_codings(tmp_path / "missing.sqlite")
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(JourneylabError, match="without journeylab's schema_version table"):
        CodingStore(other)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(JourneylabError, match="not a journeylab coding store"):
        CodingStore(junk)
    newer = tmp_path / "newer.sqlite"
    CodingStore(newer).close()
    con = sqlite3.connect(newer)
    con.execute("UPDATE schema_version SET version = 99")
    con.commit()
    con.close()
    with pytest.raises(JourneylabError, match="schema version 99 is newer"):
        CodingStore(newer)



# Several processes, SIGKILL, busy locks and schema migrations: tests/test_store_concurrency.py


def test_one_normalize_coder_for_the_store_and_reliability(store):
    # issue 13: the store folded case and spaces but not Unicode width, reliability also applied NFKC,
    # so a full-width 'Ａｍａｒａ' was one coder in merge_codings and another in the store.
    from journeylab.coding import reliability

    assert reliability.normalize_coder is normalize_coder
    assert normalize_coder("Ａｍａｒａ") == normalize_coder(" amara ") == "amara"
    store.apply("s1", "a", "Ａｍａｒａ")
    store.apply("s2", "a", "amara")
    assert set(store.decisions().coder_key) == {"amara"}
    assert len(store.coders()) == 1
