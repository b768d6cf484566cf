"""Write ``data/usability_study/``: a small moderated usability test, the course's second study.

Run ``python data/make_usability_study.py`` to regenerate it (seeded: the same bytes each time).
Fernleaf Libraries (fictional) tested its borrowing app with eight think-aloud sessions. Each
participant worked through five tasks; the moderator's transcript marks where each task begins
with a heading line (``## T3 Renew a loan``), recorded every task's outcome and time
(``tasks.csv``) and ended with the System Usability Scale (``survey.csv``). There is no event log.

What it exercises, unlike ``data/sample_study``:

- stages that follow the session (study.yml ``transcripts: stage_marker:``; each task is a stage);
- a theme spoken at several tasks (``menu_hard_to_find`` at four of them);
- task outcomes (success / assisted / failed / abandoned) and times, mapped to stages;
- a standard questionnaire declared in study.yml (``questionnaire:``).

Sizes: 8 transcripts, 40 task attempts, 8 SUS answers (~30 KB).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "usability_study"
SEED = 20261206

STUDY_YML = """\
# Fernleaf Libraries app: a moderated usability test (fictional), written by
# data/make_usability_study.py. Every file is described in docs/study-format.md.
name: Fernleaf Libraries app usability test
description: >
  Eight moderated think-aloud sessions with the library's borrowing app: five tasks each,
  outcomes and times per task, and the System Usability Scale at the end.
stages:                     # one stage per task, in session order
  - name: find
    touchpoints: [catalogue_search]
  - name: reserve
    touchpoints: [hold_form]
  - name: renew
    touchpoints: [loans_list]
  - name: pay
    touchpoints: [fee_payment]
  - name: account
    touchpoints: [account_settings]
personas: [regular borrower, occasional visitor]
interviewer_labels: [Moderator]
transcripts:
  stage_marker: '^## (?P<task>T\\d)\\b'   # a heading line "## T3 Renew a loan" opens task T3
tasks:
  stages:
    T1: {stage: find, touchpoint: catalogue_search}
    T2: {stage: reserve, touchpoint: hold_form}
    T3: {stage: renew, touchpoint: loans_list}
    T4: {stage: pay, touchpoint: fee_payment}
    T5: {stage: account, touchpoint: account_settings}
questionnaire:
  instrument: sus
  items: [sus_1, sus_2, sus_3, sus_4, sus_5, sus_6, sus_7, sus_8, sus_9, sus_10]
"""

CODEBOOK_YML = """\
# Codebook of the Fernleaf usability test (data/make_usability_study.py).
name: Fernleaf usability codebook
version: "1.0"
codes:
  - name: filters_hidden
    kind: pain_point
    stage: find
    touchpoint: catalogue_search
    definition: Could not find or did not notice the search filters (format, availability, branch).
    rules: {keywords: [filter, filters]}
  - name: hold_branch_unclear
    kind: pain_point
    stage: reserve
    touchpoint: hold_form
    definition: Unsure which branch a hold would be sent to, or whether the hold was placed.
    rules: {phrases: [did it go through, which library, sent to]}
  - name: renewal_quick
    kind: delight
    stage: renew
    touchpoint: loans_list
    definition: Renewing a loan was quick and obvious.
    rules: {keywords: [quick, obvious], phrases: [one tap]}
  - name: fee_payment_error
    kind: pain_point
    stage: pay
    touchpoint: fee_payment
    definition: The fee payment failed, showed an error or asked for the card twice.
    rules: {keywords: [error, declined], phrases: [card again]}
  - name: menu_hard_to_find
    kind: pain_point
    stage: account
    touchpoint: account_settings
    definition: Could not find where a function lives in the app's menus (navigation).
    rules: {keywords: [menu], phrases: [where would it be, hamburger]}
  - name: wants_due_reminders
    kind: need
    stage: renew
    touchpoint: loans_list
    definition: Wants a reminder before loans are due or a fee is added.
    rules: {keywords: [reminder, remind]}
"""

PARTICIPANTS = [  # id, persona, device, age band
    ("U01", "regular borrower", "android", "35-44"), ("U02", "occasional visitor", "iphone", "18-24"),
    ("U03", "regular borrower", "iphone", "65+"), ("U04", "occasional visitor", "android", "25-34"),
    ("U05", "regular borrower", "android", "45-54"), ("U06", "occasional visitor", "iphone", "35-44"),
    ("U07", "regular borrower", "iphone", "55-64"), ("U08", "occasional visitor", "android", "25-34"),
]

TASKS = [  # id, heading, the moderator's prompt, typical seconds
    ("T1", "Find a book", "First task: find a copy of a novel called The Salt Road and check whether it is on "
     "the shelf anywhere.", 70),
    ("T2", "Place a hold", "Now please put a hold on that book so you can collect it.", 85),
    ("T3", "Renew a loan", "You have two books out. Please renew the one that is due first.", 40),
    ("T4", "Pay a fee", "There is a small late fee on your account. Please pay it.", 110),
    ("T5", "Change your pickup branch", "Last one: change the library where your holds are sent.", 95),
]

# outcome of each participant (U01..U08) at each task: s success, a assisted, f failed, x abandoned
OUTCOMES = {
    "T1": "ssassss s".replace(" ", ""),
    "T2": "sasfsass",
    "T3": "ssssssss",
    "T4": "sfxsxfxs",
    "T5": "sfsafsfs",
}
WORD = {"s": "success", "a": "assisted", "f": "failed", "x": "abandoned"}

WARMUP = [
    "I borrow something most weeks, usually for the kids as well as for me.",
    "Honestly not often. Maybe a few times a year when I have a long trip.",
    "I'm there every Tuesday, I go to the reading group at the central library.",
    "Only when I need something for a course, so a few times a term.",
    "Quite a lot, I mostly read e-books now but I still collect physical ones.",
    "Rarely. I had a card from years ago and only just started using it again.",
    "Every couple of weeks. I like browsing the new arrivals shelf.",
    "Not much, my partner is the reader in our house.",
]

# what a participant says during a task: (code or None, text); {menu} lines carry the navigation theme
SAY = {
    "T1": {
        "s": [(None, "Okay, search at the top, type the title. There it is, and it says two copies available.")],
        "a": [("filters_hidden", "I can see lots of editions but I want to know if it's on the shelf. Is there no "
               "filter for that? I'd expect filters on the side.")],
        "filters": ("filters_hidden", "The results are mixed with e-books and audio. I didn't see any filter for "
                    "format until I scrolled right down."),
        "menu": ("menu_hard_to_find", "Before searching I opened the menu because I thought the catalogue would be "
                 "in there, where would it be otherwise?"),
    },
    "T2": {
        "s": [(None, "There's a Place hold button, tap that, and it's confirmed.")],
        "a": [("hold_branch_unclear", "I pressed the button but did it go through? And which library is it sent "
               "to, it doesn't say.")],
        "f": [("hold_branch_unclear", "I think that's done. Although I'm not sure which library it was sent to.")],
        "branch": ("hold_branch_unclear", "It picked a branch for me, I suppose it's sent to the one on my card?"),
    },
    "T3": {
        "s": [("renewal_quick", "Loans, there they are, the due dates are right there. Renew, one tap. That was "
               "quick.")],
        "remind": ("wants_due_reminders", "I'd love a reminder a few days before things are due, I always forget."),
        "menu": ("menu_hard_to_find", "I looked in the menu first for loans, it took a moment to see it was on the "
                 "home screen instead."),
    },
    "T4": {
        "s": [(None, "Fees, pay now, card details, done. Fine.")],
        "f": [("fee_payment_error", "It gave me an error after I typed the card. I think it's paid? No, it still "
               "shows the fee.")],
        "x": [("fee_payment_error", "It asked for my card again and then showed an error, I'd give up at this point "
               "and pay at the desk.")],
        "menu": ("menu_hard_to_find", "Where would it be, fees... I went through the whole menu and it's under "
                 "Account, not where I'd look."),
    },
    "T5": {
        "s": [(None, "Settings, pickup location, choose the branch near work. Saved.")],
        "a": [("menu_hard_to_find", "I've been round the menu twice now. I can't find anything about where holds "
               "go.")],
        "f": [("menu_hard_to_find", "I'd look in the menu under holds, no... under my account? I think I changed "
               "my home library, not the pickup one.")],
    },
}
FOLLOW_UP = "How did that go for you?"
CLOSING = [
    "It was mostly fine once I knew where things were.",
    "The fee part was the worst, the rest was alright.",
    "Clear enough, the text is a good size which I appreciate.",
    "A bit fiddly in places but I got there.",
]


def _write_csv(path: Path, header: list, rows: list) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _session(i: int, pid: str, rng: np.random.Generator):
    """Transcript lines and the codings of one session: (text, [(turn, code)])."""
    lines, codings = [], []
    turn = 0

    def say(speaker, text, code=None):
        nonlocal turn
        turn += 1
        lines.append(f"{speaker}: {text}")
        if code:
            codings.append((turn, code))

    say("Moderator", "Thanks for coming in. Before we start, how often do you use the library?")
    say(pid, WARMUP[i])
    for tid, heading, prompt, _ in TASKS:
        lines.append("")
        lines.append(f"## {tid} {heading}")
        say("Moderator", prompt)
        o = OUTCOMES[tid][i]
        pool = SAY[tid]
        # navigation trouble (the menu) at four tasks, for about half the participants each time
        if "menu" in pool and rng.random() < (0.6 if tid in ("T4",) else 0.5):
            say(pid, pool["menu"][1], pool["menu"][0])
        for key in ("filters", "branch", "remind"):
            if key in pool and rng.random() < 0.45:
                say(pid, pool[key][1], pool[key][0])
        code, text = pool.get(o, pool["s"])[0]
        say(pid, text, code)
        if o == "a":
            say("Moderator", "Have a look at the bottom of the screen.")
            say(pid, "Oh, there. I wouldn't have seen that on my own.")
        say("Moderator", FOLLOW_UP)
        say(pid, "Fine." if o == "s" else "Not great, to be honest." if o in ("f", "x") else "Okay with the hint.")
    say("Moderator", "Anything else about the app overall?")
    say(pid, CLOSING[i % len(CLOSING)])
    return "\n".join(lines) + "\n", codings


def main() -> None:
    rng = np.random.default_rng(SEED)
    (OUT / "transcripts").mkdir(parents=True, exist_ok=True)
    (OUT / "codings").mkdir(exist_ok=True)
    (OUT / "study.yml").write_text(STUDY_YML, encoding="utf-8")
    (OUT / "codebook.yml").write_text(CODEBOOK_YML, encoding="utf-8")
    _write_csv(OUT / "participants.csv", ["participant_id", "persona", "device", "age_band"],
               [list(p) for p in PARTICIPANTS])
    coding_rows, task_rows, survey_rows = [], [], []
    for i, (pid, persona, *_rest) in enumerate(PARTICIPANTS):
        text, codings = _session(i, pid, rng)
        (OUT / "transcripts" / f"{pid}.txt").write_text(text, encoding="utf-8")
        coding_rows += [[f"{pid}-t{turn:03d}", code, "rowan", "manual"] for turn, code in codings]
        for tid, _h, _p, typical in TASKS:
            o = OUTCOMES[tid][i]
            t = typical * float(np.exp(rng.normal(0.0, 0.35))) * (1.6 if o in ("a", "f", "x") else 1.0)
            note = {"a": "needed a hint", "f": "believed it was done", "x": "gave up"}.get(o, "")
            task_rows.append([pid, tid, WORD[o], f"{t:.0f}" if o != "x" else "", note])
        # SUS: odd items positive, even negative; lower for participants who failed more tasks
        n_fail = sum(OUTCOMES[t][i] in "fx" for t, *_ in TASKS)
        base = 4.2 - 0.45 * n_fail
        answers = []
        for k in range(10):
            pos = base + rng.normal(0, 0.5)
            v = pos if k % 2 == 0 else 6 - pos
            answers.append(int(np.clip(round(v), 1, 5)))
        comment = ["", "Paying the fee should not be this hard.", "Good app, the menus could be simpler.",
                   "", "Fine for renewals.", "Couldn't change my branch.", "", "Mostly easy."][i]
        survey_rows.append([pid, persona] + answers + [comment])
    _write_csv(OUT / "codings" / "rowan.csv", ["segment_id", "code", "coder", "origin"], coding_rows)
    _write_csv(OUT / "tasks.csv", ["participant_id", "task", "outcome", "time_s", "notes"], task_rows)
    _write_csv(OUT / "survey.csv", ["respondent_id", "persona"] + [f"sus_{k}" for k in range(1, 11)] + ["comment"],
               survey_rows)


if __name__ == "__main__":
    main()
