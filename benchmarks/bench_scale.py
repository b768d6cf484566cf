"""Benchmark: journeylab.measure.funnel with Dask on a 50,000,000-event partitioned parquet log.

    .venv/bin/python benchmarks/bench_scale.py                          # the issue's size
    .venv/bin/python benchmarks/bench_scale.py --events 5000000 --pandas-sizes 1000000,2500000
    .venv/bin/python benchmarks/bench_scale.py --keep                   # keep the parquet log

1. Generates a seeded synthetic event log chunk by chunk (bounded memory: one chunk of users in
   memory at a time) into ``--files`` parquet files under ``--data`` (default
   ``benchmarks/.data/``, which ignores itself in git). Every user arrives at a random time in four
   weeks and walks a 5-step funnel (product_view → add_to_cart → checkout_start →
   payment_submitted → order_completed) with delays from seconds to days (some beyond the window),
   among background events (20 events per user on average). Each chunk's rows are scattered over
   all files, so every user's events are spread over every partition, as in a log partitioned by
   arrival: the funnel has to shuffle. Columns: ``user_id`` (text, ``u00000001``), ``timestamp``
   (millisecond resolution, whole seconds), ``event``, ``device``.
2. Starts a ``LocalCluster`` of 2 worker processes, 1 thread each, with ``--memory-limit`` per
   worker (spilling to disk under the data folder).
3. For each size in ``--pandas-sizes`` (prefixes of the files) runs, side by side, pandas
   (``pd.read_parquet`` + ``journeylab.measure.funnel``) and Dask (``dd.read_parquet`` +
   ``journeylab.funnel(...).compute()``), checks the steps frames are equal, and prints both
   wall times, their ratio and peak memory; then Dask alone on all ``--events``.

Peak memory: every worker's resident set size (``psutil``, sampled every 0.2 s through
``client.run``) and, for pandas, this process's resident-set growth over its size before the
call (sampled every 5 ms). Wall times include reading the parquet files.
"""
from __future__ import annotations

import argparse
import gc
import logging
import os
import shutil
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source tree without installing

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import journeylab as jl

STEPS = ["product_view", "add_to_cart", "checkout_start", "payment_submitted", "order_completed"]
RATES = [0.45, 0.6, 0.7, 0.85]           # conditional step rates after product_view
BACKGROUND = ["session_start", "page_view", "site_search", "review_read", "help_view", "wishlist_add",
              "coupon_applied", "logout"]
DEVICES = ["desktop", "mobile", "tablet"]
T0 = np.datetime64("2026-08-03T00:00:00", "ms")
EVENTS_PER_USER = 20
MB = 1 << 20


# ----------------------------------------------------------------------------- data


def _chunk(rng: np.random.Generator, first_user: int, n_users: int) -> pa.Table:
    start = rng.integers(0, 28 * 86400, n_users)                       # seconds after T0
    device = rng.choice(len(DEVICES), n_users, p=[0.45, 0.45, 0.10])
    # funnel depth: 0 = never viewed a product, k = reached step k
    depth = (rng.random(n_users) < 0.7).astype(np.int64)
    alive = depth == 1
    for r in RATES:
        alive &= rng.random(n_users) < r
        depth += alive
    step_users = np.repeat(np.arange(n_users), depth)
    step_k = np.arange(len(step_users)) - np.repeat(np.cumsum(depth) - depth, depth)
    gap = np.where(rng.random(len(step_users)) < 0.04, rng.exponential(4 * 86400, len(step_users)),
                   rng.exponential(1200, len(step_users))).astype(np.int64)
    gap[step_k == 0] = 0
    # cumulative gaps within each user (gap is 0 at each user's first step)
    csum = np.cumsum(gap)
    first = (np.cumsum(depth) - depth)[depth > 0]
    step_t = start[step_users] + csum - np.repeat(csum[first], depth[depth > 0])
    n_bg = np.maximum(rng.poisson(EVENTS_PER_USER - depth), 1)
    bg_users = np.repeat(np.arange(n_users), n_bg)
    bg_t = start[bg_users] + rng.integers(-86400, 10 * 86400, len(bg_users))
    bg_e = rng.integers(0, len(BACKGROUND), len(bg_users))
    users = np.concatenate([step_users, bg_users])
    secs = np.concatenate([step_t, bg_t])
    names = np.array(STEPS + BACKGROUND, dtype=object)
    ev = np.concatenate([step_k, len(STEPS) + bg_e])
    uid = pc.binary_join_element_wise("u", pc.utf8_lpad(pa.array(first_user + users).cast(pa.string()), 8, "0"), "")
    return pa.table({
        "user_id": uid,
        "timestamp": pa.array((T0 + secs.astype("timedelta64[s]")).astype("datetime64[ms]")),
        "event": pa.DictionaryArray.from_arrays(pa.array(ev.astype(np.int32)), pa.array(names.tolist())).cast(pa.string()),
        "device": pa.array(np.array(DEVICES, dtype=object)[device[users]].tolist(), pa.string()),
    })


def generate(folder: Path, n_events: int, n_files: int, seed: int, chunk_events: int = 2_000_000) -> list[Path]:
    """Write ``n_events`` events into ``n_files`` parquet files, one chunk of users at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".gitignore").write_text("*\n")
    rng = np.random.default_rng(seed)
    paths = [folder / f"part-{i:04d}.parquet" for i in range(n_files)]
    writers = None
    written, first_user = 0, 0
    try:
        while written < n_events:
            n_users = max(1, chunk_events // EVENTS_PER_USER)
            table = _chunk(rng, first_user, n_users)
            first_user += n_users
            table = table.slice(0, min(len(table), n_events - written))
            written += len(table)
            dest = rng.integers(0, n_files, len(table))
            order = np.argsort(dest, kind="stable")
            bounds = np.searchsorted(dest[order], np.arange(n_files + 1))
            table = table.take(pa.array(order))
            if writers is None:
                writers = [pq.ParquetWriter(p, table.schema, compression="snappy") for p in paths]
            for i, w in enumerate(writers):
                w.write_table(table.slice(bounds[i], bounds[i + 1] - bounds[i]))
            print(f"\r  generated {written:,} / {n_events:,} events", end="", flush=True)
    finally:
        for w in writers or []:
            w.close()
    print()
    return paths


# ----------------------------------------------------------------------------- measuring


class WorkerPeaks:
    """Peak RSS of every worker, sampled through ``client.run`` in a thread."""

    def __init__(self, client, every: float = 0.2):
        self.client, self.every, self.peak = client, every, {}
        self._stop = threading.Event()

    def _rss():
        import psutil as _p

        return _p.Process().memory_info().rss

    def _loop(self):
        while not self._stop.is_set():
            try:
                for w, rss in self.client.run(WorkerPeaks._rss).items():
                    self.peak[w] = max(self.peak.get(w, 0), rss)
            except Exception:  # noqa: BLE001 - a worker restarting; keep sampling
                pass
            self._stop.wait(self.every)

    def __enter__(self):
        self.peak = {}
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._stop.clear()


def rss_peak(fn):
    """(result, seconds, peak RSS growth in bytes) of fn() in this process."""
    gc.collect()
    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            stop.wait(0.005)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t
    stop.set()
    th.join()
    return out, dt, max(peak[0], proc.memory_info().rss) - base


def run_pandas(paths):
    events = pd.read_parquet(paths)
    return jl.funnel(events, steps=STEPS, window="7D")


def run_dask(paths, client, npartitions=None):
    import dask.dataframe as dd

    ddf = dd.read_parquet([str(p) for p in paths])
    f = jl.funnel(ddf, steps=STEPS, window="7D", npartitions=npartitions)
    with WorkerPeaks(client) as peaks:
        t = time.perf_counter()
        result = f.compute()
        dt = time.perf_counter() - t
    return result, dt, dict(peaks.peak)


def fmt_peaks(peaks: dict) -> str:
    return ", ".join(f"{v / MB:,.0f} MB" for _, v in sorted(peaks.items()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=50_000_000)
    ap.add_argument("--files", type=int, default=40, help="parquet files (Dask partitions)")
    ap.add_argument("--pandas-sizes", default="5000000,20000000",
                    help="comma-separated sizes at which pandas runs too (rounded to whole files)")
    ap.add_argument("--memory-limit", default="3GiB", help="per worker")
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parent / ".data" / "scale")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--keep", action="store_true", help="keep the generated parquet log")
    args = ap.parse_args(argv)

    from dask.distributed import Client, LocalCluster

    print(f"journeylab {jl.__version__}; {os.cpu_count()} cores; data in {args.data}")
    free = shutil.disk_usage(args.data.parent if args.data.parent.exists() else Path(".")).free
    print(f"free disk: {free / 2**30:.1f} GiB")
    t = time.perf_counter()
    paths = generate(args.data, args.events, args.files, args.seed)
    size = sum(p.stat().st_size for p in paths)
    rows = [pq.ParquetFile(p).metadata.num_rows for p in paths]
    print(f"generated {sum(rows):,} events in {len(paths)} files ({size / MB:,.0f} MB parquet) "
          f"in {time.perf_counter() - t:.0f} s")
    try:
        t = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit=args.memory_limit,
                               local_directory=str(args.data / "dask-worker-space"), dashboard_address=":0",
                               silence_logs=logging.ERROR)
        client = Client(cluster)
        print(f"LocalCluster: 2 workers x 1 thread, memory_limit {args.memory_limit} each, "
              f"started in {time.perf_counter() - t:.1f} s")
        cum = np.cumsum(rows)
        print(f"\n{'events':>12} {'pandas s':>9} {'pandas peak':>12} {'dask s':>8} {'dask/pandas':>11}  dask worker peaks")
        for want in [int(x) for x in args.pandas_sizes.split(",") if x]:
            k = int(np.searchsorted(cum, want) + 1)
            if k > len(paths):
                continue
            sub = paths[:k]
            res_p, tp, mp = rss_peak(lambda: run_pandas(sub))
            res_d, td, peaks = run_dask(sub, client)
            pd.testing.assert_frame_equal(res_d.steps, res_p.steps)
            print(f"{int(cum[k - 1]):>12,} {tp:>9.1f} {mp / MB:>9,.0f} MB {td:>8.1f} {td / tp:>11.1f}  {fmt_peaks(peaks)}"
                  "  (steps equal)")
            del res_p
            gc.collect()
        res_d, td, peaks = run_dask(paths, client)
        print(f"{int(cum[-1]):>12,} {'-':>9} {'-':>12} {td:>8.1f} {'-':>11}  {fmt_peaks(peaks)}")
        print("\n" + res_d.steps[["step", "users", "conversion_from_start", "median_time_from_previous"]]
              .to_string(index=False))
        client.close()
        cluster.close()
    finally:
        if not args.keep:
            shutil.rmtree(args.data, ignore_errors=True)
            print(f"removed {args.data}")


if __name__ == "__main__":
    main()
