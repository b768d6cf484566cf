"""Benchmark: span-aware coding analyses and re-anchoring (issue 15).

    .venv/bin/python benchmarks/bench_spans.py                       # the issue's sizes
    .venv/bin/python benchmarks/bench_spans.py --codings 100000 --turns 20000 --anchor 2000

1. Frequencies and co-occurrence: ``--codings`` codings over ``--turns`` participant turns (every
   fifth coding a whole turn, the rest sub-turn spans, several codes per turn, some overlapping).
   Side by side, on the same data: the turn-level computation (``segment_id``, ``code`` only;
   ``code_frequencies`` and ``co_occurrence(level="segment")``) and the span-aware one (the frame
   with ``doc_id``, ``start``, ``end``, ``text``; ``code_frequencies`` and
   ``co_occurrence(level="overlap")``). Prints both wall times and their ratio (target: at most 2).
2. Re-anchoring: ``--anchor`` fingerprinted codings over 200 transcripts; every transcript is
   edited (a line inserted at the top, one turn reworded, one deleted), then each coding is
   checked and re-anchored as ``load_study`` does (``journeylab.study.anchor``). Prints the wall
   time and how many codings stayed, moved, changed or were lost (target: seconds).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source tree without installing

import numpy as np
import pandas as pd

import journeylab as jl
from journeylab.study.anchor import fingerprint, parse_fingerprint, reanchor

WORDS = ("delivery parcel courier checkout basket price voucher sofa throw cushion colour returns refund "
         "form postcode email account review photo size fabric late early lovely rude slow quick").split()


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def analyses(n_codings: int, n_turns: int, n_codes: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_docs = max(1, n_turns // 100)
    turn_len = rng.integers(80, 400, n_turns)
    doc = np.arange(n_turns) // (n_turns // n_docs + 1)
    start = np.zeros(n_turns, dtype=np.int64)
    for d in np.unique(doc):  # turns follow each other in their document, 20 characters apart
        m = doc == d
        start[m] = np.concatenate([[0], np.cumsum(turn_len[m][:-1] + 20)])
    segments = pd.DataFrame({"segment_id": [f"D{d:05d}-t{i:06d}" for i, d in enumerate(doc)],
                             "doc_id": [f"D{d:05d}" for d in doc], "participant_id": [f"P{d % 400:04d}" for d in doc],
                             "speaker_role": "participant", "start": start, "end": start + turn_len})
    turn = rng.integers(0, n_turns, n_codings)
    whole = rng.random(n_codings) < 0.2
    a = (rng.random(n_codings) * turn_len[turn] * 0.6).astype(np.int64)
    length = np.maximum(5, (rng.random(n_codings) * turn_len[turn] * 0.5).astype(np.int64))
    s = np.where(whole, 0, a) + start[turn]
    e = np.where(whole, turn_len[turn], np.minimum(a + length, turn_len[turn])) + start[turn]
    codes = np.array([f"code_{k:03d}" for k in range(n_codes)])
    spans = pd.DataFrame({"segment_id": segments["segment_id"].to_numpy()[turn],
                          "code": codes[rng.integers(0, n_codes, n_codings)],
                          "doc_id": segments["doc_id"].to_numpy()[turn],
                          "start": pd.array(np.where(whole, -1, s), dtype="Int64"),
                          "end": pd.array(np.where(whole, -1, e), dtype="Int64"), "text": "x"})
    spans.loc[whole, ["start", "end"]] = pd.NA
    turns_only = spans[["segment_id", "code"]]
    print(f"analyses: {n_codings:,} codings ({whole.mean():.0%} whole turns) over {n_turns:,} turns, {n_codes} codes")
    f_turn, t_ft = _timed(lambda: jl.code_frequencies(turns_only, segments=segments))
    f_span, t_fs = _timed(lambda: jl.code_frequencies(spans, segments=segments))
    pd.testing.assert_frame_equal(f_turn, f_span)  # the same counts: spans count in the turn they start in
    c_turn, t_ct = _timed(lambda: jl.co_occurrence(turns_only, segments=segments))
    c_span, t_cs = _timed(lambda: jl.co_occurrence(spans, segments=segments, level="overlap"))
    print(f"  {'':28s} {'turn-level':>11s} {'span-aware':>11s} {'ratio':>7s}")
    print(f"  {'code_frequencies':28s} {t_ft:10.2f}s {t_fs:10.2f}s {t_fs / t_ft:7.2f}")
    print(f"  {'co_occurrence':28s} {t_ct:10.2f}s {t_cs:10.2f}s {t_cs / t_ct:7.2f}  "
          f"(pairs co-occurring: {int(c_turn['count'].sum()):,} by turn, {int(c_span['count'].sum()):,} by overlap)")
    total_t, total_s = t_ft + t_ct, t_fs + t_cs
    print(f"  {'both':28s} {total_t:10.2f}s {total_s:10.2f}s {total_s / total_t:7.2f}  (target <= 2)")


def anchoring(n_codings: int, n_docs: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    docs, coded = {}, []
    per_doc = max(1, n_codings // n_docs)
    for d in range(n_docs):
        turns = [" ".join(rng.choice(WORDS, rng.integers(12, 60))) + "." for _ in range(60)]
        lines = [f"[00:{k // 60:02d}:{k % 60:02d}] {'Interviewer' if k % 2 == 0 else f'P{d:03d}'}: {t}"
                 for k, t in enumerate(turns)]
        text = "\n\n".join(lines) + "\n"
        bounds, pos = [], 0
        for line in lines:
            lab = line.index(": ") + 2
            bounds.append((pos + lab, pos + len(line)))
            pos += len(line) + 2
        docs[d] = (lines, text, bounds)
        for _ in range(per_doc):
            k = int(rng.integers(1, 60, 1)[0] | 1)  # participant turns
            a, b = bounds[min(k, 59)]
            if rng.random() < 0.5:  # a sub-turn span of a few words
                cut = text.find(" ", a + int(rng.integers(0, (b - a) // 2)))
                a, b = cut + 1, min(b, text.find(" ", cut + 30) if text.find(" ", cut + 30) > 0 else b)
            coded.append((d, a, b, text[a:b], fingerprint(text, a, b)))
    edited = {}
    for d, (lines, text, bounds) in docs.items():
        new = list(lines)
        new.insert(0, "[00:00:00] Interviewer: Recording now.")  # shifts every position
        cut = new[10].index(": ") + 12
        new[10] = new[10][:cut] + new[10][cut:].replace(" ", " really ", 1)  # reword a turn
        del new[20]  # delete a turn
        t = "\n\n".join(new) + "\n"
        turns, pos = [], 0
        for line in new:
            turns.append((pos + line.index(": ") + 2, pos + len(line)))
            pos += len(line) + 2
        edited[d] = (t, np.array(turns))
    print(f"re-anchoring: {len(coded):,} fingerprinted codings over {n_docs} transcripts, every transcript edited")

    def run():
        counts: dict = {}
        for d, a, b, old, fp in coded:
            text, turns = edited[d]
            place = reanchor(text, a, b, parse_fingerprint(fp), old_text=old, turns=turns)
            counts[place.status] = counts.get(place.status, 0) + 1
        return counts

    counts, t = _timed(run)
    print(f"  {t:.2f}s: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--codings", type=int, default=1_000_000)
    ap.add_argument("--turns", type=int, default=200_000)
    ap.add_argument("--codes", type=int, default=40)
    ap.add_argument("--anchor", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args(argv)
    analyses(args.codings, args.turns, args.codes, args.seed)
    anchoring(args.anchor, 200, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
