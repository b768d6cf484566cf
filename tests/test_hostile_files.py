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
