"""Self-checks for the exercises of the notebooks.

Each ``check_...`` function takes a student's ``answer`` and the data the notebook already has,
computes the right answer itself, and returns a :class:`CheckResult`: *correct*, or a hint that
says what to look at — often naming the common mistake the answer looks like (events counted
instead of users, a count where a share was asked, the detractors forgotten). A hint never
contains the right answer. ``answer = None`` (the notebooks' starting point) gives "not answered
yet", so a notebook with its exercises left open still runs top to bottom.

The checks are for learning, not grading: the right answer is computed from public journeylab
functions, so anyone can recompute it. Instructors find worked solutions in
``notebooks/solutions/`` (see ``docs/course.md``).
"""
from __future__ import annotations

__all__ = [
    "CheckResult",
    "check_turn_count",
    "check_blank_share",
    "check_code_frequency",
    "check_kappa",
    "check_sentiment_label",
    "check_sentiment_share",
    "check_funnel_conversion",
    "check_nps",
    "check_evidence_grade",
    "check_grade_changes",
    "check_top_priority",
    "check_statements",
    "kappa_worked_example",
    "STATEMENTS",
    "choose",
]

import dataclasses
import html
import numbers
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..coding.analysis import code_frequencies
from ..coding.reliability import agreement, coder_pair, decision_array, units_for
from ..coding.rules import autocode
from ..errors import JourneylabError
from ..evidence.claims import GradingRules, grade_claims
from ..measure.experiments import change_design
from ..measure.funnel import funnel
from ..measure.sentiment import sentiment
from ..run.sections import event_property
from ..utils.checks import check_frame
from .prose import Prose

_STYLE = {
    "correct": ("✓ Correct.", "#009e73", "#effaf5"),
    "incorrect": ("✗ Not yet.", "#d55e00", "#fdf3ec"),
    "unanswered": ("… Not answered yet.", "#777777", "#f5f5f5"),
    "not_applicable": ("– Not applicable to this study.", "#777777", "#f5f5f5"),
}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one exercise check.

    Attributes
    ----------
    exercise : str
        What was checked, e.g. ``"NPS"``.
    status : {"correct", "incorrect", "unanswered", "not_applicable"}
        ``"not_applicable"``: the study lacks what the exercise is about (no recorded change, fewer
        than two coders); the message says what.
    message : str
        Why it is right, or a hint: what to look at, never the right answer; or why the exercise
        does not apply.
    """

    exercise: str
    status: str
    message: str

    @property
    def correct(self) -> bool:
        """True only for a right answer."""
        return self.status == "correct"

    @property
    def answered(self) -> bool:
        """False while ``answer`` is still ``None`` (and when the exercise does not apply)."""
        return self.status not in ("unanswered", "not_applicable")

    def __repr__(self) -> str:
        head = _STYLE[self.status][0]
        return f"{head} {self.exercise}: {self.message}"

    def _repr_html_(self) -> str:
        head, colour, background = _STYLE[self.status]
        return (f"<div class='jl-check jl-check-{self.status}' style='border-left:4px solid {colour};"
                f"background:{background};padding:0.4em 0.8em;margin:0.3em 0'>"
                f"<b style='color:{colour}'>{html.escape(head)}</b> <i>{_html(self.exercise)}</i>: "
                f"{_html(self.message)}</div>")


def _html(text: str) -> str:
    """Escaped text with `code` spans shown as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


# ----------------------------------------------------------------------------- helpers

_UNANSWERED = ("Replace `None` in `answer = None` above with your answer and run both cells again.")


def _open(answer) -> bool:
    """Not answered yet: checked before any computation, so an open exercise costs nothing and never
    fails on a study that lacks what the question is about."""
    return answer is None or answer is Ellipsis


def _subset(frame: pd.DataFrame, where, before, after, time: str, func: str, arg: str) -> pd.DataFrame:
    """Rows of ``frame`` matching ``where`` (column → value) and the time bounds."""
    check_frame(frame, arg=arg, func=func)
    keep = pd.Series(True, index=frame.index)
    for column, value in (where or {}).items():
        if column not in frame:
            raise JourneylabError(f"{func}(): `where` names column {column!r}, which `{arg}` does not have.")
        keep &= frame[column] == value
    if before is not None or after is not None:
        if time not in frame:
            raise JourneylabError(f"{func}(): `{arg}` has no time column {time!r} (set `time=`).")
        t = pd.to_datetime(frame[time], utc=True)

        def utc(x):
            x = pd.Timestamp(x)
            return x.tz_localize("UTC") if x.tzinfo is None else x.tz_convert("UTC")

        if before is not None:
            keep &= t < utc(before)
        if after is not None:
            keep &= t >= utc(after)
    return frame[keep]


def _not_applicable(exercise: str, reason) -> CheckResult | None:
    """``not_applicable=`` of a check: a reason (e.g. ``jl.change_design(study).reason``) → the result
    saying so; empty or None → None (the check goes on)."""
    if reason is None or reason == "":
        return None
    if not isinstance(reason, str):
        raise JourneylabError(f"`not_applicable` must be a sentence saying why the exercise does not apply (or "
                              f"None/''); got {type(reason).__name__}.")
    return CheckResult(exercise, "not_applicable", reason[:1].upper() + reason[1:].rstrip(".") + ".")


def _unanswered(exercise: str) -> CheckResult:
    return CheckResult(exercise, "unanswered", _UNANSWERED)


def _right(exercise: str, why: str) -> CheckResult:
    return CheckResult(exercise, "correct", why)


def _hint(exercise: str, hint: str) -> CheckResult:
    return CheckResult(exercise, "incorrect", hint)


def _as_number(answer, exercise: str):
    """A float, or a CheckResult explaining why the answer is not a single number."""
    if isinstance(answer, (pd.DataFrame, pd.Series, np.ndarray, list, tuple, dict)):
        return _hint(exercise, "Give a single number, not a table or a list: pick the one value out of the "
                               "result (for example with `.loc[...]`, `.iloc[0]` or `.item()`).")
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, numbers.Real):
        return _hint(exercise, f"Give a number (an int or a float); got {type(answer).__name__}.")
    value = float(answer)
    if not np.isfinite(value):
        return _hint(exercise, "Give a finite number: a NaN usually means a division by zero or an empty "
                               "selection; check your filter.")
    return value


def _as_label(answer, exercise: str, what: str):
    if isinstance(answer, (pd.DataFrame, pd.Series, np.ndarray, list, tuple, dict)):
        return _hint(exercise, f"Give a single {what} as a string, not a table or a list: pick the one value out "
                               "of the result (for example with `.iloc[0]` or `.item()`).")
    if not isinstance(answer, str):
        return _hint(exercise, f"Give the {what} as a string (in quotes); got {type(answer).__name__}.")
    return answer.strip().lower().replace("-", "_").replace(" ", "_")


def _match(value: float, candidates: Iterable[tuple[float, str]], right: float, tol: float) -> str | None:
    """The hints of the mistakes whose value the answer reproduces (and that are not right)."""
    hints = []
    for cand, hint in candidates:
        if cand is None or not np.isfinite(cand) or abs(cand - right) <= tol:
            continue
        if abs(value - cand) <= tol and hint not in hints:
            hints.append(hint)
    if not hints:
        return None
    return hints[0] if len(hints) == 1 else " Or: ".join(hints)


def _share_mistakes(value: float, right: float, tol: float) -> str | None:
    if 1 < value <= 100 and abs(value / 100 - right) <= tol:
        return "That looks like a percentage: give the share as a number between 0 and 1."
    if value < 0 or value > 1:
        return "A share lies between 0 and 1."
    return None


# ----------------------------------------------------------------------------- 01 study data


def check_turn_count(answer, segments: pd.DataFrame, *, participant: str,
                     not_applicable: str | None = None) -> CheckResult:
    """Check the number of turns one participant spoke in their interview.

    Parameters
    ----------
    answer : int or None
        The student's count.
    segments : DataFrame
        ``study.segments`` (``segment_id``, ``doc_id``, ``participant_id``, ``speaker_role``).
    participant : str
        The participant, e.g. ``"P13"``.

    not_applicable : str, optional
        Why the exercise does not apply to this study (e.g. ``choose(...)["not_applicable"]``):
        when non-empty, the result has status ``"not_applicable"`` and this message.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> jl.exercises.check_turn_count(None, study.segments, participant="P13").status
    'unanswered'
    """
    ex = f"turns spoken by {participant}"
    na = _not_applicable(ex, not_applicable)
    if na is not None:
        return na
    if _open(answer):
        return _unanswered(ex)
    segments = check_frame(segments, arg="segments", func="check_turn_count",
                           required=["doc_id", "participant_id", "speaker_role"])
    own = segments["participant_id"].astype("string") == participant
    if not own.any():
        raise JourneylabError(f"check_turn_count(): no segment has participant_id {participant!r}.")
    right = int((own & (segments["speaker_role"] == "participant")).sum())
    value = _as_number(answer, ex)
    if isinstance(value, CheckResult):
        return value
    if value == right:
        return _right(ex, "one segment per speaker turn, the participant's own turns only. Subtitle files "
                          "split turns into cues; journeylab merges a speaker's consecutive cues back into "
                          "one turn.")
    docs = set(segments.loc[own, "doc_id"])
    whole = int(segments["doc_id"].isin(docs).sum())
    if value == whole:
        return _hint(ex, "You counted every turn of the transcript, the interviewer's too. Keep only the rows "
                         "whose `speaker_role` is 'participant'.")
    if value > right:
        return _hint(ex, "Too many: did you count lines or subtitle cues in the raw file? A speaker's consecutive "
                         "cues form one turn. Count the rows of `study.segments` for this participant, in the "
                         "participant role.")
    return _hint(ex, "Too few: count the rows of `study.segments` whose `participant_id` is this participant and "
                     "whose `speaker_role` is 'participant' (all of them, not only the first rows shown by "
                     "`.head()`).")


def check_blank_share(answer, survey: pd.DataFrame, *, column: str, not_applicable: str | None = None) -> CheckResult:
    """Check the share of survey respondents who left ``column`` blank.

    Parameters
    ----------
    answer : float or None
        A share between 0 and 1.
    survey : DataFrame
        ``study.survey``, one row per respondent.
    column : str
        A score column, e.g. ``"csat_delivery"``.
    not_applicable : str, optional
        Why the exercise does not apply to this study (e.g. ``jl.study_part(study, "survey").reason``):
        when non-empty, the result has status ``"not_applicable"`` and this message, whatever the
        answer, without looking at the data.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> jl.exercises.check_blank_share(0.5, study.survey, column="csat_delivery").correct
    False
    """
    ex = f"share of blank `{column}` answers"
    na = _not_applicable(ex, not_applicable)
    if na is not None:
        return na
    if _open(answer):
        return _unanswered(ex)
    survey = check_frame(survey, arg="survey", func="check_blank_share", required=[column])
    blank = survey[column].isna()
    n, n_blank = len(survey), int(blank.sum())
    right = n_blank / n
    value = _as_number(answer, ex)
    if isinstance(value, CheckResult):
        return value
    tol = 0.005
    if abs(value - right) <= tol:
        return _right(ex, "blanks are kept as missing values and counted, never silently dropped: "
                          "every summary of this column rests on fewer answers than there are respondents.")
    if value == n_blank and n_blank > 1:
        return _hint(ex, "That is a number of respondents; the question asks for a share of all respondents.")
    if value >= 1 and value == n - n_blank:
        return _hint(ex, "That is the number who answered; the question asks for the share who left it blank.")
    hint = _match(value, [
        (1 - right, "That is the share who *answered* the question; the question asks for the share who left it "
                    "blank."),
        (n_blank / max(n - n_blank, 1), "Divide by all respondents (every row of the survey), not by those who "
                                        "answered."),
    ], right, tol) or _share_mistakes(value, right, tol)
    return _hint(ex, hint or "Count the missing values of the column (`.isna()`) and divide by the number of "
                             "rows of the survey.")


# ----------------------------------------------------------------------------- 02 coding


def check_code_frequency(answer, codings: pd.DataFrame, segments: pd.DataFrame, participants: pd.DataFrame, *,
                         code: str, measure: str = "share", coder: str | None = None,
                         not_applicable: str | None = None) -> CheckResult:
    """Check how many participants — or what share of them — a code reaches.

    Parameters
    ----------
    answer : float, int or None
    codings, segments, participants : DataFrame
        As for :func:`journeylab.code_frequencies` (e.g. the rule codings of ``jl.autocode``,
        ``study.segments``, ``study.participants``).
    code : str
    measure : {"share", "participants"}, default "share"
        ``"share"``: the share of the study's participants (all of them) with at least one turn
        carrying the code; ``"participants"``: their number.
    coder : str, optional
        Restrict ``codings`` to one coder.

    not_applicable : str, optional
        Why the exercise does not apply to this study (e.g. ``choose(...)["not_applicable"]``):
        when non-empty, the result has status ``"not_applicable"`` and this message.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> auto = jl.autocode(study.segments, codebook=study.codebook)
    >>> jl.exercises.check_code_frequency(0.9, auto, study.segments, study.participants,
    ...                                   code="returns_hassle").correct
    False
    """
    func = "check_code_frequency"
    ex = f"{'share of participants' if measure == 'share' else 'participants'} with `{code}`"
    na = _not_applicable(ex, not_applicable)
    if na is not None:
        return na
    if _open(answer):
        return _unanswered(ex)
    if measure not in ("share", "participants"):
        raise JourneylabError(f"{func}(): `measure` must be 'share' or 'participants'; got {measure!r}.")
    codings = check_frame(codings, arg="codings", func=func, required=["segment_id", "code"])
    if coder is not None:
        codings = codings[codings["coder"] == coder]
    freq = code_frequencies(codings, segments=segments, participants=participants)
    row = freq[freq["code"] == code]
    if row.empty:
        raise JourneylabError(f"{func}(): code {code!r} does not occur in `codings`.")
    row = row.iloc[0]
    n_part, n_seg, total = int(row["n_participants"]), int(row["n_segments"]), int(row["n_participants_total"])
    value = _as_number(answer, ex)
    if isinstance(value, CheckResult):
        return value
    why = ("a code raised once by many people is stronger evidence than one repeated by a talkative few, so "
           "count people, out of every participant of the study.")
    if measure == "participants":
        if value == n_part:
            return _right(ex, why)
        if value == n_seg and n_seg != n_part:
            return _hint(ex, "You counted turns (mentions), not people: several turns of one participant count "
                             "once. Use `n_participants` of `jl.code_frequencies`, or count distinct "
                             "`participant_id`s.")
        return _hint(ex, "Count the distinct participants with at least one turn carrying the code (join the "
                         "codings to `study.segments` for `participant_id`, or use `jl.code_frequencies`).")
    right, tol = n_part / total, 0.005
    if abs(value - right) <= tol:
        return _right(ex, why)
    n_turns = int((segments["speaker_role"] == "participant").sum()) if "speaker_role" in segments else len(segments)
    if value >= 1 and value == n_part:
        return _hint(ex, "That is a number of people; the question asks for a share of all the study's "
                         "participants.")
    if value >= 1 and value == n_seg:
        return _hint(ex, "That is a number of turns (mentions); the question asks for a share of participants.")
    coded = codings.merge(segments[["segment_id", "participant_id"]], on="segment_id")["participant_id"].nunique()
    n_rows = int((codings["code"] == code).sum())
    rows_hint = ("You divided the code's rows (mentions: one per turn × code) by the number of participants; a "
                 "talkative participant counts several times that way, which is how a 'share' can pass 1. Count "
                 "each participant once: the distinct `participant_id`s of the turns carrying the code.")
    rows_match = _match(value, [(n_rows / total, rows_hint), (n_seg / total, rows_hint)], right, tol)
    if rows_match:
        return _hint(ex, rows_match)
    hint = _match(value, [
        (n_seg / len(codings), "You used the share of coding *rows* (mentions); count people instead: the share "
                               "of participants with at least one turn carrying the code."),
        (n_seg / n_turns, "You used the share of *turns*; count people instead: the share of participants with "
                          "at least one turn carrying the code."),
        (n_part / coded if coded else None, "The denominator is every participant of the study, not only those "
                                            "who received some code."),
    ], right, tol) or _share_mistakes(value, right, tol)
    return _hint(ex, hint or "Count the distinct participants whose turns carry the code and divide by the number "
                             "of participants in `study.participants` (`jl.code_frequencies` does both).")


# ----------------------------------------------------------------------------- 03 reliability


def check_kappa(answer, codings: pd.DataFrame, segments: pd.DataFrame, *, code: str,
                coders: Sequence[str] | None = None, not_applicable: str | None = None) -> CheckResult:
    """Check Cohen's kappa for one code between two coders.

    The right answer is :func:`journeylab.agreement` with ``segments=`` (units: the participant
    turns of the interviews both coders coded), to within 0.005.

    Parameters
    ----------
    answer : float or None
    codings : DataFrame
        Both coders' codings (``study.codings``).
    segments : DataFrame
        ``study.segments``.
    code : str
    coders : pair of str, optional
        Not both in ``codings`` (another study's coders): the result is ``"not_applicable"``.
        Default: the two people who coded (``origin`` manual, not ``gold``); a study with another
        number of them gets ``"not_applicable"``.
    not_applicable : str, optional
        Why the exercise does not apply to this study (e.g. ``jl.change_design(study).reason``):
        when non-empty, the result has status ``"not_applicable"`` and this message, whatever the
        answer, without looking at the data.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> r = jl.exercises.check_kappa(0.2, study.codings, study.segments, code="shipping_form_tedious")
    >>> r.correct
    False
    """
    func = "check_kappa"
    if coders is None:
        people = codings
        if isinstance(codings, pd.DataFrame) and "origin" in codings:
            people = codings[codings["origin"].fillna("manual").astype(str) == "manual"]
        found = (sorted(set(people["coder"].dropna().astype(str)) - {"gold"})
                 if isinstance(people, pd.DataFrame) and "coder" in people else [])
        if len(found) != 2:
            return _not_applicable(f"Cohen's kappa for `{code}`", "this exercise compares two coders; this study "
                                   + (f"has {len(found)} ({', '.join(found)})" if found else "has none"))
        coders = found
    coders = list(coders)
    ex = f"Cohen's kappa for `{code}` ({coders[0]} vs {coders[1]})"
    na = _not_applicable(ex, not_applicable)
    if na is not None:
        return na
    if isinstance(codings, pd.DataFrame) and "coder" in codings:
        present = sorted(set(codings["coder"].dropna().astype(str)))
        if not set(coders) <= set(present):
            theirs = f"this study's coders are {', '.join(present)}" if present else "this study has no codings"
            return _not_applicable(ex, f"this exercise compares {coders[0]} and {coders[1]}; {theirs}")
    if _open(answer):
        return _unanswered(ex)
    codings = check_frame(codings, arg="codings", func=func, required=["segment_id", "code", "coder"])
    table = agreement(codings, coders=coders, segments=segments, n_boot=0)
    row = table[table["code"] == code]
    if row.empty:
        raise JourneylabError(f"{func}(): code {code!r} is not in the codings of {coders[0]} and {coders[1]}.")
    row = row.iloc[0]
    right = float(row["cohen_kappa"])
    value = _as_number(answer, ex)
    if isinstance(value, CheckResult):
        return value
    tol = 0.005
    if abs(value - right) <= tol:
        return _right(ex, "chance agreement counts both ways of agreeing — both applied the code, and both left "
                          "it off — over every turn both coders saw.")
    # agreement's own units and decisions, for the quantities a wrong answer may have reproduced
    units = units_for(codings, coders, segments=segments, documents=None, units=None, func=func)
    a, b = decision_array(codings, coders, [code], units)[:, :, 0].T
    n = len(a)
    po = float(np.mean(a == b))
    p1, p2 = float(a.mean()), float(b.mean())
    pe = p1 * p2 + (1 - p1) * (1 - p2)

    def kappa(po_, pe_):
        return (po_ - pe_) / (1 - pe_) if pe_ < 1 else np.nan

    no_units = agreement(codings, coders=coders, n_boot=0)
    no_units = no_units.loc[no_units["code"] == code, "cohen_kappa"]

    def kappa_over(unit_ids):
        if not len(unit_ids):
            return None
        t = agreement(codings, coders=coders, codes=[code], segments=segments, units=list(unit_ids), n_boot=0)
        return float(t.loc[t["code"] == code, "cohen_kappa"].iloc[0])

    seg = segments.assign(segment_id=segments["segment_id"].astype(str), doc_id=segments["doc_id"].astype(str))
    is_participant = (seg["speaker_role"] == "participant") if "speaker_role" in seg else pd.Series(True, seg.index)
    both_docs = set(seg.loc[seg["segment_id"].isin(set(units)), "doc_id"])
    unread = kappa_over(seg.loc[is_participant, "segment_id"])          # every interview, read or not
    with_interviewer = kappa_over(seg.loc[seg["doc_id"].isin(both_docs), "segment_id"])   # every turn of them
    hint = _match(value, [
        (unread, "Your units include interviews one of the coders never coded. A turn of an interview a coder "
                 "never opened is not a 'no' from them: keep only the participant turns of the interviews "
                 "*both* coders coded (notebook 03, 'Which segments count')."),
        (with_interviewer, "Your units include the interviewer's turns, which nobody codes: both coders 'agree' "
                           "on every one of them. Keep only the *participant* turns (`speaker_role`) of the "
                           "interviews both coded."),
        (po, "That is the percent agreement (Pₒ). Kappa corrects it for the agreement expected by chance: "
             "κ = (Pₒ − Pₑ) / (1 − Pₑ)."),
        (float(row["pabak"]), "That is PABAK (2Pₒ − 1), which ignores how rare the code is. Kappa uses each "
                              "coder's own rate to compute the chance agreement Pₑ."),
        (pe, "That is the chance agreement Pₑ; now put it into κ = (Pₒ − Pₑ) / (1 − Pₑ)."),
        (kappa(po, p1 * p2), "Your chance agreement only counts both coders applying the code. Pₑ adds the "
                             "chance that both leave it off: p₁p₂ + (1 − p₁)(1 − p₂)."),
        (kappa(po, p1 * (1 - p2)), "Pₑ is not P(yes)·P(no) (a mistake found in one QDA tool): it is "
                                   "p₁p₂ + (1 − p₁)(1 − p₂), the sum over 'present' and 'absent'."),
        (float(no_units.iloc[0]) if len(no_units) else None,
         "Your units are only the turns somebody coded. A turn of an interview a coder coded but left without "
         "this code is an 'absent' decision too: pass `segments=study.segments` to `jl.agreement`, or build the "
         "table over every participant turn of the interviews both coded."),
    ], right, tol)
    if hint is None and not 0 < n:
        hint = "The two coders share no interview."
    if hint is None and (value > 1 or value < -1):
        hint = "Kappa lies between −1 and 1."
    return _hint(ex, hint or "Build the 2×2 table over the participant turns of the interviews both coders coded "
                             "(both applied / only one / only the other / neither), then Pₒ, Pₑ = "
                             "p₁p₂ + (1 − p₁)(1 − p₂) and κ = (Pₒ − Pₑ) / (1 − Pₑ).")


def kappa_worked_example(codings: pd.DataFrame, segments: pd.DataFrame, *, code: str,
                         coders: Sequence[str]) -> tuple[pd.DataFrame, str]:
    """Cohen's kappa for one code worked by hand: the 2×2 table and every step, as Markdown.

    The worked example before exercise 3.1 (which asks the same for another code). Units: the
    participant turns of the interviews both coders coded, as :func:`journeylab.agreement`.

    Returns
    -------
    table : DataFrame
        2×2 counts, rows the first coder (applied / not applied), columns the second.
    steps : str
        Markdown: Pₒ, p₁, p₂, Pₑ and κ with the numbers of this table.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> t, steps = jl.exercises.kappa_worked_example(study.codings, study.segments, code="frustration",
    ...                                             coders=("amara", "jonas"))
    >>> int(t.to_numpy().sum()) > 0 and "κ =" in steps
    True
    """

    coders = list(coders)
    units = units_for(codings, coders, segments=segments, documents=None, units=None, func="kappa_worked_example")
    a, b = decision_array(codings, coders, [code], units)[:, :, 0].T
    n = len(a)
    both, only_a, only_b = int((a & b).sum()), int((a & ~b).sum()), int((~a & b).sum())
    neither = n - both - only_a - only_b
    table = pd.DataFrame([[both, only_a], [only_b, neither]],
                         index=pd.Index([f"{coders[0]}: applied", f"{coders[0]}: not applied"], name=code),
                         columns=[f"{coders[1]}: applied", f"{coders[1]}: not applied"])
    po = (both + neither) / n if n else float("nan")
    p1, p2 = (both + only_a) / n, (both + only_b) / n
    pe = p1 * p2 + (1 - p1) * (1 - p2)
    k = (po - pe) / (1 - pe) if pe < 1 else float("nan")
    check = agreement(codings, coders=coders, codes=[code], segments=segments, n_boot=0)
    check = float(check.loc[check["code"] == code, "cohen_kappa"].iloc[0])
    steps = Prose(
        f"Units: the {n} participant turns of the interviews both coders coded.\n\n"
        f"1. Pₒ = (both + neither) / n = ({both} + {neither}) / {n} = **{po:.3f}**\n"
        f"2. p₁ = ({both} + {only_a}) / {n} = {p1:.3f} ({coders[0]}'s rate); "
        f"p₂ = ({both} + {only_b}) / {n} = {p2:.3f} ({coders[1]}'s rate)\n"
        f"3. Pₑ = p₁p₂ + (1 − p₁)(1 − p₂) = {p1:.3f}·{p2:.3f} + {1 - p1:.3f}·{1 - p2:.3f} = **{pe:.3f}**\n"
        f"4. κ = (Pₒ − Pₑ) / (1 − Pₑ) = ({po:.3f} − {pe:.3f}) / (1 − {pe:.3f}) = **{k:.3f}** "
        f"(`jl.agreement` gives {check:.3f})")
    return table, steps


#: Conceptual exercises: statements (a, b, ...) shown in the notebook; the answer is the set of
#: letters that hold. Six statements give 64 possible answers, so a guess is right one time in 64.
STATEMENTS = {
    "2.2": {
        "title": "what a saturation curve can show",
        "holds": {"b", "d", "e"},
        "why": {
            "a": "a closed codebook can only find its own codes: a flat curve says the *listed* codes stopped "
                 "appearing, nothing about themes nobody listed.",
            "c": "saturation is about codes appearing at all; how often they occur keeps changing with every "
                 "interview.",
            "f": "the order matters: the curve counts what each interview adds to those before it.",
        },
        "right": "saturation of a closed codebook is about its own codes only; new themes need open coding or the "
                 "uncoded turns (`suggest_codes`).",
    },
    "5.3": {
        "title": "reading a wide interval",
        "holds": {"b", "c", "e"},
        "why": {
            "a": "an interval that includes 0 is absence of evidence, not evidence of absence: it includes large "
                 "effects too.",
            "d": "the point estimate is one value among many the data allow; alone it hides how little is known.",
            "f": "not significant is not irrelevant: the data allow a large effect; say 'not shown', and collect "
                 "more.",
        },
        "right": "a wide interval that includes no difference means the data neither show an effect nor rule one "
                 "out; more data narrow it.",
    },
    "6.2": {
        "title": "independent evidence",
        "holds": {"a", "d", "e"},
        "why": {
            "b": "the comment-based NPS gap is not independent of the score: unhappy customers write more "
                 "complaints whatever made them unhappy, so a theme in detractors' comments partly restates "
                 "their score.",
            "c": "more quotes from the same interviews are the same kind of evidence, not a second kind.",
            "f": "a grade depends on thresholds someone chose; it is a judgement to report, not a measurement.",
        },
        "right": "triangulation needs sources whose errors differ: the funnel and CSAT are measured apart from the "
                 "interviews, a comment-NPS gap much less so.",
    },
    "8.1": {
        "title": "positions across tools",
        "holds": {"a", "c", "f"},
        "why": {
            "b": "a byte offset counts UTF-8 bytes: 'é' is two bytes and one character, so byte and character "
                 "offsets differ after the first non-ASCII character.",
            "d": "a GUID identifies an object (a code, a source) across exports; it does not locate text.",
            "e": "REFI-QDA is an exchange format read by several tools, not one vendor's file.",
        },
        "right": "positions must be converted between units (bytes, code points), and stable GUIDs let an "
                 "updated export update, not duplicate.",
    },
}


def check_statements(answer, *, exercise: str) -> CheckResult:
    """Check a conceptual exercise: which of the statements (a, b, ...) hold?

    Parameters
    ----------
    answer : str, set or list of letters, or None
        ``"b, d"``, ``"bd"``, ``{"b", "d"}`` — the letters of the statements that hold.
    exercise : str
        A key of :data:`STATEMENTS` (``"2.2"``, ``"5.3"``, ``"6.2"``, ``"8.1"``).

    Returns
    -------
    CheckResult
        Correct only for exactly the statements that hold; otherwise a hint on each chosen statement
        that does not hold, and a count of the ones that hold but were left out (not which).

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.exercises.check_statements("a", exercise="5.3").correct
    False
    """
    if exercise not in STATEMENTS:
        raise JourneylabError(f"check_statements(): unknown exercise {exercise!r}; known: "
                              f"{', '.join(sorted(STATEMENTS))}.")
    spec = STATEMENTS[exercise]
    ex = f"Exercise {exercise}: {spec['title']}"
    if _open(answer):
        return _unanswered(ex)
    if isinstance(answer, str):
        letters = set(re.findall(r"[a-z]", answer.lower()))
    elif isinstance(answer, (set, list, tuple, frozenset)) and all(isinstance(x, str) for x in answer):
        letters = {x.strip().lower() for x in answer}
    else:
        return _hint(ex, "Answer with the letters of the statements that hold, e.g. `\"a, c\"` or `{\"a\", \"c\"}`.")
    known = {chr(ord("a") + i) for i in range(6)}
    if not letters or not letters <= known:
        return _hint(ex, "Use the letters a to f of the statements above, e.g. `\"a, c\"`.")
    holds = spec["holds"]
    if letters == holds:
        return _right(ex, spec["right"])
    wrong = sorted(letters - holds)
    missing = len(holds - letters)
    parts = [f"({w}) does not hold: {spec['why'][w]}" for w in wrong]
    if missing:
        parts.append(f"{missing} statement(s) that hold are missing from your answer." if missing > 1 else
                     "1 statement that holds is missing from your answer.")
    return _hint(ex, " ".join(parts))


def _check_labels(answer, texts: list, *, engine: str, lexicon) -> CheckResult:

    ex = f"VADER's labels of {len(texts)} sentences" + (" with the domain lexicon" if lexicon is not None else "")
    if _open(answer):
        return _unanswered(ex)
    if not isinstance(answer, (list, tuple)) or len(answer) != len(texts):
        return _hint(ex, f"Give a list of {len(texts)} labels, one per sentence, in order, e.g. "
                         f"`[{', '.join(repr(_LABELS[i % 3]) for i in range(len(texts)))}]`.")
    labels = [_as_label(a, ex, "label") for a in answer]
    bad = next((lab for lab in labels if isinstance(lab, CheckResult)), None)
    if bad is not None:
        return bad
    if any(lab not in _LABELS for lab in labels):
        return _hint(ex, "Each label is one of the three values of the `label` column of `jl.sentiment`, spelled "
                         "as it spells them.")
    right = sentiment(list(texts), engine=engine, lexicon=lexicon)["label"].astype(str).tolist()
    n_right = sum(a == r for a, r in zip(labels, right))
    if n_right == len(texts):
        return _right(ex, "the lexicon's valences, VADER's rule for 'but' and the ±0.05 thresholds decide each "
                          "label — not the reader's intuition.")
    hint = f"{n_right} of {len(texts)} labels are right."
    if lexicon is not None:
        plain = sentiment(list(texts), engine=engine)["label"].astype(str).tolist()
        if labels == plain:
            hint += (" Your labels are those without the study's domain lexicon: the domain words change the "
                     "scores (pass `lexicon=lexicon`).")
    return _hint(ex, hint + " Score each sentence in your head: which words are in the lexicon, what does "
                            "'but' do, and is the total beyond ±0.05?")


# ----------------------------------------------------------------------------- 04 sentiment

_LABELS = ("negative", "neutral", "positive")


def check_sentiment_label(answer, text: str, *, engine: str = "vader", lexicon=None) -> CheckResult:
    """Check the VADER label of one sentence.

    Parameters
    ----------
    answer : str, list of str, or None
        The label the student expects ``jl.sentiment`` to give; a list of labels, in order, when
        ``text`` is a list.
    text : str or list of str
        One sentence, or several: with several, the answer is right only when every label is
        (three sentences: one chance in 27 of guessing, not one in three), and the hint says how
        many are right, not which.
    engine : {"vader", "nltk"}
    lexicon : optional
        The domain lexicon the notebook uses (anything :func:`journeylab.load_lexicon` reads).

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.exercises.check_sentiment_label(None, "Lovely rug.").status
    'unanswered'
    """
    if isinstance(text, (list, tuple)):
        return _check_labels(answer, list(text), engine=engine, lexicon=lexicon)
    ex = "VADER's label" + (" with the domain lexicon" if lexicon is not None else "")
    if _open(answer):
        return _unanswered(ex)
    if not isinstance(text, str) or not text.strip():
        raise JourneylabError("check_sentiment_label(): `text` must be a non-empty string.")
    right = str(sentiment([text], engine=engine, lexicon=lexicon)["label"].iloc[0])
    label = _as_label(answer, ex, "label")
    if isinstance(label, CheckResult):
        return label
    if label not in _LABELS:
        return _hint(ex, "Answer with one of the three values of the `label` column of `jl.sentiment`, spelled "
                         "as it spells them.")
    if label == right:
        return _right(ex, "the lexicon's valences, VADER's rule for 'but' and the ±0.05 thresholds decide the "
                          "label — not the reader's intuition.")
    if lexicon is not None and label == str(sentiment([text], engine=engine)["label"].iloc[0]):
        return _hint(ex, "That is the label without the study's domain lexicon. The domain words change the score: "
                         "pass `lexicon=lexicon` to `jl.sentiment`.")
    other = "nltk" if engine == "vader" else "vader"
    if label == str(sentiment([text], engine=other, lexicon=lexicon)["label"].iloc[0]):
        return _hint(ex, f"That is what the `{other}` engine says; this notebook scores with `engine={engine!r}`.")
    if " but " in f" {text.lower()} ":
        first = text.lower().split(" but ", 1)[0]
        if first.strip() and label == str(sentiment([first], engine=engine, lexicon=lexicon)["label"].iloc[0]):
            return _hint(ex, "You read the first half. After 'but', VADER weighs the words that follow more and "
                             "the words before less.")
    return _hint(ex, "Score the sentence with `jl.sentiment([text], engine=engine, lexicon=lexicon)` and read "
                     "`compound` against the thresholds (−0.05 and +0.05) before you answer.")


def check_sentiment_share(answer, segments: pd.DataFrame, participants: pd.DataFrame, *, label: str,
                          persona: str | None = None, engine: str = "vader", lexicon=None,
                          split: str | None = "sentence", not_applicable: str | None = None) -> CheckResult:
    """Check the share of participant turns with a given sentiment label (optionally one persona's).

    Parameters
    ----------
    answer : float or None
        A share between 0 and 1, out of the persona's participant turns.
    segments, participants : DataFrame
        ``study.segments`` and ``study.participants``.
    label : {"negative", "neutral", "positive"}
    persona : str, optional
        Only turns of this persona's participants.
    engine, lexicon, split
        As for :func:`journeylab.sentiment` (the notebook's choices).

    not_applicable : str, optional
        Why the exercise does not apply to this study (e.g. ``choose(...)["not_applicable"]``):
        when non-empty, the result has status ``"not_applicable"`` and this message.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> jl.exercises.check_sentiment_share(2.0, study.segments, study.participants, label="negative").correct
    False
    """
    func = "check_sentiment_share"
    ex = f"share of turns labelled {label}" + (f" ({persona})" if persona else "")
    na = _not_applicable(ex, not_applicable)
    if na is not None:
        return na
    if _open(answer):
        return _unanswered(ex)
    if label not in _LABELS:
        raise JourneylabError(f"{func}(): `label` must be one of {', '.join(_LABELS)}; got {label!r}.")
    check_frame(segments, arg="segments", func=func, required=["segment_id", "participant_id", "text"])
    who = segments[["segment_id", "participant_id"]]
    if persona is not None:
        check_frame(participants, arg="participants", func=func, required=["participant_id", "persona"])
        ids = set(participants.loc[participants["persona"] == persona, "participant_id"])
        if not ids:
            raise JourneylabError(f"{func}(): no participant has persona {persona!r}.")
    else:
        ids = None

    def share(scored):
        """(share, number) of ``scored``'s rows with the label, among the persona's participants."""
        s = scored.merge(who, on="segment_id", how="left")
        if ids is not None:
            s = s[s["participant_id"].isin(ids)]
        return float((s["label"] == label).mean()) if len(s) else np.nan, int((s["label"] == label).sum())

    def score(**kw):
        return sentiment(segments, engine=engine, **kw)

    scored = score(split=split, lexicon=lexicon)
    right, right_n = share(scored)
    value = _as_number(answer, ex)
    if isinstance(value, CheckResult):
        return value
    tol = 0.005
    if abs(value - right) <= tol:
        return _right(ex, "one label per participant turn, scored the way the notebook scores (same engine, "
                          "sentence split and domain lexicon), out of that persona's turns.")
    if value >= 1 and value == right_n:
        return _hint(ex, "That is a number of turns; the question asks for a share of the turns.")
    candidates = []
    if ids is not None:
        candidates.append((float((scored["label"] == label).mean()),
                           "That is the share over every participant's turns; keep only the turns of this "
                           "persona's participants (join `participant_id` to `study.participants`)."))
    if lexicon is not None:
        candidates.append((share(score(split=split))[0], "You scored without the domain lexicon: pass "
                                                         "`lexicon=lexicon`, as the rest of the notebook does."))
    if split is not None:
        candidates.append((share(score(split=None, lexicon=lexicon))[0],
                           "You scored whole turns; the notebook scores sentence by sentence and averages per "
                           "turn (`split=\"sentence\"`)."))
        candidates.append((share(score(split=split, lexicon=lexicon, aggregate=False))[0],
                           "You counted sentences; the question counts turns (one averaged label per turn, "
                           "`aggregate=True`)."))
    s_int = score(split=split, lexicon=lexicon, include_interviewer=True)
    s_int = s_int.merge(segments[["segment_id", "doc_id"]], on="segment_id", how="left")
    if ids is not None:
        s_int = s_int[s_int["doc_id"].isin(set(segments.loc[segments["participant_id"].isin(ids), "doc_id"]))]
    candidates.append((float((s_int["label"] == label).mean()),
                       "You included the interviewer's turns; only the participants' turns count."))
    hint = _match(value, candidates, right, tol) or _share_mistakes(value, right, tol)
    return _hint(ex, hint or "Score the turns as the notebook does, keep this persona's participants' turns, and "
                             "divide the number with this label by the number of those turns.")


# ----------------------------------------------------------------------------- 05 metrics


def check_funnel_conversion(answer, events: pd.DataFrame, *, steps: Sequence, step: str, window="7D",
                            where: dict | None = None, before=None, after=None, time: str = "timestamp",
                            not_applicable: str | None = None, **funnel_kwargs) -> CheckResult:
    """Check one step's conversion (users who reach ``step`` / users who reached the step before).

    Parameters
    ----------
    answer : float or None
        A share between 0 and 1.
    events : DataFrame
        The event log (``study.events``).
    steps : list
        The funnel steps (``study.funnel_steps``).
    step : str
        The step whose conversion from the previous step is asked.
    window : str, default "7D"
        The conversion window (``study.funnel_window``).
    where, before, after, time
        The events the question is about: ``where`` maps columns to the value to keep
        (``{"device": "mobile"}``); ``before``/``after`` keep events whose ``time`` column is
        before / at or after a date. Applied only once an answer is given, so an open exercise
        never fails on a study without these columns.
    not_applicable : str, optional
        Why the exercise does not apply to this study (e.g. ``jl.change_design(study).reason``):
        when non-empty, the result has status ``"not_applicable"`` and this message, whatever the
        answer, without looking at the data.
    **funnel_kwargs
        Passed to :func:`journeylab.funnel`.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> jl.exercises.check_funnel_conversion(0.2, study.events, steps=study.funnel_steps,
    ...                                      step="shipping_submitted").correct
    False
    """
    func = "check_funnel_conversion"
    ex = f"conversion to `{step}`"
    na = _not_applicable(ex, not_applicable)
    if na is not None:
        return na
    if _open(answer):
        return _unanswered(ex)
    events = _subset(events, where, before, after, time, func, "events")
    steps = list(steps)
    names = [s if isinstance(s, str) else str(s) for s in steps]
    if step not in names or names.index(step) == 0:
        raise JourneylabError(f"{func}(): `step` must be one of the steps after the first; got {step!r}.")
    k = names.index(step)
    f = funnel(events, steps=steps, window=window, **funnel_kwargs).steps
    row = f[f["step"] == step].iloc[0]
    right = float(row["conversion_from_previous"])
    value = _as_number(answer, ex)
    if isinstance(value, CheckResult):
        return value
    tol = 0.005
    if abs(value - right) <= tol:
        return _right(ex, "unique users who reached the step within the window, out of those who reached the "
                          "step before it.")
    users = int(row["users"])
    if value >= 1 and value in (users, int(f.iloc[k - 1]["users"])):
        return _hint(ex, "That is a number of users; the question asks for the share of the previous step's "
                         "users who went on.")
    ev = events["event"]
    counts = ev.value_counts()
    prev = names[k - 1]
    reached = events.groupby("event")["user_id"].nunique()
    hint = _match(value, [
        (counts.get(step, 0) / counts.get(prev, np.nan), "You counted events, not users: people repeat steps "
                                                         "(retries, several visits). A funnel counts each user "
                                                         "once per step."),
        (float(row["conversion_from_start"]), "That is the conversion from the *first* step; the question asks "
                                              "for the conversion from the step just before."),
        (1 - right, "That is the drop-off (the share who did *not* go on)."),
        (reached.get(step, 0) / reached.get(prev, np.nan),
         "You divided users who ever did one event by users who ever did the other. The funnel counts a user "
         "only if they reach the step after the previous one, in order, within the window: use `jl.funnel` "
         "with the study's steps and window."),
    ], right, tol) or _share_mistakes(value, right, tol)
    return _hint(ex, hint or "Run `jl.funnel` on these events with the study's steps and window, and read "
                             "`conversion_from_previous` on the step's row.")


def check_nps(answer, survey: pd.DataFrame, *, score: str = "nps", where: dict | None = None, before=None,
              after=None, time: str = "submitted_at", overall: pd.DataFrame | None = None,
              not_applicable: str | None = None) -> CheckResult:
    """Check a Net Promoter Score (promoters 9–10 minus detractors 0–6, in points from −100 to 100).

    Parameters
    ----------
    answer : float or None
    survey : DataFrame
        The survey (``study.survey``).
    score : str, default "nps"
        The 0–10 column.
    where, before, after, time
        The respondents the question is about, as for :func:`check_funnel_conversion`
        (``time`` defaults to ``submitted_at``).
    overall : DataFrame, optional
        The survey to recognise "you computed everyone's NPS" with; default: ``survey`` itself
        when a filter is given.
    not_applicable : str, optional
        Why the exercise does not apply to this study (e.g. ``jl.change_design(study).reason``):
        when non-empty, the result has status ``"not_applicable"`` and this message, whatever the
        answer, without looking at the data.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> jl.exercises.check_nps(100, study.survey).correct
    False
    """
    func = "check_nps"
    ex = "NPS"
    na = _not_applicable(ex, not_applicable)
    if na is not None:
        return na
    if _open(answer):
        return _unanswered(ex)
    check_frame(survey, arg="survey", func=func, required=[score])
    if overall is None and (where or before is not None or after is not None):
        overall = survey
    survey = _subset(survey, where, before, after, time, func, "survey")
    x = pd.to_numeric(survey[score], errors="coerce")
    answered = x.dropna()
    if answered.empty:
        raise JourneylabError(f"{func}(): `{score}` has no answers in `survey`.")
    n = len(answered)
    p = float((answered >= 9).mean())
    d = float((answered <= 6).mean())
    right = 100 * (p - d)
    value = _as_number(answer, ex)
    if isinstance(value, CheckResult):
        return value
    tol = 0.5
    if abs(value - right) <= tol:
        return _right(ex, "promoters (9–10) minus detractors (0–6), as shares of those who answered, in points.")
    passive = 1 - p - d
    candidates = [
        (right / 100, "That looks like a share: NPS is given in points, 100 × (promoters − detractors), from "
                      "−100 to +100."),
        (100 * p, "That is the share of promoters only: subtract the share of detractors (0–6)."),
        (100 * (p + passive - d), "Passives (7–8) are not promoters: promoters answer 9 or 10."),
        (100 * (p - float((answered <= 5).mean())), "Detractors answer 0 to 6, not 0 to 5."),
        (100 * (float((answered >= 8).mean()) - d), "Promoters answer 9 or 10, not 8 to 10."),
        (float(answered.mean()), "That is the mean score. NPS counts promoters and detractors instead."),
        (100 * (p - d) * n / len(survey) if len(survey) > n else None,
         "Leave the blank answers out of the denominator."),
    ]
    if overall is not None and score in overall:
        o = pd.to_numeric(overall[score], errors="coerce").dropna()
        candidates.append((100 * (float((o >= 9).mean()) - float((o <= 6).mean())),
                           "That is the NPS of every respondent; keep only the respondents the question is "
                           "about."))
    hint = _match(value, candidates, right, tol)
    if hint is None and not -100 <= value <= 100:
        hint = "NPS lies between −100 and +100."
    return _hint(ex, hint or "Keep the respondents the question is about, then 100 × (share answering 9–10 − "
                             "share answering 0–6), out of those who answered (or `jl.nps`).")


# ----------------------------------------------------------------------------- 06 evidence

_GRADE_ALIASES = {"interviews_only": "qualitative_only", "numbers_only": "quantitative_only",
                  "qualitative": "qualitative_only", "quantitative": "quantitative_only"}
_GRADES = ("strong", "mixed", "qualitative_only", "quantitative_only", "contradicted", "weak")
#: (qualitative support, a metric shows the problem, a metric rules it out)
_GRADE_LOGIC = {"strong": (True, True, False), "mixed": (True, True, True), "qualitative_only": (True, False, False),
                "contradicted": (True, False, True), "quantitative_only": (False, True, None),
                "weak": (False, False, None)}


def _claim_row(evidence, code, persona, func):
    rows = evidence[evidence["code"] == code]
    if "persona" in rows:
        rows = rows[rows["persona"].isna() | (rows["persona"] == "all")] if persona is None else \
            rows[rows["persona"] == persona]
    if rows.empty:
        raise JourneylabError(f"{func}(): no claim with code {code!r}"
                              + (f" for persona {persona!r}" if persona else "") + " in `evidence`.")
    return rows.iloc[[0]]


def check_evidence_grade(answer, evidence: pd.DataFrame, *, code: str, rules=None,
                         persona: str | None = None, not_applicable: str | None = None) -> CheckResult:
    """Check the triangulation grade of one claim, under the default or the given grading rules.

    Parameters
    ----------
    answer : str or None
        A grade: ``strong``, ``qualitative_only`` (or "interviews only"), ``quantitative_only``
        (or "numbers only"), ``contradicted``, ``weak``.
    evidence : DataFrame
        An evidence table (:func:`journeylab.evidence_table`).
    code : str
        The claim's code.
    rules : GradingRules, optional
        The rules to grade under (default: :class:`journeylab.GradingRules`).
    persona : str, optional
        The persona block of the evidence table (default: all participants).

    not_applicable : str, optional
        Why the exercise does not apply to this study (e.g. ``choose(...)["not_applicable"]``):
        when non-empty, the result has status ``"not_applicable"`` and this message.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> ev = jl.evidence_table(study, codings=study.codings, random_state=0)
    >>> jl.exercises.check_evidence_grade("no idea", ev, code="shipping_form_tedious").correct
    False
    """
    func = "check_evidence_grade"
    ex = f"grade of `{code}`" + (" under these rules" if rules is not None else "")
    na = _not_applicable(ex, not_applicable)
    if na is not None:
        return na
    if _open(answer):
        return _unanswered(ex)
    check_frame(evidence, arg="evidence", func=func, required=["code", "kind", "n_participants"])
    row = _claim_row(evidence, code, persona, func)
    graded = grade_claims(row, rules=rules).iloc[0]
    right = str(graded["grade"])
    grade = _as_label(answer, ex, "grade")
    if isinstance(grade, CheckResult):
        return grade
    grade = _GRADE_ALIASES.get(grade, grade)
    if grade not in _GRADES:
        return _hint(ex, "Answer with one of the grades of the grading table in this notebook (the values of the "
                         "evidence table's `grade` column), as a string.")
    if grade == right:
        return _right(ex, "the grade follows from two questions — do enough participants raise it, and does a "
                          "linked metric show the problem (or rule it out)?")
    if rules is not None and grade == str(grade_claims(row).iloc[0]["grade"]):
        return _hint(ex, "That is its grade under the default rules. Re-grade the row under the rules given "
                         "(`jl.grade_claims(ev, rules=...)`): a stricter bar can move a claim.")
    mine, theirs = _GRADE_LOGIC[grade], _GRADE_LOGIC[right]
    if mine[0] != theirs[0]:
        return _hint(ex, "Check the qualitative bar first: compare `n_participants` (and its share) with "
                         "`min_participants` and `min_share` of the rules in force.")
    if mine[1] != theirs[1]:
        return _hint(ex, "The participants part is right; now look at the linked metrics (`step_signal`, "
                         "`csat_signal`, `nps_signal`): does any of them show a problem?")
    return _hint(ex, "Enough people raise it and no metric shows the problem; the remaining question is whether "
                     "a linked metric's interval rules the problem *out* (a 'healthy' signal).")


def _pain_block(evidence, persona, func):
    """The pain-point rows of one persona block of an evidence table (all participants by default)."""
    rows = evidence[(evidence["kind"] == "pain_point") & evidence["code"].notna()]
    if "persona" in rows:
        rows = rows[rows["persona"].isna() | (rows["persona"] == "all")] if persona is None else \
            rows[rows["persona"] == persona]
    if rows.empty:
        raise JourneylabError(f"{func}(): `evidence` has no pain point"
                              + (f" for persona {persona!r}" if persona else "") + ".")
    return rows


def _changes(rows: pd.DataFrame, rules) -> dict:
    """``{code: grade under rules}`` for the pain points whose grade differs from their ``grade`` column."""
    new = grade_claims(rows, rules=rules)["grade"].astype(str)
    old = rows["grade"].astype(str)
    return {str(c): g for c, g, o in zip(rows["code"], new, old) if g != o}


def check_grade_changes(answer, evidence: pd.DataFrame, *, rules, persona: str | None = None,
                        not_applicable: str | None = None) -> CheckResult:
    """Check which pain points change grade under stricter grading rules, and to which grade.

    The answer is a dict ``{code: new grade}`` of every pain point whose grade under ``rules``
    differs from its grade in ``evidence`` (the ``grade`` column), and no other. A guess is right by
    chance far less than one time in twenty: each pain point may keep its grade or take one of five
    others.

    Parameters
    ----------
    answer : dict or None
        ``{code: grade}``; grades as the ``grade`` column spells them (``"interviews only"`` and
        ``"numbers only"`` are accepted). ``{}`` when no pain point changes.
    evidence : DataFrame
        An evidence table (:func:`journeylab.evidence_table`), graded under the default rules.
    rules : GradingRules
        The stricter rules (``choose(study, "6.1", evidence=ev)["rules"]``).
    persona : str, optional
        The persona block of the evidence table (default: all participants).
    not_applicable : str, optional
        Why the exercise does not apply to this study: when non-empty, the result has status
        ``"not_applicable"`` and this message.

    Returns
    -------
    CheckResult

    Notes
    -----
    Mistakes it names: the codes without their grades; the share part of the bar forgotten (a
    count only); participants who rest on keyword rules counted in full instead of at the rules'
    measured precision; the human-coded part of *strong* forgotten; pain points listed that were
    below the default bar already; the changes of the notebook's worked example (a 90 % CSAT bar).

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> ev = jl.evidence_table(study, codings=study.codings, random_state=0)
    >>> rules = jl.GradingRules(min_participants=5, min_share=0.5)
    >>> jl.exercises.check_grade_changes({"no_such_code": "weak"}, ev, rules=rules).correct
    False
    """
    func = "check_grade_changes"
    ex = "pain points that change grade under these rules"
    na = _not_applicable(ex, not_applicable)
    if na is not None:
        return na
    if _open(answer):
        return _unanswered(ex)
    check_frame(evidence, arg="evidence", func=func, required=["code", "kind", "n_participants", "grade"])
    rows = _pain_block(evidence, persona, func)
    right = _changes(rows, rules)
    codes = set(rows["code"].astype(str))
    fmt = ("Give a dict: each pain point whose grade changes, with its new grade, e.g. "
           "`{\"some_code\": \"weak\"}` (`{}` if none changes).")
    if isinstance(answer, (list, tuple, set, pd.Series, np.ndarray)):
        listed = {str(a) for a in answer}
        if listed == set(right):
            return _hint(ex, "These are the pain points that change; now give each its new grade. " + fmt)
        return _hint(ex, fmt)
    if not isinstance(answer, dict):
        return _hint(ex, fmt)
    unknown = sorted(str(c) for c in answer if str(c) not in codes)
    if unknown:
        return _hint(ex, f"{', '.join(f'`{c}`' for c in unknown)}: not a pain point of the evidence table; use the "
                         "codes of its `code` column.")
    given = {}
    for code, grade in answer.items():
        label = _as_label(grade, ex, "grade")
        if isinstance(label, CheckResult):
            return label
        label = _GRADE_ALIASES.get(label, label)
        if label not in _GRADES:
            return _hint(ex, "Each grade is one of the grades of the grading table (the values of the evidence "
                             "table's `grade` column), as a string.")
        given[str(code)] = label
    if given == right:
        return _right(ex, "a stricter qualitative bar moves only the claims that met the default bar and not the "
                          "new one (counting rule-only participants at the rules' precision, and the human-coded "
                          "ones for *strong*); each then drops to the grade its metrics alone give.")
    old = dict(zip(rows["code"].astype(str), rows["grade"].astype(str)))
    unchanged = sorted(c for c, g in given.items() if g == old[c])
    if unchanged:
        return _hint(ex, f"{', '.join(f'`{c}`' for c in unchanged)}: that is the grade it already has; list only "
                         "the pain points whose grade changes.")
    if set(given) == set(right):
        wrong = sum(given[c] != right[c] for c in right)
        return _hint(ex, f"The pain points are right; {wrong} of their new grades {'is' if wrong == 1 else 'are'} "
                         "not. A claim that loses its qualitative support is graded on its linked metrics alone: "
                         "read the rows of the grading table without enough participants.")
    if not given:
        return _hint(ex, "Under these rules some pain points do change grade: re-grade the table "
                         "(`jl.grade_claims(ev, rules=...)`) and compare with its `grade` column, as the worked "
                         "example does.")
    # the typical misreadings of the bar, each as the answer it would give
    n = rows["n_participants"]
    variants = [
        (dataclasses.replace(rules, min_share=1.0, min_share_participants=10 ** 6), rows,
         "A theme also meets the bar when at least `min_share` of the participants raised it (and at least "
         "`min_share_participants` did): the bar is a count *or* a share."),
        (rules, rows.assign(rule_precision=1.0),
         "Participants who rest on keyword rules alone (`n_participants_rule_only`) count at the rules' measured "
         "precision (`rule_precision`), not in full."),
        (rules, rows.assign(n_participants_human=n, n_participants_rule_only=0),
         "A *strong* grade also needs enough participants coded by a person (`n_participants_human`), and "
         "rule-only participants count at the rules' precision: read the provenance columns, not just "
         "`n_participants`."),
        (dataclasses.replace(GradingRules(), csat_top2_min=0.90), rows,
         "Those are the changes of the worked example (a 90 % CSAT bar); this exercise changes the participants "
         "bar and keeps the CSAT bar."),
    ]
    for var_rules, var_rows, hint in variants:
        wrong_way = _changes(var_rows, var_rules)
        if wrong_way and wrong_way != right and set(given) == set(wrong_way):
            return _hint(ex, hint)
    below = grade_claims(rows, rules=rules)
    failing = set(rows.loc[~below["qual_support"].astype(bool).to_numpy(), "code"].astype(str))
    if failing and set(given) == failing and failing != set(right):
        return _hint(ex, "Some of these were below the default bar already (graded *weak* or numbers only): a "
                         "stricter bar cannot move them. List the claims that met the default bar and miss the new "
                         "one.")
    missing, extra = len(set(right) - set(given)), len(set(given) - set(right))
    parts = []
    if extra:
        parts.append(f"{extra} of your pain points keep{'s' if extra == 1 else ''} its grade under these rules")
    if missing:
        parts.append(f"{missing} pain point{'s that change are' if missing > 1 else ' that changes is'} missing")
    text = "; ".join(parts)
    return _hint(ex, text[:1].upper() + text[1:] + ". Re-grade the table under the rules (`jl.grade_claims(ev, "
                     "rules=...)`) and compare with its `grade` column, as the worked example does.")


# ----------------------------------------------------------------------------- 07 journey map


def check_top_priority(answer, jmap, *, overall=None, not_applicable: str | None = None) -> CheckResult:
    """Check which pain point ranks first in a map's priorities (:meth:`JourneyMap.prioritise`).

    Parameters
    ----------
    answer : str or None
        A code, e.g. ``"promo_code_confusion"``.
    jmap : JourneyMap
        The map the question is about (e.g. one persona's map).
    overall : JourneyMap, optional
        The map of all personas, to recognise "you answered for everyone".

    not_applicable : str, optional
        Why the exercise does not apply to this study (e.g. ``choose(...)["not_applicable"]``):
        when non-empty, the result has status ``"not_applicable"`` and this message.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> ev = jl.evidence_table(study, codings=study.codings, random_state=0)
    >>> jl.exercises.check_top_priority(None, jl.JourneyMap.build(study, ev)).status
    'unanswered'
    """
    persona = getattr(jmap, "persona", None)
    ex = "first priority" + (f" for {persona}s" if persona and persona != "all" else "")
    na = _not_applicable(ex, not_applicable)
    if na is not None:
        return na
    if _open(answer):
        return _unanswered(ex)
    if jmap is None:
        raise JourneylabError("check_top_priority(): `jmap` is None: build the map first (is the persona in "
                              "this study?).")
    prio = jmap.prioritise()
    if prio.empty:
        raise JourneylabError("check_top_priority(): this map has no pain points to rank.")
    right = prio.iloc[0]["code"]
    code = _as_label(answer, ex, "code")
    if isinstance(code, CheckResult):
        return code
    if code == right:
        return _right(ex, "the ranking weighs the evidence grade, the share of people, sentiment and the size "
                          "of the problem (users lost or NPS gap) — not the count of mentions alone.")
    codes = set(prio["code"].dropna())
    if code not in codes:
        return _hint(ex, "That is not one of this map's ranked pain points: answer with a value of the `code` "
                         "column of `prioritise()` for this map.")
    if overall is not None and code == overall.prioritise().iloc[0]["code"]:
        return _hint(ex, "That comes first on the map of all personas. Build this persona's map "
                         "(`jl.JourneyMap.build(study, ev, persona=...)`) and rank its pain points.")
    row = prio[prio["code"] == code].iloc[0]
    if row["grade"] == "contradicted":
        return _hint(ex, "That claim is contradicted by the numbers: contradicted claims come last whatever "
                         "their other scores.")
    most = prio.sort_values("n_participants", ascending=False, kind="stable").iloc[0]["code"]
    if code == most:
        return _hint(ex, "That is the pain point most of these participants raised; the ranking also weighs the "
                         "grade, sentiment and the size of the problem. Look at the `rank` column.")
    return _hint(ex, "Call `prioritise()` on this persona's map and read the row with `rank` 1.")


# ----------------------------------------------------------------------------- choosing for a study


def _persona_counts(study) -> pd.Series:
    p = study.participants
    if "persona" not in p.columns:
        return pd.Series(dtype=int)
    vals = p["persona"].astype("string").str.strip()
    return vals[vals.notna() & (vals != "")].value_counts()


def _pick(preferred, candidates: list):
    """``preferred`` when it is one of ``candidates``, else the first candidate (None if none)."""
    if preferred is not None and preferred in candidates:
        return preferred
    return candidates[0] if candidates else None


def choose(study, exercise: str, *, evidence: pd.DataFrame | None = None, **preferred) -> dict:
    """What an exercise asks about, chosen from ``study``: the notebook's choice when the study has
    it, else one taken from the study's own data, or why the exercise does not apply.

    The exercises were written on the sample study and name its participants, codes and personas;
    on another study those names do not exist. ``choose`` keeps the named one when the study has
    it and otherwise picks the same kind of thing from the study, so every check computes its
    right answer from the study it is given.

    Parameters
    ----------
    study : Study
    exercise : {"1.1", "1.2", "2.1", "3.1", "4.2", "5.2", "6.1", "7.1"}
    evidence : DataFrame, optional
        The evidence table (exercise 6.1 chooses its stricter rules on it).
    **preferred
        The notebook's choice: ``participant=`` (1.1), ``column=`` (1.2), ``code=`` (2.1, 3.1),
        ``persona=`` (4.2, 7.1), ``step=``, ``where=`` (5.2), ``min_participants=``, ``min_share=``
        (6.1: the stricter bar, made stricter still when no pain point would change grade under it).

    Returns
    -------
    dict
        The keyword arguments of the exercise's check (``participant``, ``column``, ``code``,
        ``coders``, ``persona``, ``step``, ``where``, ``rules``), each None when the exercise does not apply,
        and ``not_applicable``: "" or why the exercise does not apply.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> jl.exercises.choose(study, "1.1", participant="P13")
    {'participant': 'P13', 'not_applicable': ''}
    >>> jl.exercises.choose(study, "1.1", participant="nobody")["participant"]   # most turns among the VTT/SRT ones
    'P05'
    """
    def na(reason, **keys):
        return {**{k: None for k in keys}, "not_applicable": reason}

    seg = study.segments
    turns = seg[seg["speaker_role"] == "participant"] if len(seg) else seg
    if exercise == "1.1":
        if not len(turns):
            return na("this study has no participant turns", participant=1)
        counts = turns.groupby("participant_id").size()
        formats = study.documents.set_index("doc_id")["format"] if len(study.documents) else pd.Series(dtype=str)
        doc_of = turns.groupby("participant_id")["doc_id"].first()
        cued = [p for p in counts.sort_values(ascending=False, kind="stable").index
                if formats.get(doc_of.get(p)) in ("vtt", "srt")]
        ranked = cued + [p for p in counts.sort_values(ascending=False, kind="stable").index if p not in cued]
        return {"participant": _pick(preferred.get("participant"), [str(p) for p in ranked]), "not_applicable": ""}
    if exercise == "1.2":
        sv = study.survey
        cols = [c for c in [*study.csat_columns, study.nps_column] if c in sv.columns and sv[c].notna().any()]
        if not len(sv) or not cols:
            return na("this study's survey has no score columns with answers", column=1)
        blanks = sv[cols].isna().mean().sort_values(ascending=False, kind="stable")
        return {"column": _pick(preferred.get("column"), list(blanks.index)), "not_applicable": ""}
    if exercise == "2.1":
        auto = (autocode(study.segments, codebook=study.codebook) if study.codebook is not None and len(seg)
                else pd.DataFrame())
        if not len(auto):
            return na("the codebook's rules code no turn of this study", code=1)
        reach = (auto.merge(seg[["segment_id", "participant_id"]], on="segment_id")
                 .groupby("code")["participant_id"].nunique().sort_values(ascending=False, kind="stable"))
        return {"code": _pick(preferred.get("code"), list(reach.index)), "not_applicable": ""}
    if exercise == "3.1":
        pair = coder_pair(study.codings, segments=study.segments)
        if not pair:
            return na(pair.reason, code=1, coders=1)
        both = study.codings[study.codings["coder"].isin(list(pair))]
        used = both.groupby("code")["segment_id"].nunique().sort_values(ascending=False, kind="stable")
        shared = [c for c in used.index if both.loc[both["code"] == c, "coder"].nunique() == 2]
        return {"code": _pick(preferred.get("code"), shared or list(used.index)), "coders": tuple(pair),
                "not_applicable": ""}
    if exercise in ("4.2", "7.1"):
        counts = _persona_counts(study)
        if len(counts) < 2:
            return na("this study has fewer than two personas (a persona column in participants.csv)", persona=1)
        return {"persona": _pick(preferred.get("persona"), sorted(counts.index)), "not_applicable": ""}
    if exercise == "5.2":
        design = change_design(study)
        group = event_property(study)
        if not design:
            return na(design.reason, step=1, where=1)
        if group is None:
            return na("this study's event log has no property to pick a group of users by", step=1, where=1)
        values = study.events[group].astype("string").value_counts()
        where = preferred.get("where")
        if not (isinstance(where, dict) and len(where) == 1 and next(iter(where)) in study.events.columns
                and str(next(iter(where.values()))) in values.index):
            where = {group: str(values.index[0])}
        step = _pick(preferred.get("step"), [s for s in design.steps[1:] if isinstance(s, str)])
        return {"step": step if step is not None else design.steps[-1], "where": where, "not_applicable": ""}
    if exercise == "6.1":
        if evidence is None:
            raise JourneylabError("choose(study, '6.1'): pass `evidence=` (the evidence table) to choose the "
                                  "stricter rules for")
        pains = evidence[(evidence["kind"] == "pain_point") & evidence["code"].notna()]
        if "persona" in pains.columns:
            pains = pains[pains["persona"].isna() | (pains["persona"].astype("string").isin(["all", ""]))]
        if not len(pains):
            return na("the evidence table has no pain point", rules=1)
        # the notebook's stricter bar, made stricter still until at least one pain point changes grade
        # (an answer of "none changes" must not be right by chance)
        mp0 = int(preferred.get("min_participants", 5))
        ms0 = float(preferred.get("min_share", 0.5))
        top = int(pains["n_participants"].max()) + 1
        for mp in range(mp0, max(top, mp0) + 1):
            for ms in sorted({ms0, max(ms0, 0.75), 1.0}):
                rules = dataclasses.replace(GradingRules(), min_participants=mp, min_share=ms)
                if _changes(pains, rules):
                    return {"rules": rules, "not_applicable": ""}
        return na("no pain point of this study meets the default qualitative bar, so no stricter bar can change a "
                  "grade", rules=1)
    raise JourneylabError(f"choose(): unknown exercise {exercise!r}; expected one of 1.1, 1.2, 2.1, 3.1, 4.2, 5.2, "
                          "6.1, 7.1")
