"""Hypothesis strategies for random *valid* study folders (issue 14, "Any study, end to end").

:func:`study_specs` draws a :class:`StudySpec`: every file of a study folder as text, plus what a
test needs to know about it. :func:`write_study` writes one into a folder. The study varies in
what ``docs/study-format.md`` lets a user vary:

- 1-7 stages with random names (snake_case, Title Case with spaces, accented), 0-3 touchpoints each;
- personas or none; participants.csv with only the id column or with random extra attributes,
  an optional ``name`` column (redacted on load) and random column names mapped in study.yml;
- 2-6 participants with random ids, one transcript each, in .txt (with or without times),
  WebVTT (Zoom ``Label: text`` or ``<v Label>``) or SRT, a moderator with a random label;
- a codebook (or none) whose codes have rules or not, with an optional grouping parent;
- codings by 0, 1 or 2 coders, on real participant turns, with or without coder/origin/memo columns;
- survey.csv or none: any subset of an NPS column, CSAT columns on a random scale and comments,
  with random column names mapped through study.yml;
- an event log or none (.csv or .csv.gz), random event names mapped to stages and touchpoints,
  a funnel (a step may be a set of events) or none, properties or none, unmapped events excluded;
- product changes or none.

The words are neutral and made up for this file: nothing of the bundled sample study
(:data:`SAMPLE_VOCABULARY` lists what must never appear in another study's outputs). Studies are
small (2-6 interviews of 4-8 turns, at most 30 survey answers and 25 users) so that many can run.
Hypothesis draws a seed and :func:`make_spec` builds the whole study from a :class:`random.Random`
seeded with it: hypothesis' own draws favour the simplest value (one stage, no survey, no coder)
for many of the first examples, and a pipeline test can afford only a few dozen, so each of
them should be a full random study. A failure names its seed; ``make_spec(seed)`` rebuilds it.
"""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hypothesis import strategies as st

# ----------------------------------------------------------------------------- the sample's words

#: Words, names and identifiers of the bundled sample study (data/sample_study, "Larkspur & Co.",
#: an online homeware shop) and of its sources (data/sources). A generated study never uses them,
#: so any of them in a generated study's outputs came from library code that knows the sample.
SAMPLE_VOCABULARY = [
    # the shop, its trade and its words (data/sources/interviews, survey_comments.yml)
    "Larkspur", "homeware", "shipping form", "overpriced", "flimsy", "completed orders", "orders a week",
    "checkout", "check out", "basket", "sample_study", "sample study", "cushion", "throws", "postcode",
    "delivery charge", "LK-",
    # its participants (data/sample_study/participants.csv) and coders (codings/)
    "Okafor", "Kowalski", "Priya", "Raman", "Hendricks", "Aisha", "Bello", "Lindqvist", "Marchetti",
    "Kwame", "Asante", "Helen Brooks", "Jonah Feld", "Lucía", "Fernández", "Ben Carter", "Nadia Haddad",
    "Haddad", "Oliver Grant", "amara", "jonas",
    # its personas
    "bargain hunter", "busy parent", "gift buyer", "home enthusiast",
    # its touchpoints and events (study.yml)
    "shipping_form", "social_ads", "search_engine", "word_of_mouth", "site_search", "product_page",
    "order_tracking", "written_reviews", "add_to_cart", "checkout_start", "shipping_submitted",
    "payment_submitted", "order_completed", "order_delivered", "tracking_viewed", "return_requested",
    "support_contact", "review_written", "referral_sent", "ad_click", "product_view", "review_read",
    # its codes (codebook.yml)
    "ad_discovery", "ad_fatigue", "product_photos_helpful", "unclear_sizing", "reviews_build_trust",
    "search_results_poor", "price_comparison", "checkout_friction", "shipping_form_tedious",
    "shipping_cost_surprise", "forced_account", "promo_code_confusion", "payment_options", "payment_trust",
    "checkout_easy", "slow_delivery", "packaging_delight", "tracking_clear", "returns_hassle",
    "support_helpful", "support_hard_to_reach", "would_recommend", "review_requests_annoying",
    "loyalty_reward_wanted",
]

_SAMPLE_RE = re.compile("|".join(rf"(?<![\w-]){re.escape(w)}(?![\w])" for w in SAMPLE_VOCABULARY), re.IGNORECASE)


def sample_words_in(text: str) -> list[str]:
    """The sample study's words found in ``text`` (whole words, case-insensitive), each once."""
    return sorted({m.group(0).lower() for m in _SAMPLE_RE.finditer(text)})


# ----------------------------------------------------------------------------- neutral words

STAGE_WORDS = ["explore", "enrol", "onboard", "settle", "grow", "renew", "reflect", "orient", "commit",
               "engage", "arrive", "learn", "practise", "join", "compare", "visit", "wait", "attend",
               "follow up", "leave", "belong", "prepare"]
NOUNS = ["lantern", "harbour", "meadow", "timetable", "locker", "kiosk", "helpline", "brochure", "portal",
         "badge", "seminar", "studio", "bicycle", "ferry", "workshop", "tutor", "library", "garden", "ticket",
         "schedule", "reminder", "appointment", "signage", "letter", "queue", "counter", "leaflet", "calendar",
         "notebook", "rota", "newsletter", "lobby", "corridor", "canteen", "roster", "welcome pack"]
GOOD = ["helpful", "clear", "friendly", "quick", "calm", "pleasant", "great", "reassuring", "easy", "lovely",
        "wonderful", "tidy"]
BAD = ["confusing", "slow", "annoying", "unclear", "stressful", "awkward", "frustrating", "noisy", "tiring",
       "late", "crowded", "disappointing"]
OPENERS = ["Honestly", "I think", "To be fair", "The first time", "Every week", "My neighbour said",
           "Well", "In the end", "Mostly", "At the start"]
QUESTIONS = ["How was the {n}?", "Could you tell me about the {n}?", "What happened next?",
             "And how did that feel?", "What would you change about the {n}?", "Anything else on the {n}?"]
FIRST = ["Ilse", "Tamsin", "Oskar", "Rafe", "Wren", "Dagny", "Emeric", "Saoirse", "Kofi", "Yuki", "Anouk",
         "Brannock", "Zofia", "Thiago", "Leontine", "Idris", "Marit", "Cosmo"]
LAST = ["Varga", "Quill", "Ostrander", "Bellamy", "Nakamura", "Thorne", "Achebe", "Lund", "Moreau",
        "Castellan", "Pereira-Holt", "Szabo", "Whitlow", "Dunmore"]
PERSONAS = ["night owl", "first timer", "planner", "weekend visitor", "long-time member", "commuter",
            "Solo Learner", "group organiser"]
CODERS = ["ana", "bo", "kit", "rosa", "tariq", "Mei Ling", "wim"]
MODERATORS = ["Interviewer", "Moderator", "Facilitator", "Researcher", "Host", "Guide", "Anna Ruiz"]
KINDS = ["pain_point", "pain_point", "delight", "need", "behaviour", "emotion"]
ATTRS = ["segment", "channel", "device", "region", "tenure", "age_band", "cohort", "plan"]
ATTR_VALUES = ["north", "south", "mobile", "desktop", "new", "returning", "a", "b", "c", "long", "short"]
PROPS = ["session_id", "device", "channel", "app_version", "region", "source"]


def _snake(words: list[str]) -> str:
    return "_".join(w.replace(" ", "_").replace("-", "_").lower() for w in words)


# ----------------------------------------------------------------------------- the spec


@dataclass
class StudySpec:
    """Every file of a generated study (relative path → text or bytes) and facts about it."""

    seed: int = 0
    files: dict = field(default_factory=dict)
    stages: list = field(default_factory=list)
    personas: list = field(default_factory=list)
    participant_ids: list = field(default_factory=list)
    formats: dict = field(default_factory=dict)     # doc_id -> txt / vtt / srt
    has_codebook: bool = False
    has_rules: bool = False
    coders: list = field(default_factory=list)
    has_survey: bool = False
    has_events: bool = False
    has_funnel: bool = False
    has_changes: bool = False

    def describe(self) -> str:
        """One line saying what the study holds (for failure messages)."""
        return (f"make_spec({self.seed}): {len(self.stages)} stages {self.stages}, personas {self.personas}, participants "
                f"{self.participant_ids}, formats {sorted(set(self.formats.values()))}, codebook "
                f"{self.has_codebook} (rules {self.has_rules}), coders {self.coders}, survey {self.has_survey}, "
                f"events {self.has_events} (funnel {self.has_funnel}), changes {self.has_changes}")


def write_study(spec: StudySpec, root) -> Path:
    """Write the files of ``spec`` into the folder ``root`` (created) and return it."""
    root = Path(root)
    for rel, content in spec.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return root


def _csv(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _sentence(rng: random.Random, nouns: list[str], *, mood: str | None = None) -> str:
    mood = mood or rng.choice(["good", "bad", "mixed", "flat"])
    n1, n2 = rng.choice(nouns), rng.choice(nouns)
    a1 = rng.choice(GOOD if mood in ("good", "mixed") else BAD)
    a2 = rng.choice(BAD if mood == "mixed" else (GOOD if mood == "good" else BAD))
    if mood == "flat":
        return f"{rng.choice(OPENERS)}, I went to the {n1} on a Tuesday and then the {n2}."
    s = f"{rng.choice(OPENERS)}, the {n1} was {a1}"
    if rng.random() < 0.6:
        s += f" {'but' if mood == 'mixed' else 'and'} the {n2} was {a2}"
    return s + rng.choice([".", "!", "...", ". Really."])


def _timestamp(seconds: int, sep: str) -> str:
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{(seconds * 137) % 1000:03d}"


def _transcript(fmt: str, style: str, turns: list[tuple[str, str]]) -> str:
    """The file text of one interview; ``turns`` are (label, text), strictly alternating speakers."""
    t = 3
    times = []
    for _, text in turns:
        start = t
        t += 2 + len(text) // 20
        times.append((start, t))
        t += 1
    if fmt == "txt":
        lines = []
        for (label, text), (a, _) in zip(turns, times):
            if style == "bracket":
                lines.append(f"[{a // 3600:02d}:{a % 3600 // 60:02d}:{a % 60:02d}] {label}: {text}")
            elif style == "bare_time":
                lines.append(f"{a // 3600:02d}:{a % 3600 // 60:02d}:{a % 60:02d} {label}: {text}")
            else:
                lines.append(f"{label}: {text}")
        return "\n\n".join(lines) + "\n"
    if fmt == "vtt":
        cues = ["WEBVTT", ""]
        for k, ((label, text), (a, b)) in enumerate(zip(turns, times), 1):
            if style == "ids":
                cues.append(str(k))
            cues.append(f"{_timestamp(a, '.')} --> {_timestamp(b, '.')}")
            cues.append(f"<v {label}>{text}</v>" if style == "voice" else f"{label}: {text}")
            cues.append("")
        return "\n".join(cues)
    cues = []
    for k, ((label, text), (a, b)) in enumerate(zip(turns, times), 1):
        cues += [str(k), f"{_timestamp(a, ',')} --> {_timestamp(b, ',')}", f"{label}: {text}", ""]
    return "\n".join(cues)


def _participant_id(rng: random.Random) -> str:
    """A random participant id: starts with a letter (a speaker label does), maybe a separator and digits."""
    prefix = rng.choice(["P", "G", "R", "K", "u", "Id", "Part", "resp", "Ö"])
    sep = rng.choice(["", "", "-", "_"])
    number = rng.randint(1, 999)
    return f"{prefix}{sep}{number:0{rng.choice([1, 2, 3])}d}"


def _stage_name(rng: random.Random) -> str:
    """snake_case, Title Case with a space, or with an accent, digit or hyphen."""
    r = rng.random()
    if r < 0.45:
        return rng.choice(STAGE_WORDS).replace(" ", "_")
    if r < 0.8:
        return " ".join(rng.sample(STAGE_WORDS, k=rng.randint(1, 2))).title()
    return rng.choice(STAGE_WORDS) + rng.choice(["é", "ø", "ß", " 2", "-b"])


@st.composite
def study_specs(draw) -> StudySpec:
    """A random valid study (see the module docstring)."""
    seed = draw(st.integers(0, 2**32 - 1))
    return make_spec(seed)


def make_spec(seed: int) -> StudySpec:
    """The study of ``seed`` (what :func:`study_specs` draws; call it to reproduce a failure)."""
    rng = random.Random(seed)
    spec = StudySpec(seed=seed)
    files = spec.files

    # ---- stages and touchpoints
    n_stages = rng.randint(1, 7)
    stages = []
    while len(stages) < n_stages:
        name = _stage_name(rng)
        if name.lower() not in {s.lower() for s in stages}:
            stages.append(name)
    nouns = rng.sample(NOUNS, k=min(len(NOUNS), 8 + len(stages) * 2))
    tp_pool = [n.replace(" ", "_") for n in nouns]
    stage_tps = {}
    k = 0
    for s in stages:
        n = rng.choice([0, 1, 1, 2, 2, 3])
        stage_tps[s] = tp_pool[k:k + n]
        k += n
    all_tps = [tp for s in stages for tp in stage_tps[s]]
    config: dict = {"name": f"{rng.choice(FIRST)}'s {rng.choice(NOUNS)} study"}
    config["stages"] = [{"name": s, "touchpoints": stage_tps[s]} if stage_tps[s] or rng.random() < 0.5 else s
                        for s in stages]
    spec.stages = stages

    # ---- personas and participants
    personas = rng.sample(PERSONAS, k=rng.choice([0, 0, 1, 2, 3]))
    if personas:
        config["personas"] = personas
    spec.personas = personas
    n_part = rng.randint(2, 6)
    reserved = {"i", "int"} | {m.lower() for m in MODERATORS}
    pids = []
    while len(pids) < n_part:
        pid = _participant_id(rng)
        if pid.lower() not in reserved | {p.lower() for p in pids}:
            pids.append(pid)
    spec.participant_ids = pids
    pid_col = rng.choice(["participant_id", "participant_id", "pid", "Teilnehmer", "interviewee"])
    with_names = rng.random() < 0.5
    with_persona_col = bool(personas) and rng.random() < 0.5 or (not personas and rng.randint(0, 4) == 0)
    persona_col = rng.choice(["persona", "persona", "profile"]) if with_persona_col else None
    extra = rng.sample(ATTRS, k=rng.randint(0, 3))
    with_date = rng.random() < 0.5
    header = [pid_col] + (["name"] if with_names else []) + ([persona_col] if persona_col else []) + extra
    header += ["interview_date"] if with_date else []
    names = {}
    rows = []
    for i, pid in enumerate(pids):
        row = [pid]
        if with_names:
            names[pid] = f"{FIRST[(i * 7 + rng.randrange(len(FIRST))) % len(FIRST)]} {rng.choice(LAST)}"
            row.append(names[pid])
        if persona_col:
            row.append(rng.choice(personas + [""]) if personas else rng.choice(PERSONAS))
        row += [rng.choice(ATTR_VALUES + [""]) for _ in extra]
        if with_date:
            row.append(f"2026-0{rng.randint(1, 9)}-{rng.randint(10, 28)}")
        rows.append(row)
    files["participants.csv"] = _csv(header, rows)
    columns: dict = {}
    if pid_col != "participant_id":
        columns.setdefault("participants", {})["participant_id"] = pid_col
    if persona_col and persona_col != "persona":
        columns.setdefault("participants", {})["persona"] = persona_col

    # ---- transcripts
    moderator = rng.choice(MODERATORS)
    if moderator not in MODERATORS[:4] or rng.random() < 0.5:
        config["interviewer_labels"] = [moderator]
    turns_by_doc = {}
    for pid in pids:
        fmt = rng.choice(["txt", "vtt", "srt"])
        style = {"txt": ["bracket", "bare_time", "plain"], "vtt": ["ids", "plain", "voice"], "srt": ["plain"]}[fmt]
        style = rng.choice(style)
        doc_id = pid if rng.randint(0, 3) else f"interview {pid}"
        n_turns = rng.randint(4, 8)
        moderator_first = rng.random() < 0.5
        turns = []
        for t in range(n_turns):
            if (t % 2 == 0) == moderator_first:
                q = rng.choice(QUESTIONS).format(n=rng.choice(nouns))
                if t == 0 and pid in names and rng.random() < 0.7:
                    q = f"Thanks for coming, {names[pid].split()[0]}. {q}"
                turns.append((moderator, q))
            else:
                text = " ".join(_sentence(rng, nouns) for _ in range(rng.randint(1, 3)))
                turns.append((pid, text))
        if sum(label == pid for label, _ in turns) < 2:  # a label seen once is only a warning, but keep two
            turns.append((pid if turns[-1][0] == moderator else moderator, _sentence(rng, nouns)))
            if turns[-1][0] == moderator:
                turns.append((pid, _sentence(rng, nouns)))
        files[f"transcripts/{doc_id}.{fmt}"] = _transcript(fmt, style, turns)
        spec.formats[doc_id] = fmt
        turns_by_doc[doc_id] = turns

    # ---- codebook
    codes = []
    if rng.randint(0, 5):
        spec.has_codebook = True
        n_codes = rng.randint(1, 8)
        with_rules = rng.random() < 0.5
        used = set()
        parent = None
        cb_codes = []
        if rng.randint(0, 3) == 0:
            parent = f"{rng.choice(STAGE_WORDS).replace(' ', '_')}_group"
            cb_codes.append({"name": parent, "codable": False, "definition": "A group of codes."})
        for _ in range(n_codes):
            noun = rng.choice(nouns)
            kind = rng.choice(KINDS)
            adj = rng.choice(BAD if kind == "pain_point" else GOOD)
            name = _snake([noun, adj])
            if name in used or name == parent:
                continue
            used.add(name)
            code: dict = {"name": name, "kind": kind}
            stage = rng.choice(stages + [None])
            if stage is not None:
                code["stage"] = stage
                if stage_tps[stage] and rng.random() < 0.7:
                    code["touchpoint"] = rng.choice(stage_tps[stage])
            code["definition"] = f"The {noun} felt {adj}."
            if parent and rng.random() < 0.5:
                code["parent"] = parent
            if with_rules and rng.random() < 0.85:
                rules: dict = {}
                r = rng.random()
                if r < 0.4:
                    rules["keywords"] = [adj]
                elif r < 0.7:
                    rules["phrases"] = [f"{noun} was {adj}"]
                elif r < 0.85:
                    rules["near"] = [[noun.split()[-1], adj, 4]]
                else:
                    rules["keywords"] = [noun.split()[-1]]
                    rules["exclude"] = [rng.choice(GOOD)]
                if rng.random() < 0.3:
                    rules["negation"] = True
                code["rules"] = rules
                spec.has_rules = True
            cb_codes.append(code)
            codes.append(name)
        cb = {"name": f"{rng.choice(NOUNS)} codebook", "version": str(rng.randint(1, 3)), "codes": cb_codes}
        files["codebook.yml"] = yaml.safe_dump(cb, sort_keys=False, allow_unicode=True)

    # ---- codings (0, 1 or 2 coders), on participant turns
    n_coders = rng.choice([0, 1, 2]) if codes else 0
    coders = rng.sample(CODERS, k=n_coders)
    participant_turns = [f"{doc}-t{t + 1:03d}" for doc, turns in turns_by_doc.items()
                         for t, (label, _) in enumerate(turns) if label != moderator]
    for coder in coders:
        with_coder_col, with_origin, with_memo = rng.random() < 0.5, rng.random() < 0.5, rng.random() < 0.5
        head = ["segment_id", "code"] + (["coder"] if with_coder_col else []) + (["origin"] if with_origin else [])
        head += ["memo"] if with_memo else []
        pairs = set()
        for sid in participant_turns:
            if rng.random() < 0.6:
                for c in rng.sample(codes, k=min(len(codes), rng.randint(1, 2))):
                    pairs.add((sid, c))
        rows = []
        for sid, c in sorted(pairs):
            row = [sid, c] + ([coder] if with_coder_col else []) + (["manual"] if with_origin else [])
            row += [rng.choice(["", "", "good quote", f"about the {rng.choice(nouns)}"])] if with_memo else []
            rows.append(row)
        stem = coder.replace(" ", "_").lower()
        files[f"codings/{stem}.csv"] = _csv(head, rows)
        spec.coders.append(coder if with_coder_col else stem)

    # ---- event log
    start_day = rng.randint(0, 300)
    base_day = 20_000 + start_day  # days since 1970: 2024-10 .. 2025-08
    events_map = {}
    if rng.random() < 0.5:
        spec.has_events = True
        n_events = rng.randint(1, 6)
        verbs = ["opened", "viewed", "booked", "joined", "confirmed", "left", "rated", "started"]
        for _ in range(n_events):
            s = rng.choice(stages)
            noun = rng.choice(nouns).replace(" ", "_")
            ev = f"{noun}_{rng.choice(verbs)}"
            if ev in events_map:
                continue
            spec_ev: dict = {"stage": s}
            if stage_tps[s] and rng.random() < 0.8:
                spec_ev["touchpoint"] = rng.choice(stage_tps[s])
            events_map[ev] = spec_ev
        config["events"] = {ev: (v if "touchpoint" in v or rng.random() < 0.5 else v["stage"])
                            for ev, v in events_map.items()}
        names_ev = list(events_map)
        steps = []
        if len(names_ev) >= 2 and rng.random() < 0.7:
            chosen = rng.sample(names_ev, k=rng.randint(2, len(names_ev)))
            steps = list(chosen)
            if len(steps) >= 3 and rng.random() < 0.3:  # a step that is a set of events
                steps = [steps[0], [steps[1], steps[2]], *steps[3:]]
            config["funnel"] = {"steps": steps, "window": rng.choice(["7D", "36h", "3D", "14D"])}
            spec.has_funnel = True
        unmapped = rng.random() < 0.25
        if unmapped:
            config["unmapped_events"] = "exclude"
        ucol = rng.choice(["user_id", "user_id", "visitor", "member_ref"])
        tcol = rng.choice(["timestamp", "timestamp", "ts", "happened_at"])
        ecol = rng.choice(["event", "event", "action", "what"])
        props = rng.sample(PROPS, k=rng.randint(0, 2))
        tz = rng.choice(["Z", "+02:00", ""])
        rows = []
        n_users = rng.randint(3, 25)
        for u in range(n_users):
            user = f"v{u:04d}"
            t = base_day * 86400 + rng.randint(0, 40 * 86400)
            path = []
            flat = [s if isinstance(s, str) else rng.choice(s) for s in steps]
            for step in flat:
                path.append(step)
                if rng.random() < 0.35:
                    break
            path += rng.sample(names_ev, k=rng.randint(0 if path else 1, min(2, len(names_ev))))
            if unmapped and rng.random() < 0.3:
                path.append("unlisted_ping")
            for ev in path:
                t += rng.randint(60, 2 * 86400)
                stamp = dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + tz
                rows.append([user, stamp, ev] + [rng.choice(["x1", "x2", "web", "ios", "s" + str(u)]) for _ in props])
        if not rows:
            rows.append(["v9999", "2025-01-01T00:00:00Z", names_ev[0]] + ["" for _ in props])
        text = _csv([ucol, tcol, ecol] + props, rows)
        mapping = {k: v for k, v in {"user_id": ucol, "timestamp": tcol, "event": ecol}.items() if k != v}
        if mapping:
            columns["events"] = mapping
        if rng.random() < 0.3:
            files["events.csv.gz"] = gzip.compress(text.encode("utf-8"), mtime=0)
        else:
            files["events.csv"] = text
        if rng.random() < 0.4:
            day = dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + base_day + rng.randint(5, 35))
            s = rng.choice(stages)
            change: dict = {"date": day.isoformat(), "name": f"new {rng.choice(nouns)}", "stage": s}
            if stage_tps[s]:
                change["touchpoint"] = rng.choice(stage_tps[s])
            config["changes"] = [change]
            spec.has_changes = True

    # ---- survey
    if rng.random() < 0.5:
        spec.has_survey = True
        survey_cfg: dict = {}
        rid = rng.choice(["respondent_id", "respondent_id", "response_no", "antwort_id"])
        head = [rid]
        nps_col = rng.choice([None, "nps", "likely_to_recommend", "q_rec"])
        csat_cols = {}
        for tp in rng.sample(all_tps, k=rng.randint(0, min(3, len(all_tps)))):
            csat_cols[rng.choice([f"sat_{tp}", f"rating_{tp}"])] = tp
        comment_col = rng.choice([None, "comment", "comment", "open_text", "verbatim"])
        with_user = spec.has_events and rng.random() < 0.5
        with_time = rng.random() < 0.5
        survey_persona = persona_col is not None and rng.random() < 0.4
        if nps_col:
            head.append(nps_col)
            if nps_col != "nps" or rng.random() < 0.5:
                survey_cfg["nps"] = nps_col
        scale = rng.choice([[1, 5], [1, 7], [0, 10], [1, 10]])
        if csat_cols:
            survey_cfg["csat"] = csat_cols
            survey_cfg["csat_scale"] = scale
            head += list(csat_cols)
        if comment_col:
            head.append(comment_col)
        if with_user:
            head.append("user_ref")
        if with_time:
            head.append("answered_at")
        if survey_persona:
            head.append("persona")
        rows = []
        for r in range(rng.randint(1, 30)):
            row = [f"{rid[:1].upper()}{r + 1:04d}"]
            if nps_col:
                row.append(rng.choice([str(rng.randint(0, 10)) for _ in range(6)] + [""]))
            for _ in csat_cols:
                row.append(rng.choice([str(rng.randint(scale[0], scale[1])) for _ in range(5)] + [""]))
            if comment_col:
                row.append(rng.choice([_sentence(rng, nouns), _sentence(rng, nouns), ""]))
            if with_user:
                row.append(f"v{rng.randint(0, 30):04d}")
            if with_time:
                row.append(f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T12:00:00Z")
            if survey_persona:
                row.append(rng.choice(personas or PERSONAS))
            rows.append(row)
        files["survey.csv"] = _csv(head, rows)
        mapped = {}
        if rid != "respondent_id":
            mapped["respondent_id"] = rid
        if comment_col and comment_col != "comment":
            mapped["comment"] = comment_col
        if with_user:
            mapped["user_id"] = "user_ref"
        if with_time:
            mapped["submitted_at"] = "answered_at"
        if mapped:
            columns["survey"] = mapped
        if survey_cfg:
            config["survey"] = survey_cfg

    if columns:
        config["columns"] = columns
    if rng.random() < 0.15:
        config["redaction"] = {"enabled": False}
    files["study.yml"] = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    return spec
