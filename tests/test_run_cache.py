"""The study cache (journeylab/study/cache.py): `journeylab run` loads the study once and every
notebook reads it; a cache is read only while it is current (same input files, same redact, same
journeylab version and source), and it gives back exactly the study a load gives.
"""
from __future__ import annotations

import dataclasses
import json
import pickle
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

import journeylab as jl
import journeylab.study.cache as cache_mod
from journeylab.errors import StudyError
from journeylab.run.pipeline import run
from journeylab.study.cache import CACHE_DIR, cache_folder, read_cache, study_key, write_cache
from journeylab.study.load import load_study_cached

ROOT = Path(__file__).resolve().parent.parent
OTHER = ROOT / "tests" / "data" / "other_study"


def assert_same_study(a, b):
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, check_exact=True)
            for c in x.columns[[dt is np.dtype(object) for dt in x.dtypes]]:  # the same kind of missing value, not only "missing"
                assert x[c].map(type).tolist() == y[c].map(type).tolist(), (f.name, c)
        elif f.name == "codebook":
            assert (x is None and y is None) or x.to_dict() == y.to_dict()
        else:
            assert x == y, f.name


@pytest.fixture
def study(tmp_path):
    return shutil.copytree(OTHER, tmp_path / "study")


def test_cache_is_read_while_current_and_gives_back_the_same_study(study, tmp_path):
    out = tmp_path / "out"
    fresh = jl.load_study(study)
    first, hit1 = load_study_cached(study, out)
    second, hit2 = load_study_cached(study, out)
    assert (hit1, hit2) == (False, True)
    assert (out / CACHE_DIR / "study-redacted" / "key.json").is_file()
    assert_same_study(fresh, first)
    assert_same_study(fresh, second)
    assert second.path == Path(study)
    assert second.redacted and len(second.redactions) == len(fresh.redactions)
    # load_study(cache=) is the same call
    assert_same_study(fresh, jl.load_study(study, cache=out))


def test_redacted_and_raw_studies_are_cached_apart(study, tmp_path):
    out = tmp_path / "out"
    red, _ = load_study_cached(study, out)
    raw, _ = load_study_cached(study, out, redact=False)
    assert (out / CACHE_DIR / "study-raw").is_dir() and (out / CACHE_DIR / "study-redacted").is_dir()
    assert load_study_cached(study, out, redact=False)[1] and load_study_cached(study, out)[1]
    assert "name" in raw.participants.columns and "name" not in red.participants.columns
    assert_same_study(raw, jl.load_study(study, redact=False))


@pytest.mark.parametrize("change", ["edit", "add", "remove"])
def test_cache_is_stale_when_an_input_file_changes(study, tmp_path, change):
    out = tmp_path / "out"
    before, _ = load_study_cached(study, out)
    transcripts = sorted((study / "transcripts").iterdir())
    if change == "edit":
        survey = study / "survey.csv"
        lines = survey.read_text(encoding="utf-8").splitlines()
        lines[1] = lines[1] + " zebra"  # the last field of the first response
        survey.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif change == "add":
        shutil.copy(transcripts[0], study / "transcripts" / ("Q99" + transcripts[0].suffix))
    else:  # an added transcript goes again (every transcript here has codings that point at it)
        shutil.copy(transcripts[0], study / "transcripts" / ("Q99" + transcripts[0].suffix))
        load_study_cached(study, out)
        before = load_study_cached(study, out)[0]
        (study / "transcripts" / ("Q99" + transcripts[0].suffix)).unlink()
    after, hit = load_study_cached(study, out)
    assert not hit
    assert_same_study(after, jl.load_study(study))
    if change == "edit":
        assert (after.survey.astype(str) != before.survey.astype(str)).to_numpy().any()
    else:
        assert len(after.documents) == len(before.documents) + (1 if change == "add" else -1)
    assert load_study_cached(study, out)[1]  # and current again


def test_cache_is_stale_for_another_journeylab_version_or_source(study, tmp_path, monkeypatch):
    out = tmp_path / "out"
    load_study_cached(study, out)
    assert load_study_cached(study, out)[1]
    monkeypatch.setattr(cache_mod, "JOURNEYLAB_VERSION", cache_mod.JOURNEYLAB_VERSION + ".post1")
    assert not load_study_cached(study, out)[1]
    assert load_study_cached(study, out)[1]
    monkeypatch.setattr(cache_mod, "_code_hash", lambda: "an edited checkout")
    assert not load_study_cached(study, out)[1]


def test_damaged_cache_is_rebuilt_not_trusted(study, tmp_path):
    out = tmp_path / "out"
    load_study_cached(study, out)
    folder = cache_folder(out)
    (folder / "objects.pkl").write_bytes(b"not a pickle")
    again, hit = load_study_cached(study, out)
    assert not hit
    assert_same_study(again, jl.load_study(study))
    (folder / "key.json").write_text("{", encoding="utf-8")
    assert not load_study_cached(study, out)[1]


def test_a_study_with_errors_raises_and_writes_no_cache(study, tmp_path):
    (study / "participants.csv").write_text("pid,name,profile\nG1,A,astronaut\n", encoding="utf-8")
    with pytest.raises(StudyError, match="astronaut"):
        jl.load_study(study, cache=tmp_path / "out")
    assert not (tmp_path / "out" / CACHE_DIR).exists()


def test_validate_study_reads_a_current_cache(study, tmp_path):
    out = tmp_path / "out"
    expected = [str(p) for p in jl.validate_study(study)]
    assert [str(p) for p in jl.validate_study(study, cache=out)] == expected  # no cache yet
    load_study_cached(study, out)
    folder = cache_folder(out)
    objects = pickle.loads((folder / "objects.pkl").read_bytes())
    objects["problems"] = objects["problems"] + ["a problem only the cache knows"]
    (folder / "objects.pkl").write_bytes(pickle.dumps(objects))
    assert jl.validate_study(study, cache=out)[-1] == "a problem only the cache knows"  # read, not re-validated


def test_a_table_parquet_would_change_is_pickled(tmp_path):
    """None and NaN in one text column: parquet reads both back as None, so the table is pickled."""
    mixed = pd.DataFrame({"memo": pd.Series(["a", None, np.nan], dtype=object), "n": [1, 2, 3]})
    plain = pd.DataFrame({"x": pd.array(["a", "b"], dtype="string"), "t": pd.to_datetime(["2026-01-01", "2026-01-02"])})
    key = {"format": 0}
    folder = write_cache(tmp_path / "c", key, {"mixed": mixed, "plain": plain, "name": "n"})
    assert json.loads((folder / "key.json").read_text())["tables"] == ["mixed.pkl", "plain.parquet"]
    back = read_cache(folder, key)
    assert back["mixed"]["memo"].map(type).tolist() == [str, type(None), float]
    pd.testing.assert_frame_equal(back["plain"], plain)
    assert back["name"] == "n"
    assert read_cache(folder, {"format": 1}) is None


def test_study_key_ignores_hidden_files(study):
    key = study_key(study)
    (study / ".DS_Store").write_bytes(b"\0")
    assert study_key(study) == key
    assert set(key) >= {"inputs", "journeylab", "code", "redact", "study", "pandas", "pyarrow"}


def _nb(path: Path, cells: list) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('study_path = None\noutput_dir = "outputs"\nseed = 0')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_run_loads_once_and_every_notebook_reads_the_cache(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    probe = ("from pathlib import Path\nfrom journeylab.study.load import load_study_cached\n"
             "study, hit = load_study_cached(study_path, output_dir)\n"
             "Path(output_dir, '{stem}.txt').write_text(f'{{hit}} {{len(study.segments)}}')")
    for name in ("01_a.ipynb", "02_b.ipynb"):
        _nb(nbs / name, [probe.format(stem=Path(name).stem)])
    out = tmp_path / "out"
    man = run(OTHER, out, notebooks=nbs, quiet=True)
    n = len(jl.load_study(OTHER).segments)
    assert (out / "01_a.txt").read_text() == f"True {n}" and (out / "02_b.txt").read_text() == f"True {n}"
    assert man["study_cache"]["folder"] == f"{CACHE_DIR}/study-redacted"
    assert "segments.parquet" in man["study_cache"]["tables"]
    assert man["timings"]["study_load_seconds"] > 0 and man["timings"]["study_from_cache"] is False
    assert not [k for k in man["outputs"] if CACHE_DIR in k]  # the cache is not an output
    # a second run into the same folder finds the cache current; the manifest says the same but timings
    man2 = run(OTHER, out, notebooks=nbs, quiet=True)
    assert man2["timings"]["study_from_cache"] is True
    assert {k: v for k, v in man.items() if k != "timings"} == {k: v for k, v in man2.items() if k != "timings"}
