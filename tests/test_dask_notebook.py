"""The Dask route: `journeylab run ... --param scheduler=... --param events_parquet=...`.

The second study's raw event log (its own column names: member, ts, action, platform) is written
as a parquet dataset of several files in tmp, ordered by time so users straddle files (the
funnel's shuffle by user matters). Notebook 05 counts the funnel with pandas on study.events;
notebook 09 (scale) counts it on the parquet log on a LocalCluster started here (2 workers,
threads, in this process so the test can see what ran on it), both in one `run` with the two
parameters; the funnel tables the two notebooks write must be equal. Cost: two kernels and one
cluster (~20-30 s).
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
NB09 = NOTEBOOK_DIR / "09_scale.ipynb"
#: notebook 05's pandas table → notebook 09's Dask table
FUNNEL_TABLES = {"funnel_steps.csv": "funnel_steps_dask.csv", "funnel_by_device.csv": "funnel_by_device_dask.csv"}


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


def test_notebook_09_on_a_cluster_gives_the_pandas_funnel_of_05(cluster, tmp_path):
    log = _parquet_log(tmp_path / "events")
    out = tmp_path / "out"
    before = cluster.scheduler.transition_counter
    manifest = run(OTHER, out, notebooks=[NB05, NB09], quiet=True,
                   parameters={"scheduler": cluster.scheduler_address, "events_parquet": str(log)})
    assert manifest["status"] == "ok"
    assert manifest["parameters"]["events_parquet"] == str(log)
    # the funnels ran on the cluster (thousands of task transitions; the scheduler forgets the tasks themselves)
    assert cluster.scheduler.transition_counter - before > 500
    for pandas_name, dask_name in FUNNEL_TABLES.items():
        a, b = pd.read_csv(out / pandas_name), pd.read_csv(out / dask_name)
        assert len(a) > 0, pandas_name
        pd.testing.assert_frame_equal(a, b, obj=dask_name)
    # notebook 05 ignored the Dask parameters: its before/after test ran on study.events as always
    assert (out / "one-page_payment_form_before_after.csv").is_file()


def test_events_parquet_applies_study_yml(tmp_path, other_study):
    """jl.read_events_parquet: the study's column names and event map, as load_study reads events.csv."""
    import journeylab as jl
    from journeylab.errors import JourneylabError

    study = other_study
    log = _parquet_log(tmp_path / "events")
    got = jl.read_events_parquet(study, path=log).compute().sort_values(["timestamp", "user_id", "event"], kind="stable")
    want = study.events.sort_values(["timestamp", "user_id", "event"], kind="stable")
    assert list(got.columns) == ["user_id", "timestamp", "event", "device"]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)
    assert str(got["timestamp"].dtype).startswith("datetime64")
    # an event name study.yml does not map fails when computed, naming it; a missing column at once
    raw = pd.read_csv(OTHER / "events.csv", dtype=str)
    (tmp_path / "bad").mkdir()
    raw.assign(action=raw["action"].where(raw.index != 5, "teleported")).to_parquet(tmp_path / "bad" / "p.parquet")
    with pytest.raises(JourneylabError, match="'teleported' \\(1 rows\\) belong to no known stage"):
        jl.read_events_parquet(study, path=tmp_path / "bad").compute()
    (tmp_path / "nocol").mkdir()
    raw.drop(columns=["ts"]).to_parquet(tmp_path / "nocol" / "p.parquet")
    with pytest.raises(JourneylabError, match="lacks column\\(s\\) 'ts' \\(study.yml maps 'timestamp' to it\\)"):
        jl.read_events_parquet(study, path=tmp_path / "nocol")
