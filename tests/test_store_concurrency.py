"""The coding store under several processes, SIGKILL and old files (issue 10, part 3).

The worker processes run this very file as a script (``python test_store_concurrency.py writer
...``) with the same interpreter, so the code they run is the code below.

- two writers start together (a barrier: each opens the store, says "ready" and waits for "go")
  and make 2,000 apply/remove/memo decisions each, some under a shared coder name, so the same
  (segment, code, coder) keys are decided by both; every decision must be in the log exactly
  once and the current codings must equal the replay of the log;
- a reader meanwhile reads codings, log, memos and memo log in one snapshot, again and again,
  and checks each against the replay of the log it saw;
- a writer is killed with SIGKILL at a random moment; every decision it acknowledged (reported
  through its stdout pipe only after the store call returned) must be in the reopened store;
- the committed version-1 store (``tests/data/stores/codings_v1.sqlite``, made by
  ``make_v1_store.py`` with raw SQL) opens, is migrated and keeps everything.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import journeylab as jl
from journeylab.coding.store import SCHEMA_VERSION, CodingStore, normalise_coder
from journeylab.errors import JourneylabError, StoreBusyError

HERE = Path(__file__).resolve()
V1_STORE = HERE.parent / "data" / "stores" / "codings_v1.sqlite"
N_PER_WRITER = 2000


# -- what the worker processes do ------------------------------------------------------------------------
def _ops(name: str, n: int, seed: str):
    """The writer's decisions, reproducible from (name, seed): (i, kind, segment, code, coder, tag)."""
    rng = random.Random(f"{seed}:{name}")
    for i in range(n):
        kind = rng.choices(["apply", "remove", "memo"], weights=[5, 3, 2])[0]
        coder = rng.choice([name, "Team", " team "])  # the shared coder, typed two ways
        yield i, kind, f"s{rng.randrange(40):03d}", f"c{rng.randrange(6)}", coder, f"{name}:{i}"


def _writer(path: str, name: str, n: str, seed: str) -> None:
    store = CodingStore(path, timeout=60)
    print("ready", flush=True)
    sys.stdin.readline()  # the barrier: wait for "go"
    out = sys.stdout
    longest = 0.0
    for i, kind, seg, code, coder, tag in _ops(name, int(n), seed):
        t0 = time.perf_counter()
        if kind == "memo":
            store.set_memo(seg, coder, tag)
            did = 0
        else:
            did = store.decide(seg, code, coder, kind == "apply", memo=tag)
        longest = max(longest, time.perf_counter() - t0)
        out.write(f"{i} {did}\n")  # the acknowledgement, written only after the call returned
        out.flush()
    print(f"done {longest:.3f}", flush=True)


def _problems(codings: pd.DataFrame, log: pd.DataFrame, memos: pd.DataFrame, memo_log: pd.DataFrame) -> list[str]:
    """Ways in which one read state is inconsistent (empty list: consistent)."""
    out = []
    n = len(log)
    if list(log.decision_id) != list(range(1, n + 1)):
        out.append(f"log ids are not the prefix 1..{n}")
    last = log.groupby(["segment_id", "code", "coder_key"], sort=False).value.last()
    replay = set(last[last].index)
    got = set(zip(codings.segment_id, codings.code, codings.coder.map(normalise_coder)))
    if got != replay:
        out.append(f"codings != replay of the log: {len(got - replay)} extra, {len(replay - got)} missing")
    mlast = memo_log.groupby(["segment_id", "coder_key"], sort=False).memo.last().dropna()
    mreplay = {(s, k, m) for (s, k), m in mlast.items()}
    mgot = set(zip(memos.segment_id, memos.coder.map(normalise_coder), memos.memo))
    if mgot != mreplay:
        out.append(f"memos != replay of the memo log: {len(mgot - mreplay)} extra, {len(mreplay - mgot)} missing")
    # each coding carries the current segment memo, else the memo of its deciding decision
    deciding = log.groupby(["segment_id", "code", "coder_key"], sort=False).memo.last()
    seg_memo = {(s, k): m for s, k, m in mreplay}
    for row in codings.itertuples(index=False):
        key = normalise_coder(row.coder)
        want = seg_memo.get((row.segment_id, key), deciding.get((row.segment_id, row.code, key)))
        if row.memo != want:
            out.append(f"coding {row.segment_id}/{row.code}/{key} shows memo {row.memo!r}, expected {want!r}")
            break
    return out


def _read_all(store: CodingStore):
    with store.snapshot():
        codings, log, memos = store.codings(), store.decisions(), store.memos()
        memo_log = pd.read_sql_query("SELECT id, segment_id, coder_key, memo FROM memo_log ORDER BY id", store._conn)
    return codings, log, memos, memo_log


def _reader(path: str, n_decisions: str, n_memos: str) -> None:
    store = CodingStore(path, timeout=60)
    print("ready", flush=True)
    sys.stdin.readline()
    n_decisions, n_memos = int(n_decisions), int(n_memos)
    deadline = time.monotonic() + 120
    seen, last_n, last_m, reads, mid_write, problems = [], 0, 0, 0, 0, []
    while time.monotonic() < deadline:
        codings, log, memos, memo_log = _read_all(store)
        reads += 1
        n, m = len(log), len(memo_log)
        mid_write += 0 < n < n_decisions
        for p in _problems(codings, log, memos, memo_log):
            problems.append(f"read {reads} (log {n}, memo log {m}): {p}")
        if n < last_n or m < last_m:
            problems.append(f"read {reads}: counts went down: log {last_n} -> {n}, memo log {last_m} -> {m}")
        last_n, last_m = n, m
        seen.append(n)
        if problems or (n >= n_decisions and m >= n_memos):
            break
        time.sleep(0.02)  # leave the two cores mostly to the writers
    print(json.dumps({"reads": reads, "mid_write": mid_write, "last": [last_n, last_m], "problems": problems[:10],
                      "distinct_counts": len(set(seen))}), flush=True)


# -- helpers of the tests ----------------------------------------------------------------------------------
def _spawn(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(HERE), *map(str, args)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)


def _barrier(procs) -> None:
    for p in procs:
        line = p.stdout.readline()
        assert line == "ready\n", f"worker did not start: {line!r} {p.stderr.read() if p.poll() is not None else ''}"
    for p in procs:  # all are open and waiting: release them together
        p.stdin.write("go\n")
        p.stdin.flush()


def _replay_state(path) -> None:
    """The reopened store is consistent and passes SQLite's integrity check."""
    with CodingStore(path) as store:
        assert _problems(*_read_all(store)) == []
        state = pd.read_sql_query("SELECT segment_id, code, coder_key, decision_id FROM state", store._conn)
        latest = pd.read_sql_query("SELECT segment_id, code, coder_key, MAX(id) AS decision_id FROM decisions"
                                   " GROUP BY segment_id, code, coder_key", store._conn)
    pd.testing.assert_frame_equal(state.sort_values(list(state.columns)).reset_index(drop=True),
                                  latest.sort_values(list(latest.columns)).reset_index(drop=True))
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    con.close()


# -- 1 and 2: two writers and a reader ------------------------------------------------------------------
def test_two_writers_and_a_reader(tmp_path):
    path = tmp_path / "codings.sqlite"
    CodingStore(path).close()
    seed = str(random.randrange(10**9))
    names = ("ana", "bob")
    plan = {name: list(_ops(name, N_PER_WRITER, seed)) for name in names}
    n_memos = sum(op[1] == "memo" for ops in plan.values() for op in ops)
    n_decisions = 2 * N_PER_WRITER - n_memos
    t0 = time.perf_counter()
    writers = [_spawn("writer", path, name, N_PER_WRITER, seed) for name in names]
    reader = _spawn("reader", path, n_decisions, n_memos)
    _barrier(writers + [reader])
    acks, longest = {}, {}
    for name, p in zip(names, writers):
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, f"writer {name} failed (seed {seed}):\n{err}"
        lines = out.splitlines()
        assert lines[-1].startswith("done ")
        longest[name] = float(lines[-1].split()[1])
        acks[name] = [tuple(map(int, line.split())) for line in lines[:-1]]
        assert [i for i, _ in acks[name]] == list(range(N_PER_WRITER))
    rout, rerr = reader.communicate(timeout=180)
    assert reader.returncode == 0, rerr
    summary = json.loads(rout.splitlines()[-1])
    elapsed = time.perf_counter() - t0

    # 2: every read was consistent, counts never went down, and reads happened while writing
    assert summary["problems"] == [], f"seed {seed}: {summary}"
    assert summary["last"] == [n_decisions, n_memos]
    assert summary["mid_write"] >= 3 and summary["distinct_counts"] >= 3, summary

    # 1: every decision exactly once, with the id its writer was given and what it asked for
    with CodingStore(path) as store:
        log = store.decisions().set_index("memo")
        memo_log = pd.read_sql_query("SELECT * FROM memo_log ORDER BY id", store._conn)
    assert len(log) == n_decisions and log.index.is_unique
    assert len(memo_log) == n_memos and memo_log.memo.is_unique
    for name in names:
        for (i, kind, seg, code, coder, tag), (ack_i, did) in zip(plan[name], acks[name]):
            if kind == "memo":
                assert tag in set(memo_log.memo)
                continue
            row = log.loc[tag]
            assert (row.decision_id, row.segment_id, row.code, row.coder, row.value) == (
                did, seg, code, coder, kind == "apply"), (seed, tag)
    # the writers really ran at the same time: their decisions alternate in the log, and neither
    # waited long for the other (with SQLite's own busy handler a writer waited up to ~5 s here
    # and the log had 1-15 switches; the store polls for the lock, giving 100-300)
    who = log.sort_values("decision_id").index.str.split(":").str[0]
    switches = int((who[1:] != who[:-1]).sum())
    ids = log.groupby(log.index.str.split(":").str[0]).decision_id.agg(["min", "max"])
    overlap = ids["max"].min() - ids["min"].max()
    assert switches >= 30 and overlap > n_decisions / 2, (seed, switches, ids)
    assert max(longest.values()) < 10, longest
    # the shared coder was decided by both processes, and the current state is the replay
    assert set(log[log.coder_key == "team"].index.str.split(":").str[0]) == {"ana", "bob"}
    _replay_state(path)
    print(f"\n{n_decisions} decisions + {n_memos} memos by 2 writers, {summary['reads']} consistent reads, "
          f"{switches} writer switches, longest call {max(longest.values()):.2f} s, {elapsed:.1f} s")


# -- 3: SIGKILL mid-write ------------------------------------------------------------------------------------
def test_sigkill_at_a_random_moment_loses_nothing_acknowledged(tmp_path):
    path = tmp_path / "codings.sqlite"
    seed = random.randrange(10**9)
    rng = random.Random(seed)
    acked: dict[str, int] = {}
    in_flight: set[str] = set()
    for round_ in range(2):  # the second writer continues on the store the first was killed on
        name = f"w{round_}"
        proc = _spawn("writer", path, name, 1_000_000, seed)
        _barrier([proc])
        lines: list[str] = []
        reading = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reading.start()
        started = time.monotonic()
        while not lines:  # wait until it is writing
            assert proc.poll() is None and time.monotonic() - started < 60, proc.stderr.read()
            time.sleep(0.005)
        time.sleep(rng.uniform(0.1, 0.6))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        reading.join(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        ops = {op[0]: op for op in _ops(name, len(lines) + 1, str(seed))}
        for line in lines:  # everything that reached the pipe was acknowledged
            i, did = map(int, line.split())
            _, kind, seg, code, coder, tag = ops[i]
            acked[tag] = did
        with CodingStore(path) as store:
            log = store.decisions().set_index("memo")
            memo_tags = set(pd.read_sql_query("SELECT memo FROM memo_log", store._conn).memo)
        for tag, did in acked.items():
            if did:
                assert tag in log.index and log.loc[tag, "decision_id"] == did, f"seed {seed}: lost {tag}"
            else:
                assert tag in memo_tags, f"seed {seed}: lost memo {tag}"
        # besides them, at most the one decision in flight when killed was committed
        in_flight.add(f"{name}:{len(lines)}")
        assert (set(log.index) | memo_tags) - set(acked) <= in_flight, f"seed {seed}"
        _replay_state(path)
    assert len(acked) >= 10, f"seed {seed}: only {len(acked)} decisions acknowledged before the kills"


# -- busy handling (in-process, fast) --------------------------------------------------------------------
def test_waits_for_another_writer_then_times_out_clearly(tmp_path):
    path = tmp_path / "codings.sqlite"
    store = CodingStore(path, timeout=0.5)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock ...
    t0 = time.perf_counter()
    with pytest.raises(StoreBusyError, match=r"codings\.sqlite: could not start a write: .* more than 0\.5 s"):
        store.apply("s1", "a", "ana")
    assert 0.4 < time.perf_counter() - t0 < 5
    assert isinstance(StoreBusyError("x"), JourneylabError) and jl.StoreBusyError is StoreBusyError
    # ... readers are not blocked by it
    assert len(store.codings()) == 0
    other.execute("ROLLBACK")
    # a lock held briefly is waited for, not reported
    store = CodingStore(path, timeout=10)
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
    t0 = time.perf_counter()
    assert store.apply("s1", "a", "ana") == 1
    assert time.perf_counter() - t0 > 0.2
    assert list(store.decisions().decision_id) == [1]  # the timed-out call wrote nothing


def test_immediate_busy_is_retried_then_reported(tmp_path):
    store = CodingStore(tmp_path / "c.sqlite", timeout=0.2)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise sqlite3.OperationalError("database is locked")
        return "ok"

    assert store._retry(flaky, "test") == "ok" and len(calls) == 3

    def always():
        raise sqlite3.OperationalError("database is locked")

    t0 = time.perf_counter()
    with pytest.raises(StoreBusyError, match="could not test"):
        store._retry(always, "test")
    assert 0.15 < time.perf_counter() - t0 < 2

    def other_error():
        raise sqlite3.OperationalError("no such table: x")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        store._retry(other_error, "test")


def test_snapshot(tmp_path):
    path = tmp_path / "c.sqlite"
    store, other = CodingStore(path), CodingStore(path)
    store.apply("s1", "a", "ana")
    with store.snapshot():
        before = store.codings()
        other.apply("s2", "a", "ana")  # committed by another connection meanwhile
        assert store.codings().equals(before) and len(store.decisions()) == 1
        with pytest.raises(JourneylabError, match="cannot write inside CodingStore.snapshot"):
            store.apply("s3", "a", "ana")
        with pytest.raises(JourneylabError, match="cannot be nested"):
            with store.snapshot():
                pass
    assert len(store.codings()) == 2
    store.apply("s3", "a", "ana")  # writable again after the block
    assert len(store.decisions()) == 3


# -- 4: old stores ------------------------------------------------------------------------------------------------
def _schema(path) -> set:
    con = sqlite3.connect(path)
    rows = set(con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
    con.close()
    return rows


def test_old_store_opens_and_migrates(tmp_path):
    path = tmp_path / "codings.sqlite"
    shutil.copy(V1_STORE, path)
    assert sqlite3.connect(path).execute("SELECT version FROM schema_version").fetchone() == (1,)
    assert "reviewed_log" not in {r[1] for r in _schema(path)}
    with CodingStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 3
        backup = store.backup_path_
        cod = store.codings()
        log = store.decisions()
        memos = store.memos()
        # everything the old version stored is there (see make_v1_store.py)
        assert list(zip(cod.coder, cod.segment_id, cod.code)) == [
            ("Ana María", "P01-t002", "forced_account"), ("Ana María", "P01-t004", "shipping_form_tedious"),
            ("Ana María", "P02-t006", "delivery_late"), ("bob", "P02-t006", "delivery_late"),
            ("bob", "P02-t008", "price_surprise"), ("bob", "P03-t010", "refund_slow")]
        assert cod.loc[cod.coder == "bob", "rule"].tolist()[0] == "keyword:late"
        assert cod.confidence.max() == 0.75
        assert list(log.decision_id) == list(range(1, 9)) and log.value.tolist() == [1, 1, 1, 1, 0, 1, 1, 1]
        assert log.coder.tolist()[:5] == ["Ana María", "Ana María", "ana maría", "bob", "ANA MARÍA"]
        assert list(zip(memos.segment_id, memos.coder, memos.memo)) == [
            ("P01-t002", "Ana María", "re-read: about the account wall, not the form"),
            ("P03-t010", "bob", "refund took three weeks")]
        assert store.done_segments("ana maría") == {"P01-t002", "P01-t004", "P02-t006", "P04-t001"}
        assert "P04-t003" not in store.done_segments("bob")  # the withdrawn mark
        assert store.position("ANA MARÍA") == "P02-t006" and store.position("bob") == "P03-t010"
        assert store.coders().n_decisions.tolist() == [5, 3]
        memo_log = pd.read_sql_query("SELECT * FROM memo_log", store._conn)
        reviewed_log = pd.read_sql_query("SELECT segment_id, coder, value FROM reviewed_log", store._conn)
        meta = dict(store._conn.execute("SELECT key, value FROM meta"))
        # version 2 works on it: a new mark is logged after the seeded history
        store.set_reviewed("P04-t003", "bob")
        assert store.apply("P05-t001", "new_code", "carla") == 9
    assert len(memo_log) == 4 and memo_log.memo.isna().sum() == 1
    assert reviewed_log.values.tolist() == [["P04-t001", "Ana María", 1], ["P04-t003", "bob", 0]]
    assert meta["created_by"] == "journeylab 0.1.0" and "backup codings.sqlite.v1.bak" in meta["migrated_1_to_2"]
    # the backup is the untouched version-1 store
    assert backup == tmp_path / "codings.sqlite.v1.bak"
    assert _schema(backup) == _schema(V1_STORE)
    assert sqlite3.connect(backup).execute("SELECT COUNT(*), MAX(version) FROM decisions, schema_version"
                                           ).fetchone() == (8, 1)
    # a migrated store has exactly the schema of a new one
    CodingStore(tmp_path / "new.sqlite").close()
    assert _schema(path) == _schema(tmp_path / "new.sqlite")
    # opening again: nothing to migrate, no second backup
    with CodingStore(path) as store:
        assert store.backup_path_ is None and len(store.decisions()) == 9
    assert sorted(p.name for p in tmp_path.glob("*.bak")) == ["codings.sqlite.v1.bak"]
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_old_store_opened_by_two_at_once_is_migrated_once(tmp_path):
    path = tmp_path / "codings.sqlite"
    shutil.copy(V1_STORE, path)
    stores, errors = [], []
    go = threading.Barrier(2)

    def open_it():
        go.wait()
        try:
            stores.append(CodingStore(path))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(s.backup_path_ is None for s in stores) == [False, True]  # one migrated, one found it done
    assert [s.schema_version for s in stores] == [3, 3]
    assert len(list(tmp_path.glob("*.bak"))) == 1
    assert len(pd.read_sql_query("SELECT * FROM reviewed_log", stores[0]._conn)) == 2  # seeded once


def test_newer_store_is_refused(tmp_path):
    path = tmp_path / "future.sqlite"
    CodingStore(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE schema_version SET version = 4")
    con.commit()
    con.close()
    with pytest.raises(JourneylabError, match=r"future\.sqlite: store schema version 4 is newer than this journeylab "
                                              r"\(.*\) supports \(schema version 3\); upgrade journeylab"):
        CodingStore(path)
    assert not list(tmp_path.glob("*.bak"))


def test_failed_migration_leaves_the_old_store(tmp_path, monkeypatch):
    path = tmp_path / "codings.sqlite"
    shutil.copy(V1_STORE, path)

    def broken(c):
        c.execute("CREATE TABLE reviewed_log (x)")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setitem(jl.coding.store._MIGRATIONS, 1, broken)
    with pytest.raises(JourneylabError, match=r"codings\.sqlite: migrating the store from schema version 1 to 2 "
                                              r"failed \(disk I/O error\); the file is unchanged, a copy is at "):
        CodingStore(path)
    assert _schema(path) == _schema(V1_STORE)  # rolled back, partial change included
    assert sqlite3.connect(path).execute("SELECT version FROM schema_version").fetchone() == (1,)


if __name__ == "__main__":
    {"writer": _writer, "reader": _reader}[sys.argv[1]](*sys.argv[2:])
