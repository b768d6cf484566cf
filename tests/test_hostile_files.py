"""Hostile files, second round (issue 16): paths confined to the project, decompression and
nesting bounded, every damaged file a JourneylabError naming the file and the place; the coding
store created atomically and refused (never overwritten) when damaged; write_csv neutralising
every text-like cell.

The bombs run in a subprocess under ``RLIMIT_AS`` (about 1.5 GB): without the limits they would
take several GB, so a MemoryError (or a kill) instead of the JourneylabError fails the test.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

import journeylab as jl
from journeylab.errors import JourneylabError

HOSTILE = "=HYPERLINK(\"http://evil.example\",\"x\")"


def _cells(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


# ============================================================================ write_csv


def test_write_csv_neutralises_categorical_columns(tmp_path):
    frame = pd.DataFrame({"c": pd.Categorical([HOSTILE, "fine", HOSTILE]), "n": [-1, 2, 3]})
    rows = _cells(jl.write_csv(frame, tmp_path / "c.csv"))
    assert rows[1] == ["'" + HOSTILE, "-1"] and rows[2] == ["fine", "2"]
    assert isinstance(frame["c"].dtype, pd.CategoricalDtype) and frame["c"][0] == HOSTILE  # input untouched


def test_write_csv_neutralises_a_string_dtype_column_and_keeps_missing_values_blank(tmp_path):
    frame = pd.DataFrame({"s": pd.array(["@SUM(A1)", None, "+1"], dtype="string")})
    assert _cells(jl.write_csv(frame, tmp_path / "s.csv"))[1:] == [["'@SUM(A1)"], [""], ["'+1"]]


def test_write_csv_neutralises_an_unnamed_index(tmp_path):
    frame = pd.DataFrame({"n": [1, 2]}, index=[HOSTILE, "ok"])
    rows = _cells(jl.write_csv(frame, tmp_path / "i.csv", index=True))
    assert rows[1] == ["'" + HOSTILE, "1"] and rows[2] == ["ok", "2"]


def test_write_csv_neutralises_a_named_categorical_index_and_its_name(tmp_path):
    frame = pd.DataFrame({"n": [1, 2]}, index=pd.CategoricalIndex(["-cmd|calc", "ok"], name="=name"))
    rows = _cells(jl.write_csv(frame, tmp_path / "i.csv", index=True))
    assert rows[0] == ["'=name", "n"] and rows[1] == ["'-cmd|calc", "1"]


def test_write_csv_neutralises_every_level_of_a_multiindex_and_leaves_numeric_levels(tmp_path):
    index = pd.MultiIndex.from_arrays([["=a", "b"], [-1, -2], pd.Categorical(["@c", "d"])], names=["+x", "y", None])
    frame = pd.DataFrame({"v": ["-v", "w"]}, index=index)
    rows = _cells(jl.write_csv(frame, tmp_path / "m.csv", index=True))
    assert rows[0] == ["'+x", "y", "", "v"]
    assert rows[1] == ["'=a", "-1", "'@c", "'-v"] and rows[2] == ["b", "-2", "d", "w"]


def test_write_csv_neutralises_multiindex_column_names(tmp_path):
    frame = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("=top", "a"), ("=top", "@b")]))
    rows = _cells(jl.write_csv(frame, tmp_path / "mc.csv"))
    assert rows[0] == ["'=top", "'=top"] and rows[1] == ["a", "'@b"]


def test_write_csv_quotes_everything_when_an_index_label_holds_a_carriage_return(tmp_path):
    frame = pd.DataFrame({"n": [1]}, index=["one\rtwo"])
    path = jl.write_csv(frame, tmp_path / "cr.csv", index=True)
    assert list(csv.reader(open(path, newline="")))[1] == ["one\rtwo", "1"]


# ============================================================================ the coding store

_KILL_DURING_CREATE = r"""
import os, random, signal, sys, time
from pathlib import Path
from journeylab.coding.store import CodingStore

folder, kills, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
t0 = time.perf_counter()
CodingStore(folder / "warm-up.sqlite").close()          # import everything before forking
one = time.perf_counter() - t0
for k in range(kills):
    pid = os.fork()
    if pid == 0:                                         # the victim: create stores until killed
        i = 0
        while True:
            CodingStore(folder / f"k{k:02d}-{i:03d}.sqlite").close()
            i += 1
    time.sleep(rng.uniform(0, 0.15))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print("done", flush=True)
"""


def test_a_kill_at_any_moment_of_creating_a_store_leaves_no_file_or_a_complete_store(tmp_path):
    import subprocess
    import sys

    kills = 40
    proc = subprocess.run([sys.executable, "-c", _KILL_DURING_CREATE, str(tmp_path), str(kills), "16"],
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "done", proc.stderr
    stores = sorted(tmp_path.glob("k*.sqlite"))
    killed_during = {p.name.split("-")[0] for p in stores}
    assert len(killed_during) >= kills // 4  # kills land during the first creation and during later ones
    for path in stores:
        with jl.CodingStore(path) as store:  # every store left behind opens and is complete
            assert store.schema_version == jl.coding.store.SCHEMA_VERSION
            assert store.codings().empty
    # the temporary files of killed creations are removed by the next creation in the folder
    jl.CodingStore(tmp_path / "after.sqlite").close()
    assert not list(tmp_path.glob(".*.creating*"))


def _store_with_decisions(path, n=400):
    from journeylab.coding.store import checkpoint_store

    with jl.CodingStore(path) as store:
        store.record_codings(pd.DataFrame({"segment_id": [f"s{i:04d}" for i in range(n)], "code": "c",
                                           "coder": "ana", "memo": ["a fairly long memo " * 5] * n}))
    return checkpoint_store(path)  # everything in the main file, so damaging it damages the data


def test_a_zero_byte_store_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "codings.sqlite"
    path.touch()
    with pytest.raises(JourneylabError, match=r"codings.sqlite: the file is empty \(0 bytes\)"):
        jl.CodingStore(path)
    with pytest.raises(JourneylabError, match="empty"):
        jl.read_codings(path)
    assert path.stat().st_size == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["codings.sqlite"]


def test_a_damaged_page_is_refused_and_the_file_never_written(tmp_path):
    path = _store_with_decisions(tmp_path / "codings.sqlite")
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    data[5 * 4096: 5 * 4096 + 200] = b"\xff" * 200  # a page in the middle of the decision log
    path.write_bytes(bytes(data))
    for call in (lambda: jl.CodingStore(path), lambda: jl.read_codings(path)):
        with pytest.raises(JourneylabError, match="codings.sqlite: the coding store is damaged"):
            call()
    assert path.read_bytes() == bytes(data)


@pytest.mark.parametrize("sql, found", [
    ("UPDATE schema_version SET version = 'two'", "'two'"),
    ("DELETE FROM schema_version", "no row"),
    ("INSERT INTO schema_version VALUES (2)", "several rows"),
    ("UPDATE schema_version SET version = 2.5", "'2.5'"),
    ("UPDATE schema_version SET version = 0", "'0'"),
])
def test_a_corrupted_schema_version_is_a_clear_error(tmp_path, sql, found):
    import sqlite3

    path = _store_with_decisions(tmp_path / "codings.sqlite", n=5)
    con = sqlite3.connect(path)
    con.execute(sql)
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(JourneylabError, match=f"schema_version table is damaged: .* found {found}"):
        jl.CodingStore(path)
    assert path.read_bytes() == before


_READ_ONLY = r"""
import os, stat, sys
from pathlib import Path
import journeylab as jl
from journeylab.errors import JourneylabError

folder = Path(sys.argv[1])
jl.read_codings(folder / "file" / "codings #1?.sqlite")     # warm up every import before dropping rights
if os.geteuid() == 0:                                      # root ignores permissions: become nobody
    os.setgid(65534)
    os.setuid(65534)
out = []
for name in ("file", "folder"):
    path = folder / name / "codings #1?.sqlite"
    with jl.CodingStore(path) as store:
        out.append(f"{name}: {len(store.codings())} codings, read_only_={store.read_only_}")
        try:
            store.apply("s9", "c", "ana")
        except JourneylabError as exc:
            out.append(f"{name}: {exc}")
    out.append(f"{name}: read_codings {len(jl.read_codings(path))}")
print("\n".join(out))
"""


def test_a_store_in_a_read_only_file_or_folder_can_be_read(tmp_path):
    import os
    import stat
    import subprocess
    import sys
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="jl-ro-"))  # under /tmp: reachable by `nobody` when tests run as root
    try:
        os.chmod(base, 0o755)
        for name in ("file", "folder"):
            (base / name).mkdir()
            os.chmod(base / name, 0o755)
            path = base / name / "codings #1?.sqlite"  # characters a SQLite URI must escape
            _store_with_decisions(path, n=3)
            path.chmod(0o444)
        (base / "folder" / "codings #1?.sqlite").chmod(0o644)
        os.chmod(base / "folder", 0o555)
        proc = subprocess.run([sys.executable, "-c", _READ_ONLY, str(base)], capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        for name in ("file", "folder"):
            assert f"{name}: 3 codings, read_only_=True" in lines
            assert f"{name}: read_codings 3" in lines
            assert any(line.startswith(f"{name}: ") and "read-only" in line and "nothing was written" in line
                       for line in lines)
        assert sorted(p.name for p in (base / "folder").iterdir()) == ["codings #1?.sqlite"]
        assert not list(base.glob("*/codings #1")) and not list(base.glob("codings*"))  # no un-escaped URI file
    finally:
        os.chmod(base / "folder", 0o755)
        import shutil

        shutil.rmtree(base)


_KILLED_WRITER = r"""
import os, signal, sys
from journeylab.coding.store import CodingStore
store = CodingStore(sys.argv[1])
for i in range(50):
    store.apply(f"s{i}", "c", "ana")
os.kill(os.getpid(), signal.SIGKILL)                      # a kernel that ends without closing its store
"""


def test_run_outputs_are_checkpointed_into_one_self_contained_file(tmp_path):
    import shutil
    import subprocess
    import sys

    from journeylab.run.pipeline import checkpoint_stores

    out = tmp_path / "out"
    out.mkdir()
    subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(out / "codings.sqlite")], timeout=60)
    assert (out / "codings.sqlite-wal").is_file()  # the decisions are in the log, not in the file
    (out / "notebooks").mkdir()
    (out / "other.sqlite").write_bytes(b"")  # not a store: left alone
    assert checkpoint_stores(out) == [out / "codings.sqlite"]
    assert sorted(p.name for p in out.iterdir()) == ["codings.sqlite", "notebooks", "other.sqlite"]
    copy = tmp_path / "sent" / "codings.sqlite"  # the file alone, as a user would e-mail it
    copy.parent.mkdir()
    shutil.copy(out / "codings.sqlite", copy)
    assert len(jl.read_codings(copy)) == 50
