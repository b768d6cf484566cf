"""Tests of the Dask routes (beside the pandas code they mirror: measure/funnel.py, coding/analysis.py,
study/load_dask.py; shared helpers in utils/dask.py): autocode, sentiment and funnel on a Dask
DataFrame, computed on a LocalCluster of 2 worker processes, give exactly the pandas numbers.

The expected values are the pandas functions' own results on the same data; the funnel's log
is split into partitions in which users straddle partitions, so the shuffle by user matters.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import journeylab as jl
from journeylab.errors import JourneylabError

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def client():
    import logging

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                       silence_logs=logging.ERROR)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def study(sample_study):
    return sample_study


@pytest.fixture(scope="module")
def events(study):
    """The sample's events of 2,000 users (about 30,000 rows), in the log's time order."""
    ev = study.events
    keep = ev["user_id"].drop_duplicates().iloc[:2000]
    return ev[ev["user_id"].isin(keep)].reset_index(drop=True)


@pytest.fixture(scope="module")
def devents(events):
    ddf = dd.from_pandas(events, npartitions=5, sort=False)
    # users straddle partitions: the funnel must shuffle them together
    part = np.repeat(np.arange(ddf.npartitions), ddf.map_partitions(len).compute().to_numpy())
    spread = pd.Series(part).groupby(events["user_id"].to_numpy()).nunique()
    assert (spread > 1).sum() > 500
    return ddf


def test_import_does_not_import_dask():
    code = "import sys, journeylab; assert 'dask' not in sys.modules, 'dask imported'; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


def test_autocode_matches_pandas(client, study):
    seg = study.segments
    lazy = jl.autocode(dd.from_pandas(seg, npartitions=4, sort=False), codebook=study.codebook)
    assert isinstance(lazy, dd.DataFrame)
    expected = jl.autocode(seg, codebook=study.codebook)
    assert len(expected) > 200
    pd.testing.assert_frame_equal(lazy.compute().reset_index(drop=True), expected)


def test_autocode_checks_arguments_at_once(study):
    ds = dd.from_pandas(study.segments, npartitions=2)
    with pytest.raises(JourneylabError, match="missing column.*'body'"):
        jl.autocode(ds, codebook=study.codebook, text="body")
    with pytest.raises(JourneylabError, match="`codes` has 'no_such_code'"):
        jl.autocode(ds, codebook=study.codebook, codes=["no_such_code"])


def test_sentiment_matches_pandas(client, study):
    seg = study.segments
    ds = dd.from_pandas(seg, npartitions=4, sort=False)
    got = jl.sentiment(ds).compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(got, jl.sentiment(seg))
    got = jl.sentiment(ds, split="sentence", aggregate=False, engine="nltk").compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(got, jl.sentiment(seg, split="sentence", aggregate=False, engine="nltk"))
    sv = study.survey
    got = jl.sentiment(dd.from_pandas(sv, npartitions=3), text="comment", id="respondent_id")
    pd.testing.assert_frame_equal(got.compute().reset_index(drop=True),
                                  jl.sentiment(sv, text="comment", id="respondent_id"))


def test_code_sentiment_on_computed_dask_results(client, study):
    """code_sentiment takes the (small) computed frames: the same table as from pandas."""
    ds = dd.from_pandas(study.segments, npartitions=3, sort=False)
    sent, cod = dask.compute(jl.sentiment(ds), jl.autocode(ds, codebook=study.codebook))
    got = jl.code_sentiment(cod.reset_index(drop=True), sentiment=sent.reset_index(drop=True), segments=study.segments, random_state=1)
    exp = jl.code_sentiment(jl.autocode(study.segments, codebook=study.codebook), sentiment=jl.sentiment(study.segments),
                            segments=study.segments, random_state=1)
    pd.testing.assert_frame_equal(got, exp)


FUNNELS = [
    {},
    {"by": "device"},
    {"by": ["device", "channel"], "attribution": "last_touch", "correction": "fdr_bh"},
    {"by": "device", "attribution": "entry"},
    {"order": "strict"},
    {"entry": "furthest", "window": "2D"},
    {"count": "session"},
    {"order": "any"},
    {"exclude": {"site_search": (2, 3)}},
]


@pytest.mark.parametrize("kwargs", FUNNELS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "default")
def test_funnel_matches_pandas(client, study, events, devents, kwargs):
    args = dict(steps=study.funnel_steps, window=study.funnel_window) | kwargs
    lazy = jl.funnel(devents, **args)
    assert "lazy" in repr(lazy)
    got = lazy.compute()
    exp = jl.funnel(events, **args)
    assert exp.steps["users" if kwargs.get("count") != "session" else "sessions"].sum() > 100
    pd.testing.assert_frame_equal(got.steps, exp.steps)
    pd.testing.assert_frame_equal(got.comparisons, exp.comparisons)
    assert got.definition == exp.definition


def test_funnel_units_and_dask_compute(client, study, events, devents):
    lazy = jl.funnel(devents, steps=study.funnel_steps, by="device")
    res, units = dask.compute(lazy, lazy.units)     # one graph: the shuffle runs once
    assert isinstance(res, jl.FunnelResult)
    exp = jl.funnel(events, steps=study.funnel_steps, by="device")
    got = units.sort_values("user_id").reset_index(drop=True)
    want = exp.units.sort_values("user_id").reset_index(drop=True)
    assert len(got) == len(want) == exp.steps.groupby("device")["users"].first().sum()
    pd.testing.assert_frame_equal(got.drop(columns="device"), want.drop(columns="device"))
    assert got["device"].tolist() == want["device"].tolist()


def test_funnel_ties_and_quartiles_across_partitions(client):
    """Same-time events are ordered by row, as in pandas, even after the shuffle; interpolated
    quartiles of the time between steps come out exact."""
    t0 = pd.Timestamp("2026-08-03 09:00")
    rows = []
    for i, gap in enumerate([10, 20, 30, 40, 25]):
        u = f"u{i}"
        rows += [(u, t0, "view"), (u, t0 + pd.Timedelta(minutes=gap), "cart"), (u, t0 + pd.Timedelta(minutes=gap), "buy")]
    rows += [("tie", t0, "cart"), ("tie", t0, "view"), ("tie", t0, "cart")]  # second cart follows the view
    rows += [("late", t0, "buy"), ("late", t0, "view")]
    five = t0 + pd.Timedelta(minutes=5)
    rows += [("u5", t0, "view"), ("u5", five, "buy"), ("u5", five, "cart")]   # buy's row first: not after cart
    ev = pd.DataFrame(rows, columns=["user_id", "timestamp", "event"])
    ev = ev.sort_values("timestamp", kind="stable").reset_index(drop=True)   # users interleave across partitions
    ddf = dd.from_pandas(ev, npartitions=4, sort=False)
    got = jl.funnel(ddf, steps=["view", "cart", "buy"], npartitions=3).compute()
    exp = jl.funnel(ev, steps=["view", "cart", "buy"])
    assert exp.steps["users"].tolist() == [8, 7, 5]
    assert exp.steps["q1_time_from_previous"].iloc[2] == pd.Timedelta(0)
    # view -> cart: 0, 5, 10, 20, 25, 30, 40 min; q1 at position 6 * 0.25 = 1.5, between 5 and 10
    assert exp.steps["q1_time_from_previous"].iloc[1] == pd.Timedelta(minutes=7.5)
    pd.testing.assert_frame_equal(got.steps, exp.steps)


def test_funnel_errors(client, study, devents):
    with pytest.raises(JourneylabError, match="missing column.*'visitor'"):     # at once, from the columns
        jl.funnel(devents, steps=study.funnel_steps, user="visitor")
    with pytest.raises(JourneylabError, match="`shuffle` must be True or False"):
        jl.funnel(devents, steps=study.funnel_steps, shuffle="yes")
    lazy = jl.funnel(devents, steps=["product_view", "chekout_start"])          # data-dependent: on compute
    with pytest.raises(JourneylabError, match="'chekout_start'.*never occur"):
        lazy.compute()


def test_pandas_only_functions_say_compute_first(study):
    codings = dd.from_pandas(jl.autocode(study.segments, codebook=study.codebook), npartitions=2)
    with pytest.raises(JourneylabError, match=r"`codings` is a Dask DataFrame.*codings.compute\(\)"):
        jl.saturation(codings, segments=study.segments)


# ----------------------------------------------------------------------------- frequency tables

FREQUENCIES = [
    {"coder": "amara"},
    {"coder": "any", "by": "doc_id", "codebook": True},
    {"coder": "jonas", "by": "persona", "participants": True},
    {"coder": "any", "by": ["stage", "device"], "codebook": True, "participants": True},
]


@pytest.fixture(scope="module")
def dstudy(study):
    """The sample's segments (4 partitions), codings of two coders (3) and participants (2) as Dask
    frames, and the same data as pandas frames (Dask holds strings as pyarrow strings)."""
    ds = dd.from_pandas(study.segments, npartitions=4, sort=False)
    dc = dd.from_pandas(study.codings, npartitions=3, sort=False)
    dp = dd.from_pandas(study.participants, npartitions=2, sort=False)
    return (ds, dc, dp), dask.compute(ds, dc, dp)


def test_code_frequencies_matches_pandas(client, study, dstudy):
    (ds, dc, dp), (seg, cod, parts) = dstudy
    lazy, expected = [], []
    for kwargs in FREQUENCIES:
        kw = dict(kwargs, codebook=study.codebook if kwargs.get("codebook") else None)
        with_parts = kw.pop("participants", False)
        lazy.append(jl.code_frequencies(dc, segments=ds, participants=dp if with_parts else None, **kw))
        exp = jl.code_frequencies(cod, segments=seg, participants=parts if with_parts else None, **kw)
        assert exp["n_segments"].sum() > 80 and exp["n_participants"].sum() > 30
        pd.testing.assert_frame_equal(lazy[-1]._meta, exp.iloc[:0], check_index_type=False)   # dtypes known lazily
        expected.append(exp)
    assert all(isinstance(f, dd.DataFrame) for f in lazy)
    got = dask.compute(*lazy)                                   # one graph for the four tables
    for g, exp in zip(got, expected):
        pd.testing.assert_frame_equal(g, exp)
    # no string columns from Dask's inputs: the same table as from the original frames
    pd.testing.assert_frame_equal(got[0], jl.code_frequencies(study.codings, segments=study.segments, coder="amara"))


def test_frequency_tables_of_dask_autocode(client, study):
    """autocode on Dask segments whose partitions split participants → code_frequencies and
    co_occurrence, lazily, in one graph: the tables pandas gives from the pandas autocode."""
    seg = study.segments
    ds = dd.from_pandas(seg, npartitions=5, sort=False)
    part = np.repeat(np.arange(5), ds.map_partitions(len).compute().to_numpy())
    assert (pd.Series(part).groupby(seg["participant_id"].to_numpy()).nunique() > 1).sum() >= 3
    codings = jl.autocode(ds, codebook=study.codebook)
    freq = jl.code_frequencies(codings, segments=ds, participants=study.participants, by="persona", codebook=study.codebook)
    co = jl.co_occurrence(codings, segments=ds, level="participant")
    got_freq, got_co = dask.compute(freq, co)
    pandas_codings = jl.autocode(seg, codebook=study.codebook)
    exp = jl.code_frequencies(pandas_codings, segments=seg, participants=study.participants, by="persona", codebook=study.codebook)
    assert exp["n_segments"].sum() > 200
    pd.testing.assert_frame_equal(got_freq, exp)
    exp_co = jl.co_occurrence(pandas_codings, segments=seg, level="participant")
    assert len(exp_co) > 50
    pd.testing.assert_frame_equal(got_co, exp_co)


def test_co_occurrence_matches_pandas(client, study, dstudy):
    (ds, dc, _), _ = dstudy
    variants = [{"coder": "amara"}, {"coder": "any", "level": "participant", "min_count": 2},
                {"coder": "jonas", "min_count": 0}]
    got = dask.compute(*[jl.co_occurrence(dc, segments=ds, **kw) for kw in variants])
    for g, kw in zip(got, variants):
        exp = jl.co_occurrence(study.codings, segments=study.segments, **kw)
        assert exp["count"].max() >= 2
        pd.testing.assert_frame_equal(g, exp)


def test_code_frequencies_first_row_per_segment(client):
    """A repeated segment id counts with its first row, as pandas' drop_duplicates keeps it,
    also when the repeat sits in another partition; codings on interviewer turns (no participant)
    are left out, as in the pandas path."""
    seg = pd.DataFrame({"segment_id": ["a", "b", "c", "a", "d", "e", "b"],
                        "participant_id": ["P1", "P2", None, "P3", "P2", "P1", "P4"],
                        "doc_id": ["d1", "d1", "d1", "d2", "d2", "d3", "d3"]})
    cod = pd.DataFrame({"segment_id": ["a", "b", "c", "d", "e", "a", "e", "c"],
                        "code": ["x", "x", "y", "y", "x", "y", "y", "x"]})
    dseg = dd.from_pandas(seg, npartitions=3, sort=False)
    assert dseg.map_partitions(lambda d: "a" in set(d["segment_id"])).compute().sum() == 2
    dcod = dd.from_pandas(cod, npartitions=3)
    both, got = dask.compute(jl.code_frequencies(dcod, segments=dseg), jl.code_frequencies(dcod, segments=dseg, by="doc_id"))
    pd.testing.assert_frame_equal(both, jl.code_frequencies(cod, segments=seg))
    pd.testing.assert_frame_equal(got, jl.code_frequencies(cod, segments=dseg.compute(), by="doc_id"))
    assert both[["code", "n_segments", "n_participants"]].values.tolist() == [["x", 3, 2], ["y", 3, 2]]
    # by hand: x on a (P1, d1), b (P2, d1), c (no one: left out), e (P1, d3); y on a, c, d (P2, d2), e
    assert got[["code", "doc_id", "n_segments", "n_participants"]].values.tolist() == [
        ["x", "d1", 2, 2], ["x", "d3", 1, 1], ["y", "d1", 1, 1], ["y", "d2", 1, 1], ["y", "d3", 1, 1]]
    # co_occurrence by participant takes the same first row, in pandas as in Dask
    co = jl.co_occurrence(cod, segments=seg, level="participant")
    pd.testing.assert_frame_equal(jl.co_occurrence(dcod, segments=dseg, level="participant").compute(), co)
    assert co[["code_a", "code_b", "count"]].values.tolist() == [["x", "y", 2]]   # P1 (a, e), P2 (b, d)


def test_frequency_errors(client, study, dstudy):
    (ds, dc, dp), _ = dstudy
    with pytest.raises(JourneylabError, match="missing column.*'participant_id'"):     # at once, from the columns
        jl.code_frequencies(dc, segments=ds[["segment_id", "text"]])
    with pytest.raises(JourneylabError, match="by='persona' is not a segments column"):
        jl.code_frequencies(dc, segments=ds, by="persona")
    with pytest.raises(JourneylabError, match="several coders.*amara, jonas"):        # data-dependent: on compute
        jl.code_frequencies(dc, segments=ds).compute()
    odd = dd.from_pandas(pd.DataFrame({"segment_id": ["P01-t008"], "code": ["no_such_code"]}), npartitions=1)
    with pytest.raises(JourneylabError, match="'no_such_code' in `codings` is not in the codebook"):
        jl.code_frequencies(odd, segments=ds, codebook=study.codebook).compute()
