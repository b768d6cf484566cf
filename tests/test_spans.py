"""Codings as spans (issue 15): merging keeps removals, parent codes aggregate their children,
span-aware analyses and sentiment, faithful span imports/exports, agreement on spans."""
from __future__ import annotations

import pandas as pd
import pytest

import journeylab as jl

# ---------------------------------------------------------------- merging keeps removals (item 6)


def _store_with_export(tmp_path):
    store = jl.CodingStore(tmp_path / "c.db")
    store.apply("G1-t002", "podcast_discovery", "kim")
    store.apply("G1-t006", "fresh_ingredients_delight", "kim")
    export = store.export_csv(tmp_path / "kim.csv", "kim")
    store.remove("G1-t006", "fresh_ingredients_delight", "kim")
    return store, export


def test_removal_after_export_is_not_brought_back(tmp_path):
    store, export = _store_with_export(tmp_path)
    for src in (store, store.path):  # the store object or its file
        merged, report = jl.merge_codings(export, src, return_report=True)
        assert merged[["segment_id", "code"]].values.tolist() == [["G1-t002", "podcast_discovery"]]
        removed = report[report["kind"] == "removed"]
        assert removed[["segment_id", "code"]].values.tolist() == [["G1-t006", "fresh_ingredients_delight"]]
        assert "not brought back" in removed["detail"].iloc[0]
    store.close()


def test_applied_again_after_the_removal_is_kept(tmp_path):
    store, export = _store_with_export(tmp_path)
    later = pd.read_csv(export, dtype=str, keep_default_na=False)
    later["decided_at"] = "2099-01-01T00:00:00+00:00"  # decided after the store's removal
    merged, report = jl.merge_codings(later, store, return_report=True)
    store.close()
    assert ("G1-t006", "fresh_ingredients_delight") in set(zip(merged["segment_id"], merged["code"]))
    assert report["kind"].tolist().count("reapplied") == 1


def test_without_a_store_nothing_is_removed(tmp_path):
    store, export = _store_with_export(tmp_path)
    store.close()
    merged = jl.merge_codings(export)
    assert len(merged) == 2


# ---------------------------------------------------------------- parent codes aggregate children

def test_parent_code_aggregates_its_children():
    cb = jl.Codebook([jl.Code("feelings"), jl.Code("joy", parent="feelings"), jl.Code("anger", parent="feelings"),
                      jl.Code("price")])
    seg = pd.DataFrame({"segment_id": ["a", "b", "c", "d"], "participant_id": ["P1", "P1", "P2", "P3"]})
    cod = pd.DataFrame({"segment_id": ["a", "a", "b", "c", "d"], "code": ["joy", "anger", "anger", "feelings", "price"]})
    f = jl.code_frequencies(cod, seg, codebook=cb).set_index("code")
    # feelings: a (joy, anger: one segment), b, c (itself) -> 3 segments, P1 and P2
    assert f.loc["feelings", ["n_segments", "n_participants"]].tolist() == [3, 2]
    assert f.loc["feelings", "includes"] == "itself + joy, anger"
    assert f.loc["joy", "includes"] == "" and f.loc["joy", "n_segments"] == 1
    plain = jl.code_frequencies(cod, seg, codebook=cb, aggregate=False).set_index("code")
    assert plain.loc["feelings", "n_segments"] == 1 and plain.loc["feelings", "includes"] == ""
