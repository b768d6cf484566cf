#!/usr/bin/env python
"""Build the bundled sample study (``data/sample_study/``) from ``data/sources/``.

Run from the repository root::

    python data/make_sample_study.py            # everything
    python data/make_sample_study.py --only transcripts codings
    python data/make_sample_study.py --out /tmp/study --reference /tmp/reference_codings.csv

What it writes (the story and every file are described in ``docs/sample-study.md``):

1. ``sample_study/transcripts/Pxx.{txt,vtt,srt}`` -- the authored interviews
   (``sources/interviews/Pxx.txt``) without their inline codes, with timestamps, in the export
   format named in each file's header (plain text, WebVTT as Zoom or Teams write it, SRT).
2. ``sources/reference_codings.csv`` -- the inline codes as (segment_id, code).
3. ``sample_study/codings/{amara,jonas}.csv`` -- two coders' manual codings of the same subset of
   interviews, derived from the reference with realistic disagreement; Cohen's kappa is printed.
4. ``sample_study/events.csv.gz`` -- eight weeks of web analytics for ~24,000 users.
5. ``sample_study/survey.csv`` -- the post-purchase (and abandoned-checkout) survey, comments drawn
   from ``sources/survey_comments.yml``.

Everything is seeded (``numpy.random.default_rng(20260831)``, one independent child stream per
part, so a part can be rebuilt alone and give the same bytes) and deterministic: running the
script twice gives byte-identical files (gzip with mtime=0).
"""
from __future__ import annotations

import argparse
import gzip
import io
import math
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

SEED = 20260831
HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
STUDY = HERE / "sample_study"
PARTS = ("transcripts", "codings", "events", "survey")

# --------------------------------------------------------------------------- the story in numbers
START = np.datetime64("2026-08-03T00:00:00", "s")  # Monday; the event log covers 8 whole weeks
END = np.datetime64("2026-09-28T00:00:00", "s")    # exclusive (last day: Sunday 27 September)
FIX = np.datetime64("2026-08-31T05:00:00", "s")    # new shipping form live at 06:00 BST
N_DAYS = 56
LEAD_DAYS = 21  # users also arrive in the three weeks before the log starts (their early visits are cut off)
HOLIDAYS = ["2026-08-31"]  # Summer bank holiday (England): no deliveries, shopping like a Sunday
SURVEY_CLOSE = np.datetime64("2026-10-04T23:59:59", "s")

CHANNELS = ["social", "search", "email", "affiliate", "direct", "word_of_mouth"]
CHANNEL_MIX = [0.25, 0.30, 0.12, 0.09, 0.16, 0.08]
DEVICES = ["mobile", "desktop", "tablet"]
PERSONAS = ["bargain hunter", "busy parent", "gift buyer", "home enthusiast"]
# P(persona | channel), rows in CHANNELS order
PERSONA_BY_CHANNEL = np.array([
    [0.40, 0.25, 0.15, 0.20],  # social
    [0.25, 0.25, 0.35, 0.15],  # search
    [0.15, 0.25, 0.15, 0.45],  # email
    [0.55, 0.15, 0.20, 0.10],  # affiliate
    [0.15, 0.25, 0.20, 0.40],  # direct
    [0.20, 0.25, 0.30, 0.25],  # word_of_mouth
])
EVENT_NAMES = ["ad_click", "session_start", "site_search", "product_view", "review_read", "add_to_cart",
               "checkout_start", "shipping_submitted", "payment_submitted", "order_completed",
               "order_delivered", "tracking_viewed", "return_requested", "support_contact",
               "review_written", "referral_sent"]
EV = {name: i for i, name in enumerate(EVENT_NAMES)}

CODERS = ("amara", "jonas")
OVERLAP_PREFERRED = ["P01", "P03", "P05", "P08", "P11"]
TEAMS_STYLE = {"P09"}  # this interview was recorded in Teams: <v Speaker> voice tags, no cue numbers


def _rng(part: str) -> np.random.Generator:
    """The independent, reproducible random stream of one part of the build."""
    children = np.random.default_rng(SEED).spawn(len(PARTS))
    return children[PARTS.index(part)]


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


# =========================================================================== 1. transcripts

_LINE = re.compile(r"^(?P<speaker>Interviewer|P\d{2}): (?P<text>.*)$")
_CODES = re.compile(r"\s*\{(?P<codes>[^{}]*)\}\s*$")


@dataclass
class Turn:
    speaker: str
    text: str
    codes: list = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0


@dataclass
class Interview:
    doc_id: str
    date: str
    fmt: str
    turns: list

    def segment_id(self, k: int) -> str:
        """Segment id of turn ``k`` (0-based list index)."""
        return f"{self.doc_id}-t{k + 1:03d}"


def _leaf_codes(study: Path) -> list:
    book = yaml.safe_load((study / "codebook.yml").read_text(encoding="utf-8"))
    codes = book["codes"]
    parents = {c["parent"] for c in codes if c.get("parent")}
    return [c["name"] for c in codes if c["name"] not in parents]


def parse_interview(path: Path, leaf_codes) -> Interview:
    """Read one authored interview (format: data/sources/README.md); raise ValueError on bad input."""
    doc_id = path.stem
    header, turns = {}, []
    for n, raw in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if line.startswith("# "):
            key, _, value = line[2:].partition(":")
            header[key.strip()] = value.strip()
            continue
        m = _LINE.match(line)
        if m is None:
            raise ValueError(f"{path}, line {n}: expected 'Interviewer: ...' or '{doc_id}: ...', found {line[:60]!r}")
        speaker, text = m.group("speaker"), m.group("text").strip()
        if speaker not in ("Interviewer", doc_id):
            raise ValueError(f"{path}, line {n}: speaker {speaker!r} in {doc_id}'s interview")
        codes = []
        c = _CODES.search(text)
        if c is not None:
            if speaker == "Interviewer":
                raise ValueError(f"{path}, line {n}: interviewer lines carry no codes, found {c.group(0).strip()!r}")
            codes = [x.strip() for x in c.group("codes").split(";") if x.strip()]
            text = text[:c.start()].rstrip()
            for code in codes:
                if code not in leaf_codes:
                    raise ValueError(f"{path}, line {n}: code {code!r} is not a leaf code of codebook.yml")
            if len(set(codes)) != len(codes):
                raise ValueError(f"{path}, line {n}: a code is repeated in {c.group(0).strip()!r}")
        for bad, what in (("{", "a brace"), ("}", "a brace"), ("<", "'<'"), (">", "'>'"), ("\t", "a tab"),
                          ("  ", "a double space"), ("-->", "'-->'")):
            if bad in text:
                raise ValueError(f"{path}, line {n}: the text holds {what}, which subtitle formats cannot keep")
        if not text:
            raise ValueError(f"{path}, line {n}: empty turn")
        if turns and turns[-1].speaker == speaker:
            raise ValueError(f"{path}, line {n}: two consecutive turns by {speaker}; merge them into one line")
        turns.append(Turn(speaker, text, codes))
    if header.get("participant") != doc_id:
        raise ValueError(f"{path}: header '# participant: {header.get('participant')}' does not match the file name")
    fmt = header.get("format")
    if fmt not in ("txt", "vtt", "srt"):
        raise ValueError(f"{path}: header '# format:' must be txt, vtt or srt, found {fmt!r}")
    if not turns:
        raise ValueError(f"{path}: no turns")
    return Interview(doc_id, header.get("date", ""), fmt, turns)


def read_interviews(sources: Path, study: Path) -> list:
    leaf = _leaf_codes(study)
    paths = sorted((sources / "interviews").glob("P[0-9][0-9].txt"))
    return [parse_interview(p, leaf) for p in paths]


_HESITATION = re.compile(r"\b(?:um+|uh+|erm+|er|hmm+|like)\b|\[[a-z ]+\]|\.\.\.|…|—", re.IGNORECASE)


def add_timings(interview: Interview, rng: np.random.Generator) -> None:
    """Give every turn a start and end (seconds): ~150 words a minute plus pauses and hesitations."""
    pace = {"Interviewer": 150 * rng.uniform(0.95, 1.1), interview.doc_id: 150 * rng.uniform(0.82, 1.12)}
    t = rng.uniform(1.0, 4.0)
    for k, turn in enumerate(interview.turns):
        if k:
            t += rng.gamma(2.0, 0.4) + (rng.uniform(2.0, 6.0) if rng.random() < 0.06 else 0.0)
        words = len(turn.text.split())
        dur = words / pace[turn.speaker] * 60.0
        dur += len(_HESITATION.findall(turn.text)) * rng.uniform(0.25, 0.8)
        dur = max(0.9, dur * rng.lognormal(0.0, 0.08))
        turn.start, turn.end = round(t, 3), round(t + dur, 3)
        t += dur


_SENTENCE_END = re.compile(r"[.!?…]['\"’”)\]]* (?=\S)")


def split_cues(text: str, rng: np.random.Generator) -> list:
    """Split a turn into subtitle cues of about one or two sentences.

    Splits only at single spaces, so ``" ".join(cues) == text`` always.
    """
    sentences, pos = [], 0
    for m in _SENTENCE_END.finditer(text):
        sentences.append(text[pos:m.end() - 1])
        pos = m.end()
    sentences.append(text[pos:])
    pieces = []
    for s in sentences:  # a very long sentence is cut at commas, as caption tools do
        if len(s.split()) <= 32:
            pieces.append(s)
            continue
        cur = ""
        for part in re.split(r"(?<=,) ", s):
            if cur and len(cur.split()) >= 12:
                pieces.append(cur)
                cur = part
            else:
                cur = f"{cur} {part}" if cur else part
        pieces.append(cur)
    cues, cur = [], ""
    for p in pieces:
        limit = rng.integers(14, 26)
        if cur and len(cur.split()) + len(p.split()) > limit:
            cues.append(cur)
            cur = p
        else:
            cur = f"{cur} {p}" if cur else p
    cues.append(cur)
    if " ".join(cues) != text:  # pragma: no cover - a guard on the splitting above
        raise RuntimeError(f"cue split lost text: {text[:60]!r}")
    return cues


def _clock(seconds: float, sep: str = ".") -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cue_times(turn: Turn, cues: list) -> list:
    words = np.array([max(1, len(c.split())) for c in cues], dtype=float)
    edges = turn.start + (turn.end - turn.start) * np.concatenate([[0.0], np.cumsum(words) / words.sum()])
    return [(round(float(a), 3), round(float(b), 3)) for a, b in zip(edges[:-1], edges[1:])]


def render_transcript(interview: Interview, rng: np.random.Generator) -> str:
    """The interview as its export format (see the module docstring)."""
    out = []
    if interview.fmt == "txt":
        for turn in interview.turns:
            out.append(f"[{_clock(turn.start)[:8]}] {turn.speaker}: {turn.text}")
        return "\n\n".join(out) + "\n"
    teams = interview.doc_id in TEAMS_STYLE
    sep = "," if interview.fmt == "srt" else "."
    n = 0
    for turn in interview.turns:
        cues = split_cues(turn.text, rng)
        for cue, (a, b) in zip(cues, _cue_times(turn, cues)):
            n += 1
            timing = f"{_clock(a, sep)} --> {_clock(b, sep)}"
            if teams:
                out.append(f"{timing}\n<v {turn.speaker}>{cue}</v>")
            else:
                out.append(f"{n}\n{timing}\n{turn.speaker}: {cue}")
    body = "\n\n".join(out) + "\n"
    return ("WEBVTT\n\n" + body) if interview.fmt == "vtt" else body


def build_transcripts(interviews: list, out: Path) -> dict:
    """Write ``out/transcripts/`` (removing stale files); return {doc_id: path}."""
    rng = _rng("transcripts")
    folder = out / "transcripts"
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for iv in interviews:
        add_timings(iv, rng)
        path = folder / f"{iv.doc_id}.{iv.fmt}"
        _write_bytes(path, render_transcript(iv, rng).encode("utf-8"))
        written[iv.doc_id] = path
    for stale in sorted(folder.iterdir()):
        if stale.stem not in written or stale != written[stale.stem]:
            stale.unlink()
    return written


def reference_codings(interviews: list) -> pd.DataFrame:
    rows = [(iv.segment_id(k), code) for iv in interviews for k, turn in enumerate(iv.turns) for code in turn.codes]
    return pd.DataFrame(rows, columns=["segment_id", "code"])


# =========================================================================== 2. coders

def participant_segments(interviews: list) -> pd.DataFrame:
    rows = [(iv.segment_id(k), iv.doc_id, k + 1, turn.text, ";".join(turn.codes))
            for iv in interviews for k, turn in enumerate(iv.turns) if turn.speaker != "Interviewer"]
    return pd.DataFrame(rows, columns=["segment_id", "doc_id", "turn", "text", "codes"])


def choose_overlap(segments: pd.DataFrame, personas: dict | None = None, preferred=OVERLAP_PREFERRED,
                   low=0.25, high=0.35) -> list:
    """The interviews both coders code: the preferred five, adjusted to 25-35 % of participant turns.

    Too many segments: drop one interview, keeping every persona covered and landing nearest 30 %
    (or swap one for a smaller interview if dropping undershoots). Too few: add the interview that
    lands nearest 30 %.
    """
    personas = personas or {}
    sizes = segments.groupby("doc_id").size()
    total = int(sizes.sum())
    chosen = [d for d in preferred if d in sizes.index]
    others = [d for d in sizes.index if d not in chosen]

    def share(docs):
        return sizes.reindex(docs).sum() / total if total else 0.0

    def coverage(docs):
        return len({personas.get(d, d) for d in docs})

    while chosen and share(chosen) > high:
        options = [[d for d in chosen if d != x] for x in chosen]
        options += [[d for d in chosen if d != x] + [y] for x in chosen for y in others]
        fits = [o for o in options if low <= share(o) <= high] or [o for o in options if len(o) < len(chosen)]
        best = min(fits, key=lambda o: (-coverage(o), len(o) != len(chosen) - 1, abs(share(o) - 0.30), sorted(o)))
        others = [d for d in sizes.index if d not in best]
        chosen = best
    while others and share(chosen) < low:
        pick = min(others, key=lambda d: (abs(share(chosen + [d]) - 0.30), d))
        chosen.append(pick)
        others.remove(pick)
    return sorted(chosen)


# How each coder departs from the reference. miss: P(leave out a code the reference has).
# Codes not listed use the default. fp: P(add the code where its codebook keywords appear but the
# reference does not have it).
CODER_STYLE = {
    "amara": {
        "miss": {"default": 0.12, "anxiety": 0.55, "delighted": 0.28, "would_recommend": 0.2,
                 "price_comparison": 0.25, "reviews_build_trust": 0.2, "frustration": 0.15,
                 "shipping_form_tedious": 0.2, "support_hard_to_reach": 0.15, "returns_hassle": 0.15},
        "fp": {"default": 0.13, "anxiety": 0.30, "frustration": 0.40, "delighted": 0.2},
        "frustration_on_pain": 0.35,   # over-applies frustration to any complaint
        "anxiety": "strict",           # codes anxiety only when a worry word is said out loud
        "cost_form_confusion": 0.0,
        "slip": 0.08,
    },
    "jonas": {
        "miss": {"default": 0.12, "anxiety": 0.3, "frustration": 0.3, "product_photos_helpful": 0.2,
                 "delighted": 0.2, "would_recommend": 0.15, "unclear_sizing": 0.15,
                 "shipping_form_tedious": 0.18, "price_comparison": 0.2},
        "fp": {"default": 0.12, "anxiety": 0.30, "price_comparison": 0.15, "delighted": 0.15},
        "frustration_on_pain": 0.05,
        "anxiety": "broad",            # also reads anxiety into hedging ("what if", "not sure")
        "cost_form_confusion": 0.35,   # reads shipping costs into form complaints and back
        "slip": 0.08,
    },
}
PAIN_CODES = {"ad_fatigue", "unclear_sizing", "search_results_poor", "shipping_form_tedious",
              "shipping_cost_surprise", "forced_account", "promo_code_confusion", "slow_delivery",
              "returns_hassle", "support_hard_to_reach", "review_requests_annoying"}
_WORRY_WORDS = re.compile(r"\b(?:worr\w*|nervous|anxious|panic\w*|scared|stress\w*|dread\w*|uneasy)", re.IGNORECASE)
_HEDGES = re.compile(r"\b(?:not sure|unsure|wasn't sure|what if|in case|fingers crossed|gamble|paranoid|"
                     r"I don't know|dunno)\b", re.IGNORECASE)
_COST_WORDS = re.compile(r"\b(?:cost|costs|charge|charged|fee|pounds?|quid|price|£\d|free delivery|postage)",
                         re.IGNORECASE)

# codes that a coder plausibly puts in place of another
NEIGHBOURS = {
    "reviews_build_trust": "product_photos_helpful", "product_photos_helpful": "reviews_build_trust",
    "price_comparison": "shipping_cost_surprise", "support_hard_to_reach": "support_helpful",
    "delighted": "would_recommend", "would_recommend": "delighted", "packaging_delight": "delighted",
    "forced_account": "frustration", "payment_trust": "anxiety", "unclear_sizing": "product_photos_helpful",
    "returns_hassle": "support_hard_to_reach", "promo_code_confusion": "price_comparison",
    "search_results_poor": "frustration", "ad_fatigue": "ad_discovery", "tracking_clear": "support_helpful",
    "loyalty_reward_wanted": "would_recommend", "checkout_easy": "delighted", "word_of_mouth": "would_recommend",
}
MEMOS = {
    ("jonas", "form_to_cost"): ["cost or form? talks about both; coded the cost",
                                "borderline: the price came up while filling in the address"],
    ("jonas", "cost_to_form"): ["borderline — mentions cost but mainly the form",
                                "is this the form or the charge? coded form",
                                "borderline — the charge appears on the shipping step"],
    ("amara", "frustration"): ["tone is clearly annoyed even if not said",
                               "frustration implied (sighs on the recording)",
                               "not explicit, but gave up",
                               "annoyed? I think so"],
    ("jonas", "frustration"): ["frustration implied"],
    ("any", "anxiety"): ["worried or just cautious? borderline",
                         "unsure whether this is anxiety or hesitation",
                         "hesitant rather than anxious?"],
    ("any", "fp"): ["keyword there but not sure it fits the definition",
                    "borderline, check against the codebook",
                    "weak instance",
                    "mentioned in passing"],
    ("any", "slip"): ["could also be {other}",
                      "between {other} and {code}; went with {code}"],
    ("any", "quote"): ["good quote", "strong example for the report", "quote this one", "clear example",
                       "vivid — use in the readout?"],
}


def _keyword_hits(study: Path) -> dict:
    """code -> compiled regex of its codebook keywords/phrases (where a coder may be tempted)."""
    book = yaml.safe_load((study / "codebook.yml").read_text(encoding="utf-8"))
    out = {}
    for c in book["codes"]:
        rules = c.get("rules") or {}
        words = list(rules.get("keywords") or []) + list(rules.get("phrases") or [])
        if words:
            out[c["name"]] = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")", re.IGNORECASE)
    return out


def _codebook_stages(study: Path) -> dict:
    book = yaml.safe_load((study / "codebook.yml").read_text(encoding="utf-8"))
    return {c["name"]: c.get("stage") or c.get("kind") for c in book["codes"]}


def code_as(coder: str, segs: pd.DataFrame, leaf_codes: list, hits: dict, stages: dict,
            rng: np.random.Generator) -> list:
    """One coder's decisions on ``segs``: list of (segment_id, code, memo)."""
    style = CODER_STYLE[coder]
    miss, fp = style["miss"], style["fp"]
    rows = []
    for sid, text, codes in zip(segs["segment_id"], segs["text"], segs["codes"]):
        ref = [c for c in codes.split(";") if c]
        got, memo = [], {}
        for code in ref:
            if code == "shipping_cost_surprise" and "shipping_form_tedious" not in ref \
                    and rng.random() < style["cost_form_confusion"]:
                got.append("shipping_form_tedious")  # the charge shows on the shipping step: "it's the form"
                memo["shipping_form_tedious"] = ("cost_to_form", 1.0, code)
                if rng.random() < 0.5:
                    continue  # replaced rather than added
            if code == "shipping_form_tedious" and "shipping_cost_surprise" not in ref \
                    and _COST_WORDS.search(text) and rng.random() < style["cost_form_confusion"]:
                got.append("shipping_cost_surprise")
                memo["shipping_cost_surprise"] = ("form_to_cost", 1.0, code)
                if rng.random() < 0.5:
                    continue  # replaced rather than added
            if code in NEIGHBOURS and rng.random() < style["slip"]:
                other = NEIGHBOURS[code]
                got.append(other)
                memo[other] = ("slip", 0.4, code)
                continue
            p_miss = miss.get(code, miss["default"])
            if code == "anxiety" and style["anxiety"] == "strict":
                p_miss = 0.15 if _WORRY_WORDS.search(text) else 0.8
            if rng.random() >= p_miss:
                got.append(code)
                if rng.random() < 0.04:
                    memo[code] = ("quote", 1.0, code)
        if "frustration" not in ref and any(c in PAIN_CODES for c in ref) \
                and rng.random() < style["frustration_on_pain"]:
            got.append("frustration")
            memo["frustration"] = ("frustration", 0.45, "")
        if style["anxiety"] == "broad" and "anxiety" not in ref and _HEDGES.search(text) and rng.random() < 0.4:
            got.append("anxiety")
            memo["anxiety"] = ("anxiety", 0.6, "")
        ref_stages = {stages.get(c) for c in ref}
        for code in leaf_codes:
            if code in ref or code in got:
                continue
            rx = hits.get(code)
            if rx is None or not rx.search(text):
                continue
            if stages.get(code) == "emotion":
                p = fp.get(code, fp["default"]) * (1.0 if ref else 0.3)
            elif stages.get(code) in ref_stages:
                p = fp.get(code, fp["default"])
            else:
                continue
            if rng.random() < p:
                got.append(code)
                memo[code] = ("anxiety", 0.5, "") if code == "anxiety" else ("fp", 0.2, "")
        for code in dict.fromkeys(got):  # keep order, drop duplicates
            note = ""
            if code in memo:
                kind, p, other = memo[code]
                key = (coder, kind) if (coder, kind) in MEMOS else ("any", kind)
                if key in MEMOS and rng.random() < p:
                    options = MEMOS[key]
                    note = options[int(rng.integers(len(options)))].format(code=code, other=other)
            rows.append((sid, code, note))
    return rows


def _decided_at(coder: str, segs: pd.DataFrame, rng: np.random.Generator) -> dict:
    """segment_id -> ISO time the coder coded it: working hours over the coding days."""
    first_day = {"amara": "2026-09-01", "jonas": "2026-09-02"}[coder]
    day = np.datetime64(first_day, "D")
    t = day.astype("datetime64[s]") + np.timedelta64(9 * 3600 + int(rng.integers(0, 2400)), "s")
    out, prev_doc = {}, None
    for sid, doc in zip(segs["segment_id"], segs["doc_id"]):
        if prev_doc is not None and doc != prev_doc and rng.random() < 0.55:  # next interview another day
            day = np.busday_offset(day, 1, roll="forward")
            t = day.astype("datetime64[s]") + np.timedelta64(9 * 3600 + int(rng.integers(0, 3600)), "s")
        prev_doc = doc
        t = t + np.timedelta64(int(rng.gamma(2.0, 45.0)) + 20, "s")
        hour = (t - t.astype("datetime64[D]")).astype(int) / 3600
        if 12.5 <= hour < 13.5:
            t = t + np.timedelta64(3600, "s")
        if hour >= 17.5:
            day = np.busday_offset(t.astype("datetime64[D]"), 1, roll="forward")
            t = day.astype("datetime64[s]") + np.timedelta64(9 * 3600 + int(rng.integers(0, 1800)), "s")
        out[sid] = str(t)
    return out


def kappa_table(codings: dict, segment_ids: list, codes: list) -> pd.DataFrame:
    """Cohen's kappa per code (and pooled) over segment x code presence, with statsmodels."""
    from statsmodels.stats.inter_rater import cohens_kappa

    a_name, b_name = list(codings)
    index = pd.MultiIndex.from_product([segment_ids, codes], names=["segment_id", "code"])

    def presence(df):
        s = pd.Series(1, index=pd.MultiIndex.from_frame(df[["segment_id", "code"]]))
        return s.reindex(index, fill_value=0).to_numpy()

    a, b = presence(codings[a_name]), presence(codings[b_name])
    code_of = index.get_level_values("code").to_numpy()
    rows = []
    for code in codes + ["(pooled)"]:
        m = np.ones(len(a), bool) if code == "(pooled)" else code_of == code
        table = np.array([[np.sum((a[m] == 0) & (b[m] == 0)), np.sum((a[m] == 0) & (b[m] == 1))],
                          [np.sum((a[m] == 1) & (b[m] == 0)), np.sum((a[m] == 1) & (b[m] == 1))]])
        n_any = int(table[0, 1] + table[1, 0] + table[1, 1])
        if n_any == 0:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            k = float(cohens_kappa(table, return_results=False)) if table[0, 0] < table.sum() else float("nan")
        rows.append({"code": code, a_name: int(a[m].sum()), b_name: int(b[m].sum()), "both": int(table[1, 1]),
                     "kappa": k})
    return pd.DataFrame(rows)


def _fingerprinted(df: pd.DataFrame, out: Path) -> pd.DataFrame:
    """Add the ``fingerprint`` of each coded turn, read from the transcripts written to ``out``.

    load_study checks it, so an edit of a transcript after coding cannot move a coding silently.
    """
    from journeylab import fingerprint_codings, read_document

    docs = [read_document(p) for p in sorted((out / "transcripts").iterdir()) if p.is_file()]
    documents = pd.DataFrame({"doc_id": [d.doc_id for d in docs], "text": [d.text for d in docs]})
    segments = pd.concat([d.segments for d in docs], ignore_index=True)
    return fingerprint_codings(df, documents=documents, segments=segments)


def build_codings(interviews: list, study_in: Path, out: Path, *, verbose: bool = True) -> pd.DataFrame:
    """Write ``out/codings/<coder>.csv``; return the kappa table."""
    rng = _rng("codings")
    leaf = _leaf_codes(study_in)
    hits = _keyword_hits(study_in)
    stages = _codebook_stages(study_in)
    segs = participant_segments(interviews)
    people = pd.read_csv(study_in / "participants.csv", dtype=str)
    overlap = choose_overlap(segs, dict(zip(people["participant_id"], people["persona"])))
    sub = segs[segs["doc_id"].isin(overlap)].reset_index(drop=True)
    frames = {}
    for coder in CODERS:
        rows = code_as(coder, sub, leaf, hits, stages, rng)
        when = _decided_at(coder, sub, rng)
        df = pd.DataFrame(rows, columns=["segment_id", "code", "memo"])
        df.insert(2, "coder", coder)
        df.insert(3, "origin", "manual")
        df["decided_at"] = df["segment_id"].map(when)
        df = _fingerprinted(df, out)
        frames[coder] = df
        _write_bytes(out / "codings" / f"{coder}.csv", _csv_bytes(df))
    kappas = kappa_table(frames, list(sub["segment_id"]), leaf)
    if verbose:
        share = len(sub) / len(segs) if len(segs) else 0.0
        print(f"codings: both coders coded {', '.join(overlap)}: {len(sub)} of {len(segs)} participant "
              f"segments ({share:.1%}); amara {len(frames['amara'])} codes, jonas {len(frames['jonas'])} codes")
        with pd.option_context("display.width", 120, "display.max_rows", 100):
            print(kappas.round(3).to_string(index=False))
    return kappas


# =========================================================================== 3. event log

_HOURLY = np.array([0.6, 0.3, 0.15, 0.1, 0.1, 0.2, 0.6, 1.4, 2.2, 2.6, 2.8, 3.2,
                    3.6, 3.3, 3.0, 2.9, 3.0, 3.4, 4.2, 5.2, 5.6, 4.8, 3.2, 1.6])  # UTC; evenings busiest
_WEEKDAY = np.array([0.92, 0.90, 0.93, 0.97, 1.02, 1.20, 1.25])  # Mon..Sun: weekends busier


def _day_weights(channel: str) -> np.ndarray:
    """Weights of the first-visit day, for days -LEAD_DAYS .. N_DAYS-1."""
    days = np.arange(-LEAD_DAYS, N_DAYS)
    dates = START.astype("datetime64[D]") + days
    wd = _WEEKDAY[days % 7].copy()
    wd[np.isin(dates, np.array(HOLIDAYS, dtype="datetime64[D]"))] = _WEEKDAY[6]
    w = wd * (1 + 0.18 * days / (N_DAYS - 1))  # mild growth (autumn nesting season)
    if channel == "email":  # newsletter Thursdays, and the "autumn edit" campaign on 10 September
        w = w * np.where(days % 7 == 3, 3.0, 0.7)
        w[(dates >= np.datetime64("2026-09-10")) & (dates <= np.datetime64("2026-09-12"))] *= 4.0
    if channel == "social":  # a paid social push from 17 August to 6 September
        w[(dates >= np.datetime64("2026-08-17")) & (dates <= np.datetime64("2026-09-06"))] *= 1.4
    return w / w.sum()


def _time_of_day(rng, n):
    hours = rng.choice(24, size=n, p=_HOURLY / _HOURLY.sum())
    return hours * 3600 + rng.uniform(0, 3600, size=n)


def _within_groups_cumsum(values: np.ndarray, group_starts: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``values`` restarting at each index of ``group_starts`` (sorted, first 0)."""
    cs = np.cumsum(values)
    base = np.zeros_like(cs)
    if len(group_starts):
        offsets = np.concatenate([[0.0], cs[group_starts[1:] - 1]])
        counts = np.diff(np.concatenate([group_starts, [len(values)]]))
        base = np.repeat(offsets, counts)
    return cs - base


def _business_deliveries(rng, order_t: np.ndarray) -> np.ndarray:
    """Delivery time (seconds since START) 2-4 working days after the order (rarely 5-7)."""
    n = len(order_t)
    t_local = order_t + 3600  # BST
    day = (START.astype("datetime64[D]") + np.floor(t_local / 86400).astype(int))
    k = rng.choice([2, 3, 4, 5, 6, 7], size=n, p=[0.36, 0.42, 0.17, 0.03, 0.015, 0.005])
    deliver_day = np.busday_offset(day, k, roll="forward", holidays=HOLIDAYS)
    secs = (deliver_day - START.astype("datetime64[D]")).astype(int) * 86400
    return secs + rng.uniform(7.5, 18.0, size=n) * 3600  # UTC, 08:30-19:00 BST


@dataclass
class _Events:
    """Columns of events being assembled (user index, time in seconds since START, event, session)."""
    user: list = field(default_factory=list)
    t: list = field(default_factory=list)
    ev: list = field(default_factory=list)
    sess: list = field(default_factory=list)

    def add(self, user, t, ev, sess):
        user = np.asarray(user)
        self.user.append(user.astype(np.int64))
        self.t.append(np.broadcast_to(np.asarray(t, dtype=float), user.shape).copy())
        self.ev.append(np.broadcast_to(np.asarray(ev, dtype=np.int64), user.shape).copy())
        self.sess.append(np.broadcast_to(np.asarray(sess, dtype=np.int64), user.shape).copy())


@dataclass
class _Sessions:
    user: list = field(default_factory=list)
    t0: list = field(default_factory=list)
    count: int = 0

    def new(self, user, t0) -> np.ndarray:
        user = np.asarray(user, dtype=np.int64)
        ids = np.arange(self.count, self.count + len(user))
        self.count += len(user)
        self.user.append(user)
        self.t0.append(np.asarray(t0, dtype=float))
        return ids


def simulate_events(rng: np.random.Generator, n_users: int = 30_000):
    """Simulate the event log.

    Returns (events, users, orders, abandons): the log as written, and per-user attributes, orders
    and abandoned checkouts that the survey builds on.
    """
    horizon = N_DAYS * 86400.0
    fix_t = float((FIX - START).astype(int))
    # ------------------------------------------------------------------ users
    channel = rng.choice(len(CHANNELS), size=n_users, p=CHANNEL_MIX)
    first_day = np.empty(n_users, dtype=np.int64)
    for c in range(len(CHANNELS)):
        idx = np.flatnonzero(channel == c)
        first_day[idx] = rng.choice(N_DAYS + LEAD_DAYS, size=len(idx), p=_day_weights(CHANNELS[c])) - LEAD_DAYS
    cum = PERSONA_BY_CHANNEL.cumsum(axis=1)[channel]
    persona = (rng.random(n_users)[:, None] > cum).sum(axis=1)
    trend = np.clip(first_day, 0, None) / (N_DAYS - 1)
    p_mobile = 0.57 + 0.06 * trend + np.select([persona == 1, persona == 3], [0.10, -0.08], 0.0)
    p_tablet = np.where(persona == 3, 0.10, 0.075)
    u = rng.random(n_users)
    device = np.where(u < p_mobile, 0, np.where(u < p_mobile + p_tablet, 2, 1))
    user_t0 = first_day * 86400.0 + _time_of_day(rng, n_users)

    # ------------------------------------------------------------------ browsing sessions
    lam = rng.gamma(0.8, 1.6, size=n_users) * np.where(persona == 3, 1.3, 1.0)
    n_sess = 1 + np.minimum(rng.poisson(lam), 11)
    s_user = np.repeat(np.arange(n_users), n_sess)
    first_idx = np.concatenate([[0], np.cumsum(n_sess)[:-1]])
    k_in_user = np.arange(len(s_user)) - np.repeat(first_idx, n_sess)
    same_day = rng.random(len(s_user)) < 0.25
    gap = np.where(same_day, rng.uniform(0.5, 6.0, len(s_user)) * 3600, rng.exponential(3.5, len(s_user)) * 86400)
    gap[k_in_user == 0] = 0.0
    raw = np.repeat(user_t0, n_sess) + _within_groups_cumsum(gap, first_idx)
    # a session days later starts at a usual time of day
    redraw = ~same_day & (k_in_user > 0)
    raw[redraw] = np.floor(raw[redraw] / 86400) * 86400 + _time_of_day(rng, int(redraw.sum()))
    # a visit starts at least half an hour after the user's previous one (a redrawn time of day may
    # fall before it: move it to the next day)
    later_visit = k_in_user > 0
    while True:
        prev = np.concatenate([[-np.inf], raw[:-1]])
        bad = later_visit & (raw < prev + 1800)
        if not bad.any():
            break
        raw[bad] = np.where(redraw[bad], raw[bad] + 86400, prev[bad] + rng.uniform(1800, 5400, int(bad.sum())))
    # every visit is simulated, also those before or after the window: the funnel is decided over a
    # user's whole history and only what falls inside the eight weeks is kept (censoring at both ends)
    s_t0, s_k = raw, k_in_user
    n_b = len(s_user)
    sessions = _Sessions()
    b_ids = sessions.new(s_user, s_t0)
    ev = _Events()
    su_persona, su_channel = persona[s_user], channel[s_user]

    # ad clicks (social users, mostly their first visit, sometimes a retargeting ad)
    p_ad = np.where(su_channel == 0, np.where(s_k == 0, 0.92, 0.35), 0.0)
    ad = rng.random(n_b) < p_ad
    ev.add(s_user[ad], s_t0[ad], EV["ad_click"], b_ids[ad])
    start_t = s_t0 + np.where(ad, rng.uniform(1, 4, n_b), 0.0)
    ev.add(s_user, start_t, EV["session_start"], b_ids)

    bounce = rng.random(n_b) < 0.10
    pv_mult = np.array([1.2, 0.9, 1.1, 1.45])[su_persona]
    n_pv = np.where(bounce, 0, 1 + rng.poisson(2.9 * pv_mult))
    n_search = np.where(bounce, 0, rng.poisson(np.array([0.4, 0.6, 0.7, 0.45])[su_persona]))
    n_rev = np.where(n_pv > 0, rng.poisson(np.array([0.6, 0.3, 0.55, 0.35])[su_persona]), 0)
    n_rev = np.minimum(n_rev, n_pv)
    counts = n_pv + n_search + n_rev
    e_sess = np.repeat(np.arange(n_b), counts)
    kinds = np.concatenate([np.full(k, e) for k, e in
                            ((n_search.sum(), EV["site_search"]), (n_pv.sum(), EV["product_view"]),
                             (n_rev.sum(), EV["review_read"]))])
    e_sess_by_kind = np.concatenate([np.repeat(np.arange(n_b), n_search), np.repeat(np.arange(n_b), n_pv),
                                     np.repeat(np.arange(n_b), n_rev)])
    key = rng.random(len(kinds))
    key = np.where(kinds == EV["site_search"], key * 0.6, np.where(kinds == EV["review_read"], 0.15 + key * 0.85, key))
    order = np.lexsort((key, e_sess_by_kind))
    kinds, e_sess = kinds[order], e_sess_by_kind[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[counts > 0]
    gaps = rng.exponential(38.0, len(kinds)) + 3.0
    gaps[kinds == EV["review_read"]] += rng.exponential(40.0, int((kinds == EV["review_read"]).sum()))
    t_browse = start_t[e_sess] + _within_groups_cumsum(gaps, starts)
    ev.add(s_user[e_sess], t_browse, kinds, b_ids[e_sess])
    last_browse = start_t.copy()
    np.maximum.at(last_browse, e_sess, t_browse)

    # ------------------------------------------------------------------ the purchase funnel (per user)
    eligible = np.flatnonzero(n_pv > 0)  # browsing sessions sorted by user then time
    e_user = s_user[eligible]
    viewers, e_first, e_count = np.unique(e_user, return_index=True, return_counts=True)
    offset = np.floor(e_count * rng.random(len(viewers)) ** 0.6).astype(int)
    p_sess = eligible[e_first + np.minimum(offset, e_count - 1)]  # the session where they add to cart
    vu = viewers
    day_frac = s_t0[p_sess] / horizon
    ch_f = np.array([0.86, 1.0, 1.15, 0.95, 1.1, 1.1])[channel[vu]]
    p_atc = np.array([0.33, 0.36, 0.37, 0.36])[persona[vu]] * ch_f * (0.94 + 0.10 * day_frac)
    atc = rng.random(len(vu)) < p_atc
    u_atc, s_atc = vu[atc], p_sess[atc]
    t_atc = last_browse[s_atc] + rng.exponential(40.0, len(u_atc)) + 5.0
    ev.add(u_atc, t_atc, EV["add_to_cart"], b_ids[s_atc])

    p_co = np.array([0.53, 0.56, 0.60, 0.56])[persona[u_atc]] * np.where(channel[u_atc] == 2, 1.05, 1.0)
    co = rng.random(len(u_atc)) < p_co
    u_co, s_co, t_prev = u_atc[co], b_ids[s_atc[co]], t_atc[co]
    later = rng.random(len(u_co)) < 0.2  # come back to the cart another day
    back_gap = np.where(rng.random(len(u_co)) < 0.4, rng.uniform(1, 8, len(u_co)) * 3600,
                        rng.uniform(1, 5, len(u_co)) * 86400)
    t_back = t_prev + back_gap
    ok_back = later & (t_back < horizon)
    new_ids = sessions.new(u_co[ok_back], t_back[ok_back])
    ev.add(u_co[ok_back], t_back[ok_back], EV["session_start"], new_ids)
    s_co = s_co.copy()
    s_co[ok_back] = new_ids
    t_co = np.where(ok_back, t_back + rng.uniform(20, 90, len(u_co)), t_prev + rng.lognormal(math.log(60), 0.6, len(u_co)))
    alive = ~later | ok_back
    u_co, s_co, t_co = u_co[alive], s_co[alive], t_co[alive]
    ev.add(u_co, t_co, EV["checkout_start"], s_co)

    # shipping form: per attempt, by device and by whether the new form was live
    def p_ship(users, t):
        after = t >= fix_t
        dev = device[users]
        before_p = np.array([0.45, 0.59, 0.52])[dev]
        after_p = np.array([0.64, 0.69, 0.66])[dev]
        bonus = np.where(np.isin(channel[users], [2, 4]), 0.04, 0.0)  # saved addresses of returning customers
        return np.where(after, after_p, before_p) + bonus

    def form_time(t):
        med = np.where(t >= fix_t, 70.0, 165.0)
        return np.exp(np.log(med) + rng.normal(0, 0.5, len(t)))

    ship = rng.random(len(u_co)) < p_ship(u_co, t_co)
    # some who give up on the form try again hours or days later
    retry = ~ship & (rng.random(len(u_co)) < 0.22)
    t_retry = t_co[retry] + np.where(rng.random(int(retry.sum())) < 0.5, rng.uniform(1, 10, int(retry.sum())) * 3600,
                                     rng.uniform(1, 4, int(retry.sum())) * 86400)
    r_users = u_co[retry]
    ok = t_retry < horizon - 600
    r_users, t_retry = r_users[ok], t_retry[ok]
    r_ids = sessions.new(r_users, t_retry)
    ev.add(r_users, t_retry, EV["session_start"], r_ids)
    pv_first = rng.random(len(r_users)) < 0.6
    t_rpv = t_retry + rng.uniform(5, 40, len(r_users))
    ev.add(r_users[pv_first], t_rpv[pv_first], EV["product_view"], r_ids[pv_first])
    t_rco = np.where(pv_first, t_rpv, t_retry) + rng.uniform(15, 80, len(r_users))
    ev.add(r_users, t_rco, EV["checkout_start"], r_ids)
    r_ship = rng.random(len(r_users)) < p_ship(r_users, t_rco) + 0.05

    f_user = np.concatenate([u_co[ship], r_users[r_ship]])
    f_sess = np.concatenate([s_co[ship], r_ids[r_ship]])
    f_tco = np.concatenate([t_co[ship], t_rco[r_ship]])
    f_retried = np.concatenate([np.zeros(int(ship.sum()), bool), np.ones(int(r_ship.sum()), bool)])
    t_ship = f_tco + form_time(f_tco)
    ev.add(f_user, t_ship, EV["shipping_submitted"], f_sess)

    # the delivery charge appears after the shipping step: bargain hunters balk
    p_pay = np.array([0.80, 0.91, 0.90, 0.91])[persona[f_user]]
    pay = rng.random(len(f_user)) < p_pay
    t_pay = t_ship[pay] + rng.lognormal(math.log(70), 0.5, int(pay.sum()))
    ev.add(f_user[pay], t_pay, EV["payment_submitted"], f_sess[pay])
    done = rng.random(int(pay.sum())) < 0.95
    o_user, o_sess = f_user[pay][done], f_sess[pay][done]
    o_t = t_pay[done] + rng.uniform(3, 25, int(done.sum()))
    ev.add(o_user, o_t, EV["order_completed"], o_sess)
    o_checkout_t = f_tco[pay][done]
    o_retried = f_retried[pay][done]
    n_o = len(o_user)

    # ------------------------------------------------------------------ after the order
    t_deliv = _business_deliveries(rng, o_t)
    ev.add(o_user, t_deliv, EV["order_delivered"], -1)  # a carrier event: no web session

    def visit(users, t, event):
        ids = sessions.new(users, t)
        ev.add(users, t, EV["session_start"], ids)
        ev.add(users, t + rng.uniform(4, 40, len(users)), EV[event], ids)

    tracks = rng.random(n_o) < 0.62
    n_tr = np.where(tracks, 1 + rng.poisson(0.5, n_o), 0)
    tr_o = np.repeat(np.arange(n_o), n_tr)
    t_tr = o_t[tr_o] + 1800 + rng.random(len(tr_o)) * (t_deliv[tr_o] + 3600 - o_t[tr_o] - 1800)
    visit(o_user[tr_o], t_tr, "tracking_viewed")
    ret = rng.random(n_o) < 0.06
    t_ret = t_deliv[ret] + (1 + rng.exponential(4.0, int(ret.sum()))) * 86400
    visit(o_user[ret], t_ret, "return_requested")
    sup = rng.random(n_o) < 0.04
    t_sup = o_t[sup] + rng.uniform(0.2, 12, int(sup.sum())) * 86400
    visit(o_user[sup], t_sup, "support_contact")
    rev = rng.random(n_o) < 0.08
    t_rev = t_deliv[rev] + rng.uniform(2, 12, int(rev.sum())) * 86400
    visit(o_user[rev], t_rev, "review_written")
    ref = rng.random(n_o) < 0.02
    t_ref = t_deliv[ref] + rng.uniform(1, 20, int(ref.sum())) * 86400
    visit(o_user[ref], t_ref, "referral_sent")

    # ------------------------------------------------------------------ assemble
    e_user = np.concatenate(ev.user)
    e_t = np.concatenate(ev.t)
    e_ev = np.concatenate(ev.ev)
    e_sess = np.concatenate(ev.sess)
    keep = (e_t >= 0) & (e_t < horizon)
    e_user, e_t, e_ev, e_sess = e_user[keep], e_t[keep], e_ev[keep], e_sess[keep]
    e_sec = np.floor(e_t).astype(np.int64)
    order = np.lexsort((e_ev, e_t, e_user, e_sec))
    e_user, e_sec, e_ev, e_sess = e_user[order], e_sec[order], e_ev[order], e_sess[order]

    # ids: users numbered by first appearance, sessions by start time
    seen_users, first_pos = np.unique(e_user, return_index=True)
    user_rank = np.zeros(n_users, dtype=np.int64)  # 0: never seen in the window
    user_rank[seen_users[np.argsort(first_pos)]] = np.arange(1, len(seen_users) + 1)
    s_all_t0 = np.concatenate(sessions.t0)
    used = np.unique(e_sess[e_sess >= 0])
    sess_rank = np.full(sessions.count, -1, dtype=np.int64)
    sess_rank[used[np.argsort(s_all_t0[used], kind="stable")]] = np.arange(1, len(used) + 1)

    uid = np.char.add("u", np.char.zfill(user_rank.astype(str), 6))
    sid = np.where(e_sess >= 0, np.char.add("s", np.char.zfill(sess_rank[np.maximum(e_sess, 0)].astype(str), 7)), "")
    stamps = np.datetime_as_string(START + e_sec.astype("timedelta64[s]"), unit="s")
    events = pd.DataFrame({
        "user_id": uid[e_user],
        "timestamp": np.char.add(stamps, "Z"),
        "event": np.array(EVENT_NAMES)[e_ev],
        "session_id": sid,
        "device": np.array(DEVICES)[device[e_user]],
        "channel": np.array(CHANNELS)[channel[e_user]],
    })
    users = pd.DataFrame({"user": np.arange(n_users), "user_id": uid, "persona": np.array(PERSONAS)[persona],
                          "device": np.array(DEVICES)[device], "channel": np.array(CHANNELS)[channel],
                          "seen": np.isin(np.arange(n_users), seen_users)})
    orders = pd.DataFrame({"user": o_user, "user_id": uid[o_user], "ordered_t": o_t, "checkout_t": o_checkout_t,
                           "delivered_t": t_deliv, "retried": o_retried, "returned": ret, "support": sup})
    orders = orders[(orders["ordered_t"] >= 0) & (orders["ordered_t"] < horizon)].reset_index(drop=True)
    abandoned_users = np.setdiff1d(u_co, o_user)
    last_co = pd.Series(np.concatenate([t_co, t_rco]), index=np.concatenate([u_co, r_users])).groupby(level=0).max()
    shipped_users = set(f_user.tolist())
    abandons = pd.DataFrame({"user": abandoned_users, "user_id": uid[abandoned_users],
                             "checkout_t": last_co.reindex(abandoned_users).to_numpy(),
                             "got_to_payment": [u in shipped_users for u in abandoned_users.tolist()]})
    abandons = abandons[(abandons["checkout_t"] >= 0) & (abandons["checkout_t"] < horizon)].reset_index(drop=True)
    return events, users, orders, abandons


def _gzip_bytes(data: bytes, name: str) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def build_events(out: Path, *, verbose: bool = True):
    rng = _rng("events")
    t0 = time.perf_counter()
    events, users, orders, abandons = simulate_events(rng)
    _write_bytes(out / "events.csv.gz", _gzip_bytes(_csv_bytes(events), "events.csv"))
    if verbose:
        print(f"events: {len(events):,} events, {events['user_id'].nunique():,} users, "
              f"{events['session_id'].replace('', np.nan).nunique():,} sessions, {len(orders):,} orders "
              f"({time.perf_counter() - t0:.1f} s)")
        print(events["event"].value_counts().to_string())
        _print_step_rates(events)
    return events, users, orders, abandons


def _print_step_rates(events: pd.DataFrame) -> None:
    co = events[events["event"] == "checkout_start"]
    co = co.assign(after=co["timestamp"] >= "2026-08-31")  # ISO strings of one format sort as times
    shipped = set(events.loc[events["event"] == "shipping_submitted", "user_id"])
    first = co.sort_values("timestamp").drop_duplicates("user_id")
    first = first.assign(shipped=first["user_id"].isin(shipped))
    print("users reaching shipping after starting checkout, by period of first checkout:")
    print(first.groupby(["after", "device"])["shipped"].mean().unstack().round(3).to_string())
    print(first.groupby("after")["shipped"].agg(["mean", "size"]).round(3).to_string())


# =========================================================================== 4. survey

SURVEY_COLUMNS = ["respondent_id", "user_id", "submitted_at", "nps", "csat_product_page", "csat_shipping_form",
                  "csat_payment", "csat_delivery", "csat_support", "comment", "persona", "device", "channel"]


def _load_comments(sources: Path) -> dict:
    raw = yaml.safe_load((sources / "survey_comments.yml").read_text(encoding="utf-8"))
    return raw


def _respondents(rng, users: pd.DataFrame, orders: pd.DataFrame, abandons: pd.DataFrame) -> pd.DataFrame:
    """Who answers: customers emailed after delivery (some not in the log), and some checkout leavers."""
    fix_t = float((FIX - START).astype(int))
    close_t = float((SURVEY_CLOSE - START).astype(int))
    attrs = users.set_index("user")[["persona", "device", "channel"]]
    # customers in the event log
    o = orders[rng.random(len(orders)) < 0.43].copy()
    o["user_id"] = o["user_id"].astype(object)
    o = o.join(attrs, on="user")
    o["kind"] = "customer"
    # customers who declined analytics cookies: they get the survey e-mail too, but no user_id links them
    n_unlinked = int(round(len(o) * 0.52))
    pick = rng.integers(0, len(orders), n_unlinked)
    u = orders.iloc[pick].reset_index(drop=True).copy()
    shift = rng.normal(0, 2.5 * 86400, n_unlinked)
    for col in ("ordered_t", "checkout_t", "delivered_t"):
        u[col] = u[col] + shift
    u = u[(u["ordered_t"] >= 0) & (u["ordered_t"] < N_DAYS * 86400)]
    donors = o.sample(n=len(u), replace=True, random_state=rng)  # attributes like the linked customers'
    u["persona"], u["device"], u["channel"] = donors["persona"].to_numpy(), donors["device"].to_numpy(), \
        donors["channel"].to_numpy()
    u["user_id"] = None
    u["retried"] = rng.random(len(u)) < 0.06
    u["returned"] = rng.random(len(u)) < 0.06
    u["support"] = rng.random(len(u)) < 0.04
    u["kind"] = "customer"
    # people who started checkout and left (abandoned-checkout e-mail: "what stopped you?")
    a = abandons[rng.random(len(abandons)) < 0.12].copy().join(attrs, on="user")
    a["kind"] = "abandoned"
    a["retried"], a["returned"], a["support"] = False, False, False
    a["ordered_t"], a["delivered_t"] = np.nan, np.nan
    r = pd.concat([o, u, a], ignore_index=True, sort=False)
    # when they answer: customers once the order has arrived, leavers after the reminder e-mail
    base = np.where(r["kind"] == "customer", r["delivered_t"], r["checkout_t"] + 86400)
    t = base + rng.exponential(0.9, len(r)) * 86400 + 600
    at = np.floor(t / 86400) * 86400 + _time_of_day(rng, len(r))  # people answer at their usual hours
    r["submitted_t"] = np.where(at > base + 600, at, at + 86400)
    r = r[r["submitted_t"] <= close_t].reset_index(drop=True)
    r["after"] = r["checkout_t"] >= fix_t
    r["got_to_payment"] = r["got_to_payment"].fillna(True).astype(bool)
    k = r["delivered_t"].to_numpy()
    o_days = (np.floor((k + 3600) / 86400) - np.floor((r["ordered_t"].to_numpy() + 3600) / 86400))
    r["late"] = o_days >= 7
    return r


def _ordinal(rng, mu, sd, low, high):
    return np.clip(np.round(mu + rng.normal(0, sd, len(mu))), low, high).astype(int)


def _scores(rng, r: pd.DataFrame) -> pd.DataFrame:
    n = len(r)
    cust = (r["kind"] == "customer").to_numpy()
    after = r["after"].to_numpy()
    persona = r["persona"].to_numpy()
    device = r["device"].to_numpy()
    bargain = persona == "bargain hunter"
    g = rng.normal(0, 1, n)  # general goodwill (halo)
    cost_surprise = rng.random(n) < np.where(bargain, 0.38, 0.12) * np.where(cust, 1.0, 1.6)
    mu_ship = np.where(after, 4.1, 2.98) + np.select([device == "mobile", device == "desktop"],
                                                     [np.where(after, -0.05, -0.15), 0.2], 0.0)
    mu_ship = mu_ship - 0.6 * r["retried"].to_numpy() - 0.7 * ~cust + 0.35 * g
    ship = _ordinal(rng, mu_ship, 0.85, 1, 5)
    product = _ordinal(rng, 4.02 + 0.4 * g + np.where(persona == "home enthusiast", 0.1, 0.0) - 0.25 * ~cust, 0.75, 1, 5)
    payment = _ordinal(rng, 4.3 + 0.3 * g - 0.55 * cost_surprise, 0.6, 1, 5)
    delivery = _ordinal(rng, 4.47 + 0.3 * g - 0.9 * r["late"].to_numpy(), 0.7, 1, 5)
    support = _ordinal(rng, 3.3 + 0.5 * g, 1.1, 1, 5)
    latent = (8.5 + 1.35 * g + 0.4 * (ship - 3.3) + 0.55 * (product - 4.0) + 0.25 * (delivery - 4.3)
              + 0.25 * (payment - 4.2) - 1.3 * cost_surprise - 0.8 * r["returned"].to_numpy() - 2.0 * ~cust)
    nps = np.clip(np.round(latent + rng.normal(0, 1.1, n)), 0, 10).astype(int)
    out = pd.DataFrame({"nps": nps, "csat_product_page": product, "csat_shipping_form": ship,
                        "csat_payment": payment, "csat_delivery": delivery, "csat_support": support},
                       index=r.index).astype("Int64")
    out.loc[~cust, "csat_delivery"] = pd.NA
    out.loc[~cust & ~r["got_to_payment"].to_numpy(), "csat_payment"] = pd.NA
    out.loc[~r["support"].to_numpy(), "csat_support"] = pd.NA
    for col in ("csat_product_page", "csat_shipping_form", "csat_payment", "csat_delivery"):
        skip = rng.random(n) < rng.uniform(0.03, 0.08)
        out.loc[skip, col] = pd.NA
    out["cost_surprise"] = cost_surprise
    return out


# comment themes: weight functions of a respondent (dict of their answers)
def _theme_weights(x: dict) -> dict:
    nps, ship, cust = x["nps"], x["ship"], x["customer"]
    grp = "det" if nps <= 6 else ("pas" if nps <= 8 else "pro")
    form_w = {1: 6.0, 2: 4.0, 3: 1.5, 4: 0.3, 5: 0.1}.get(ship, 1.0)
    easy_w = {1: 0.0, 2: 0.0, 3: 0.3, 4: 1.5, 5: 2.5}.get(ship, 0.5)
    if not cust:
        return {"abandoned": 4.0, "shipping_form": form_w * (1.0 if x["after"] else 2.0),
                "shipping_cost": 3.0 if x["cost_surprise"] else 0.6, "account": 0.8, "payment": 0.4,
                "promo_code": 0.4, "site_search": 0.2, "generic_meh": 0.5}
    w = {
        "shipping_form": form_w * (0.45 if x["after"] else 1.0),
        "checkout_easy": easy_w if x["after"] else 0.0,
        "shipping_cost": (5.0 if x["cost_surprise"] else 0.2) * (1.3 if grp == "det" else 1.0),
        "product_positive": {"det": 0.4, "pas": 1.8, "pro": 4.0}[grp] * (1.0 if x["product"] >= 4 else 0.3),
        "product_negative": 3.0 if x["product"] <= 3 else 0.15,
        "delivery_good": (1.3 if x["delivery"] >= 4 else 0.2) * {"det": 0.4, "pas": 0.9, "pro": 1.2}[grp],
        "packaging": {"det": 0.2, "pas": 0.6, "pro": 1.0}[grp],
        "returns": 4.0 if x["returned"] else 0.04,
        "support_good": 3.0 if (x["support"] and x["support_score"] >= 4) else 0.0,
        "support_bad": 3.0 if (x["support"] and x["support_score"] <= 3) else 0.05,
        "account": 0.7 if grp == "det" else 0.25,
        "promo_code": (0.8 if x["persona"] == "bargain hunter" else 0.2) * (1.5 if grp == "det" else 1.0),
        "payment": 0.3,
        "site_search": 0.25 if grp != "pro" else 0.1,
        "suggestions": 0.5 if x["persona"] == "bargain hunter" else 0.3,
        "survey_fatigue": 0.15,
        "generic_positive": {"det": 0.1, "pas": 1.4, "pro": 3.2}[grp],
        "generic_meh": {"det": 1.0, "pas": 2.0, "pro": 0.3}[grp],
    }
    return w


def _comment_pool(raw: dict, rng) -> dict:
    """theme -> (texts, draw weights): short comments repeat far more than long ones."""
    pool = {}
    for theme, texts in raw["themes"].items():
        texts = list(texts)
        words = np.array([len(t.split()) for t in texts])
        if theme.startswith("generic"):  # "Great", "fine": the same few words again and again
            w = np.where(words <= 2, 6.0, np.where(words <= 4, 2.5, 1.0))
        else:
            w = np.where(words <= 4, 1.5, 1.0)
        w = w * rng.lognormal(0, 0.5, len(texts))
        pool[theme] = (texts, w / w.sum())
    return pool


def build_survey(sources: Path, out: Path, users, orders, abandons, *, verbose: bool = True) -> pd.DataFrame:
    """Write ``out/survey.csv`` and return it."""
    rng = _rng("survey")
    r = _respondents(rng, users, orders, abandons)
    sc = _scores(rng, r)
    raw = _load_comments(sources)
    pool = _comment_pool(raw, rng)
    n = len(r)
    comments, themes = [], []
    slow_p = 0.035
    for i in range(n):
        x = {"nps": int(sc["nps"].iat[i]), "ship": _int_or(sc["csat_shipping_form"].iat[i], 3),
             "product": _int_or(sc["csat_product_page"].iat[i], 4), "delivery": _int_or(sc["csat_delivery"].iat[i], 4),
             "support_score": _int_or(sc["csat_support"].iat[i], 3), "customer": r["kind"].iat[i] == "customer",
             "after": bool(r["after"].iat[i]), "cost_surprise": bool(sc["cost_surprise"].iat[i]),
             "returned": bool(r["returned"].iat[i]), "support": bool(r["support"].iat[i]),
             "persona": r["persona"].iat[i]}
        p_comment = 0.70 if x["nps"] <= 6 else (0.53 if x["nps"] <= 8 else 0.59)
        if rng.random() >= p_comment:
            comments.append("")
            themes.append("")
            continue
        if x["customer"] and rng.random() < slow_p:   # independent of how they scored us
            theme = "slow_delivery"
        else:
            w = _theme_weights(x)
            names = list(w)
            pw = np.array([w[k] for k in names])
            theme = names[int(rng.choice(len(names), p=pw / pw.sum()))]
        texts, tw = pool[theme]
        text = texts[int(rng.choice(len(texts), p=tw))]
        if len(text.split()) >= 4 and rng.random() < 0.15:  # a second thought
            w = _theme_weights(x)
            names = [k for k in w if k != theme and w[k] > 0]
            pw = np.array([w[k] for k in names])
            second = names[int(rng.choice(len(names), p=pw / pw.sum()))]
            t2, tw2 = pool[second]
            extra = t2[int(rng.choice(len(t2), p=tw2))]
            if len(extra.split()) >= 3:
                sep = " " if text[-1] in ".!?)" else (". " if rng.random() < 0.6 else ", ")
                text = text + sep + (extra if sep != ", " else extra[0].lower() + extra[1:])
        comments.append(text)
        themes.append(theme)
    # slow-delivery grumblers rated the delivery a little lower (their NPS was decided above)
    themes = np.array(themes, dtype=object)
    slow = themes == "slow_delivery"
    lower = slow & (rng.random(n) < 0.6) & sc["csat_delivery"].notna().to_numpy()
    sc.loc[lower, "csat_delivery"] = (sc.loc[lower, "csat_delivery"] - 1).clip(lower=1)
    # plant the comments with personal data, once each
    comments = np.array(comments, dtype=object)
    for item in raw.get("pii") or []:
        cands = np.flatnonzero(themes == item["theme"])
        cands = cands[[not any(ch.isdigit() or ch == "@" for ch in comments[c]) for c in cands]] if len(cands) else cands
        if not len(cands):
            cands = np.flatnonzero((comments != "") & (themes != "slow_delivery"))
        c = int(rng.choice(cands))
        comments[c] = item["text"]
        themes[c] = "pii:" + item["theme"]
    r = r.assign(comment=comments, theme=themes)
    order = np.argsort(r["submitted_t"].to_numpy(), kind="stable")
    r, sc = r.iloc[order].reset_index(drop=True), sc.iloc[order].reset_index(drop=True)
    stamps = np.datetime_as_string(START + np.floor(r["submitted_t"].to_numpy()).astype("timedelta64[s]"), unit="s")
    survey = pd.DataFrame({
        "respondent_id": [f"R{i:05d}" for i in range(1, len(r) + 1)],
        "user_id": r["user_id"].fillna("").to_numpy(),
        "submitted_at": np.char.add(stamps, "Z"),
    })
    for col in ("nps", "csat_product_page", "csat_shipping_form", "csat_payment", "csat_delivery", "csat_support"):
        survey[col] = sc[col].array
    survey["comment"] = r["comment"].to_numpy()
    survey["persona"] = r["persona"].to_numpy()
    survey["device"] = r["device"].to_numpy()
    survey["channel"] = r["channel"].to_numpy()
    survey = survey[SURVEY_COLUMNS]
    _write_bytes(out / "survey.csv", _csv_bytes(survey))
    if verbose:
        _print_survey_summary(survey, r)
    return survey


def _int_or(v, default):
    return default if pd.isna(v) else int(v)


def _nps(x: pd.Series) -> float:
    x = x.dropna()
    return 100.0 * ((x >= 9).mean() - (x <= 6).mean())


def _print_survey_summary(survey: pd.DataFrame, r: pd.DataFrame) -> None:
    after = pd.to_datetime(survey["submitted_at"]) >= pd.Timestamp("2026-08-31", tz="UTC")
    print(f"survey: {len(survey):,} responses ({(survey['user_id'] != '').sum():,} linked to the event log, "
          f"{(r['kind'] == 'abandoned').sum():,} from checkout leavers); comments {(survey['comment'] != '').mean():.0%} "
          f"filled, {survey.loc[survey['comment'] != '', 'comment'].nunique()} distinct")
    print(f"  NPS {_nps(survey['nps']):+.0f} (before {_nps(survey.loc[~after, 'nps']):+.0f}, "
          f"after {_nps(survey.loc[after, 'nps']):+.0f})")
    for col in ("csat_product_page", "csat_shipping_form", "csat_payment", "csat_delivery", "csat_support"):
        print(f"  {col:20s} before {survey.loc[~after, col].mean():.2f}  after {survey.loc[after, col].mean():.2f}  "
              f"blank {survey[col].isna().mean():.1%}")
    th = r["theme"].to_numpy()
    det = (survey["nps"] <= 6).to_numpy()
    for t in ("shipping_form", "shipping_cost", "slow_delivery"):
        m = th == t
        print(f"  comments on {t}: {m.sum()} (detractors {m[det].mean():.1%} vs others {m[~det].mean():.1%}); "
              f"their mean NPS {survey.loc[m, 'nps'].mean():.2f} vs all {survey['nps'].mean():.2f}")


# =========================================================================== main

def build(*, parts=PARTS, sources: Path = SOURCES, study_in: Path = STUDY, out: Path = STUDY,
          reference: Path | None = None, verbose: bool = True) -> dict:
    """Build the requested parts; returns what was computed (kappas, frames)."""
    parts = [p for p in PARTS if p in parts]
    result = {}
    if "transcripts" in parts or "codings" in parts:
        interviews = read_interviews(sources, study_in)
        if verbose:
            print(f"interviews: {len(interviews)} ({', '.join(iv.doc_id for iv in interviews)})")
        if "transcripts" in parts:
            build_transcripts(interviews, out)
            ref = reference_codings(interviews)
            _write_bytes(reference or (sources / "reference_codings.csv"), _csv_bytes(ref))
            if verbose:
                n_turns = sum(len(iv.turns) for iv in interviews)
                print(f"transcripts: {n_turns} turns; reference codings: {len(ref)} rows")
        if "codings" in parts:
            result["kappas"] = build_codings(interviews, study_in, out, verbose=verbose)
    if "events" in parts or "survey" in parts:
        events, users, orders, abandons = build_events(out, verbose=verbose)
        result["events"] = events
        if "survey" in parts:
            result["survey"] = build_survey(sources, out, users, orders, abandons, verbose=verbose)
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), help="parts to build")
    ap.add_argument("--out", type=Path, default=STUDY, help="study folder to write (default data/sample_study)")
    ap.add_argument("--reference", type=Path, default=None,
                    help="where to write reference_codings.csv (default data/sources/)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    build(parts=args.only, out=args.out, reference=args.reference, verbose=not args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
