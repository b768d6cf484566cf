"""Benchmark: journeylab.measure.funnel on a 10,000,000-event log of 1,000,000 users.

    .venv/bin/python benchmarks/bench_funnel.py                       # the issue's size
    .venv/bin/python benchmarks/bench_funnel.py --users 100000        # 10x smaller, quicker
    .venv/bin/python benchmarks/bench_funnel.py --user-dtype str      # user ids as text

Builds a seeded synthetic log sorted by time, as an analytics export is: every user arrives at a
random time in eight weeks and walks a 5-step funnel (product_view → add_to_cart →
checkout_start → shipping_submitted → order_completed) with realistic step rates, delays from
seconds to days (some beyond the 7-day window), repeated attempts, and background events
(session_start, product_view, site_search, review_read) up to 10 events per user on average.
Columns: ``user_id`` (categorical by default, as ``read_parquet`` gives for a dictionary-encoded
column; ``--user-dtype int`` or ``str`` for the other common forms), ``timestamp``
(datetime64[ns]), ``event`` (categorical), ``device`` (categorical).

It then times, side by side and alternating (the machine is shared, so ratios measured in one run
matter more than absolute seconds):

- ``journeylab.funnel(events, steps=5 steps, window="7D")``;
- a plain vectorised pandas funnel, the way an analyst writes it: per step, filter the step's
  events, merge with the previous step's per-user time and the deadline, keep later events inside
  the window, ``groupby(user).min()``.

and prints the best and median wall time of each, their ratio, and the peak memory of each call:
the peak of Python-tracked allocations during the call (``tracemalloc``, which numpy and pandas
report to) and the peak resident-set growth over the process's size before the call (``psutil``
sampling every 5 ms), both against the event frame's ``memory_usage(deep=True)``.

Correctness: the counts of both are compared, and journeylab's per-user result is checked against
a plain per-user Python implementation on a 1% sample of users (each user's events sorted, then
walked step by step).
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source tree without installing

import numpy as np
import pandas as pd

import journeylab as jl

STEPS = ["product_view", "add_to_cart", "checkout_start", "shipping_submitted", "order_completed"]
RATES = [0.33, 0.56, 0.62, 0.88]          # conditional step rates after product_view
BACKGROUND = (["session_start", "product_view", "site_search", "review_read"], [0.25, 0.45, 0.15, 0.15])
T_START = np.datetime64("2026-08-03T00:00:00", "ns")


def build(n_users: int, n_events: int, seed: int, user_dtype: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    span = 56 * 86400.0
    start = rng.uniform(0, span, n_users)
    # funnel walk: a step is reached with its rate; delays lognormal around minutes, 4% take days
    reached = np.ones(n_users, dtype=bool) & (rng.random(n_users) < 0.9)
    parts_u, parts_t, parts_e = [], [], []
    t = start.copy()
    parts_u.append(np.flatnonzero(reached))
    parts_t.append(t[reached])
    parts_e.append(np.full(reached.sum(), 1, dtype=np.int8))       # product_view
    for k, rate in enumerate(RATES, start=1):
        reached &= rng.random(n_users) < rate
        delay = rng.lognormal(np.log(90), 1.2, n_users)
        slow = rng.random(n_users) < 0.04
        delay[slow] = rng.uniform(1, 10, slow.sum()) * 86400
        t = t + delay
        idx = np.flatnonzero(reached)
        parts_u.append(idx)
        parts_t.append(t[idx])
        parts_e.append(np.full(len(idx), 10 + k, dtype=np.int8))
        # repeated attempts: some users do the step twice
        again = idx[rng.random(len(idx)) < 0.15]
        parts_u.append(again)
        parts_t.append(t[again] + rng.exponential(3600, len(again)))
        parts_e.append(np.full(len(again), 10 + k, dtype=np.int8))
    n_funnel = sum(len(p) for p in parts_u)
    n_bg = n_events - n_funnel
    weights = rng.lognormal(0, 0.8, n_users)
    counts = rng.multinomial(n_bg, weights / weights.sum())
    bu = np.repeat(np.arange(n_users), counts)
    parts_u.append(bu)
    parts_t.append(start[bu] + rng.normal(0, 2 * 86400, n_bg))
    names, probs = BACKGROUND
    parts_e.append(rng.choice(np.array([0, 1, 2, 3], dtype=np.int8), n_bg, p=probs))
    u = np.concatenate(parts_u)
    secs = np.concatenate(parts_t)
    e = np.concatenate(parts_e)
    del parts_u, parts_t, parts_e, bu
    order = np.argsort(secs, kind="stable")               # exports come sorted by time
    u, secs, e = u[order], secs[order], e[order]
    del order
    ts = T_START + (secs * 1e9).astype("timedelta64[ns]")
    del secs
    # event codes -> categorical
    cat_names = names + STEPS[1:]
    codes = np.where(e >= 10, e - 10 + len(names) - 1, e).astype(np.int8)
    event = pd.Categorical.from_codes(codes, categories=cat_names)
    labels = pd.Index([f"u{i:07d}" for i in range(n_users)])
    if user_dtype == "category":
        uid = pd.Categorical.from_codes(u.astype(np.int32), categories=labels)
    elif user_dtype == "int":
        uid = u.astype(np.int64) + 1_000_001
    else:
        uid = pd.array(labels.take(u), dtype="str")
    device = pd.Categorical.from_codes(rng.choice(np.array([0, 1, 2], dtype=np.int8), n_users,
                                                  p=[0.6, 0.32, 0.08])[u], categories=["mobile", "desktop", "tablet"])
    return pd.DataFrame({"user_id": uid, "timestamp": ts, "event": event, "device": device})


def pandas_funnel(df: pd.DataFrame, steps, window: str) -> list[int]:
    """A plain vectorised pandas funnel: per step, merge candidates with the previous step's time."""
    w = pd.Timedelta(window)
    first = df.loc[df["event"] == steps[0], ["user_id", "timestamp"]].groupby("user_id", observed=True)[
        "timestamp"].min()
    state = pd.DataFrame({"t0": first, "prev": first})
    counts = [len(state)]
    for s in steps[1:]:
        cand = df.loc[df["event"] == s, ["user_id", "timestamp"]]
        m = cand.merge(state, left_on="user_id", right_index=True, how="inner")
        m = m[(m["timestamp"] >= m["prev"]) & (m["timestamp"] <= m["t0"] + w)]
        nxt = m.groupby("user_id", observed=True)["timestamp"].min()
        state = pd.DataFrame({"t0": state["t0"].reindex(nxt.index), "prev": nxt})
        counts.append(len(state))
    return counts


def reference(df: pd.DataFrame, steps, window: str) -> dict:
    """Per-user Python implementation: user -> number of steps reached (closed funnel, first entry)."""
    w = np.timedelta64(pd.Timedelta(window).value, "ns")
    d = df.assign(_row=np.arange(len(df))).sort_values(["user_id", "timestamp", "_row"])
    out = {}
    users = d["user_id"].to_numpy()
    ts = d["timestamp"].to_numpy()
    ev = d["event"].astype(str).to_numpy()
    bounds = np.flatnonzero(np.r_[True, users[1:] != users[:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:]):
        k, deadline = 0, None
        for i in range(a, b):
            if k == 0:
                if ev[i] == steps[0]:
                    k, deadline = 1, ts[i] + w
            elif k < len(steps) and ts[i] <= deadline and ev[i] == steps[k]:
                k += 1
        if k:
            out[users[a]] = k
    return out


class RssSampler:
    """Peak RSS growth during a block, sampled every 5 ms (psutil)."""

    def __init__(self):
        import psutil

        self.proc = psutil.Process(os.getpid())

    def __enter__(self):
        gc.collect()
        self.base = self.peak = self.proc.memory_info().rss
        self._stop = False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc):
        self._stop = True
        self._t.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)
        self.delta = self.peak - self.base


def measure(fn, label, frame_bytes):
    gc.collect()
    with RssSampler() as r:
        fn()
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {label:<22} peak allocations {peak / 1e6:7.0f} MB ({peak / frame_bytes:.2f}x frame), "
          f"peak RSS growth {r.delta / 1e6:7.0f} MB ({r.delta / frame_bytes:.2f}x frame)")
    return peak, r.delta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--events-per-user", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--user-dtype", choices=["category", "int", "str"], default="category")
    args = ap.parse_args(argv)
    n_events = int(args.users * args.events_per_user)
    t = time.perf_counter()
    df = build(args.users, n_events, args.seed, args.user_dtype)
    frame_bytes = int(df.memory_usage(deep=True).sum())
    print(f"log: {len(df):,} events, {args.users:,} users, user_id as {df['user_id'].dtype}, "
          f"frame {frame_bytes / 1e6:.0f} MB (memory_usage deep); built in {time.perf_counter() - t:.1f} s; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")

    ours = lambda: jl.funnel(df, steps=STEPS, window="7D")  # noqa: E731
    plain = lambda: pandas_funnel(df, STEPS, "7D")          # noqa: E731
    res = ours()                                             # warm-up (imports) + counts
    base_counts = plain()
    our_counts = res.steps["users"].tolist()
    print(f"counts journeylab : {our_counts}")
    print(f"counts plain pandas: {base_counts}")
    times = {"journeylab.measure.funnel": [], "plain pandas funnel": []}
    for _ in range(args.repeat):                             # alternate so both see the same load
        for name, fn in (("journeylab.measure.funnel", ours), ("plain pandas funnel", plain)):
            gc.collect()
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    print(f"wall time over {args.repeat} alternating runs (load average now {os.getloadavg()[0]:.1f}):")
    for name, ts in times.items():
        print(f"  {name:<22} best {min(ts):6.2f} s, median {np.median(ts):6.2f} s  ({', '.join(f'{x:.2f}' for x in ts)})")
    ratio_best = min(times["plain pandas funnel"]) / min(times["journeylab.measure.funnel"])
    ratio_med = np.median(times["plain pandas funnel"]) / np.median(times["journeylab.measure.funnel"])
    print(f"  plain / journeylab: {ratio_best:.2f}x (best), {ratio_med:.2f}x (median)  [target: < 5 s]")
    print("memory:")
    measure(ours, "journeylab.measure.funnel", frame_bytes)
    measure(plain, "plain pandas funnel", frame_bytes)
    print("  [target: journeylab peak < 2x the event frame]")

    # correctness against a per-user Python implementation on a 1% sample of users
    rng = np.random.default_rng(args.seed + 1)
    all_users = pd.unique(df["user_id"])
    sample = set(rng.choice(np.asarray(all_users), size=max(1, len(all_users) // 100), replace=False).tolist())
    sub = df[df["user_id"].isin(list(sample))]
    t = time.perf_counter()
    ref = reference(sub, STEPS, "7D")
    t_ref = time.perf_counter() - t
    units = res.units
    mine = units[units["user_id"].isin(list(sample))]
    got = dict(zip(mine["user_id"].tolist(), mine["steps_reached"].tolist()))
    ok = got == ref
    ref_counts = [sum(v > k for v in ref.values()) for k in range(len(STEPS))]
    print(f"per-user Python reference on {len(sample):,} users ({len(sub):,} events, {t_ref:.1f} s): "
          f"{ref_counts}; journeylab on the same users: "
          f"{[int((mine['steps_reached'] > k).sum()) for k in range(len(STEPS))]} -> "
          f"{'identical per user' if ok else 'MISMATCH'}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
