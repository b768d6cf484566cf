"""Benchmark: PII redaction — recall and precision per kind on the labelled corpus, and speed.

    .venv/bin/python benchmarks/bench_redaction.py                # corpus + 500 interviews/100,000 comments and a tenth
    .venv/bin/python benchmarks/bench_redaction.py --scale 0.1    # quicker: 50 interviews/10,000 comments and a tenth

Quality. ``tests/data/pii_corpus.yml`` holds sentences with planted details (value and kind) and
negative sentences that must come out unchanged. Each sentence is redacted with
``journeylab.study.redact.redact_texts`` (the corpus's participants as names, its region).
*Recall* of a kind: planted details of that kind whose every character was replaced. *Precision*
of a kind: replacements of that kind (as the detector labelled them) that overlap some planted
detail; a replacement in a negative sentence is a false positive. The script prints both per
kind, the overall figures, and the negative sentences that changed.

Speed. A study is synthesised (seeded): interviews of ~60 turns and short survey comments made
of ordinary sentences with a planted detail in about one sentence in ten, and redacted the way
``load_study`` does (``redact`` with documents for transcripts, ``redact_texts`` for comments,
one detector set for all). It prints MB/s at two sizes (default 500 interviews + 100,000 comments
and a tenth of that) and their ratio: a linear redaction gives about the same rate at both.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a source tree without installing

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from journeylab.study.redact import _Detector, _names_from, redact, redact_texts  # noqa: E402
from journeylab.study.transcripts import parse_transcript  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "pii_corpus.yml"


def load_corpus(path=CORPUS) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _planted_spans(text: str, pii: list) -> list:
    """(start, end, kind) of each planted value: longest values first, first free occurrence."""
    spans = []
    for value, kind in sorted(pii, key=lambda p: -len(str(p[0]))):
        value = str(value)
        k = text.find(value)
        while k >= 0 and any(a < k + len(value) and k < b for a, b, _ in spans):
            k = text.find(value, k + 1)
        if k < 0:
            raise ValueError(f"corpus: {value!r} is not in {text!r}")
        spans.append((k, k + len(value), kind))
    return spans


def score_corpus(corpus: dict | None = None) -> tuple[pd.DataFrame, list]:
    """Recall and precision per kind on the corpus, and the negative sentences that changed.

    Returns
    -------
    table : DataFrame
        ``kind``, ``planted``, ``found``, ``recall``, ``replaced``, ``correct``, ``precision``;
        the last row, ``overall``, sums every kind.
    changed : list of (sentence, redacted)
        Negative sentences that redaction changed (over-redaction).
    """
    corpus = corpus or load_corpus()
    names = {v: k for k, v in (corpus.get("participants") or {}).items()}
    det = _Detector(kinds=None, order_pattern=r"\b[A-Z]{2,4}-\d{5,10}\b", names=_names_from(names), func="bench",
                    region=corpus.get("region", "GB"))
    pos = corpus["positives"]
    neg = corpus["negatives"]
    texts = [p["text"] for p in pos] + list(neg)
    res = redact_texts(texts, detector=det)
    by_text: dict = {}
    for r in res.mapping.itertuples():
        by_text.setdefault(int(r.doc_id), []).append((r.original_start, r.original_end, r.kind))
    planted_n, found_n, replaced_n, correct_n = {}, {}, {}, {}
    for i, p in enumerate(pos):
        planted = _planted_spans(p["text"], p["pii"])
        repl = by_text.get(i, [])
        covered = set()
        for a, b, _ in repl:
            covered.update(range(a, b))
        for a, b, kind in planted:
            planted_n[kind] = planted_n.get(kind, 0) + 1
            if all(c in covered for c in range(a, b)):
                found_n[kind] = found_n.get(kind, 0) + 1
        for a, b, kind in repl:
            replaced_n[kind] = replaced_n.get(kind, 0) + 1
            if any(a < pb and pa < b for pa, pb, _ in planted):
                correct_n[kind] = correct_n.get(kind, 0) + 1
    changed = []
    for j, sent in enumerate(neg):
        i = len(pos) + j
        for a, b, kind in by_text.get(i, []):
            replaced_n[kind] = replaced_n.get(kind, 0) + 1
        if res.segments["text"].iloc[i] != sent:
            changed.append((sent, res.segments["text"].iloc[i]))
    rows = []
    for kind in sorted(set(planted_n) | set(replaced_n)):
        p, f = planted_n.get(kind, 0), found_n.get(kind, 0)
        r, c = replaced_n.get(kind, 0), correct_n.get(kind, 0)
        rows.append((kind, p, f, f / p if p else np.nan, r, c, c / r if r else np.nan))
    tot = [sum(x[k] for x in rows) for k in (1, 2, 4, 5)]
    rows.append(("overall", tot[0], tot[1], tot[1] / tot[0], tot[2], tot[3], tot[3] / tot[2] if tot[2] else np.nan))
    table = pd.DataFrame(rows, columns=["kind", "planted", "found", "recall", "replaced", "correct", "precision"])
    return table, changed


# ----------------------------------------------------------------------------- speed

_WORDS = ("the delivery was late again and the box was damaged but the food was fresh and the recipes "
          "were easy to follow on a weeknight when I get home from work at six I want dinner quickly "
          "so the price per week matters more than anything else for us as a family").split()
_PLANTS = ["call me on 07911 123456", "it's maya.okafor93@example.com", "card 4111 1111 1111 1111",
           "my sister Chiara said so", "order LK-223451", "postcode LS6 2QT", "Dave Smith helped",
           "sort code 20-00-00, account 12345678", "Grace said it was fine", "born on 12/03/1985"]


def _sentence(rng) -> str:
    words = list(rng.choice(_WORDS, size=int(rng.integers(8, 20))))
    s = " ".join(words).capitalize()
    if rng.random() < 0.1:
        s += ", " + _PLANTS[int(rng.integers(len(_PLANTS)))]
    return s + "."


def synthesise(n_interviews: int, n_comments: int, *, seed: int = 0):
    rng = np.random.default_rng(seed)
    docs, comments = [], []
    for k in range(n_interviews):
        lines = []
        for t in range(60):
            who = "Interviewer" if t % 2 == 0 else f"P{k:04d}"
            lines.append(f"{who}: " + " ".join(_sentence(rng) for _ in range(int(rng.integers(1, 5)))))
        docs.append(parse_transcript("\n".join(lines) + "\n", doc_id=f"P{k:04d}"))
    for _ in range(n_comments):
        comments.append(" ".join(_sentence(rng) for _ in range(int(rng.integers(1, 3)))))
    return docs, comments


def time_study(n_interviews: int, n_comments: int, *, seed: int = 0) -> dict:
    docs, comments = synthesise(n_interviews, n_comments, seed=seed)
    seg = pd.concat([d.segments for d in docs], ignore_index=True)
    documents = pd.DataFrame({"doc_id": [d.doc_id for d in docs], "text": [d.text for d in docs]})
    people = pd.DataFrame({"participant_id": ["P0001", "P0002"], "name": ["Grace Whitfield", "Maya Okafor"]})
    mb = (sum(len(d.text) for d in docs) + sum(len(c) for c in comments)) / 1e6
    t0 = time.perf_counter()
    res = redact(seg, participants=people, documents=documents)
    det = _Detector(kinds=None, order_pattern=r"\b[A-Z]{2,4}-\d{5,10}\b", names=_names_from(None, people), func="bench")
    red = redact_texts(comments, detector=det)
    dt = time.perf_counter() - t0
    return {"interviews": n_interviews, "comments": n_comments, "MB": mb, "seconds": dt, "MB/s": mb / dt,
            "replacements": len(res.mapping) + len(red.mapping)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 500 interviews + 100,000 comments (and a tenth)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-speed", action="store_true", help="only the corpus scores")
    args = ap.parse_args(argv)
    table, changed = score_corpus()
    with pd.option_context("display.width", 120, "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))
    print(f"negative sentences changed: {len(changed)} of {len(load_corpus()['negatives'])}")
    for before, after in changed:
        print(f"  {before!r} -> {after!r}")
    if args.no_speed:
        return
    big = (max(1, int(500 * args.scale)), max(1, int(100_000 * args.scale)))
    small = (max(1, big[0] // 10), max(1, big[1] // 10))
    out = [time_study(*small, seed=args.seed), time_study(*big, seed=args.seed)]
    for r in out:
        print(f"{r['interviews']:>5} interviews + {r['comments']:>7,} comments: {r['MB']:7.2f} MB in {r['seconds']:6.2f} s "
              f"= {r['MB/s']:.2f} MB/s ({r['replacements']:,} replacements)")
    print(f"rate ratio (large/small): {out[1]['MB/s'] / out[0]['MB/s']:.2f}  (1.0 = linear)")


if __name__ == "__main__":
    main()
