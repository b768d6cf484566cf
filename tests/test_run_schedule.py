"""``journeylab run`` with notebooks side by side: the scheduler's order and what waits for what.

The scheduler is tested with stand-in jobs (no kernels, well under a second); the run's own use of
it with two tiny notebooks in two kernels at once (a few seconds). That the whole sequence writes
the same bytes side by side as one after the other is checked by ``benchmarks/bench_study.py``
(``outputs identical``) and, between two side-by-side runs, by ``tests/test_run.py``.
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import nbformat
import pytest

from journeylab.errors import JourneylabError
from journeylab.run import pipeline
from journeylab.run.pipeline import RUNS_AFTER, SLOW_FIRST, notebook_paths, run, schedule

OTHER = Path(__file__).resolve().parent / "data" / "other_study"


class Recorder:
    """run_one stand-in: records starts and ends, and how many ran at once."""

    def __init__(self, seconds=None, fail=()):
        self.seconds, self.fail = seconds or {}, set(fail)
        self.events, self.now, self.peak = [], 0, 0
        self.lock = threading.Lock()

    def __call__(self, name):
        with self.lock:
            self.events.append(("start", name))
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(self.seconds.get(name, 0.02))
        with self.lock:
            self.events.append(("end", name))
            self.now -= 1
        return name not in self.fail

    def index(self, kind, name):
        return self.events.index((kind, name))


def test_a_notebook_starts_only_after_the_ones_it_waits_for():
    rec = Recorder(seconds={"a": 0.15})
    res = schedule(["a", "b", "c", "d"], after={"c": ("a",), "d": ("c", "b")}, jobs=2, run_one=rec)
    assert res == {"a": True, "b": True, "c": True, "d": True}
    assert rec.index("start", "c") > rec.index("end", "a")
    assert rec.index("start", "d") > max(rec.index("end", "c"), rec.index("end", "b"))
    assert rec.peak == 2  # a and b side by side


def test_never_more_than_jobs_at_once_and_one_job_keeps_the_order():
    rec = Recorder()
    schedule(list("abcdef"), after={}, jobs=3, run_one=rec)
    assert rec.peak <= 3
    rec = Recorder()
    schedule(list("abcd"), after={}, jobs=1, run_one=rec)
    assert rec.events == [(k, n) for n in "abcd" for k in ("start", "end")]


def test_slow_ones_start_first_when_several_could():
    rec = Recorder()
    schedule(list("abcd"), after={}, jobs=1, run_one=rec, first=["c", "zz"])
    assert [n for k, n in rec.events if k == "start"] == ["c", "a", "b", "d"]


def test_after_a_failure_nothing_new_starts_and_the_running_ones_finish():
    rec = Recorder(seconds={"a": 0.02, "b": 0.2}, fail={"a"})
    res = schedule(list("abcd"), after={}, jobs=2, run_one=rec)
    assert res == {"a": False, "b": True}  # b was running: it finished; c and d never started
    rec = Recorder(fail={"b"})
    assert schedule(list("abc"), after={}, jobs=1, run_one=rec) == {"a": True, "b": False}


def test_an_exception_in_a_job_stops_new_starts_and_is_raised_after_the_running_ones_finish():
    done = []

    def boom(name):
        if name == "b":
            raise RuntimeError("disk full")
        time.sleep(0.1)
        done.append(name)
        return True

    with pytest.raises(RuntimeError, match="disk full"):
        schedule(list("abcd"), after={}, jobs=2, run_one=boom)
    assert done == ["a"]  # a was running and finished; c and d never started
    with pytest.raises(RuntimeError, match="disk full"):
        schedule(list("abc"), after={}, jobs=1, run_one=boom)


def test_waits_name_the_sequence_s_notebooks():
    names = {p.name for p in notebook_paths()}
    for nb, waits in RUNS_AFTER.items():
        assert nb in names and set(waits) <= names, (nb, waits)
    assert set(SLOW_FIRST) <= names


def test_no_notebook_of_the_sequence_lists_the_whole_output_folder():
    """A listing of every file in the output folder would show another notebook's files when two run at
    once; a notebook lists what it wrote, or waits (RUNS_AFTER)."""
    for p in notebook_paths():
        nb = nbformat.read(p, as_version=4)
        for c in nb.cells:
            if c.cell_type == "code" and "iterdir()" in c.source:
                pytest.fail(f"{p.name} lists the output folder: {c.source[:120]!r}")


def _nb(path: Path, cells: list) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('study_path = None\noutput_dir = "outputs"\nseed = 0')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_a_run_side_by_side_keeps_the_manifest_order(tmp_path, monkeypatch):
    """Two tiny notebooks of the package's own kind (monkeypatched folder) in two kernels at once."""
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    cell = "import time\nfrom pathlib import Path\ntime.sleep({s})\nPath(output_dir, '{stem}.txt').write_text('{stem}')"
    _nb(nbs / "01_slow.ipynb", [cell.format(s=4, stem="01_slow")])
    _nb(nbs / "02_quick.ipynb", [cell.format(s=0, stem="02_quick")])
    monkeypatch.setattr(pipeline, "NOTEBOOK_DIR", nbs)
    lines = []

    class Stream:
        def write(self, s):
            lines.append(s)

        def flush(self):
            pass

    out = tmp_path / "out"
    man = run(OTHER, out, jobs=2, stream=Stream())
    assert (out / "01_slow.txt").read_text() == "01_slow" and (out / "02_quick.txt").read_text() == "02_quick"
    assert list(man["timings"]["notebooks"]) == ["01_slow.ipynb", "02_quick.ipynb"]
    text = "".join(lines)
    # side by side: the quick one finished first, and each line names its notebook
    assert text.index("[2/2] 02_quick") < text.index("[1/2] 01_slow")
    saved = json.loads((out / "manifest.json").read_text())
    assert saved["status"] == "ok"


def test_jobs_argument_is_checked(tmp_path):
    with pytest.raises(JourneylabError, match="`jobs` must be a whole number"):
        run(OTHER, tmp_path / "out", jobs=0)
