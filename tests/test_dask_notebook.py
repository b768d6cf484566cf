"""Notebook 05 on a Dask cluster: `journeylab run ... --param scheduler=... --param events_parquet=...`.

The second study's raw event log (its own column names: member, ts, action, platform) is written
as a parquet dataset of several files in tmp, ordered by time so users straddle files (the
funnel's shuffle by user matters). Notebook 05 runs once with pandas and once with the parquet
log on a LocalCluster started here (2 workers, threads, in this process so the test can see what
ran on it); the funnel tables the two runs write must be equal. Cost: two kernels of notebook 05
and one cluster (~20-30 s).
"""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from journeylab.run.pipeline import NOTEBOOK_DIR, run

distributed = pytest.importorskip("dask.distributed")

OTHER = Path(__file__).resolve().parent / "data" / "other_study"
NB05 = NOTEBOOK_DIR / "05_metrics.ipynb"
FUNNEL_TABLES = ["funnel_steps.csv", "funnel_by_device.csv", "funnel_by_device_comparisons.csv",
                 "funnel_definitions.csv"]


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=":0",
                                  silence_logs=logging.ERROR) as c:
        yield c


def _parquet_log(folder: Path) -> Path:
    raw = pd.read_csv(OTHER / "events.csv", dtype=str).sort_values("ts", kind="stable")
    folder.mkdir()
    for k, part in enumerate(range(0, len(raw), len(raw) // 3 + 1)):
        raw.iloc[part:part + len(raw) // 3 + 1].to_parquet(folder / f"part-{k}.parquet", index=False)
    assert len(list(folder.glob("*.parquet"))) == 3
    return folder


def test_notebook_05_on_a_cluster_gives_the_pandas_funnel(cluster, tmp_path):
    log = _parquet_log(tmp_path / "events")
    pandas_out, dask_out = tmp_path / "pandas", tmp_path / "dask"
    run(OTHER, pandas_out, notebooks=[NB05], quiet=True)
    before = cluster.scheduler.transition_counter
    manifest = run(OTHER, dask_out, notebooks=[NB05], quiet=True,
                   parameters={"scheduler": cluster.scheduler_address, "events_parquet": str(log)})
    assert manifest["status"] == "ok"
    assert manifest["parameters"]["events_parquet"] == str(log)
    # the funnels ran on the cluster (thousands of task transitions; the scheduler forgets the tasks themselves)
    assert cluster.scheduler.transition_counter - before > 500
    for name in FUNNEL_TABLES:
        a, b = pd.read_csv(pandas_out / name), pd.read_csv(dask_out / name)
        assert len(a) > 0, name
        pd.testing.assert_frame_equal(a, b, obj=name)
    # sections on pandas (paths, before/after) are the same too: they use study.events in both runs
    assert (pandas_out / "shipping_form_before_after.csv").read_bytes() == \
        (dask_out / "shipping_form_before_after.csv").read_bytes()


def test_events_parquet_applies_study_yml(tmp_path):
    """jl.read_events_parquet: the study's column names and event map, as load_study reads events.csv."""
    import journeylab as jl
    from journeylab.errors import JourneylabError

    study = jl.load_study(OTHER)
    log = _parquet_log(tmp_path / "events")
    got = jl.read_events_parquet(study, log).compute().sort_values(["timestamp", "user_id", "event"], kind="stable")
    want = study.events.sort_values(["timestamp", "user_id", "event"], kind="stable")
    assert list(got.columns) == ["user_id", "timestamp", "event", "device"]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)
    assert str(got["timestamp"].dtype).startswith("datetime64")
    # an event name study.yml does not map fails when computed, naming it; a missing column at once
    raw = pd.read_csv(OTHER / "events.csv", dtype=str)
    (tmp_path / "bad").mkdir()
    raw.assign(action=raw["action"].where(raw.index != 5, "teleported")).to_parquet(tmp_path / "bad" / "p.parquet")
    with pytest.raises(JourneylabError, match="'teleported' \\(1 rows\\) belong to no known stage"):
        jl.read_events_parquet(study, tmp_path / "bad").compute()
    (tmp_path / "nocol").mkdir()
    raw.drop(columns=["ts"]).to_parquet(tmp_path / "nocol" / "p.parquet")
    with pytest.raises(JourneylabError, match="lacks column\\(s\\) 'ts' \\(study.yml maps 'timestamp' to it\\)"):
        jl.read_events_parquet(study, tmp_path / "nocol")
