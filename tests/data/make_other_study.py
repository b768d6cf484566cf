"""Write ``tests/data/other_study/``: a second, small study that shares nothing with the sample.

Run ``python tests/data/make_other_study.py`` to regenerate it (seeded: the same bytes each time).
It exists to prove that ``journeylab run`` and the notebooks are not hard-wired to the sample
study. Compared with ``data/sample_study`` it differs in

- the product (Greenbox, a fictional meal-kit subscription) and so every stage, touchpoint,
  event name, code and persona: stages ``discover → try → subscribe → renew``; personas
  ``weeknight cook`` and ``meal planner``;
- column names, mapped to journeylab's through study.yml's ``columns:`` (``pid``, ``profile``,
  ``member``, ``ts``, ``action``, ``platform``, ``response_id``, ``answered_on``, ``feedback``),
  an NPS column called ``likelihood_to_recommend`` and CSAT columns on a 1–7 scale;
- transcript formats: ``.txt`` with time stamps, ``.vtt`` (Zoom style), ``.srt`` and a plain
  ``.txt``, with the interviewer labelled ``Moderator``; ids ``G1``..``G4``;
- coders ``lee`` and ``sam``; a plain ``events.csv`` (no gzip); a 14-day funnel window;
- one product change (a one-page payment form) at the ``payment`` touchpoint.

Sizes: 4 interviews, 160 survey answers, ~900 events (~70 KB in all).
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "other_study"
SEED = 20260412

STUDY_YML = """\
# Greenbox: a second, small study (fictional meal-kit subscription), written by
# tests/data/make_other_study.py. Column names differ from journeylab's: see `columns:`.
name: Greenbox trial-to-subscription study
description: Four interviews, a short survey and six weeks of app events for a meal-kit subscription.
stages:
  - name: discover
    touchpoints: [podcast_ad, referral]
  - name: try
    touchpoints: [trial_signup, first_box]
  - name: subscribe
    touchpoints: [plan_page, payment]
  - name: renew
    touchpoints: [renewal_email, billing]
events:
  ad_click: {stage: discover, touchpoint: podcast_ad}
  referral_visit: {stage: discover, touchpoint: referral}
  trial_started: {stage: try, touchpoint: trial_signup}
  box_delivered: {stage: try, touchpoint: first_box}
  recipe_rated: {stage: try, touchpoint: first_box}
  plan_viewed: {stage: subscribe, touchpoint: plan_page}
  payment_added: {stage: subscribe, touchpoint: payment}
  subscribed: {stage: subscribe, touchpoint: payment}
  renewal_reminder: {stage: renew, touchpoint: renewal_email}
  renewed: {stage: renew, touchpoint: billing}
  cancelled: {stage: renew, touchpoint: billing}
funnel:
  steps: [trial_started, plan_viewed, payment_added, subscribed]
  window: 14D
changes:
  - date: 2026-03-02
    name: one-page payment form
    stage: subscribe
    touchpoint: payment
survey:
  nps: likelihood_to_recommend
  csat_scale: [1, 7]
  csat:
    sat_first_box: first_box
    sat_payment: payment
personas: [weeknight cook, meal planner]
interviewer_labels: [Moderator]
columns:
  participants: {participant_id: pid, persona: profile}
  survey: {respondent_id: response_id, user_id: member, submitted_at: answered_on, comment: feedback,
           persona: profile, device: platform}
  events: {user_id: member, timestamp: ts, event: action, device: platform}
redaction:
  order_pattern: '\\bGB-\\d{5}\\b'
"""

CODEBOOK_YML = """\
# Codebook of the Greenbox study (tests/data/make_other_study.py).
name: Greenbox codebook
version: "0.3"
codes:
  - name: podcast_discovery
    kind: behaviour
    stage: discover
    touchpoint: podcast_ad
    definition: First heard of Greenbox through a podcast or its ad read.
    rules: {keywords: [podcast]}
  - name: friend_referral
    kind: behaviour
    stage: discover
    touchpoint: referral
    definition: A friend or colleague recommended Greenbox or sent a referral code.
    rules: {phrases: [referral code, a friend, my colleague]}
  - name: fresh_ingredients_delight
    kind: delight
    stage: try
    touchpoint: first_box
    definition: Pleasure at the freshness or quality of the ingredients in a box.
    rules: {keywords: [fresh, crisp]}
  - name: recipes_too_long
    kind: pain_point
    stage: try
    touchpoint: first_box
    definition: Recipes took longer than promised or had too many steps for a weeknight.
    rules: {keywords: [forty, hour, steps], phrases: [too long, took ages]}
  - name: plan_confusion
    kind: pain_point
    stage: subscribe
    touchpoint: plan_page
    definition: Could not tell the plans apart or what a plan would cost per week.
    rules: {keywords: [confusing, confused], phrases: [per serving, which plan]}
  - name: payment_form_friction
    kind: pain_point
    stage: subscribe
    touchpoint: payment
    definition: The payment form was long, failed or asked for details twice.
    rules: {keywords: [card, declined], phrases: [payment form, payment page, typed it]}
  - name: surprise_renewal_charge
    kind: pain_point
    stage: renew
    touchpoint: billing
    definition: A renewal charge the participant did not expect or did not notice coming.
    rules: {keywords: [charged, surprise], phrases: [without warning]}
  - name: wants_skip_week
    kind: need
    stage: renew
    touchpoint: billing
    definition: Wants to skip or pause a week without cancelling.
    rules: {keywords: [skip, pause]}
"""

NOTES_YML = """\
# The analyst's notes for the Greenbox map (docs/journey-map.md#the-analysts-notes-notesyml).
personas:
  all: {description: Everyone we interviewed about their Greenbox trial., goals: [Cook something good on a weeknight]}
  weeknight cook: {description: Cooks after work and wants dinner in thirty minutes., goals: [Dinner in 30 minutes]}
  meal planner: {description: Plans the week on Sunday and shops around it., goals: [Know the weekly cost]}
stages:
  subscribe:
    owner: Subscriptions squad
    opportunities:
      - {text: Show the price per week on every plan card, code: plan_confusion}
      - {text: Keep the one-page payment form; add wallet payments, code: payment_form_friction}
  renew:
    owner: Billing
    opportunities:
      - {text: Remind two days before each charge with a one-tap skip, code: surprise_renewal_charge}
"""

PARTICIPANTS = [  # pid, name, profile, platform, interview date
    ("G1", "Nadia Brennan", "weeknight cook", "ios", "2026-03-10"),
    ("G2", "Felix Amaro", "meal planner", "web", "2026-03-11"),
    ("G3", "Ruth Okonjo", "weeknight cook", "android", "2026-03-12"),
    ("G4", "Ivo Lindqvist", "meal planner", "ios", "2026-03-13"),
]

# One interview per participant: (speaker, text). "M" is the moderator.
INTERVIEWS = {
    "G1": [
        ("M", "Thanks for joining, Nadia. How did you first hear about Greenbox?"),
        ("P", "It was a podcast, the cooking one I listen to on the bus. They read an ad with a discount."),
        ("M", "And what made you start the trial?"),
        ("P", "The discount, honestly, and I wanted dinner sorted on weeknights without thinking."),
        ("M", "How was the first box?"),
        ("P", "The vegetables were really fresh, the herbs were crisp. I was impressed."),
        ("P", "But the recipes took ages. It said thirty minutes and it was closer to an hour, so many steps."),
        ("M", "When you decided to subscribe, how did that go?"),
        ("P", "The payment form was a pain, my card was declined twice and I typed it all again."),
        ("M", "Anything about renewing?"),
        ("P", "I got charged for a week I was away, without warning. I'd love to skip a week easily."),
    ],
    "G2": [
        ("M", "Hi Felix, could you start by telling me how you found Greenbox?"),
        ("P", "A friend sent me her referral code, she has been using it for a year."),
        ("M", "What did you think of the plans?"),
        ("P", "Honestly confusing. I couldn't work out which plan was cheaper per serving."),
        ("P", "I plan the whole week on Sunday, so I need to know the weekly cost up front."),
        ("M", "And the first box?"),
        ("P", "Good. Fresh ingredients, nothing wilted. The portions were generous."),
        ("M", "How was paying for the subscription?"),
        ("P", "The payment page was fine for me, quick enough, it was the new one I think."),
        ("M", "Anything you'd change about renewing?"),
        ("P", "I want to pause when we travel. Right now I cancel and start again, which is silly."),
    ],
    "G3": [
        ("M", "Thank you for your time, Ruth. Where did you first come across Greenbox?"),
        ("P", "My colleague brings the leftovers to work, that's how. She gave me her referral code."),
        ("M", "How was the trial?"),
        ("P", "The recipes were too long for a weeknight, too many steps after a shift."),
        ("P", "The salmon was lovely and fresh though."),
        ("M", "What happened when you subscribed?"),
        ("P", "The plan page was confusing, three plans that look the same, I didn't know which plan to pick."),
        ("P", "Then the payment form asked for my address twice. You can email me at ruth.o@example.com if you need the details."),
        ("M", "And after that?"),
        ("P", "The renewal was a surprise, I was charged before I had even cooked the last box."),
    ],
    "G4": [
        ("M", "Hello Ivo, to start, how did you hear of Greenbox?"),
        ("P", "A podcast about running, they had an ad read every episode."),
        ("M", "What was the first box like?"),
        ("P", "Fresh, well packed, and the recipe cards were clear."),
        ("P", "A couple of dishes took ages though, more like forty-five minutes."),
        ("M", "And subscribing?"),
        ("P", "Which plan is which was not obvious, the per serving price hides the weekly total."),
        ("M", "Did anything happen at renewal?"),
        ("P", "No surprise there, I get the reminder. But I'd like to skip a week without calling them."),
    ],
}

SUBTITLES = {"G2", "G3"}
START = {"G1": 4, "G2": 6, "G3": 3, "G4": 5}  # seconds before the first turn


def _clock(seconds: float, sep: str = ".") -> str:
    ms = int(round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _turns(pid):
    t = float(START[pid])
    for who, text in INTERVIEWS[pid]:
        label = "Moderator" if who == "M" else pid
        dur = 2.0 + len(text) / 18
        yield label, text, t, t + dur
        t += dur + 1.5


def write_transcripts(root: Path) -> None:
    tr = root / "transcripts"
    tr.mkdir(parents=True, exist_ok=True)
    # G1: text with [hh:mm:ss] stamps
    (tr / "G1.txt").write_text("\n\n".join(f"[{_clock(a)[:8]}] {who}: {text}" for who, text, a, _ in _turns("G1"))
                               + "\n", encoding="utf-8")
    # G2: WebVTT, Zoom style ("Speaker: text" in the cue)
    cues = [f"{k}\n{_clock(a)} --> {_clock(b)}\n{who}: {text}" for k, (who, text, a, b) in enumerate(_turns("G2"), 1)]
    (tr / "G2.vtt").write_text("WEBVTT\n\n" + "\n\n".join(cues) + "\n", encoding="utf-8")
    # G3: SRT
    cues = [f"{k}\n{_clock(a, ',')} --> {_clock(b, ',')}\n{who}: {text}" for k, (who, text, a, b) in
            enumerate(_turns("G3"), 1)]
    (tr / "G3.srt").write_text("\n\n".join(cues) + "\n", encoding="utf-8")
    # G4: plain text without times
    (tr / "G4.txt").write_text("\n\n".join(f"{who}: {text}" for who, text, _, _ in _turns("G4")) + "\n",
                               encoding="utf-8")


# Two coders: (line of INTERVIEWS, code) per transcript; lines become speaker turns in write_codings.
CODINGS = {
    "lee": {"G1": [(2, "podcast_discovery"), (6, "fresh_ingredients_delight"), (7, "recipes_too_long"),
                   (9, "payment_form_friction"), (11, "surprise_renewal_charge"), (11, "wants_skip_week")],
            "G2": [(2, "friend_referral"), (4, "plan_confusion"), (5, "plan_confusion"),
                   (7, "fresh_ingredients_delight"), (11, "wants_skip_week")],
            "G3": [(2, "friend_referral"), (4, "recipes_too_long"), (5, "fresh_ingredients_delight"),
                   (7, "plan_confusion"), (8, "payment_form_friction"), (10, "surprise_renewal_charge")],
            "G4": [(2, "podcast_discovery"), (4, "fresh_ingredients_delight"), (5, "recipes_too_long"),
                   (7, "plan_confusion"), (9, "wants_skip_week")]},
    "sam": {"G1": [(2, "podcast_discovery"), (6, "fresh_ingredients_delight"), (7, "recipes_too_long"),
                   (9, "payment_form_friction"), (11, "surprise_renewal_charge")],
            "G2": [(2, "friend_referral"), (4, "plan_confusion"), (7, "fresh_ingredients_delight"),
                   (9, "payment_form_friction"), (11, "wants_skip_week")],
            "G3": [(2, "friend_referral"), (4, "recipes_too_long"), (5, "fresh_ingredients_delight"),
                   (7, "plan_confusion"), (8, "payment_form_friction"), (10, "surprise_renewal_charge")],
            "G4": [(2, "podcast_discovery"), (4, "fresh_ingredients_delight"), (7, "plan_confusion"),
                   (9, "wants_skip_week")]},
}


def _turn_number(doc: str, line: int) -> int:
    """Speaker turn of the ``line``-th (1-based) line of an interview. In subtitles (G2.vtt,
    G3.srt) a speaker's consecutive cues are one turn; in text files every paragraph is a turn."""
    if doc not in SUBTITLES:
        return line
    turn, previous = 0, None
    for k, (who, _) in enumerate(INTERVIEWS[doc], 1):
        if who != previous:
            turn, previous = turn + 1, who
        if k == line:
            return turn
    raise ValueError(f"{doc} has no line {line}")


def write_codings(root: Path) -> None:
    (root / "codings").mkdir(parents=True, exist_ok=True)
    for coder, docs in CODINGS.items():
        rows = list(dict.fromkeys((f"{doc}-t{_turn_number(doc, line):03d}", code, "manual", "")
                                  for doc, pairs in docs.items() for line, code in pairs))
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["segment_id", "code", "origin", "memo"])
        w.writerows(rows)
        (root / "codings" / f"{coder}.csv").write_text(buf.getvalue(), encoding="utf-8")


def _write_csv(path: Path, header, rows) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def write_events_and_survey(root: Path, rng: np.random.Generator) -> None:
    t0 = datetime(2026, 2, 2, tzinfo=timezone.utc)
    change = datetime(2026, 3, 2, tzinfo=timezone.utc)
    n_users = 150
    events, members = [], []
    for u in range(1, n_users + 1):
        member = f"m{u:04d}"
        platform = rng.choice(["ios", "android", "web"], p=[0.45, 0.3, 0.25])
        start = t0 + timedelta(days=float(rng.uniform(0, 40)), seconds=int(rng.integers(0, 86400)))
        t = start
        events.append((member, t, "ad_click" if rng.random() < 0.6 else "referral_visit", platform))
        t += timedelta(minutes=float(rng.uniform(2, 60)))
        events.append((member, t, "trial_started", platform))
        t += timedelta(days=float(rng.uniform(1, 3)))
        events.append((member, t, "box_delivered", platform))
        if rng.random() < 0.5:
            events.append((member, t + timedelta(hours=float(rng.uniform(2, 30))), "recipe_rated", platform))
        subscribed = False
        if rng.random() < 0.75:
            t += timedelta(days=float(rng.uniform(0.5, 4)))
            events.append((member, t, "plan_viewed", platform))
            p_pay = 0.75 if t >= change else 0.5  # the one-page payment form helps
            if rng.random() < p_pay:
                t += timedelta(minutes=float(rng.uniform(1, 20)))
                events.append((member, t, "payment_added", platform))
                if rng.random() < 0.9:
                    t += timedelta(seconds=int(rng.integers(5, 120)))
                    events.append((member, t, "subscribed", platform))
                    subscribed = True
        if subscribed:
            t += timedelta(days=6)
            events.append((member, t, "renewal_reminder", platform))
            t += timedelta(days=1)
            events.append((member, t, "renewed" if rng.random() < 0.8 else "cancelled", platform))
        members.append((member, platform, start, subscribed))
    events.sort(key=lambda r: (r[1], r[0]))
    _write_csv(root / "events.csv", ["member", "ts", "action", "platform"],
               [(m, ts.strftime("%Y-%m-%dT%H:%M:%SZ"), a, p) for m, ts, a, p in events])

    comments = [
        ("The recipes take too long for a weeknight", -2.0, {"first_box": -1}),
        ("Lovely fresh veg every week", 1.5, {"first_box": 1}),
        ("Plans are confusing, which plan is cheaper per serving?", -1.0, {}),
        ("Payment form declined my card twice", -2.0, {"payment": -2}),
        ("Got charged without warning after a holiday", -2.5, {}),
        ("Please let me skip a week", -0.5, {}),
        ("Great value and crisp salad leaves", 1.5, {"first_box": 1}),
        ("", 0.0, {}),
    ]
    rows = []
    chosen = rng.choice(n_users, size=120, replace=False)
    for k, idx in enumerate(sorted(chosen), 1):
        member, platform, start, subscribed = members[idx]
        text, push, sat = comments[int(rng.integers(0, len(comments)))]
        nps = int(np.clip(round(rng.normal(7.2 + push + (0.8 if subscribed else -0.5), 1.6)), 0, 10))
        first_box = int(np.clip(round(rng.normal(5.4 + sat.get("first_box", 0), 1.0)), 1, 7))
        pay = int(np.clip(round(rng.normal(5.0 + sat.get("payment", 0), 1.1)), 1, 7)) if subscribed or rng.random() < 0.3 else ""
        answered = start + timedelta(days=float(rng.uniform(3, 10)))
        profile = "weeknight cook" if rng.random() < 0.55 else "meal planner"
        rows.append((f"S{k:03d}", member if rng.random() < 0.9 else "", answered.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     nps, first_box, pay, text, profile, platform))
    # 40 answers from people without an app account (member blank)
    for k in range(len(rows) + 1, len(rows) + 41):
        text, push, sat = comments[int(rng.integers(0, len(comments)))]
        rows.append((f"S{k:03d}", "", (t0 + timedelta(days=float(rng.uniform(5, 45)))).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     int(np.clip(round(rng.normal(6.8 + push, 1.8)), 0, 10)),
                     int(np.clip(round(rng.normal(5.2 + sat.get("first_box", 0), 1.0)), 1, 7)), "", text,
                     "weeknight cook" if rng.random() < 0.5 else "meal planner", rng.choice(["ios", "android", "web"])))
    _write_csv(root / "survey.csv", ["response_id", "member", "answered_on", "likelihood_to_recommend",
                                     "sat_first_box", "sat_payment", "feedback", "profile", "platform"], rows)


def main(out: Path = OUT) -> Path:
    rng = np.random.default_rng(SEED)
    out.mkdir(parents=True, exist_ok=True)
    (out / "study.yml").write_text(STUDY_YML, encoding="utf-8")
    (out / "codebook.yml").write_text(CODEBOOK_YML, encoding="utf-8")
    (out / "notes.yml").write_text(NOTES_YML, encoding="utf-8")
    _write_csv(out / "participants.csv", ["pid", "name", "profile", "platform", "interview_date"], PARTICIPANTS)
    write_transcripts(out)
    write_codings(out)
    write_events_and_survey(out, rng)
    return out


if __name__ == "__main__":
    print(main())
