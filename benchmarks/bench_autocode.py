"""Benchmark: journeylab.coding.rules against a per-code ``str.contains`` loop on the same input.

    .venv/bin/python benchmarks/bench_autocode.py            # 1,000,000 segments x 100 codes
    .venv/bin/python benchmarks/bench_autocode.py --n 50000  # quicker

Builds a synthetic corpus (seeded): a vocabulary of pseudo-words with inflections ("-s", "-ed",
"-ing"), segments of 6–30 words with commas and full stops, 10% interviewer turns, and a codebook
of ``--codes`` codes, each with 4 keywords, 1–2 phrases, an exclusion term for every third code
and a near-pair for every fifth. The baseline is what an analyst would write without an index:
for each code, one ``Series.str.contains`` with a regular expression listing every inflected
form of the code's keywords and phrases (and near-pairs as bounded gaps), minus a second
``str.contains`` for the exclusions, restricted to participant turns. Both must give identical
(segment, code) pairs; the script asserts it and prints segments/s for both, the ratio, and the
peak resident memory of the process (``resource.getrusage``, which includes the input frame) and
the peak allocation of autocode itself (``tracemalloc``, on a second, untimed run).
"""
from __future__ import annotations

import argparse
import re
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source tree without installing

import numpy as np
import pandas as pd

import journeylab as jl
from journeylab.coding.rules import stem
from journeylab.study.codebook import Code, Codebook, Rules

CONS = list("bcdfghjklmnprstvwz")
VOWELS = list("aeiou")


def pseudo_words(rng, n, syllables=(2, 3)):
    out = set()
    while len(out) < n:
        k = rng.integers(syllables[0], syllables[1] + 1)
        w = "".join(rng.choice(CONS) + rng.choice(VOWELS) for _ in range(k)) + rng.choice(CONS)
        out.add(w)
    return sorted(out)


def build(n_segments: int, n_codes: int, seed: int = 2026):
    rng = np.random.default_rng(seed)
    bases = pseudo_words(rng, 2600)
    rule_bases, filler = bases[:600], bases[600:]
    inflect = lambda w: [w, w + "s", w + "ed", w + "ing"]  # noqa: E731
    rule_stems = {stem(f) for w in rule_bases for f in inflect(w)}
    filler_forms = [f for w in filler for f in inflect(w) if stem(f) not in rule_stems]
    filler_forms += ["the", "a", "it", "was", "i", "and", "to", "of", "my", "they", "we", "so"] * 40
    rule_forms = [f for w in rule_bases for f in inflect(w)]

    # codebook: 4 keywords, 1-2 phrases (2 words), exclusions, near pairs; words drawn from rule_bases
    codes, spec = [], []
    pool = list(rule_bases)
    rng.shuffle(pool)
    it = iter(pool * 3)
    for k in range(n_codes):
        kws = [next(it) for _ in range(4)]
        phrases = [f"{next(it)} {next(it)}" for _ in range(1 + k % 2)]
        exclude = [next(it)] if k % 3 == 0 else []
        near = [[next(it), next(it), 4]] if k % 5 == 0 else []
        codes.append(Code(f"code_{k:03d}", rules=Rules(keywords=kws, phrases=phrases, exclude=exclude, near=near)))
        spec.append((kws, phrases, exclude, near))
    codebook = Codebook(codes, name="bench")

    # segments: filler words with ~1 rule word per 12 tokens, built in blocks to keep memory low
    filler_arr = np.array(filler_forms, dtype=object)
    rule_arr = np.array(rule_forms, dtype=object)
    punct_arr = np.array(["", "", "", "", "", "", ",", "."], dtype=object)
    texts = []
    for lo in range(0, n_segments, 50_000):
        lengths = rng.integers(6, 31, size=min(50_000, n_segments - lo))
        total = int(lengths.sum())
        is_rule = rng.random(total) < 0.08
        words = np.where(is_rule, rule_arr[rng.integers(0, len(rule_forms), size=total)],
                         filler_arr[rng.integers(0, len(filler_forms), size=total)])
        words = (words + punct_arr[rng.integers(0, len(punct_arr), size=total)]).tolist()
        pos = 0
        for n in lengths.tolist():
            s = " ".join(words[pos:pos + n])
            pos += n
            texts.append(s[:1].upper() + s[1:])
    roles = np.where(rng.random(n_segments) < 0.1, "interviewer", "participant")
    segments = pd.DataFrame({"segment_id": [f"S{i:07d}" for i in range(n_segments)], "speaker_role": roles,
                             "text": texts})
    vocab = sorted(set(filler_forms) | set(rule_forms))
    return segments, codebook, spec, vocab


def baseline(segments, spec, vocab, names):
    """One str.contains per code (plus one for its exclusions): the straightforward loop."""
    forms: dict[str, list[str]] = {}
    for w in vocab:
        forms.setdefault(stem(w), []).append(w)

    def alt(word):
        return "(?:" + "|".join(sorted(forms[stem(word)], key=len, reverse=True)) + ")"

    def phrase(p):
        return r"\b" + r"\W+".join(alt(w) for w in p.split()) + r"\b"

    text = segments["text"]
    participant = (segments["speaker_role"] == "participant").to_numpy()
    ids = segments["segment_id"].to_numpy()
    rows = []
    for name, (kws, phrases, exclude, near) in zip(names, spec):
        parts = [r"\b" + alt(k) + r"\b" for k in kws] + [phrase(p) for p in phrases]
        for a, b, w in near:
            gap = rf"\W+(?:[^\W_]+\W+){{0,{w - 1}}}"
            parts.append(rf"\b{alt(a)}{gap}{alt(b)}\b|\b{alt(b)}{gap}{alt(a)}\b")
        hit = text.str.contains("|".join(parts), case=False, regex=True).to_numpy().copy()
        if exclude:
            hit &= ~text.str.contains("|".join(phrase(x) for x in exclude), case=False, regex=True).to_numpy()
        hit &= participant
        rows.append(pd.DataFrame({"segment_id": ids[hit], "code": name}))
    return pd.concat(rows, ignore_index=True)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="number of segments (default 1,000,000)")
    ap.add_argument("--codes", type=int, default=100, help="number of codes (default 100)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--no-tracemalloc", action="store_true",
                    help="skip the second autocode run that measures its own peak allocation")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    segments, codebook, spec, vocab = build(args.n, args.codes, args.seed)
    print(f"built {len(segments):,} segments ({segments['text'].str.len().sum() / 1e6:.0f} M characters), "
          f"{len(codebook)} codes in {time.perf_counter() - t0:.1f} s; peak RSS {peak_mb():,.0f} MB")

    t0 = time.perf_counter()
    ours = jl.autocode(segments, codebook=codebook, progress=sys.stderr.isatty())
    t_ours = time.perf_counter() - t0
    print(f"autocode:          {t_ours:8.1f} s  {args.n / t_ours:12,.0f} segments/s  "
          f"{len(ours):,} codings; peak RSS so far {peak_mb():,.0f} MB")

    if not args.no_tracemalloc:
        import tracemalloc

        tracemalloc.start()
        jl.autocode(segments, codebook=codebook, progress=False)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"autocode's own peak allocation (tracemalloc, second run): {peak / 2**20:,.0f} MB")

    t0 = time.perf_counter()
    base = baseline(segments, spec, vocab, codebook.names)
    t_base = time.perf_counter() - t0
    print(f"str.contains loop: {t_base:8.1f} s  {args.n / t_base:12,.0f} segments/s  {len(base):,} codings")

    a = set(zip(ours["segment_id"], ours["code"]))
    b = set(zip(base["segment_id"], base["code"]))
    if a != b:
        only_a, only_b = sorted(a - b)[:5], sorted(b - a)[:5]
        raise SystemExit(f"codings differ: {len(a - b)} only in autocode (e.g. {only_a}), "
                         f"{len(b - a)} only in the loop (e.g. {only_b})")
    print(f"identical codings: yes ({len(a):,} segment x code pairs)")
    print(f"ratio: autocode is {t_base / t_ours:.1f}x the per-code str.contains loop "
          f"(target >= 10x); peak RSS {peak_mb():,.0f} MB (target < 2048 MB)")


if __name__ == "__main__":
    main()
