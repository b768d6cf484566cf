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
    rows = _cells(jl.write_csv(frame, path=tmp_path / "c.csv"))
    assert rows[1] == ["'" + HOSTILE, "-1"] and rows[2] == ["fine", "2"]
    assert isinstance(frame["c"].dtype, pd.CategoricalDtype) and frame["c"][0] == HOSTILE  # input untouched


def test_write_csv_neutralises_a_string_dtype_column_and_keeps_missing_values_blank(tmp_path):
    frame = pd.DataFrame({"s": pd.array(["@SUM(A1)", None, "+1"], dtype="string")})
    assert _cells(jl.write_csv(frame, path=tmp_path / "s.csv"))[1:] == [["'@SUM(A1)"], [""], ["'+1"]]


def test_write_csv_neutralises_an_unnamed_index(tmp_path):
    frame = pd.DataFrame({"n": [1, 2]}, index=[HOSTILE, "ok"])
    rows = _cells(jl.write_csv(frame, path=tmp_path / "i.csv", index=True))
    assert rows[1] == ["'" + HOSTILE, "1"] and rows[2] == ["ok", "2"]


def test_write_csv_neutralises_a_named_categorical_index_and_its_name(tmp_path):
    frame = pd.DataFrame({"n": [1, 2]}, index=pd.CategoricalIndex(["-cmd|calc", "ok"], name="=name"))
    rows = _cells(jl.write_csv(frame, path=tmp_path / "i.csv", index=True))
    assert rows[0] == ["'=name", "n"] and rows[1] == ["'-cmd|calc", "1"]


def test_write_csv_neutralises_every_level_of_a_multiindex_and_leaves_numeric_levels(tmp_path):
    index = pd.MultiIndex.from_arrays([["=a", "b"], [-1, -2], pd.Categorical(["@c", "d"])], names=["+x", "y", None])
    frame = pd.DataFrame({"v": ["-v", "w"]}, index=index)
    rows = _cells(jl.write_csv(frame, path=tmp_path / "m.csv", index=True))
    assert rows[0] == ["'+x", "y", "", "v"]
    assert rows[1] == ["'=a", "-1", "'@c", "'-v"] and rows[2] == ["b", "-2", "d", "w"]


def test_write_csv_neutralises_multiindex_column_names(tmp_path):
    frame = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("=top", "a"), ("=top", "@b")]))
    rows = _cells(jl.write_csv(frame, path=tmp_path / "mc.csv"))
    assert rows[0] == ["'=top", "'=top"] and rows[1] == ["a", "'@b"]


def test_write_csv_quotes_everything_when_an_index_label_holds_a_carriage_return(tmp_path):
    frame = pd.DataFrame({"n": [1]}, index=["one\rtwo"])
    path = jl.write_csv(frame, path=tmp_path / "cr.csv", index=True)
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


def test_a_damaged_page_of_a_store_too_large_to_check_on_opening_is_reported_when_met(tmp_path, monkeypatch):
    from journeylab.coding import store as store_module

    path = _store_with_decisions(tmp_path / "codings.sqlite")
    data = bytearray(path.read_bytes())
    data[5 * 4096: 5 * 4096 + 200] = b"\xff" * 200
    path.write_bytes(bytes(data))
    monkeypatch.setattr(store_module, "QUICK_CHECK_MAX_BYTES", 0)  # as for a store of more than 8 MB
    with jl.CodingStore(path) as store:
        with pytest.raises(JourneylabError, match="codings.sqlite: the coding store is damaged .*malformed"):
            store.codings()  # its query meets the damaged page


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
try:
    jl.CodingStore(folder / "folder" / "new.sqlite")
except JourneylabError as exc:
    out.append(f"new: {exc}")
print("\n".join(out))
"""


def test_a_store_in_a_read_only_file_or_folder_can_be_read(tmp_path):
    import os
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
        assert any(line.startswith("new: ") and "cannot create a coding store there: the folder" in line
                   and "is read-only" in line for line in lines)
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


# ============================================================================ files: helpers

import gzip
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
import zlib

from test_study import make_study

from journeylab.utils.limits import LimitError

TAGUETTE = Path(__file__).parent / "data" / "taguette" / "project.sqlite3"
GUID = "0b9a8d6e-1c1f-4a55-9a4e-{:012d}"
QDE = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p"><Sources>{sources}</Sources></Project>"""


def _qde(sources: str) -> str:
    return QDE.format(sources=sources)


def _text_source(path: str, n: int = 1, name: str = "doc") -> str:
    return f'<TextSource guid="{GUID.format(n)}" name="{name}" plainTextPath="{path}"/>'


def _qdpx(path: Path, entries: dict) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def _errors(folder) -> str:
    return "\n".join(str(p) for p in jl.validate_study(folder) if p.severity == "error")


def _deflate_block(chunk: bytes) -> bytes:
    """Raw deflate blocks for ``chunk`` that can be repeated: a full flush leaves no back-references."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)


def _under_memory_limit(code: str, *args, limit=1536 * 2**20, timeout=60) -> str:
    """Run ``code`` in a fresh interpreter limited to ``limit`` bytes of address space; its stdout."""
    prelude = ("import resource, sys\n"
               "import journeylab as jl\n"  # import first: the limit is on what the file makes us do
               f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n")
    proc = subprocess.run([sys.executable, "-c", prelude + code, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    return proc.stdout


# ============================================================================ paths stay inside the project


def test_a_bare_project_cannot_read_files_outside_its_sources_folder(tmp_path):
    (tmp_path / "secret.txt").write_text("TOP SECRET", encoding="utf-8")
    project = tmp_path / "a" / "b"
    (project / "sources").mkdir(parents=True)
    qde = project / "project.qde"
    qde.write_text(_qde(_text_source("internal://../../secret.txt")), encoding="utf-8")
    with pytest.raises(JourneylabError, match=r"project.qde: project.qde refers to the source file "
                                              r"'internal://../../secret.txt', which lies outside the project's "
                                              r"sources/ folder"):
        jl.import_qdpx(qde)
    qde.write_text(_qde(_text_source("internal:///etc/passwd")), encoding="utf-8")  # absolute: read as sources/etc/...
    assert "root:" not in " ".join(jl.import_qdpx(qde).documents.get("text", pd.Series(dtype=str)))


def test_a_symbolic_link_out_of_the_sources_folder_is_refused(tmp_path):
    (tmp_path / "secret.txt").write_text("TOP SECRET", encoding="utf-8")
    project = tmp_path / "p"
    (project / "sources").mkdir(parents=True)
    (project / "sources" / "doc.txt").symlink_to(tmp_path / "secret.txt")
    qde = project / "project.qde"
    qde.write_text(_qde(_text_source("internal://doc.txt")), encoding="utf-8")
    with pytest.raises(JourneylabError, match="resolves to .*secret.txt, outside the project's sources/ folder"):
        jl.import_qdpx(qde)


def test_a_zip_entry_path_leaving_sources_is_refused(tmp_path):
    path = _qdpx(tmp_path / "p.qdpx", {"project.qde": _qde(_text_source("internal://../project.qde")),
                                       "sources/x.txt": "x"})
    with pytest.raises(JourneylabError, match=r"p.qdpx: project.qde refers to the source file "
                                              r"'internal://../project.qde', which lies outside"):
        jl.import_qdpx(path)


# ============================================================================ decompression bombs


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    """A .qdpx whose one source expands about 0.5 MB of deflate into 512 MiB of text (a ~1000:1 zip bomb)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.qdpx"
    chunk = b"la " * (2**22 // 3)  # 4 MiB
    block = _deflate_block(chunk)

    class Repeat:  # zipfile's compressor, returning the precomputed block for each identical chunk
        def compress(self, data):
            return block

        def flush(self):
            return b"\x03\x00"  # an empty final block

    real = zipfile._get_compressor
    zipfile._get_compressor = lambda kind, *a: Repeat() if kind == zipfile.ZIP_DEFLATED else real(kind, *a)
    try:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(zipfile.ZipInfo("project.qde"), _qde(_text_source("internal://big.txt")).encode())  # stored
            info = zipfile.ZipInfo("sources/big.txt")
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as fh:
                for _ in range(128):
                    fh.write(chunk)
    finally:
        zipfile._get_compressor = real
    assert path.stat().st_size < 2 * 2**20
    with zipfile.ZipFile(path) as zf:  # a well-formed zip: the first 4 MiB decompress as written
        assert zf.getinfo("sources/big.txt").file_size == 128 * len(chunk)
        with zf.open("sources/big.txt") as fh:
            assert fh.read(len(chunk)) == chunk
    return path


def test_a_zip_bomb_is_refused_before_it_takes_memory(zip_bomb):
    out = _under_memory_limit(
        "try:\n    jl.import_qdpx(sys.argv[1])\n"
        "except BaseException as exc:\n    print(type(exc).__name__, exc)\n", zip_bomb)
    assert out.startswith("LimitError"), out
    assert "bomb.qdpx" in out and "entry 'sources/big.txt'" in out and "decompression bomb" in out
    assert "MAX_COMPRESSION_RATIO" in out


def test_the_limits_can_be_raised_by_environment_variable(zip_bomb, tmp_path):
    code = ("from journeylab.utils import limits\n"
            "print(limits.MAX_COMPRESSION_RATIO, limits.MAX_UNCOMPRESSED_BYTES)\n"
            "try:\n    jl.import_qdpx(sys.argv[1])\n"
            "except BaseException as exc:\n    print(type(exc).__name__, exc)\n")
    env = {**os.environ, "JOURNEYLAB_MAX_COMPRESSION_RATIO": "100000", "JOURNEYLAB_MAX_UNCOMPRESSED_BYTES": "1e8"}
    proc = subprocess.run([sys.executable, "-c", "import sys, journeylab as jl\n" + code, str(zip_bomb)],
                          capture_output=True, text=True, timeout=60, env=env)
    first, second = proc.stdout.splitlines()[:2]
    assert first == "100000 100000000"
    assert second.startswith("LimitError") and "more than 100,000,000 bytes (MAX_UNCOMPRESSED_BYTES)" in second


def test_a_gzip_bomb_event_log_is_a_named_problem_not_a_memory_error(tmp_path):
    rows = b"u1,2026-01-05T09:00:00Z,ad_click,mobile\n" * (2**22 // 40)
    first = gzip.compress(b"user_id,timestamp,event,device\n" + rows)
    member = gzip.compress(rows)  # gzip members concatenate: 511 of them decompress to 2 GiB
    study = make_study(tmp_path / "s", **{"events.csv": None, "events.csv.gz": first + member * 511})
    assert (study / "events.csv.gz").stat().st_size < 8 * 2**20
    out = _under_memory_limit(
        "try:\n    jl.load_study(sys.argv[1])\n"
        "except BaseException as exc:\n    print(type(exc).__name__, exc)\n", study)
    assert out.startswith("StudyError"), out
    assert "events.csv.gz: expands more than 100 times" in out and "decompression bomb" in out


# ============================================================================ damaged files


def _patch_zip(data: bytes, *, flags: int | None = None, method: int | None = None) -> bytes:
    """Set the flag bits or compression method of every entry (local and central headers)."""
    import struct

    out = bytearray(data)
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = out.find(sig)
        while at >= 0:
            if flags is not None:
                struct.pack_into("<H", out, at + flag_at, flags)
            if method is not None:
                struct.pack_into("<H", out, at + flag_at + 2, method)
            at = out.find(sig, at + 4)
    return bytes(out)


def _good_qdpx(tmp_path) -> bytes:
    text = "P01: " + "the checkout asked for an account again and again. " * 40
    return _qdpx(tmp_path / "good.qdpx", {"project.qde": _qde(_text_source("internal://d.txt")),
                                          "sources/d.txt": text}).read_bytes()


@pytest.mark.parametrize("damage, found", [
    ("truncated", "not a REFI-QDA project"),
    ("encrypted", "RuntimeError"),
    ("unknown method", "NotImplementedError"),
    ("flipped bytes", "damaged or cannot be decompressed"),
])
def test_a_damaged_qdpx_is_a_journeylab_error_naming_the_file(tmp_path, damage, found):
    data = _good_qdpx(tmp_path)
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "encrypted":
        data = _patch_zip(data, flags=1)
    elif damage == "unknown method":
        data = _patch_zip(data, method=99)
    else:
        at = data.find(b"PK\x03\x04", 10)  # the second entry's local header, then its compressed data
        start = at + 30 + len("sources/d.txt") + 10
        data = data[:start] + bytes(b ^ 0x5A for b in data[start:start + 40]) + data[start + 40:]
    path = tmp_path / "damaged.qdpx"
    path.write_bytes(data)
    with pytest.raises(JourneylabError, match=found) as info:
        jl.import_qdpx(path)
    assert "damaged.qdpx" in str(info.value)


def test_a_textsource_without_name_or_guid_is_named(tmp_path):
    qde = tmp_path / "project.qde"
    qde.write_text(_qde('<TextSource plainTextPath="internal://d.txt"/>'), encoding="utf-8")
    with pytest.raises(JourneylabError, match="project.qde: <TextSource> number 1 under <Sources> has neither a name "
                                              "nor a guid"):
        jl.import_qdpx(qde)


@pytest.mark.parametrize("damage", ["garbage after the header", "not gzip", "truncated"])
def test_a_corrupt_events_gz_is_a_named_problem_in_validate_and_load(tmp_path, damage):
    from test_study import EVENTS

    data = gzip.compress(EVENTS.encode() * 200)
    data = {"garbage after the header": data[:12] + bytes(range(256)) * 4, "not gzip": b"PK\x03\x04" + data[4:],
            "truncated": data[: len(data) // 2]}[damage]
    study = make_study(tmp_path / "s", **{"events.csv": None, "events.csv.gz": data})
    assert "events.csv.gz: " in _errors(study)
    with pytest.raises(JourneylabError, match="events.csv.gz: "):
        jl.load_study(study)


def test_a_nul_byte_after_the_first_64_kb_of_survey_csv_is_reported_with_its_line(tmp_path):
    from test_study import SURVEY

    lines = SURVEY.splitlines()
    body = "\n".join([lines[0]] + [f"R{i},u1,2026-01-05T10:00:00Z,9,5,fine" for i in range(4000)])
    study = make_study(tmp_path / "s", **{"survey.csv": (body + "\nR9999,u2,2026-01-05T10:00:00Z,9,5,a\x00b\n").encode()})
    assert len(body) > 2**16
    assert "survey.csv, line 4002: the file contains a NUL byte" in _errors(study)


# ============================================================================ nesting and expansion


def test_deeply_nested_yaml_is_a_named_problem_not_a_recursion_error(tmp_path):
    study = make_study(tmp_path / "s", **{"study.yml": "name: x\nstages: " + "[" * 5000 + "]" * 5000 + "\n"})
    assert "study.yml, line 2: not valid YAML: nested more than 100 levels deep" in _errors(study)
    deep = "codes:\n" + "".join("  " * i + "- a:\n" for i in range(1, 400))
    (tmp_path / "codebook.yml").write_text(deep, encoding="utf-8")
    with pytest.raises(JourneylabError, match="codebook.yml, line .*: not valid YAML: nested more than 100 levels"):
        jl.Codebook.from_yaml(tmp_path / "codebook.yml")


LAUGHS = "name: lol\n" + "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 10)) + "stages: *a9\n"


def test_a_yaml_alias_bomb_is_refused_quickly_in_every_yaml_file(tmp_path):
    study = make_study(tmp_path / "s", **{"study.yml": LAUGHS})
    out = _under_memory_limit(
        "print(' | '.join(str(p) for p in jl.validate_study(sys.argv[1]) if p.severity == 'error'))\n"
        "for call in (lambda: jl.Codebook.from_yaml(sys.argv[2]), lambda: jl.load_lexicon(sys.argv[2])):\n"
        "    try:\n        call()\n    except BaseException as exc:\n        print(type(exc).__name__, exc)\n",
        study, study / "study.yml", timeout=30)
    validate, codebook, lexicon = out.splitlines()
    assert "study.yml, line 8: not valid YAML: its aliases (*name) expand to more than 1,000,000 values" in validate
    assert codebook.startswith("CodebookError") and "billion laughs" in codebook
    assert lexicon.startswith("JourneylabError") and "billion laughs" in lexicon


def test_a_few_aliases_in_a_user_file_still_work(tmp_path):
    from journeylab.utils.limits import load_yaml

    assert load_yaml("a: &x [1, 2]\nb: *x\nc: *x\n")[1] == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}


def test_deep_xml_and_doctype_entities_are_refused_in_qdpx_and_qdc(tmp_path):
    deep = '<Codes>' + '<Code guid="g" name="c">' * 5000 + '</Code>' * 5000 + '</Codes>'
    qdc = tmp_path / "deep.qdc"
    qdc.write_text(f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0">{deep}</CodeBook>', encoding="utf-8")
    with pytest.raises(JourneylabError, match=r"deep.qdc, line 1: elements nested more than 100 levels deep"):
        jl.Codebook.from_qdc(qdc)
    qde = tmp_path / "project.qde"
    qde.write_text('<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
                   '<Project xmlns="urn:QDA-XML:project:1.0" name="&b;"/>', encoding="utf-8")
    with pytest.raises(LimitError, match=r"^project.qde, line 2: the document declares a <!DOCTYPE>"):
        jl.import_qdpx(qde)


def test_forty_thousand_flat_codes_in_a_qdc_all_load(tmp_path):
    codes = "".join(f'<Code guid="{GUID.format(i)}" name="code {i}" isCodable="true"/>' for i in range(40_000))
    qdc = tmp_path / "big.qdc"
    qdc.write_text(f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{codes}</Codes></CodeBook>', encoding="utf-8")
    book = jl.Codebook.from_qdc(qdc)
    assert len(book) == 40_000 and book.names[-1] == "code 39999"
    dup = qdc.read_text(encoding="utf-8").replace('name="code 39999"', 'name="code 7"')
    qdc.write_text(dup, encoding="utf-8")
    with pytest.raises(JourneylabError, match="two codes are named 'code 7'"):
        jl.Codebook.from_qdc(qdc)


# ============================================================================ Taguette


def test_a_taguette_file_name_with_uri_characters_opens_and_creates_nothing(tmp_path):
    odd = tmp_path / "t13 odd#name?.sqlite3"
    shutil.copy(TAGUETTE, odd)
    study = jl.import_taguette(odd)
    assert len(study.codings) > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t13 odd#name?.sqlite3"]


@pytest.mark.parametrize("sql, place", [
    ("UPDATE highlights SET start_offset = 'abc' WHERE id = 2", "table highlights, row with id 2, column "
                                                                "'start_offset': expected a whole number, found str"),
    ("UPDATE highlights SET end_offset = 1.5 WHERE id = 3", "column 'end_offset': expected a whole number, found float"),
    ("UPDATE documents SET contents = x'00ff' WHERE id = 1", "table documents, row with id 1, column 'contents': "
                                                             "expected text or NULL, found bytes"),
    ("UPDATE tags SET path = x'00ff' WHERE id = (SELECT MIN(id) FROM tags)", "table tags, row with id ., column "
                                                                           "'path': expected text, found bytes"),
    ("UPDATE highlight_tags SET tag_id = 'x' WHERE rowid = (SELECT MIN(rowid) FROM highlight_tags)",
     "table highlight_tags, row with id ., column 'tag_id': expected a whole number, found str"),
])
def test_taguette_tables_with_wrong_column_types_are_named(tmp_path, sql, place):
    db = tmp_path / "p.sqlite3"
    shutil.copy(TAGUETTE, db)
    con = sqlite3.connect(db)
    con.execute(sql)
    con.commit()
    con.close()
    with pytest.raises(JourneylabError, match="p.sqlite3: .*" + place.replace("(", r"\(")):
        jl.import_taguette(db)


# ============================================================================ parquet event logs


def _parquet_study(tmp_path, frame: pd.DataFrame) -> Path:
    study = make_study(tmp_path / "s", **{"events.csv": None})
    frame.to_parquet(study / "events.parquet")
    return study


def test_a_parquet_log_with_integer_timestamps_is_a_named_problem(tmp_path):
    study = _parquet_study(tmp_path, pd.DataFrame({"user_id": ["u1", "u2"], "timestamp": [1767600000, 1767600060],
                                                   "event": ["ad_click", "paid"]}))
    assert "events.parquet, line 1, column 'timestamp': expected a timestamp like 2026-08-31T14:05:00Z, found " \
           "'1767600000'" in _errors(study)


def test_a_parquet_log_with_list_event_names_is_a_named_problem(tmp_path):
    study = _parquet_study(tmp_path, pd.DataFrame({"user_id": ["u1", "u2"],
                                                   "timestamp": pd.to_datetime(["2026-01-05", "2026-01-06"]),
                                                   "event": [["ad_click"], ["paid", "x"]]}))
    assert "events.parquet, line 1, column 'event': expected one text, number or timestamp per cell, found a " \
           "ndarray" in _errors(study)
    with pytest.raises(JourneylabError, match="events.parquet"):
        jl.load_study(study)


def test_a_parquet_log_with_null_ids_timestamps_or_events_fails_validation(tmp_path):
    study = _parquet_study(tmp_path, pd.DataFrame({
        "user_id": ["u1", None, "u3"], "timestamp": pd.to_datetime(["2026-01-05", "2026-01-06", None]),
        "event": ["ad_click", "paid", None]}))
    errors = _errors(study)
    assert "events.parquet, line 2, column 'user_id': empty user_id" in errors
    assert "events.parquet, line 3, column 'timestamp': empty timestamp" in errors
    assert "events.parquet, line 3, column 'event': empty event" in errors


def test_a_parquet_log_keeps_typed_properties_and_reports_null_numeric_user_ids(tmp_path):
    study = _parquet_study(tmp_path, pd.DataFrame({
        "user_id": [1.0, None], "timestamp": pd.to_datetime(["2026-01-05", "2026-01-06"]),
        "event": ["ad_click", "paid"], "revenue": [0.0, 12.5]}))
    assert "events.parquet, line 2, column 'user_id': empty user_id" in _errors(study)
    study = _parquet_study(tmp_path / "ok", pd.DataFrame({
        "user_id": ["u1", "u2"], "timestamp": pd.to_datetime(["2026-01-05", "2026-01-06"]),
        "event": ["ad_click", "paid"], "revenue": [0.0, 12.5]}))
    events = jl.load_study(study).events
    assert events["revenue"].tolist() == [0.0, 12.5] and events["user_id"].tolist() == ["u1", "u2"]
