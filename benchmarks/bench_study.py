"""Benchmark: a whole study at the sample's size and at 10× and 100× it, and `journeylab run` old vs new.

    .venv/bin/python benchmarks/bench_study.py                      # sizes 1, 10, 100 and the run comparison
    .venv/bin/python benchmarks/bench_study.py --sizes 1,10 --no-run   # quicker
    .venv/bin/python benchmarks/bench_study.py --large              # + 10,000 short transcripts, 1,000,000 comments
    .venv/bin/python benchmarks/bench_study.py --run-36             # + `journeylab run` on 36× the interviews

1. **A study at each size.** A seeded generator writes a study folder with ``k`` × 14 interviews
   (plain-text transcripts of 40 turns, moderator and participant; each participant's name is
   said in the interview and some answers hold an e-mail address or phone number, so redaction
   has work to do), ``k`` × 1,773 survey responses with a free-text comment, a codebook of
   keyword rules and an event log of 40,000 events (the same at every size; the issue scales
   interviews and comments). Its words are made up here: nothing of the bundled sample study.
   ``--large`` adds a study of 10,000 short transcripts (8 turns, like support chats) and
   1,000,000 comments.
2. **The steps**, timed one after the other in this process (after an untimed warm-up on a tiny
   study: the first calls import matplotlib and VADER and fill font caches), with the peak resident memory of
   the process during each step over its size before it (``psutil``, sampled every 10 ms):
   ``load_study`` (read, validate, redact), ``cache read`` (the same study from the study cache,
   as every notebook of a run reads it), ``autocode`` (the codebook's rules over every segment),
   ``sentiment`` (VADER over every participant turn and every survey comment),
   ``evidence`` (``evidence_table``), ``map`` (``JourneyMap.build`` and the PNG) and ``report``
   (``JourneyMap.to_html``). For each step the table gives the seconds at each size and the
   cost per unit relative to 1× ((t_k / k) / t_1): 1.0 is linear, above 1 grows faster than
   the data.
3. **Readability at size**: the persona card of the map lists at most
   :data:`journeylab.map.render.MAX_LISTED` participant ids (then a count), and the report
   shows at most ``n_quotes`` quotes per claim with "k of N coded turns quoted"; printed per size.
4. **`journeylab run`, old way vs new way, in the same run of this script**: the notebooks
   executed on the bundled sample study (a) as before, each notebook loading the study itself
   (copies of the notebooks without ``cache=output_dir``), and (b) as now, loaded once and read
   from the cache; wall time of each and their ratio. ``--run-36`` adds the new way on the
   sample with its interviews copied 36 times (504 interviews) and its ratio to (b).

Timings on a shared machine vary; the ratios are what to read (they come from one run).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a source tree without installing
# the notebooks' kernels import the same journeylab as this process
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])

import numpy as np
import pandas as pd
import psutil

import journeylab as jl
from journeylab.map.render import MAX_LISTED
from journeylab.run.pipeline import notebook_paths, run as run_notebooks

SAMPLE_INTERVIEWS = 14
SAMPLE_COMMENTS = 1773
MB = 1 << 20

# ----------------------------------------------------------------------------- the study

STAGES = {"notice": ["poster", "newsletter"], "compare": ["catalogue", "calculator"],
          "enrol": ["form", "deposit"], "attend": ["venue", "helpdesk"]}
EVENTS = {"poster_scan": ("notice", "poster"), "newsletter_open": ("notice", "newsletter"),
          "catalogue_view": ("compare", "catalogue"), "quote_made": ("compare", "calculator"),
          "form_started": ("enrol", "form"), "form_sent": ("enrol", "form"), "deposit_paid": ("enrol", "deposit"),
          "visit_logged": ("attend", "venue"), "ticket_opened": ("attend", "helpdesk")}
FUNNEL = ["catalogue_view", "form_started", "form_sent", "deposit_paid"]
CODES = [  # name, kind, stage, touchpoint, keywords
    ("poster_noticed", "behaviour", "notice", "poster", ["poster", "flyer"]),
    ("calculator_helpful", "delight", "compare", "calculator", ["calculator", "estimate"]),
    ("catalogue_unclear", "pain_point", "compare", "catalogue", ["unclear", "jargon"]),
    ("form_too_long", "pain_point", "enrol", "form", ["tedious", "fields"]),
    ("deposit_worry", "pain_point", "enrol", "deposit", ["deposit", "refundable"]),
    ("venue_pleasant", "delight", "attend", "venue", ["bright", "spacious"]),
    ("helpdesk_slow", "pain_point", "attend", "helpdesk", ["waited", "queue"]),
    ("helpdesk_kind", "delight", "attend", "helpdesk", ["patient", "friendly"]),
]
PERSONAS = ["night owl", "career changer", "retiree"]
FIRST = ["Ilse", "Tomas", "Runa", "Beni", "Odile", "Kasper", "Mirela", "Anouk", "Sefa", "Lior", "Teodor", "Wren",
         "Yusra", "Pavel", "Ines", "Matteo", "Saoirse", "Bjorn", "Hana", "Oren", "Zofia", "Emeka", "Livia", "Arvo"]
LAST = ["Varga", "Lund", "Moreau", "Takeda", "Novak", "Silva", "Brandt", "Quist", "Oyelaran", "Petrov", "Aalto",
        "Ferreira", "Dumont", "Kovacs", "Nyberg", "Santoro", "Halloran", "Ibsen", "Mensah", "Rautio"]
QUESTIONS = ["How did you first come across the course?", "What did you make of the {tp}?",
             "Can you walk me through the {tp}?", "Was anything at the {tp} hard?", "What would you change?",
             "How did that make you feel?", "And after that?", "Anything else about the {tp}?"]
GOOD = ["great", "friendly", "clear", "helpful", "lovely", "quick"]
BAD = ["awful", "confusing", "slow", "annoying", "frustrating", "tedious"]
FILLER = ["to be honest", "I think", "you know", "basically", "at the time", "looking back"]


def _sentence(rng: random.Random) -> str:
    name, kind, stage, tp, kws = rng.choice(CODES)
    kw = rng.choice(kws)
    mood = rng.choice(GOOD if kind == "delight" else BAD if kind == "pain_point" else GOOD + BAD)
    return rng.choice([f"{rng.choice(FILLER).capitalize()}, the {tp} was {mood} and the {kw} part stuck with me.",
                       f"The {kw} thing at the {tp} was {mood}.",
                       f"I found the {tp} {mood}, mostly because of the {kw}.",
                       f"{rng.choice(FILLER).capitalize()}, nothing special about the {tp}."])


def _answer(rng: random.Random, first: str, last: str, pid: str) -> str:
    parts = [_sentence(rng) for _ in range(rng.randint(2, 4))]
    r = rng.random()
    if r < 0.04:
        parts.append(f"You can reach me at {first.lower()}.{last.lower()}{pid[-3:]}@example.org if needed.")
    elif r < 0.07:
        parts.append(f"They rang me on 07700 900{rng.randint(100, 999)} the next day.")
    return " ".join(parts)


def _transcript(rng: random.Random, pid: str, first: str, last: str, turns: int) -> str:
    lines = [f"Moderator: Thanks for joining, {first}. {QUESTIONS[0]}"]
    for t in range(turns // 2):
        lines.append(f"{pid}: {_answer(rng, first, last, pid)}")
        tp = rng.choice([tp for tps in STAGES.values() for tp in tps])
        lines.append("Moderator: " + rng.choice(QUESTIONS[1:]).format(tp=tp))
    lines.append(f"{pid}: {_answer(rng, first, last, pid)}")
    return "\n\n".join(lines) + "\n"


def _csv_text(header, rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def make_study(root: Path, *, interviews: int, comments: int, turns: int = 40, seed: int = 2026,
               n_users: int = 5000) -> Path:
    """Write a seeded study folder (see the module docstring) and return it."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    if root.exists():
        shutil.rmtree(root)
    (root / "transcripts").mkdir(parents=True)
    study = {
        "name": "Evening course enrolment study (generated)",
        "stages": [{"name": s, "touchpoints": tps} for s, tps in STAGES.items()],
        "events": {e: {"stage": s, "touchpoint": tp} for e, (s, tp) in EVENTS.items()},
        "funnel": {"steps": FUNNEL, "window": "7D"},
        "survey": {"nps": "nps", "csat_scale": [1, 5], "csat": {"csat_form": "form", "csat_venue": "venue"}},
        "personas": PERSONAS,
        "interviewer_labels": ["Moderator"],
    }
    import yaml

    (root / "study.yml").write_text(yaml.safe_dump(study, sort_keys=False), encoding="utf-8")
    book = {"name": "generated codebook", "codes": [
        {"name": n, "kind": k, "stage": s, "touchpoint": tp, "definition": f"Mentions of {', '.join(kws)}.",
         "rules": {"keywords": kws}} for n, k, s, tp, kws in CODES]}
    (root / "codebook.yml").write_text(yaml.safe_dump(book, sort_keys=False), encoding="utf-8")
    width = max(4, len(str(interviews)))
    people = []
    for i in range(interviews):
        pid = f"R{i + 1:0{width}d}"
        first, last = rng.choice(FIRST), rng.choice(LAST)
        people.append((pid, f"{first} {last}", PERSONAS[i % len(PERSONAS)]))
        (root / "transcripts" / f"{pid}.txt").write_text(_transcript(rng, pid, first, last, turns), encoding="utf-8")
    (root / "participants.csv").write_text(_csv_text(["participant_id", "name", "persona"], people), encoding="utf-8")
    # survey: comments from a pool of sentences (a million distinct sentences would only cost generation time)
    pool = [_sentence(rng) for _ in range(5000)] + [f"Write to me at reader{j}@example.org." for j in range(50)]
    idx = nrng.integers(0, len(pool), comments)
    nps = nrng.integers(0, 11, comments)
    c1, c2 = nrng.integers(1, 6, comments), nrng.integers(1, 6, comments)
    width_s = len(str(comments))
    survey = pd.DataFrame({"respondent_id": [f"S{j:0{width_s}d}" for j in range(1, comments + 1)], "nps": nps,
                           "csat_form": c1, "csat_venue": c2, "comment": [pool[j] for j in idx],
                           "persona": [PERSONAS[j % len(PERSONAS)] for j in range(comments)]})
    survey.to_csv(root / "survey.csv", index=False)
    # events: every user walks the funnel part of the way, with background events
    users = np.repeat(np.arange(n_users), 8)
    names = np.array(list(EVENTS))
    ev = nrng.choice(names, size=len(users))
    t0 = np.datetime64("2026-05-04T00:00:00", "s")
    ts = t0 + (users * 400 + nrng.integers(0, 86400 * 3, len(users))).astype("timedelta64[s]")
    events = pd.DataFrame({"user_id": [f"u{u:05d}" for u in users], "timestamp": pd.Series(ts).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "event": ev}).sort_values(["user_id", "timestamp"], kind="stable")
    with gzip.open(root / "events.csv.gz", "wt", encoding="utf-8", newline="") as fh:
        events.to_csv(fh, index=False)
    return root


def copy_interviews(src: Path, dst: Path, k: int) -> Path:
    """``src`` with every transcript (and its participants.csv row) copied ``k`` times."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    rows = list(csv.reader(io.StringIO((src / "participants.csv").read_text(encoding="utf-8"))))
    out = [rows[0]]
    for r in rows[1:]:
        out.append(r)
        out += [[f"{r[0]}C{c:02d}"] + r[1:] for c in range(1, k)]
    (dst / "participants.csv").write_text(_csv_text(out[0], out[1:]), encoding="utf-8")
    for f in sorted((src / "transcripts").iterdir()):
        for c in range(1, k):
            shutil.copy(f, dst / "transcripts" / f"{f.stem}C{c:02d}{f.suffix}")
    return dst


# ----------------------------------------------------------------------------- measuring

class Peak:
    """Peak resident memory of this process during a ``with`` block, over its size before (MB)."""

    def __enter__(self):
        self.proc = psutil.Process()
        self.base = self.peak = self.proc.memory_info().rss
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        self.t0 = time.perf_counter()
        return self

    def _sample(self):
        while not self.done.wait(0.01):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self.done.set()
        self.thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)
        self.mb = (self.peak - self.base) / MB
        return False


def bench_size(root: Path, work: Path, label: str, seed: int) -> dict:
    """Every step on the study at ``root``; returns {step: (seconds, peak MB)} and readability facts."""
    res = {}
    with Peak() as p:
        study = jl.load_study(root)
    res["load_study"] = (p.seconds, p.mb)
    cache = work / f"cache-{label}"
    jl.load_study(root, cache=cache)  # writes the cache
    with Peak() as p:
        jl.load_study(root, cache=cache)
    res["cache read"] = (p.seconds, p.mb)
    with Peak() as p:
        codings = jl.autocode(study.segments, codebook=study.codebook)
    res["autocode"] = (p.seconds, p.mb)
    with Peak() as p:
        jl.sentiment(study.segments, engine="vader")
        jl.sentiment(study.survey, text="comment", id="respondent_id", engine="vader")
    res["sentiment"] = (p.seconds, p.mb)
    with Peak() as p:
        ev = jl.evidence_table(study, codings=codings, random_state=seed)
    res["evidence"] = (p.seconds, p.mb)
    with Peak() as p:
        jmap = jl.JourneyMap.build(study, ev)
        jl.save_map(jmap, path=work / f"map-{label}.png")
    res["map"] = (p.seconds, p.mb)
    with Peak() as p:
        jmap.to_html(work / f"report-{label}.html")
    res["report"] = (p.seconds, p.mb)
    html = (work / f"report-{label}.html").read_text(encoding="utf-8")
    parts = jmap.persona_card.get("participants", [])
    from journeylab.map import render

    card = [t for t in _card_texts(render, jmap) if t.startswith("Rests on")]
    res["_facts"] = {
        "interviews": len(study.documents), "segments": len(study.segments), "comments": len(study.survey),
        "codings": len(codings), "claims": len(ev),
        "map card": (card[0][:90] + ("..." if len(card[0]) > 90 else "")) if card else "?",
        "map card chars": len(card[0]) if card else 0, "participants": len(parts),
        "report quotes": html.count("<blockquote>"), "report quote counts": len(re.findall("quote-count", html)),
        "report KB": len(html.encode()) // 1024,
    }
    return res


def _card_texts(render, jmap) -> list:
    """The persona card's lines as the map draws them (the text handed to the layout)."""
    seen = []
    orig = render._fit_items

    def spy(fig, box, items, **kw):
        seen.extend(i.get("text", "") for i in items)
        return orig(fig, box, items, **kw)

    render._fit_items = spy
    try:
        import matplotlib.pyplot as plt

        fig = render.plot_map(jmap)
        plt.close(fig)
    finally:
        render._fit_items = orig
    return seen


def old_way_notebooks(dst: Path) -> Path:
    """Copies of the notebooks as they were before the study cache: every notebook loads the study."""
    dst.mkdir(parents=True, exist_ok=True)
    for p in notebook_paths():
        text = p.read_text(encoding="utf-8").replace(", cache=output_dir)", ")")
        (dst / p.name).write_text(text, encoding="utf-8")
    return dst


def timed_run(study: Path, out: Path, notebooks=None, jobs=None) -> tuple[float, dict]:
    t0 = time.perf_counter()
    man = run_notebooks(study, out, notebooks=notebooks, quiet=True, jobs=jobs)
    return time.perf_counter() - t0, man


def best_loads(paths: list, repeat: int = 3) -> list:
    """The shortest of ``repeat`` wall times of ``load_study`` (no cache) for each path, the paths taken in
    turn each round: the least disturbed by other work on a shared machine, and disturbed alike."""
    best = [float("inf")] * len(paths)
    for _ in range(repeat):
        for i, path in enumerate(paths):
            t0 = time.perf_counter()
            jl.load_study(path)
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def load_large(root: Path) -> tuple:
    """``load_study`` on the large study: (seconds, peak MB over the size before, peak resident MB,
    (transcripts, comments))."""
    with Peak() as p:
        study = jl.load_study(root)
    n = (len(study.documents), len(study.survey))
    del study
    return p.seconds, p.mb, p.peak / MB, n


class Targets:
    """Issue 17's targets, measured in this run, printed side by side at the end."""

    def __init__(self):
        self.rows = []

    def add(self, what: str, value: str, target: str, ok) -> None:
        self.rows.append((what, value, target, "-" if ok is None else ("met" if ok else "MISSED")))

    def print(self) -> None:
        if not self.rows:
            return
        print("\nIssue 17 targets, measured in this run (ratios of times taken in the same run):")
        w = max(len(r[0]) for r in self.rows)
        for what, value, target, ok in self.rows:
            print(f"  {what:<{w}}  {value:>22}  {target:<18} {ok}")


# ----------------------------------------------------------------------------- main

def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1,10,100", help="multiples of the sample's interviews and comments")
    ap.add_argument("--large", action="store_true",
                    help="also load_study on 10,000 short transcripts and 1,000,000 comments (time, memory)")
    ap.add_argument("--jobs", type=int, default=None, help="notebooks at once in the new way (default: run's)")
    ap.add_argument("--no-run", action="store_true", help="skip the `journeylab run` comparison")
    ap.add_argument("--run-36", action="store_true", help="also `journeylab run` on 36x the sample's interviews")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--keep", help="folder to keep the generated studies and outputs in")
    args = ap.parse_args(argv)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_study_"))
    work.mkdir(parents=True, exist_ok=True)
    sizes = [(f"{k}x", k, SAMPLE_INTERVIEWS * k, SAMPLE_COMMENTS * k, 40)
             for k in map(int, args.sizes.split(",")) if k]
    results = {}
    targets = Targets()
    # warm-up, untimed: first calls import matplotlib, NLTK and VADER data and fill the font caches
    bench_size(make_study(work / "study-warmup", interviews=3, comments=30, seed=args.seed), work, "warmup",
               args.seed)
    for label, k, n_int, n_com, turns in sizes:
        t0 = time.perf_counter()
        root = make_study(work / f"study-{label.replace('/', '-')}", interviews=n_int, comments=n_com, turns=turns,
                          seed=args.seed)
        print(f"{label}: generated {n_int:,} interviews ({turns} turns), {n_com:,} comments in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        results[label] = (k, bench_size(root, work, label.replace("/", "-"), args.seed))
        r = results[label][1]
        print("   " + ", ".join(f"{s} {v[0]:.2f} s" for s, v in r.items() if not s.startswith("_")), flush=True)
        peak_rss = psutil.Process().memory_info().rss / MB
        print(f"   resident now {peak_rss:,.0f} MB; facts {r['_facts']}", flush=True)

    # load_study at 36x the sample's interviews (its transcripts copied, as --run-36 runs them) and at 36x
    # distinct generated interviews: best of three each, side by side
    sample = Path(jl.datasets.sample_study_path())
    s36 = copy_interviews(sample, work / "sample-36x", 36)
    g1 = make_study(work / "gen-1x", interviews=SAMPLE_INTERVIEWS, comments=SAMPLE_COMMENTS, seed=args.seed)
    g36 = make_study(work / "gen-36x", interviews=36 * SAMPLE_INTERVIEWS, comments=SAMPLE_COMMENTS, seed=args.seed)
    t1, t36, tg1, tg36 = best_loads([sample, s36, g1, g36])
    print(f"\nload_study, best of 3: sample {t1:.2f} s, 36x its interviews (copies) {t36:.2f} s; generated 14 "
          f"interviews {tg1:.2f} s, 504 distinct generated interviews {tg36:.2f} s", flush=True)
    targets.add("load_study: 36x the sample's interviews / the sample", f"{t36 / t1:.2f}x ({t36:.2f}/{t1:.2f} s)",
                "at most 3x", t36 / t1 <= 3)
    targets.add("load_study: 504 / 14 distinct generated interviews", f"{tg36 / tg1:.2f}x ({tg36:.2f}/{tg1:.2f} s)",
                "(no target)", None)
    if args.large:
        root = make_study(work / "study-10k-1M", interviews=10_000, comments=1_000_000, turns=8, seed=args.seed)
        secs, grow, peak, n = load_large(root)
        print(f"10k/1M: load_study {secs:.1f} s for {n[0]:,} transcripts and {n[1]:,} comments; memory +{grow:,.0f} MB "
              f"(peak resident {peak:,.0f} MB)", flush=True)
        targets.add("load_study: 10,000 transcripts, 1,000,000 comments", f"{secs:.1f} s, {peak / 1024:.2f} GB",
                    "< 120 s, < 8 GB", secs < 120 and peak < 8 * 1024)

    if results:
        steps = [s for s in next(iter(results.values()))[1] if not s.startswith("_")]
        base_label = next(iter(results))
        k0, base = results[base_label]
        print("\nSeconds (peak MB over the process's size before the step) and cost per unit relative to "
              f"{base_label} ((t/k)/t_{base_label}; 1.0 = linear):")
        head = f"{'step':<12}" + "".join(f"{lab:>26}" for lab in results)
        print(head)
        for s in steps:
            cells = []
            for lab, (k, r) in results.items():
                t, mb = r[s]
                rel = (t / k) / (base[s][0] / k0) if base[s][0] > 0 else float("nan")
                cells.append(f"{t:9.2f} s {mb:6.0f} MB  x{rel:5.2f}")
            print(f"{s:<12}" + "".join(f"{c:>26}" for c in cells))
        print("\nReadability at size:")
        for lab, (k, r) in results.items():
            f = r["_facts"]
            print(f"  {lab}: map persona card {f['map card chars']} characters for {f['participants']:,} participants "
                  f"(ids listed up to {MAX_LISTED}); report {f['report quotes']} quotes for {f['claims']} claims, "
                  f"{f['report quote counts']} 'k of N quoted' notes, {f['report KB']:,} KB")

    if not args.no_run:
        print("\n`journeylab run` on the sample study, old way (notebooks one after the other, each loading the "
              "study) vs new way (loaded once and read from the cache, notebooks two at a time):", flush=True)
        old_nbs = old_way_notebooks(work / "notebooks-old")
        t_old, m_old = timed_run(sample, work / "run-old", notebooks=old_nbs, jobs=1)
        print(f"  old way {t_old:7.1f} s  per notebook {m_old['timings']['notebooks']}", flush=True)
        t_new, m_new = timed_run(sample, work / "run-new", jobs=args.jobs)
        print(f"  new way {t_new:7.1f} s  per notebook {m_new['timings']['notebooks']} "
              f"(+ one load {m_new['timings']['study_load_seconds']} s)", flush=True)
        print(f"  new / old = {t_new / t_old:.2f}  (target: at most 0.5)")
        same = sorted(k for k in m_old["outputs"] if m_old["outputs"][k] != m_new["outputs"].get(k))
        identical = not same and set(m_old["outputs"]) == set(m_new["outputs"])
        print(f"  outputs identical: {identical}" + (f" (differ: {same[:5]})" if same else ""))
        targets.add("journeylab run on the sample: new way / old way",
                    f"{t_new / t_old:.2f}x ({t_new:.0f}/{t_old:.0f} s)", "at most 0.5x", t_new / t_old <= 0.5)
        targets.add("  the same output files, byte for byte", str(identical), "True", identical)
        if args.run_36:
            t36r, m36 = timed_run(s36, work / "run-36", jobs=args.jobs)
            print(f"  new way on 36x the interviews {t36r:7.1f} s (one load {m36['timings']['study_load_seconds']} s) "
                  f"per notebook {m36['timings']['notebooks']}; 36x / 1x = {t36r / t_new:.2f}  (target: at most 2)")
            targets.add("journeylab run: 36x the sample's interviews / the sample", f"{t36r / t_new:.2f}x "
                        f"({t36r:.0f}/{t_new:.0f} s)", "at most 2x", t36r / t_new <= 2)
    targets.print()
    print(f"\nGenerated studies and outputs in {work}" + ("" if args.keep else " (a temporary folder)"))


if __name__ == "__main__":
    main()
