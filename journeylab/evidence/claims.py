"""The evidence table: every claim a journey map makes, with its support and a triangulation grade.

A journey map says things such as "the shipping form is a pain point" or "customers love the
packaging". :func:`evidence_table` turns a study and its codings into one row per such claim,
per stage × touchpoint (× persona), with the qualitative support (how many participants, which
quotes, their sentiment) and the quantitative support (the funnel step at that touchpoint, its
CSAT, the NPS of survey respondents whose comments raise the theme), and grades each claim by
whether the two kinds of evidence agree (:class:`GradingRules`, :func:`grade_claims`).
"""
from __future__ import annotations

__all__ = ["GradingRules", "evidence_table", "grade_claims", "touchpoint_metrics", "theme_nps", "theme_csat",
           "study_between", "study_targets", "questionnaire_signals", "rule_precision", "GRADES", "SIGNALS",
           "EVIDENCE_COLUMNS"]

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..coding.analysis import exemplar_quotes
from ..coding.choice import ANALYSIS_KEY
from ..coding.rules import autocode
from ..errors import JourneylabError
from ..measure.coded_emotion import coded_emotion, compare_emotion
from ..measure.funnel import funnel
from ..measure.questionnaires import study_questionnaire
from ..measure.sentiment import DEFAULT_ENGINE, code_sentiment, emotion_curve, study_sentiment
from ..measure.survey import csat
from ..measure.survey import nps as _nps
from ..measure.tasks import task_metrics
from ..study.codebook import Codebook
from ..study.load import check_study
from ..study.stages import code_stage_map, stage_reach
from ..study.units import participant_codings
from ..utils.checks import check_frame
from ..utils.docstrings import shared_docs
from ..utils.intervals import wilson_interval

GRADES = ["strong", "mixed", "quantitative_only", "qualitative_only", "weak", "contradicted"]
#: Metric signals: a metric compared with its benchmark (see GradingRules).
SIGNALS = ["problem", "healthy", "strength", "inconclusive", "no benchmark"]
NO_BENCHMARK = "no benchmark"
CLAIM_KINDS = ["pain_point", "delight", "need", "behaviour"]

#: Columns of the evidence table, in order (see :func:`evidence_table`).
EVIDENCE_COLUMNS = [
    "claim_id", "stage", "stage_order", "touchpoint", "persona", "kind", "code", "metric", "claim",
    "n_participants", "n_participants_total", "share_participants", "share_ci_low", "share_ci_high",
    "n_participants_human", "n_participants_rule_only", "rule_precision", "rule_precision_ci_low",
    "rule_precision_ci_high", "n_segments", "quote_ids", "sentiment_mean", "sentiment_ci_low", "sentiment_ci_high",
    "coded_n", "coded_n_pain", "coded_n_delight", "coded_balance", "coded_ci_low", "coded_ci_high", "emotion_disagree",
    "step", "step_from", "step_users_from", "step_users", "step_conversion", "step_ci_low", "step_ci_high",
    "step_lost", "step_lost_per_week", "step_rank", "funnel_n_steps", "funnel_median",
    "step_to_end", "step_to_end_n", "step_target", "step_target_source", "step_signal", "step_source",
    "csat_column", "csat_n", "csat_mean", "csat_mean_ci_low", "csat_mean_ci_high",
    "csat_top2", "csat_top2_ci_low", "csat_top2_ci_high", "csat_target", "csat_target_source", "csat_signal",
    "csat_source", "csat_theme", "csat_others", "csat_n_theme", "csat_n_others", "csat_gap", "csat_gap_ci_low",
    "csat_gap_ci_high",
    "nps_theme", "nps_others", "nps_n_theme", "nps_n_others", "nps_gap", "nps_gap_ci_low", "nps_gap_ci_high",
    "nps_signal", "nps_source",
    "task", "task_n", "task_successes", "task_success_rate", "task_ci_low", "task_ci_high",
    "task_time_geomean_s", "task_time_ci_low_s", "task_time_ci_high_s", "task_signal", "task_source",
    "qual_support", "quant_support", "grade", "grade_reason",
]

_STEP_COLS = ["step", "step_from", "step_users_from", "step_users", "step_conversion", "step_ci_low",
              "step_ci_high", "step_lost", "step_lost_per_week", "step_rank", "funnel_n_steps", "funnel_median",
              "step_to_end", "step_to_end_n", "step_target", "step_target_source", "step_source"]
_CSAT_COLS = ["csat_column", "csat_n", "csat_mean", "csat_mean_ci_low", "csat_mean_ci_high", "csat_top2",
              "csat_top2_ci_low", "csat_top2_ci_high", "csat_target", "csat_target_source", "csat_source"]
_TASK_COLS = ["task", "task_n", "task_successes", "task_success_rate", "task_ci_low", "task_ci_high",
              "task_time_geomean_s", "task_time_ci_low_s", "task_time_ci_high_s", "task_source"]
#: Joins a code and a stage into one key while counting a code at several stages (session stages).
_STAGE_KEY = "\x1f"
_NPS_COLS = ["nps_theme", "nps_others", "nps_n_theme", "nps_n_others", "nps_gap", "nps_gap_ci_low",
             "nps_gap_ci_high", "nps_source"]


# ----------------------------------------------------------------------------- grading rules


#: Rules of earlier versions that graded a funnel step by its rank among the study's steps; a map
#: saved with them still loads (they are ignored: a step is now compared with a declared target).
_RETIRED_RULES = ("worst_steps", "below_median")


@dataclass(frozen=True)
class GradingRules:
    """The stated criteria of the triangulation grades (see :func:`grade_claims` for the table).

    Every metric is compared with a *benchmark* — a number stated before looking at the data —
    and counts only when its confidence interval excludes that number. Where the study states no
    benchmark the metric's signal is ``"no benchmark"`` and the claim is graded on the
    interviews alone, which its ``grade_reason`` says. :meth:`describe` gives the rules as
    sentences (the report's methods section prints them).

    Parameters
    ----------
    min_participants : int, default 3
        Qualitative support: at least this many participants raised the theme ...
    min_share : float, default 0.25
        ... or at least this share of the participants (of the persona) did, counting at least
        ``min_share_participants`` people (so 1 of 3 is never enough).
    min_share_participants : int, default 2
        Fewest participants for the share rule to apply.
    csat_top2_min : float or None, default 0.65
        The CSAT target used where study.yml ``targets: csat:`` names none for a touchpoint: the
        top-2-box share a touchpoint should reach. CSAT signals a *problem* when the upper end of
        the share's CI is below the target, *healthy* when the lower end is at or above it.
        ``None``: no default, so a touchpoint without a declared target has no benchmark.
        (There is no published CSAT norm that holds across industries; 0.65 is a convention, and
        ``csat_target_source`` says which target was used.)
    nps_gap_margin : float, default 10.0
        NPS points. The benchmark of the NPS gap (respondents whose comments raise the theme minus
        the other commenters) is 0, no difference: it signals a *problem* when its CI lies wholly
        below 0, a *strength* when wholly above 0, and is *healthy* for a pain point when its CI
        lies wholly above ``-nps_gap_margin``.
    min_metric_n : int, default 30
        Fewest CSAT answers (or users at the previous funnel step) for a metric to signal anything.
    min_nps_n : int, default 10
        Fewest respondents raising the theme for the NPS gap to signal anything.
    task_failure_share : float, default 0.5
        A usability task signals a problem at its stage when at least this share of the
        participants who attempted it did not succeed unaided (``failed``, ``abandoned`` or
        ``assisted``): a pain point coded at a task half the participants failed is corroborated.
        Task success never rules a pain point out (people struggle and still succeed).
    min_task_n : int, default 5
        Fewest attempts at a task for it to signal anything.
    questionnaire_targets : dict, default {"sus": 68.0}
        Published benchmarks of standard questionnaires, used where study.yml ``targets:
        questionnaire:`` names none for a scale: SUS 68, the average score of about 500 studies
        (Sauro 2011; Bangor, Kortum & Miller 2008 report a mean of 68–70). A questionnaire scale
        signals a *problem* when the upper end of its mean's CI is below the target, *healthy*
        when the lower end is at or above it. Scales without a published benchmark (PSSUQ, SEQ,
        CES ...) have none unless the study declares one.
    min_questionnaire_n : int, default 5
        Fewest respondents for a questionnaire scale to signal anything.
    contradiction : {"any", "all"}, default "any"
        ``"any"``: a qualitatively supported claim is *contradicted* when no linked metric backs it
        and at least one linked metric, with its CI, rules the problem (or the strength) out.
        ``"all"``: every linked metric must rule it out.
    level : float, default 0.95
        Confidence level of every interval.

    Notes
    -----
    **Funnel steps** have no default benchmark: a conversion of 60% is excellent for one step of
    one product and alarming for another, and ranking a study's own steps makes every funnel have
    a "worst" step. Declare targets in study.yml::

        targets:
          steps: {shipping_submitted: 0.85}   # conversion from the previous step, by the step's event
          csat: {delivery: 0.80}              # top-2-box share, by touchpoint (or CSAT column)

    A step then signals a *problem* when the upper end of its conversion's CI is below the target,
    *healthy* when the lower end is at or above it, *inconclusive* otherwise.

    Examples
    --------
    >>> import journeylab as jl
    >>> print(jl.GradingRules().describe()[0])
    Qualitative support: at least 3 participants raised the theme, or at least 25% of them and at least 2.
    """

    min_participants: int = 3
    min_share: float = 0.25
    min_share_participants: int = 2
    csat_top2_min: float | None = 0.65
    nps_gap_margin: float = 10.0
    min_metric_n: int = 30
    min_nps_n: int = 10
    task_failure_share: float = 0.5
    min_task_n: int = 5
    questionnaire_targets: dict = dataclasses.field(default_factory=lambda: {"sus": 68.0})
    min_questionnaire_n: int = 5
    contradiction: str = "any"
    level: float = 0.95

    def __post_init__(self):
        def bad(name, expected):
            raise JourneylabError(f"GradingRules: `{name}` must be {expected}; got {getattr(self, name)!r}.")

        for name in ("min_participants", "min_share_participants", "min_metric_n", "min_nps_n", "min_task_n",
                     "min_questionnaire_n"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                bad(name, "a non-negative integer")
        if not isinstance(self.min_share, (int, float)) or not 0 <= self.min_share <= 1:
            bad("min_share", "a share between 0 and 1")
        if self.csat_top2_min is not None and (not isinstance(self.csat_top2_min, (int, float))
                                               or not 0 <= self.csat_top2_min <= 1):
            bad("csat_top2_min", "a share between 0 and 1, or None (no default CSAT target)")
        if not isinstance(self.task_failure_share, (int, float)) or not 0 <= self.task_failure_share <= 1:
            bad("task_failure_share", "a share between 0 and 1")
        if not isinstance(self.nps_gap_margin, (int, float)) or self.nps_gap_margin < 0:
            bad("nps_gap_margin", "a non-negative number of NPS points")
        if (not isinstance(self.questionnaire_targets, dict)
                or any(isinstance(v, bool) or not isinstance(v, (int, float))
                       for v in self.questionnaire_targets.values())):
            bad("questionnaire_targets", "a mapping {scale: score on the scale}, such as {'sus': 68}")
        if self.contradiction not in ("any", "all"):
            bad("contradiction", "'any' or 'all'")
        if not isinstance(self.level, float) or not 0.5 <= self.level < 1:
            bad("level", "a confidence level such as 0.95")

    def to_dict(self) -> dict:
        """The rules as a plain dict (JSON-ready)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "GradingRules":
        """Rules from :meth:`to_dict` (unknown keys raise; the retired rank rules are ignored)."""
        data = {k: v for k, v in dict(data or {}).items() if k not in _RETIRED_RULES}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise JourneylabError(f"GradingRules: unknown rule(s) {', '.join(map(repr, unknown))}; "
                                  f"known: {', '.join(sorted(known))}.")
        return cls(**data)

    def describe(self, targets: dict | None = None) -> list[str]:
        """Every rule as a sentence, with this object's numbers (and the study's targets if given).

        Parameters
        ----------
        targets : dict, optional
            :func:`study_targets` of the study (``{"steps": {...}, "csat": {...}}``).

        Returns
        -------
        list of str
        """
        t = targets or {}
        steps = t.get("steps") or {}
        csat_t = t.get("csat") or {}
        pct = lambda x: f"{100 * x:.0f}%"  # noqa: E731
        base = t.get("baseline")
        step_txt = (", ".join(f"{k} {pct(v)}" for k, v in steps.items()) if steps else "none declared")
        if base:
            step_txt += f"; steps without one are compared with the earlier period {base}"
        elif not steps:
            step_txt += ", so every funnel step's signal is 'no benchmark'"
        csat_txt = ", ".join(f"{k} {pct(v)}" for k, v in csat_t.items()) if csat_t else "none declared"
        if base:
            csat_txt += f"; touchpoints without one are compared with the earlier period {base}"
        q_declared = t.get("questionnaire") or {}
        q_all = {**self.questionnaire_targets, **q_declared}
        q_txt = (", ".join(f"{k} {v:g} ({'study.yml' if k in q_declared else 'published default'})"
                           for k, v in q_all.items()) if q_all else "none")
        default = (f"{pct(self.csat_top2_min)} top-2 box elsewhere (GradingRules.csat_top2_min, a convention, "
                   "not a published norm)") if self.csat_top2_min is not None else "no default elsewhere"
        return [
            f"Qualitative support: at least {self.min_participants} participants raised the theme, or at least "
            f"{pct(self.min_share)} of them and at least {self.min_share_participants}.",
            "A metric is compared with a benchmark stated before the analysis and counts only when its "
            f"{pct(self.level)} confidence interval excludes the benchmark: 'problem' when the interval lies below "
            "it, 'healthy' when at or above it, 'inconclusive' when it spans it; 'no benchmark' when there is none.",
            f"Funnel steps (conversion from the previous step, Wilson CI): targets from study.yml: {step_txt}.",
            f"CSAT (top-2-box share, Wilson CI): targets from study.yml: {csat_txt}; {default}.",
            f"NPS of commenters raising the theme vs the other commenters (adjusted-Wald CI): benchmark 0 — "
            f"'problem' when the gap's CI lies below 0, 'strength' above 0, 'healthy' for a pain point when it "
            f"lies above −{self.nps_gap_margin:g} points.",
            f"Questionnaire scales (mean, t CI): benchmarks {q_txt}; a scale without one has 'no benchmark'; "
            f"at least {self.min_questionnaire_n} respondents are needed.",
            f"A metric needs at least {self.min_metric_n} answers or users ({self.min_nps_n} commenters raising "
            "the theme for NPS) to signal anything.",
            "Grades: strong = qualitative support and every linked metric with a verdict shows the problem "
            "(or strength); mixed = qualitative support, and the linked metrics disagree (one shows it, another "
            "rules it out) — the reasons list both; contradicted = qualitative support, no metric shows it and "
            f"{'one' if self.contradiction == 'any' else 'every'} linked metric rules it out; qualitative_only = "
            "qualitative support, metrics missing, inconclusive or without a benchmark (graded on the "
            "interviews, and the reason says so); quantitative_only = a metric shows it, too few participants; "
            "weak = neither. Needs and behaviours are graded on the interviews only.",
        ]


def study_targets(study) -> dict:
    """The benchmarks a study declares in study.yml ``targets:`` (validated when it was loaded).

    Parameters
    ----------
    study : Study
        A loaded study (:func:`journeylab.load_study`).

    Returns
    -------
    dict
        ``{"steps": {event: share}, "csat": {touchpoint or column: share}, "questionnaire":
        {scale: score}}`` (empty when none).

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.study_targets(jl.load_study(jl.datasets.sample_study_path()))
    {'steps': {'shipping_submitted': 0.8}, 'csat': {}, 'questionnaire': {}}
    """
    check_study(study, func="study_targets")
    t = dict((study.config or {}).get("targets") or {})
    return {"steps": dict(t.get("steps") or {}), "csat": dict(t.get("csat") or {}),
            "questionnaire": dict(t.get("questionnaire") or {})}


# ----------------------------------------------------------------------------- small statistics


def _z(level: float) -> float:
    # lazy: scipy.stats adds ~1.3 s to `import journeylab` (measured; docs/architecture.md)
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def wilson(count, nobs, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of ``count / nobs`` (statsmodels ``proportion_confint``)."""
    if nobs is None or pd.isna(nobs) or nobs <= 0:
        return (math.nan, math.nan)
    # lazy: statsmodels adds ~1.3 s to `import journeylab` (measured; docs/architecture.md)
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(int(count), int(nobs), alpha=1 - level, method="wilson")
    return float(lo), float(hi)


# ----------------------------------------------------------------------------- study helpers


@shared_docs
def study_between(study, *, start=None, end=None, interview_date: str = "interview_date"):
    """The part of a study that falls in ``[start, end)``: events, survey answers and interviews.

    Parameters
    ----------
    {study}
    start, end : str, datetime or None
        Period bounds (``end`` excluded); ``None`` leaves that side open. A bare date such as
        ``"2026-08-31"`` means midnight at the start of that day, in the data's time zone (UTC
        for the sample study).
    interview_date : str, default "interview_date"
        Column of ``study.participants`` holding each interview's date. Participants without it
        are kept.

    Returns
    -------
    Study
        A new study (the input is not changed) with ``events`` (by ``timestamp``), ``survey`` (by
        ``submitted_at``), ``participants`` (by ``interview_date``) and, for the kept participants,
        ``segments``, ``documents``, ``codings`` and ``redactions`` restricted accordingly.
        Its ``name`` says which period it covers.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> before = jl.study_between(study, end="2026-08-31")
    >>> sorted(set(study.participants["participant_id"]) - set(before.participants["participant_id"]))
    ['P12', 'P13', 'P14']
    """
    check_study(study, func="study_between")
    lo = None if start is None else pd.Timestamp(start)
    hi = None if end is None else pd.Timestamp(end)
    if lo is not None and hi is not None and lo >= hi:
        raise JourneylabError(f"study_between(): `start` ({lo}) must be before `end` ({hi}).")

    def keep(ts: pd.Series) -> pd.Series:
        ts = pd.to_datetime(ts, errors="coerce")
        if getattr(ts.dt, "tz", None) is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        ok = pd.Series(True, index=ts.index)
        if lo is not None:
            ok &= ts >= lo
        if hi is not None:
            ok &= ts < hi
        return ok.fillna(False)

    events = study.events
    if len(events) and "timestamp" in events:
        events = events[keep(events["timestamp"]).to_numpy()].reset_index(drop=True)
    survey = study.survey
    if len(survey) and "submitted_at" in survey:
        survey = survey[keep(survey["submitted_at"]).to_numpy()].reset_index(drop=True)
    participants = study.participants
    if interview_date in participants.columns:
        dates = pd.to_datetime(participants[interview_date], errors="coerce")
        ok = keep(participants[interview_date]) | dates.isna()
        participants = participants[ok.to_numpy()].reset_index(drop=True)
    pids = set(participants["participant_id"].dropna())
    docs = study.documents
    docs = docs[docs["participant_id"].isin(pids) | docs["participant_id"].isna()].reset_index(drop=True)
    doc_ids = set(docs["doc_id"])
    segments = study.segments[study.segments["doc_id"].isin(doc_ids)].reset_index(drop=True)
    seg_ids = set(segments["segment_id"].astype(str))
    codings = study.codings
    if len(codings):
        codings = codings[codings["segment_id"].astype(str).isin(seg_ids)].reset_index(drop=True)
    redactions = study.redactions
    if len(redactions) and "doc_id" in redactions:
        redactions = redactions[redactions["doc_id"].isin(doc_ids)].reset_index(drop=True)
    label = " to ".join(["start" if lo is None else str(lo.date() if lo == lo.normalize() else lo),
                         "end" if hi is None else str(hi.date() if hi == hi.normalize() else hi)])
    config = dict(study.config)
    config["period"] = {"start": None if lo is None else lo.isoformat(), "end": None if hi is None else hi.isoformat()}
    return dataclasses.replace(study, name=f"{study.name} ({label})", config=config, events=events, survey=survey,
                               participants=participants, documents=docs, segments=segments, codings=codings,
                               redactions=redactions)


def _positive_codings(codings: pd.DataFrame, *, with_human: bool = False) -> pd.DataFrame:
    """(segment_id, code) pairs: a segment carries a code when any coder or rule applied it.

    With ``with_human``, a ``human`` column says whether a person applied it (``origin`` manual,
    or no ``origin`` column at all).
    """
    cod = codings
    if "present" in cod.columns:
        cod = cod[cod["present"].astype(bool)]
    cod = cod.dropna(subset=["segment_id", "code"])
    out = cod[["segment_id", "code"]].astype(str)
    if not with_human:
        return out.drop_duplicates().reset_index(drop=True)
    human = (cod["origin"].astype(str) == "manual").to_numpy() if "origin" in cod.columns else True
    out = out.assign(human=human, machine=~np.asarray(human, dtype=bool) if "origin" in cod.columns else False)
    return out.groupby(["segment_id", "code"], sort=False, as_index=False)[["human", "machine"]].any()


def rule_precision(pairs: pd.DataFrame, doc_of: pd.Series, level: float = 0.95) -> pd.DataFrame:
    """Precision of rule (or model) codings against the human coder, per code, in this study.

    Measured in the transcripts a person coded: of the turns a rule gave a code there, the share
    the person also gave that code, with a Wilson interval. ``pairs`` has ``segment_id``, ``code``,
    ``human``, ``machine`` (from the codings); ``doc_of`` maps segment ids to documents.

    Returns
    -------
    DataFrame
        One row per code with a rule coding in a human-coded transcript: ``code``,
        ``rule_n`` (turns the rules coded there), ``rule_hits`` (of them, turns the person coded too),
        ``rule_precision``, ``rule_precision_ci_low``, ``rule_precision_ci_high``.
    """
    cols = ["code", "rule_n", "rule_hits", "rule_precision", "rule_precision_ci_low", "rule_precision_ci_high"]
    if not len(pairs):
        return pd.DataFrame(columns=cols)
    docs = pairs["segment_id"].map(doc_of)
    human_docs = set(docs[pairs["human"].to_numpy()])
    m = pairs[pairs["machine"].to_numpy() & docs.isin(human_docs).to_numpy()]
    if not len(m):
        return pd.DataFrame(columns=cols)
    g = m.groupby("code").agg(rule_n=("machine", "size"), rule_hits=("human", "sum")).reset_index()

    lo, hi = wilson_interval(g["rule_hits"].to_numpy(float), g["rule_n"].to_numpy(float), level)
    g["rule_precision"] = g["rule_hits"] / g["rule_n"]
    g["rule_precision_ci_low"], g["rule_precision_ci_high"] = lo, hi
    return g[cols]


def _with_rule_hits(pairs: pd.DataFrame, segments: pd.DataFrame, doc_of: pd.Series, codebook) -> pd.DataFrame:
    """``pairs`` plus the codebook's own rule hits in the transcripts a person coded, to measure the rules by.

    The codings a run analyses take a person's codings where one exists (:func:`journeylab.analysis_codings`),
    so they hold no rule hits there: the rules are run again on those transcripts' participant turns,
    and their hits are compared with what the person coded (:func:`rule_precision`).
    """
    human_docs = set(pairs.loc[pairs["human"].to_numpy(bool), "segment_id"].map(doc_of))
    if not human_docs or not any(c.rules.n_rules() for c in codebook.codes):
        return pairs
    seg = segments[segments["doc_id"].astype(str).isin({str(d) for d in human_docs})]
    if "speaker_role" in seg.columns:
        seg = seg[seg["speaker_role"].astype(str) == "participant"]
    hits = autocode(seg, codebook=codebook) if len(seg) else seg.iloc[0:0]
    if not len(hits):
        return pairs
    hits = hits[["segment_id", "code"]].astype(str).assign(human=False, machine=True)
    both = pd.concat([pairs[["segment_id", "code", "human", "machine"]], hits], ignore_index=True)
    return both.groupby(["segment_id", "code"], sort=False, as_index=False)[["human", "machine"]].any()


def _step_events(step) -> list:
    return [step] if isinstance(step, str) else list(step)


def _step_name(step) -> str:
    return step if isinstance(step, str) else " | ".join(map(str, step))


# ----------------------------------------------------------------------------- funnel


def _funnel_frame(study, events: pd.DataFrame, level: float) -> tuple[pd.DataFrame, str]:
    """Per funnel step: users reaching it, with :func:`journeylab.funnel` (closed, unique users)."""
    steps = list(study.funnel_steps or [])
    window = study.funnel_window or "7D"
    cols = ["step", "users", "users_from", "conversion", "ci_low", "ci_high"]
    if len(steps) < 2 or len(events) == 0:
        return pd.DataFrame(columns=cols), ""
    present = set(events["event"].unique())
    if not all(any(e in present for e in _step_events(st)) for st in steps):
        return pd.DataFrame(columns=cols), ""  # e.g. a period in which some step never happens
    # a step that is a set of events counts the ones that happen (funnel() refuses a name never seen)
    counted = [st if isinstance(st, str) else [e for e in st if e in present] for st in steps]
    f = funnel(events, steps=counted, window=window, alpha=1 - level)
    st = f.steps
    users = st["users"].astype(int).to_numpy()
    out = pd.DataFrame({"step": [_step_name(x) for x in steps], "users": users,
                        "users_from": np.r_[users[:1], users[:-1]],
                        "conversion": st["conversion_from_previous"].to_numpy(float),
                        "ci_low": st["from_previous_ci_low"].to_numpy(float),
                        "ci_high": st["from_previous_ci_high"].to_numpy(float)})
    d = f.definition
    desc = (f"journeylab.funnel: {' → '.join(out['step'])}; {d['order']} order, {d['entry']} entry, "
            f"unique {d['count']}s, {d['window']} window from the first step")
    return out, desc


# ----------------------------------------------------------------------------- metrics per touchpoint


def _weeks(events: pd.DataFrame) -> float:
    if len(events) == 0:
        return math.nan
    ts = pd.to_datetime(events["timestamp"])
    days = (ts.max() - ts.min()) / pd.Timedelta(days=1)
    return max(days, 1.0) / 7.0


def _event_touchpoint(study) -> dict:
    em = study.events_map
    if em is None or len(em) == 0:
        return {}
    return {e: (s, t) for e, s, t in em[["event", "stage", "touchpoint"]].itertuples(index=False)}


def _vs_target(lo, hi, target) -> str:
    """A metric's interval against its benchmark: problem below, healthy at or above, else inconclusive."""
    if hi < target:
        return "problem"
    if lo >= target:
        return "healthy"
    return "inconclusive"


def _target_signal(value, lo, hi, n, target, min_n: int) -> str:
    """A metric against its benchmark (funnel step, CSAT, questionnaire): NA without a value, 'no
    benchmark' without a target, 'inconclusive' below ``min_n``, else :func:`_vs_target`."""
    if value is None or pd.isna(value):
        return pd.NA
    if target is None or pd.isna(target):
        return NO_BENCHMARK
    if n < min_n:
        return "inconclusive"
    return _vs_target(lo, hi, float(target))


def _csat_target(targets: dict, touchpoint, column, rules: GradingRules) -> tuple[float, str]:
    declared = targets.get("csat") or {}
    for key in (column, touchpoint):
        if key in declared:
            return float(declared[key]), f"study.yml targets: csat: {key}"
    if rules.csat_top2_min is not None:
        return float(rules.csat_top2_min), "default (GradingRules.csat_top2_min; no target declared)"
    return math.nan, "no target declared"


def _step_target(targets: dict, step_raw) -> tuple[float, str]:
    declared = targets.get("steps") or {}
    for key in [_step_name(step_raw), *_step_events(step_raw)]:
        if key in declared:
            return float(declared[key]), f"study.yml targets: steps: {key}"
    return math.nan, "no target declared"


def _nps_signal(gap, lo, hi, n_theme, rules: GradingRules) -> str:
    if gap is None or pd.isna(gap):
        return pd.NA
    if n_theme < rules.min_nps_n:
        return "inconclusive"
    if hi < 0:
        return "problem"
    if lo > 0:
        return "strength"
    if lo > -rules.nps_gap_margin:
        return "healthy"
    return "inconclusive"


def _questionnaire_target(targets: dict, scale: str, rules: GradingRules) -> tuple[float, str]:
    declared = targets.get("questionnaire") or {}
    if scale in declared:
        return float(declared[scale]), f"study.yml targets: questionnaire: {scale}"
    if scale in rules.questionnaire_targets:
        return float(rules.questionnaire_targets[scale]), "published default (GradingRules.questionnaire_targets)"
    return math.nan, "no target declared"


def questionnaire_signals(summary: pd.DataFrame, *, targets: dict | None = None,
                          rules: GradingRules | None = None) -> pd.DataFrame:
    """Compare questionnaire scale means with their benchmarks (study.yml, else published defaults).

    Parameters
    ----------
    summary : DataFrame
        :func:`journeylab.questionnaire_summary` (or ``study_questionnaire(study, summary=True)``):
        ``scale``, ``n``, ``mean``, ``ci_low``, ``ci_high``.
    targets : dict, optional
        :func:`study_targets` of the study; its ``questionnaire`` entry wins over the defaults.
    rules : GradingRules, optional
        ``questionnaire_targets`` (published defaults: SUS 68) and ``min_questionnaire_n``.

    Returns
    -------
    DataFrame
        ``summary`` with ``target`` (NaN when there is none), ``target_source`` and ``signal``
        (``problem``: the CI lies below the target; ``healthy``: at or above it;
        ``inconclusive``; ``no benchmark``).

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> s = pd.DataFrame({"scale": ["sus"], "n": [12], "mean": [55.0], "ci_low": [48.0], "ci_high": [62.0]})
    >>> jl.questionnaire_signals(s)[["target", "signal"]]
       target   signal
    0    68.0  problem
    """
    rules = rules or GradingRules()
    check_frame(summary, arg="summary", func="questionnaire_signals",
                required=["scale", "n", "mean", "ci_low", "ci_high"], allow_empty=True)
    out = summary.copy()
    found = [_questionnaire_target(targets or {}, str(sc), rules) for sc in out["scale"]]
    out["target"] = [t for t, _ in found]
    out["target_source"] = [src for _, src in found]
    out["signal"] = [_target_signal(r["mean"], r["ci_low"], r["ci_high"], r["n"], t, rules.min_questionnaire_n)
                     for r, t in zip(out.to_dict("records"), out["target"])]
    return out


def _task_signal(rate, n, rules: GradingRules) -> str:
    if rate is None or pd.isna(rate):
        return pd.NA
    if n < rules.min_task_n:
        return "inconclusive"
    if 1 - rate >= rules.task_failure_share:
        return "problem"
    return "inconclusive"


def _stage_tasks(study, participants=None, level: float = 0.95) -> pd.DataFrame:
    """jl.task_metrics per task of ``study.tasks`` that is mapped to a stage, with its stage and touchpoint."""
    tasks = study.tasks
    cols = ["stage", "touchpoint"]
    if tasks is None or len(tasks) == 0 or "stage" not in tasks.columns or tasks["stage"].isna().all():
        return pd.DataFrame(columns=cols + ["task"])

    t = tasks[tasks["stage"].notna()]
    if participants is not None:
        t = t[t["participant_id"].isin(set(participants))]
    if len(t) == 0:
        return pd.DataFrame(columns=cols + ["task"])
    m = task_metrics(t, confidence=level)
    where = t.drop_duplicates("task").set_index("task")
    return m.assign(stage=m["task"].map(where["stage"]), touchpoint=m["task"].map(where["touchpoint"]))


def touchpoint_metrics(study, *, persona: str | None = None, rules: GradingRules | None = None,
                       persona_column: str = "persona", baseline=None) -> pd.DataFrame:
    """The quantitative evidence at each touchpoint: funnel steps and CSAT, with intervals.

    Parameters
    ----------
    baseline : Study, optional
        An earlier period of the study (:func:`study_between`) whose values are the benchmarks of
        the metrics that study.yml gives no explicit target: a step or CSAT then signals a problem
        when its interval lies below the earlier value, healthy when at or above it.
    study : Study
        From :func:`journeylab.load_study` (``funnel_steps``, ``events_map``, ``csat_columns``).
    persona : str, optional
        Restrict the survey to this persona (``persona_column`` of ``study.survey``), and the
        event log too when it has that column; otherwise the funnel covers every user and
        ``source`` says so.
    rules : GradingRules, optional
        Thresholds for ``signal`` (default :class:`GradingRules`).
    persona_column : str, default "persona"
        The survey's (and event log's) persona column.

    Returns
    -------
    DataFrame
        One row per metric: ``stage``, ``touchpoint``, ``metric`` (``"step"`` or ``"csat"``),
        ``name`` (the step's event, or the survey column), ``label`` (readable), then for steps
        ``step_from``, ``users_from`` (users who reached the previous step), ``users`` (who reached
        this one), ``value`` (conversion from the previous step; for CSAT the top-2-box share),
        ``ci_low``, ``ci_high`` (Wilson), ``lost`` (users who reached the previous step but not
        this one), ``lost_per_week``, ``rank`` (1 = lowest conversion of the funnel),
        ``n_steps``, ``median`` (median step conversion), ``to_end`` (conversion from this step
        to the funnel's last), ``to_end_n``; for CSAT ``n`` (answers), ``mean``, ``mean_ci_low``,
        ``mean_ci_high`` (see :func:`journeylab.csat`); and for both ``target`` (the benchmark the
        value is compared with: study.yml ``targets:``, or for CSAT the default of
        :class:`GradingRules`; NaN when there is none), ``target_source`` (which), ``signal``
        (``problem``, ``healthy``, ``inconclusive``, ``no benchmark``; see :class:`GradingRules`)
        and ``source`` (where the number comes from). ``rank`` and ``median`` describe the
        funnel; they do not decide the signal.

    Notes
    -----
    A funnel step is linked to the touchpoint of its event (study.yml ``events:``): the step
    "checkout_start → shipping_submitted" is the shipping form's, because users who do not reach
    it are lost on that form. The first step of the funnel has no conversion and is left out.
    Counts are unique users of a closed funnel (ordered steps, others allowed in between, within
    the funnel window from the first step). CSAT's top-2 box is the share of answers in the two
    highest points of the scale; blanks are excluded.
    """
    check_study(study, func="touchpoint_metrics")
    rules = rules or GradingRules()
    level = rules.level
    targets = study_targets(study)
    earlier = {}
    if baseline is not None:
        check_study(baseline, func="touchpoint_metrics")
        bm = touchpoint_metrics(baseline, persona=persona, rules=rules, persona_column=persona_column)
        earlier = {(r["metric"], r["name"]): r["value"] for r in bm.to_dict("records") if not pd.isna(r["value"])}

    def from_baseline(metric, name, target, source):
        explicit = str(source).startswith("study.yml")
        if baseline is None or explicit or (metric, name) not in earlier:
            return target, source
        v = float(earlier[(metric, name)])
        return v, f"earlier period ({baseline.name}): {100 * v:.0f}%"
    ev_tp = _event_touchpoint(study)
    rows = []
    events = study.events
    source_note = ""
    if persona is not None and len(events):
        if persona_column in events.columns:
            events = events[events[persona_column] == persona]
        else:
            source_note = f"; all users (the event log has no '{persona_column}' column)"
    fun, desc = _funnel_frame(study, events, level)
    weeks = _weeks(events)
    if len(fun) > 1:
        conv = fun["conversion"].to_numpy(float)[1:]
        order = np.argsort(np.argsort(conv, kind="stable"), kind="stable") + 1
        median = float(np.nanmedian(conv))
        last_users = int(fun["users"].iloc[-1])
        for k in range(1, len(fun)):
            r = fun.iloc[k]
            step_raw = study.funnel_steps[k]
            evs = _step_events(step_raw)
            stage, tp = ev_tp.get(evs[0], (None, None))
            lo, hi = float(r["ci_low"]), float(r["ci_high"])
            lost = int(r["users_from"] - r["users"])
            to_end = last_users / r["users"] if r["users"] else math.nan
            rank = int(order[k - 1])
            target, target_source = from_baseline("step", r["step"], *_step_target(targets, step_raw))
            rows.append({
                "stage": stage, "touchpoint": tp, "metric": "step", "name": r["step"],
                "label": f"{fun['step'].iloc[k - 1]} → {r['step']}", "step_from": fun["step"].iloc[k - 1],
                "users_from": int(r["users_from"]), "users": int(r["users"]), "value": float(r["conversion"]),
                "ci_low": lo, "ci_high": hi, "lost": lost, "lost_per_week": lost / weeks if weeks else math.nan,
                "rank": rank, "n_steps": len(fun) - 1, "median": median, "to_end": to_end,
                "to_end_n": int(r["users"]), "n": int(r["users_from"]),
                "target": target, "target_source": target_source,
                "signal": _target_signal(r["conversion"], lo, hi, r["users_from"], target, rules.min_metric_n),
                "source": f"events: {desc}; conversion from the previous step, Wilson {level:.0%} CI; "
                          f"{weeks:.1f} weeks of events{source_note}",
            })
    survey = study.survey
    if persona is not None and persona_column in survey.columns:
        survey = survey[survey[persona_column] == persona]
    low, high = study.csat_scale or (1, 5)
    tp_stage = dict(zip(study.touchpoints["touchpoint"], study.touchpoints["stage"]))
    cols_present = {c: t for c, t in (study.csat_columns or {}).items() if c in survey.columns}
    if cols_present and len(survey):
        cs = csat(survey, columns=cols_present, scale=(low, high), top_box=2, alpha=1 - level)
        who = f", persona {persona}" if persona is not None else ""
        for r in cs.to_dict("records"):
            tp, n = r["touchpoint"], int(r["n"])
            share = r["top_box_share"] if n else math.nan
            lo, hi = (r["top_box_ci_low"], r["top_box_ci_high"]) if n else (math.nan, math.nan)
            target, target_source = from_baseline("csat", r["column"], *_csat_target(targets, tp, r["column"], rules))
            rows.append({
                "stage": tp_stage.get(tp), "touchpoint": tp, "metric": "csat", "name": r["column"],
                "label": f"CSAT {tp}", "n": n, "value": share, "ci_low": lo, "ci_high": hi,
                "mean": r["mean"], "mean_ci_low": r["mean_ci_low"], "mean_ci_high": r["mean_ci_high"],
                "target": target, "target_source": target_source,
                "signal": _target_signal(share, lo, hi, n, target, rules.min_metric_n),
                "source": f"journeylab.csat: survey column {r['column']} ({low}–{high} scale), {n} answers{who}, "
                          f"{int(r['n_blank'])} blanks excluded; top-2 box ({r['top_box']}) share with Wilson "
                          f"{level:.0%} CI, mean with t interval",
            })
    cols = ["stage", "touchpoint", "metric", "name", "label", "step_from", "users_from", "users", "n", "value",
            "ci_low", "ci_high", "lost", "lost_per_week", "rank", "n_steps", "median", "to_end", "to_end_n",
            "mean", "mean_ci_low", "mean_ci_high", "target", "target_source", "signal", "source"]
    return pd.DataFrame(rows, columns=cols)


def _comment_segments(survey: pd.DataFrame, comment: str = "comment") -> pd.DataFrame:
    if comment not in survey.columns or len(survey) == 0:
        return pd.DataFrame(columns=["segment_id", "participant_id", "speaker_role", "text"])
    text = survey[comment].astype("string").fillna("")
    ok = text.str.strip() != ""
    return pd.DataFrame({"segment_id": survey.loc[ok, "respondent_id"].astype(str).to_numpy(),
                         "participant_id": survey.loc[ok, "respondent_id"].astype(str).to_numpy(),
                         "speaker_role": "participant", "text": text[ok].astype(str).to_numpy()})


def theme_nps(survey: pd.DataFrame, *, comment_codings: pd.DataFrame, nps: str = "nps", comment: str = "comment",
              level: float = 0.95, rules: GradingRules | None = None) -> pd.DataFrame:
    """NPS of respondents whose comment raises each theme, against the other commenters.

    Parameters
    ----------
    survey : DataFrame
        ``respondent_id``, the ``nps`` column (0–10) and the ``comment`` column.
    comment_codings : DataFrame
        Codings of the comments: ``segment_id`` is the ``respondent_id`` (as made by
        :func:`evidence_table`, which auto-codes the comments with the codebook), ``code``.
    nps, comment : str, default "nps", "comment"
        The survey's NPS and comment columns.
    level : float, default 0.95
        Confidence level.
    rules : GradingRules, optional
        Thresholds for ``nps_signal`` (default :class:`GradingRules`).

    Returns
    -------
    DataFrame
        One row per code: ``code``, ``nps_theme`` (NPS of respondents whose comment carries the
        code), ``nps_others`` (NPS of the other respondents who left a comment), ``nps_n_theme``,
        ``nps_n_others``, ``nps_gap`` (theme minus others, NPS points), ``nps_gap_ci_low``,
        ``nps_gap_ci_high``, ``nps_signal`` (see :class:`GradingRules`).

    Notes
    -----
    NPS = %promoters (9–10) − %detractors (0–6). Its variance is that of a difference of two
    shares of one trinomial sample, (p₊ + p₋ − (p₊ − p₋)²)/n. Each group's NPS is adjusted as in
    :func:`journeylab.nps` (adjusted-Wald, Rocks 2016: 3/4 added to promoters and to detractors, 3
    to n); the two groups are independent, so the gap's interval is the difference of the adjusted
    NPS ± z·√(se₁² + se₂²), within [−200, 200]. A gap whose smaller group has fewer than
    ``rules.min_nps_n`` commenters (default 10) has no interval (NaN): the map and the report show
    the counts, and the signal is inconclusive. The comparison group is
    the other *commenters*: people who write comments are not a random part of the respondents
    (detractors write more), so comparing with everyone would blame the theme for that.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> survey = pd.DataFrame({"respondent_id": ["R1", "R2", "R3", "R4"], "nps": [2, 3, 9, 10],
    ...                        "comment": ["form!", "form...", "great", "lovely"]})
    >>> codes = pd.DataFrame({"segment_id": ["R1", "R2"], "code": ["form", "form"]})
    >>> jl.theme_nps(survey, comment_codings=codes)[["code", "nps_theme", "nps_others", "nps_gap"]]
       code  nps_theme  nps_others  nps_gap
    0  form     -100.0       100.0   -200.0
    """
    check_frame(survey, arg="survey", func="theme_nps", required=["respondent_id", nps, comment], allow_empty=True)
    check_frame(comment_codings, arg="comment_codings", func="theme_nps", required=["segment_id", "code"],
                allow_empty=True)
    rules = rules or GradingRules(level=level)
    z = _z(level)
    seg = _comment_segments(survey, comment)
    ids = survey["respondent_id"].astype(str)
    commenters = survey[ids.isin(set(seg["segment_id"])).to_numpy()]
    commenters = commenters[pd.to_numeric(commenters[nps], errors="coerce").notna().to_numpy()]
    cid = commenters["respondent_id"].astype(str).to_numpy()
    cod = _positive_codings(comment_codings)
    rows = []
    for code, sids in cod.groupby("code", sort=True)["segment_id"]:
        members = set(sids)  # a hash lookup per commenter (np.isin sorts object arrays: slow at 100k comments)
        theme = np.fromiter((c in members for c in cid), dtype=bool, count=len(cid))
        if not theme.any():
            continue
        grp = commenters[[nps]].assign(_theme=np.where(theme, "theme", "others"))
        res = _nps(grp, score=nps, by="_theme", alpha=1 - level, id=None).set_index("_theme")
        a_ = res.loc["theme"] if "theme" in res.index else None
        b_ = res.loc["others"] if "others" in res.index else None
        na, nb = (int(a_["n"]) if a_ is not None else 0), (int(b_["n"]) if b_ is not None else 0)
        va = a_["nps"] if a_ is not None else math.nan
        vb = b_["nps"] if b_ is not None else math.nan
        gap = va - vb
        if min(na, nb) >= rules.min_nps_n:  # below the minimum n a group shows its count, not an interval
            # adjusted-Wald for each group (Rocks 2016), the two groups independent
            centre = a_["nps_adjusted"] - b_["nps_adjusted"]
            half = z * math.sqrt(a_["se"] ** 2 + b_["se"] ** 2)
            lo, hi = max(centre - half, -200.0), min(centre + half, 200.0)
        else:
            lo = hi = math.nan
        rows.append({"code": code, "nps_theme": va, "nps_others": vb, "nps_n_theme": na, "nps_n_others": nb,
                     "nps_gap": gap, "nps_gap_ci_low": lo, "nps_gap_ci_high": hi,
                     "nps_signal": _nps_signal(gap, lo, hi, na, rules) if na and nb else pd.NA})
    return pd.DataFrame(rows, columns=["code", "nps_theme", "nps_others", "nps_n_theme", "nps_n_others", "nps_gap",
                                       "nps_gap_ci_low", "nps_gap_ci_high", "nps_signal"])


def theme_csat(survey: pd.DataFrame, *, comment_codings: pd.DataFrame, column: str, scale=(1, 5),
               comment: str = "comment", level: float = 0.95) -> pd.DataFrame:
    """Satisfaction (top-2 box) of respondents whose comment raises a theme vs the other commenters.

    Parameters
    ----------
    survey : DataFrame
        ``respondent_id``, the CSAT ``column`` and the ``comment`` column.
    comment_codings : DataFrame
        Codings of the comments (``segment_id`` = ``respondent_id``, ``code``), as for
        :func:`theme_nps`.
    column : str
        The CSAT column (a touchpoint's rating).
    scale : (low, high), default (1, 5)
        The rating scale; the top-2 box is the two highest points.
    comment : str, default "comment"
    level : float, default 0.95

    Returns
    -------
    DataFrame
        One row per code raised by at least one commenter who answered ``column``: ``code``,
        ``csat_theme`` (top-2 share of those raising it), ``csat_others`` (of the other commenters
        who answered), ``csat_n_theme``, ``csat_n_others``, ``csat_gap`` (theme minus others, a
        difference of shares), ``csat_gap_ci_low``, ``csat_gap_ci_high``.

    Notes
    -----
    The gap's interval is Newcombe's (1998, method 10) hybrid score interval for a difference of
    two independent proportions, built from the two Wilson intervals; it equals
    ``statsmodels.stats.proportion.confint_proportions_2indep(..., method="newcomb")`` (checked in
    ``tests/test_priorities_sizing.py``). As with :func:`theme_nps`, the comparison is with the
    other commenters, not every respondent.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> survey = pd.DataFrame({"respondent_id": ["R1", "R2", "R3", "R4"], "csat_form": [1, 2, 5, 4],
    ...                        "comment": ["form!", "form...", "great", "lovely"]})
    >>> codes = pd.DataFrame({"segment_id": ["R1", "R2"], "code": ["form", "form"]})
    >>> jl.theme_csat(survey, comment_codings=codes, column="csat_form")[["code", "csat_theme", "csat_others"]]
       code  csat_theme  csat_others
    0  form         0.0          1.0
    """
    cols = ["code", "csat_theme", "csat_others", "csat_n_theme", "csat_n_others", "csat_gap", "csat_gap_ci_low",
            "csat_gap_ci_high"]
    check_frame(survey, arg="survey", func="theme_csat", required=["respondent_id", column, comment],
                allow_empty=True)
    check_frame(comment_codings, arg="comment_codings", func="theme_csat", required=["segment_id", "code"],
                allow_empty=True)
    seg = _comment_segments(survey, comment)
    ids = survey["respondent_id"].astype(str)
    commenters = survey[ids.isin(set(seg["segment_id"])).to_numpy()]
    vals = pd.to_numeric(commenters[column], errors="coerce")
    commenters, vals = commenters[vals.notna().to_numpy()], vals[vals.notna()].to_numpy(float)
    top = vals >= float(scale[1]) - 1
    cid = commenters["respondent_id"].astype(str).to_numpy()
    rows = []
    for code, sids in _positive_codings(comment_codings).groupby("code", sort=True)["segment_id"]:
        members = set(sids)
        theme = np.fromiter((c in members for c in cid), dtype=bool, count=len(cid))
        na, nb = int(theme.sum()), int((~theme).sum())
        if not na:
            continue
        xa, xb = int(top[theme].sum()), int(top[~theme].sum())
        pa = xa / na
        pb = xb / nb if nb else math.nan
        lo = hi = math.nan
        if nb:
            (la, lb), (ua, ub) = wilson_interval([xa, xb], [na, nb], level)
            d = pa - pb
            lo = d - math.sqrt((pa - la) ** 2 + (ub - pb) ** 2)
            hi = d + math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)
        rows.append({"code": code, "csat_theme": pa, "csat_others": pb, "csat_n_theme": na, "csat_n_others": nb,
                     "csat_gap": pa - pb, "csat_gap_ci_low": lo, "csat_gap_ci_high": hi})
    return pd.DataFrame(rows, columns=cols)


# ----------------------------------------------------------------------------- grading


def _fmt_pct(x) -> str:
    return "–" if x is None or pd.isna(x) else f"{100 * x:.0f}%"


def _fmt_ci(lo, hi, pct=True) -> str:
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return ""
    if pct:
        return f" (CI {100 * lo:.0f}–{100 * hi:.0f}%)"
    return f" (CI {lo:+.0f} to {hi:+.0f})"


def _fmt_rate(x, lo, hi) -> str:
    """'38%, CI 13–70%'."""
    ci = "" if lo is None or hi is None or pd.isna(lo) or pd.isna(hi) else f", CI {100 * lo:.0f}–{100 * hi:.0f}%"
    return _fmt_pct(x) + ci


def _metric_phrases(row) -> list[tuple[str, str]]:
    """(signal, phrase) of each linked metric of an evidence row."""
    out = []
    if not pd.isna(row.get("step_signal", pd.NA)):
        t = row.get("step_target")
        vs = "no target declared" if t is None or pd.isna(t) else f"target {_fmt_pct(t)}"
        out.append((row["step_signal"], f"funnel step {row['step_from']} → {row['step']} converts "
                    f"{_fmt_pct(row['step_conversion'])}{_fmt_ci(row['step_ci_low'], row['step_ci_high'])} "
                    f"of {int(row['step_users_from']) if not pd.isna(row.get('step_users_from')) else '?'} users, "
                    f"{vs}: {row['step_signal']}"))
    if not pd.isna(row.get("csat_signal", pd.NA)):
        t = row.get("csat_target")
        vs = "no target" if t is None or pd.isna(t) else f"target {_fmt_pct(t)}"
        out.append((row["csat_signal"], f"CSAT {row['touchpoint']} top-2 box {_fmt_pct(row['csat_top2'])}"
                    f"{_fmt_ci(row['csat_top2_ci_low'], row['csat_top2_ci_high'])}, n={int(row['csat_n'])}, "
                    f"{vs}: {row['csat_signal']}"))
    if not pd.isna(row.get("task_signal", pd.NA)):
        n, x = int(row["task_n"]), int(row["task_successes"])
        out.append((row["task_signal"], f"task {row['task']}: {x} of {n} participants succeeded unaided "
                    f"({_fmt_rate(row['task_success_rate'], row['task_ci_low'], row['task_ci_high'])}, adjusted "
                    f"Wald), {n - x} did not: {row['task_signal']}"))
    if not pd.isna(row.get("nps_signal", pd.NA)):
        out.append((row["nps_signal"], f"NPS of commenters raising it {row['nps_theme']:+.0f} vs "
                    f"{row['nps_others']:+.0f} (gap {row['nps_gap']:+.0f}"
                    f"{_fmt_ci(row['nps_gap_ci_low'], row['nps_gap_ci_high'], pct=False)}, "
                    f"n={int(row['nps_n_theme'])}): {row['nps_signal']}"))
    return out


def _grade_row(row, rules: GradingRules) -> tuple[bool, bool, Any, str]:
    kind = row["kind"]
    if kind not in CLAIM_KINDS:
        return (pd.NA, pd.NA, pd.NA, "context row (not a claim): not graded")
    n = 0 if pd.isna(row["n_participants"]) else int(row["n_participants"])
    total = row.get("n_participants_total")
    share = row.get("share_participants")
    # provenance: participants resting on human codings, and on rule/model codings alone; the latter
    # count at the rules' measured precision (all of them when it was not measured)
    n_h = row.get("n_participants_human")
    n_h = n if n_h is None or pd.isna(n_h) else int(n_h)
    n_r = max(n - n_h, 0)
    prec = row.get("rule_precision")
    prec = math.nan if prec is None or pd.isna(prec) else float(prec)
    n_eff = n_h + (n_r if math.isnan(prec) else prec * n_r)

    def bar(k):
        share_k = k / total if (not pd.isna(total) and total) else (share if k == n else math.nan)
        return bool(k >= rules.min_participants
                    or (not pd.isna(share_k) and share_k >= rules.min_share
                        and k >= max(1, rules.min_share_participants)))

    qual = bar(n_eff)
    qual_human = bar(n_h)
    if not pd.isna(total) and total:
        ci = ""
        if not pd.isna(row.get("share_ci_low")) and not pd.isna(row.get("share_ci_high")):
            ci = f", CI {100 * row['share_ci_low']:.0f}–{100 * row['share_ci_high']:.0f}%"
        q_text = f"{n} of {int(total)} participants ({_fmt_pct(share)}{ci})"
    else:
        q_text = f"{n} participants"
    if n_r:
        if math.isnan(prec):
            q_text += (f"; {n_h} from human codings, {n_r} from rule codings alone (the rules of this code have no "
                       "measured precision: no person coded a transcript they fired in)")
        else:
            q_text += (f"; {n_h} from human codings, {n_r} from rule codings alone, counted at the rules' "
                       f"measured precision {prec:.2f}"
                       f"{_fmt_ci(row.get('rule_precision_ci_low'), row.get('rule_precision_ci_high'))}"
                       f" → {n_eff:.1f} participants")
    need = (f"≥ {rules.min_participants} participants, or ≥ {rules.min_share:.0%} of them and ≥ "
            f"{rules.min_share_participants}")
    q_sentence = (f"Interviews: {q_text} — {'meets' if qual else 'below'} the qualitative bar ({need}).")
    phrases = _metric_phrases(row)
    if kind in ("need", "behaviour"):
        grade = "qualitative_only" if qual else "weak"
        return (qual, pd.NA, grade, q_sentence + f" A {kind.replace('_', ' ')} is not tested against metrics.")
    good = {"pain_point": ("problem",), "delight": ("healthy", "strength")}[kind]
    bad = {"pain_point": ("healthy", "strength"), "delight": ("problem",)}[kind]
    if kind == "delight":  # an NPS gap that is merely "not worse" does not back a delight
        signals = [(("neutral" if (s == "healthy" and p.startswith("NPS")) else s), p) for s, p in phrases]
    else:
        signals = phrases
    pro = [p for s, p in signals if s in good]
    con = [p for s, p in signals if s in bad]
    support = bool(pro)
    no_bench = [p for s, p in signals if s == NO_BENCHMARK]
    verdicts = [s for s, _ in signals if s in good or s in bad]
    m_text = "; ".join(p for _, p in phrases) if phrases else "no linked metric"
    what = "problem" if kind == "pain_point" else "strength"
    if qual and pro and con:
        grade = "mixed"
        why = (f"the sources disagree in part — {len(pro)} linked metric(s) show the {what} "
               f"({'; '.join(pro)}) and {len(con)} rule it out ({'; '.join(con)})")
    elif qual and support and not qual_human:
        grade, why = "quantitative_only", (f"a linked metric shows the {what}; the interview support rests on rule "
                                           "codings, which cannot make a claim strong by themselves (code more "
                                           "transcripts by hand)")
    elif qual and support:
        grade, why = "strong", f"interviews and numbers agree (a linked metric shows the {what}, none rules it out)"
    elif qual and con and ((rules.contradiction == "any")
                           or (rules.contradiction == "all" and len(con) == len(phrases))):
        grade, why = "contradicted", (f"interviews say it, but no linked metric shows the {what} and "
                                      f"{'one' if rules.contradiction == 'any' else 'every one'} rules it out")
    elif qual:
        grade = "qualitative_only"
        if not phrases:
            why = "graded on the interviews: no linked metric"
        elif no_bench and not verdicts:
            why = ("graded on the interviews: the linked metric(s) have no benchmark to compare with "
                   "(declare targets in study.yml)")
        else:
            why = f"graded on the interviews: no linked metric shows the {what}, none rules it out"
    elif support and con:
        grade, why = "weak", (f"too few participants raised it, and the linked metrics disagree: {'; '.join(pro)} "
                              f"against {'; '.join(con)}")
    elif support:
        grade, why = "quantitative_only", f"a linked metric shows the {what}; too few participants raised it"
    else:
        grade, why = "weak", "neither enough participants nor a linked metric"
    return (qual, bool(support), grade, f"{grade}: {why}. {q_sentence} Metrics: {m_text}.")


def grade_claims(evidence: pd.DataFrame, *, rules: GradingRules | None = None) -> pd.DataFrame:
    """(Re)grade the claims of an evidence table under ``rules``.

    Parameters
    ----------
    evidence : DataFrame
        An evidence table (:func:`evidence_table`), or any frame with ``kind``,
        ``n_participants`` (and ``n_participants_total``, ``share_participants``) and the metric
        columns that are available (``step_*``, ``csat_*``, ``nps_*``; missing ones count as "no
        linked metric").
    rules : GradingRules, optional
        Thresholds (default :class:`GradingRules`).

    Returns
    -------
    DataFrame
        A copy of ``evidence`` with ``step_signal``, ``csat_signal``, ``nps_signal`` recomputed
        from the values under ``rules``, and ``qual_support``, ``quant_support``, ``grade`` and
        ``grade_reason`` (a sentence giving the grade, why, and the numbers behind it).

    Notes
    -----
    **Qualitative support**: at least ``min_participants`` participants raised the theme, or at
    least ``min_share`` of them did and they are at least ``min_share_participants``.

    **Linked metrics** and their signal (``problem``, ``healthy``, ``inconclusive`` or
    ``no benchmark``), each against a benchmark and only when the CI excludes it:

    - the funnel step at the claim's touchpoint — against ``step_target`` (study.yml
      ``targets: steps:``; no default): *problem* when the conversion's CI lies below the target,
      *healthy* when at or above it, *no benchmark* without a target. A step's rank among the
      study's steps decides nothing (every funnel has a lowest step);
    - the touchpoint's CSAT — against ``csat_target`` (study.yml ``targets: csat:``, else
      ``GradingRules.csat_top2_min``): the same rule on the top-2-box share;
    - the NPS gap of commenters raising the theme — against 0: *problem* when its CI lies below 0,
      *strength* when above 0, *healthy* when it lies above ``-nps_gap_margin``.
    - the usability task at the claim's stage (``study.tasks`` mapped to stages; the stage's
      least successful task) — *problem* when at least ``task_failure_share`` of the participants
      who attempted it did not succeed unaided (never *healthy*: people struggle and still succeed).

    Metrics with too few observations (``min_metric_n``, ``min_nps_n``) are inconclusive.

    **Grades** of a pain point (a delight mirrors it: *healthy* step/CSAT or an NPS *strength*
    back it, a *problem* goes against it):

    ==================== ==========================================================================
    ``strong``            qualitative support, a linked metric shows the problem, none rules it out
    ``mixed``             qualitative support, one linked metric shows the problem and another rules
                          it out (``grade_reason`` names both)
    ``contradicted``      qualitative support, no linked metric shows the problem, and at least one
                          (``contradiction="any"``) or every (``"all"``) linked metric rules it out
    ``qualitative_only``  qualitative support, metrics missing, inconclusive or without a benchmark
                          (``grade_reason`` says the claim was graded on the interviews)
    ``quantitative_only`` a linked metric shows the problem, too few participants raised it
    ``weak``              neither
    ==================== ==========================================================================

    :meth:`GradingRules.describe` gives the same rules as sentences with their numbers.

    Needs and behaviours are never tested against metrics: ``qualitative_only`` or ``weak``.
    Context rows (``kind`` ``emotion`` or ``metric``) get no grade.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> ev = pd.DataFrame({"kind": ["pain_point"], "n_participants": [5], "n_participants_total": [12],
    ...                    "share_participants": [5 / 12], "touchpoint": ["delivery"],
    ...                    "csat_top2": [0.87], "csat_top2_ci_low": [0.85], "csat_top2_ci_high": [0.89],
    ...                    "csat_n": [1400]})
    >>> jl.grade_claims(ev)["grade"].tolist()
    ['contradicted']
    """
    check_frame(evidence, arg="evidence", func="grade_claims", required=["kind", "n_participants"], allow_empty=True)
    rules = rules or GradingRules()
    ev = evidence.copy()
    for col in EVIDENCE_COLUMNS:
        if col not in ev.columns:
            ev[col] = pd.NA
    ev["step_signal"] = [
        _target_signal(c, lo, hi, (0 if pd.isna(nf) else nf), tg, rules.min_metric_n)
        for c, lo, hi, tg, nf in zip(ev["step_conversion"], ev["step_ci_low"], ev["step_ci_high"],
                                     ev["step_target"], ev["step_users_from"])]
    # a CSAT row whose target is not one the study declared (the rules' default, an older table, or one
    # made by hand) takes the default of *these* rules, so re-grading under other rules moves it
    default_csat = math.nan if rules.csat_top2_min is None else float(rules.csat_top2_min)
    declared = [not pd.isna(src) and str(src).startswith(("study.yml", "earlier period"))
                for src in ev["csat_target_source"]]
    csat_target = [tg if dec else default_csat for tg, dec in zip(ev["csat_target"], declared)]
    ev["csat_target"] = csat_target
    ev["csat_target_source"] = [src if dec else ("default (GradingRules.csat_top2_min; no target declared)"
                                                 if rules.csat_top2_min is not None else "no target declared")
                                for src, dec in zip(ev["csat_target_source"], declared)]
    ev["csat_signal"] = [_target_signal(t, lo, hi, (0 if pd.isna(n) else n), tg, rules.min_metric_n)
                         for t, lo, hi, n, tg in zip(ev["csat_top2"], ev["csat_top2_ci_low"], ev["csat_top2_ci_high"],
                                                     ev["csat_n"], csat_target)]
    ev["nps_signal"] = [_nps_signal(g, lo, hi, (0 if pd.isna(n) else n), rules) if not pd.isna(g) else pd.NA
                        for g, lo, hi, n in zip(ev["nps_gap"], ev["nps_gap_ci_low"], ev["nps_gap_ci_high"],
                                                ev["nps_n_theme"])]
    ev["task_signal"] = [_task_signal(r, (0 if pd.isna(n) else n), rules) if not pd.isna(r) else pd.NA
                         for r, n in zip(ev["task_success_rate"], ev["task_n"])]
    graded = [_grade_row(r, rules) for r in ev.to_dict("records")]
    ev["qual_support"] = pd.array([g[0] for g in graded], dtype="boolean")
    ev["quant_support"] = pd.array([g[1] for g in graded], dtype="boolean")
    ev["grade"] = pd.array([g[2] for g in graded], dtype="string")
    ev["grade_reason"] = [g[3] for g in graded]
    extra = [c for c in evidence.columns if c not in EVIDENCE_COLUMNS]
    return ev[EVIDENCE_COLUMNS + extra]


# ----------------------------------------------------------------------------- the evidence table


def _slug(text) -> str:
    return re.sub(r"[^0-9A-Za-z_.:-]+", "_", str(text)).strip("_")


def _claim_id(stage, touchpoint, what, persona) -> str:
    base = f"{_slug(stage)}/{_slug(touchpoint) if touchpoint else '-'}/{what}"
    return base if persona in (None, "all") else f"{base}@{_slug(persona)}"


def _personas_arg(persona, study) -> list:
    if persona is None:
        return [None]
    if isinstance(persona, str):
        if persona == "each":
            return list(study.personas or [])
        return [persona]
    return list(persona)


@shared_docs
def evidence_table(
    study,
    *,
    codings: pd.DataFrame,
    sentiment: pd.DataFrame | None = None,
    survey_codings: pd.DataFrame | None = None,
    persona=None,
    min_participants: int | None = None,
    thresholds: GradingRules | dict | None = None,
    n_quotes: int = 3,
    n_boot: int = 2000,
    random_state: int = 0,
    step_links: dict | None = None,
    prefer_human: bool = True,
    persona_column: str = "persona",
    baseline=None,
) -> pd.DataFrame:
    """One row per claim a journey map makes, with its evidence and a triangulation grade.

    Parameters
    ----------
    study : Study
        From :func:`journeylab.load_study` (its codebook gives each code's kind, stage and
        touchpoint; study.yml the funnel and the CSAT columns). A study without codebook.yml has
        no code claims; its funnel and CSAT rows and metric-only pain points remain.
    codings : DataFrame
        Codings of the interviews (``segment_id``, ``code``): a coder's, :func:`journeylab.autocode`'s,
        :func:`journeylab.merge_codings`' or several stacked. A segment carries a code when any
        coder (or rule) applied it.
    sentiment : DataFrame, optional
        :func:`journeylab.sentiment` of ``study.segments`` (``segment_id``, ``compound``).
        Default: computed with ``split="sentence"`` (long turns scored sentence by sentence).
    survey_codings : DataFrame, optional
        Codings of the survey comments, ``segment_id`` = ``respondent_id``. Default: the comments
        auto-coded with the study's codebook (:func:`journeylab.autocode`).
    persona : str, list of str or "each", optional
        ``None``: every participant (``persona`` column ``"all"``); a persona name: only that
        persona's participants and survey answers; a list (or ``"each"``: every persona of
        study.yml): one block of rows per persona A persona study.yml lists but no participant has gives a
        block without interview claims.
    min_participants : int, optional
        Shortcut for ``thresholds.min_participants``.
    thresholds : GradingRules or dict, optional
        Grading thresholds (see :class:`GradingRules` and :func:`grade_claims`).
    n_quotes : int, default 3
        Exemplar quotes per claim (:func:`journeylab.exemplar_quotes`, at most one per participant).
    n_boot : int, default 2000
        Bootstrap replicates of the sentiment intervals (the default of :func:`journeylab.code_sentiment`
        and :func:`journeylab.emotion_curve`: with the same seed their intervals are the same numbers).
    {random_state}
        Here the seed of the bootstraps.
    step_links : dict, optional
        Touchpoint → funnel step (its event name) to link to that touchpoint's claims, overriding
        the default (the last funnel step whose event belongs to the touchpoint).
    prefer_human : bool, default True
        In transcripts a person coded (``origin`` manual), ignore rule or model codings that no
        person applied there: the person read those turns and left the code off. Elsewhere rule
        codings count as they are.
    persona_column : str, default "persona"
        Column of ``study.participants`` and ``study.survey`` naming the persona.
    baseline : Study, optional
        An earlier period (``jl.study_between(study, end=...)``): its funnel step conversions and
        CSAT shares become the benchmarks of the metrics study.yml gives no explicit target
        (``step_target_source`` / ``csat_target_source`` say so). Pass the later period as
        ``study``.

    Returns
    -------
    DataFrame
        One row per claim, in stage and touchpoint order. Identity: ``claim_id`` (stable:
        ``stage/touchpoint/code[@persona]``), ``stage``, ``stage_order``, ``touchpoint``, ``persona``,
        ``kind`` (``pain_point``, ``delight``, ``need``, ``behaviour``; plus context rows
        ``emotion`` — the stage's mean sentiment — and ``metric`` — a touchpoint metric), ``code``,
        ``metric`` (context and metric-only rows: which metric), ``claim`` (the code's definition).

        Qualitative support: ``n_participants``, ``n_participants_total``,
        ``share_participants`` with ``share_ci_low``/``share_ci_high`` (Wilson);
        provenance — ``n_participants_human`` (participants with a human coding of the code),
        ``n_participants_rule_only`` (participants whose only support is rule or model codings),
        ``rule_precision`` with ``rule_precision_ci_low``/``_high`` (Wilson: of the turns the
        rules gave the code in transcripts a person coded, the share the person also coded; NaN
        when not measurable); ``n_segments``,
        ``quote_ids`` (``"; "``-joined segment ids of exemplar quotes; each traces to participant,
        transcript and character offsets through ``study.segments``), ``sentiment_mean`` with
        ``sentiment_ci_low``/``sentiment_ci_high`` (participant bootstrap).

        Linked metrics (see :func:`touchpoint_metrics`, :func:`theme_nps`): the funnel step at the
        touchpoint (the last one if several: the step that completes the touchpoint) — ``step``, ``step_from``,
        ``step_users_from``, ``step_users``, ``step_conversion``, ``step_ci_low``, ``step_ci_high``,
        ``step_lost``, ``step_lost_per_week``, ``step_rank``, ``funnel_n_steps``,
        ``funnel_median``, ``step_to_end``, ``step_to_end_n``, ``step_signal``, ``step_source``;
        CSAT — ``csat_column``, ``csat_n``, ``csat_mean`` (+ ``_ci_low``/``_ci_high``),
        ``csat_top2`` (+ CI), ``csat_signal``, ``csat_source``; NPS of commenters raising the theme
        — ``nps_theme``, ``nps_others``, ``nps_n_theme``, ``nps_n_others``, ``nps_gap`` (+ CI),
        ``nps_signal``, ``nps_source``; the usability task at the stage (``study.tasks`` mapped to
        stages; the stage's least successful task, or its touchpoint's) — ``task``, ``task_n``,
        ``task_successes``, ``task_success_rate`` with ``task_ci_low``/``task_ci_high``
        (adjusted Wald, success unaided), ``task_time_geomean_s`` with
        ``task_time_ci_low_s``/``task_time_ci_high_s``, ``task_signal``, ``task_source``.

        Grade: ``qual_support``, ``quant_support``, ``grade`` (one of ``strong``,
        ``qualitative_only``, ``quantitative_only``, ``contradicted``, ``weak``; NA for context
        rows) and ``grade_reason``.

        ``.attrs["journeylab"]`` records how the table was made (codings, sentiment settings,
        funnel, rules), which :meth:`journeylab.JourneyMap.build` copies into the map's methods.

    Notes
    -----
    The share's denominator is the persona's participants whose interviews were coded (a transcript
    that nobody coded is not a "no"). Participants resting on rule codings alone count towards the
    qualitative bar at the rules' measured precision for that code (:func:`rule_precision`), and
    cannot make a claim "strong" by themselves: a claim whose human-coded participants alone do
    not meet the bar is at best ``quantitative_only``, and ``grade_reason`` says why. Exemplar
    quotes come first from turns a person coded
    (``origin`` manual), then from rule-only turns: keyword rules over-match, and a quote on the
    map should be one a person would stand behind.

    A funnel step belongs to the touchpoint of its event (study.yml ``events:``); when a
    touchpoint holds several steps (the sample's cart holds *add to cart* and *checkout start*),
    its claims are linked to the last one, the step that completes the touchpoint ("of those who
    filled a cart, how many went on to check out"); ``step_links`` overrides this.

    Claims come from codes whose kind is a pain point, delight, need or behaviour, and that at
    least one participant raised (grouping codes are used only when applied directly). A funnel
    step or CSAT that signals a problem at a touchpoint where no pain point has qualitative
    support becomes a *metric-only* pain point (``code`` NA, ``metric`` set), graded
    ``quantitative_only``: the numbers show a problem the interviews did not explain.
    The grading rules are those of :func:`grade_claims`.

    **Stages that follow the session.** When ``study.segment_stages`` is set (study.yml
    ``transcripts: stage_marker:`` or ``segment_stages.csv``), a coding takes the stage of the turn
    it is on (:func:`journeylab.coding_stages`): a code spoken at several stages is one claim per
    stage, each share counted among the participants who reached that stage
    (:func:`journeylab.stage_reach`); codings on turns without a session stage keep their code's.
    Each usability task is a context row (``metric`` ``task:<task>``), and a task failed by at
    least ``task_failure_share`` of its participants at a stage where no pain point has
    qualitative support is a metric-only pain point. A questionnaire linked to a stage (study.yml
    ``questionnaire: stage:``) is a context row there (``metric`` ``questionnaire:<scale>``).

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> codings = pd.concat([study.codings, jl.autocode(study.segments, codebook=study.codebook)])
    >>> ev = jl.evidence_table(study, codings=codings)
    >>> ev.set_index("code").loc[["shipping_form_tedious", "slow_delivery"], "grade"].tolist()
    ['strong', 'weak']
    """
    func = "evidence_table"
    check_study(study, func=func)
    check_frame(codings, arg="codings", func=func, required=["segment_id", "code"], allow_empty=True)
    if sentiment is not None:
        check_frame(sentiment, arg="sentiment", func=func, required=["segment_id", "compound"], allow_empty=True)
    if survey_codings is not None:
        check_frame(survey_codings, arg="survey_codings", func=func, required=["segment_id", "code"], allow_empty=True)
    if study.codebook is None:
        # codebook.yml is optional: without codes there are no interview claims, but the funnel, the
        # CSAT scores and the sentiment by stage still give metric-only pain points and the emotion rows
        if len(codings):
            raise JourneylabError(f"{func}(): `codings` holds codes but the study has no codebook (codebook.yml) "
                                  "to give their kinds, stages and touchpoints.")
        study = dataclasses.replace(study, codebook=Codebook([], name="no codebook"))
    if isinstance(thresholds, dict):
        rules = GradingRules.from_dict(thresholds)
    elif thresholds is None:
        rules = GradingRules()
    elif isinstance(thresholds, GradingRules):
        rules = thresholds
    else:
        raise JourneylabError(f"{func}(): `thresholds` must be a GradingRules or a dict; got "
                              f"{type(thresholds).__name__}.")
    if min_participants is not None:
        rules = dataclasses.replace(rules, min_participants=min_participants)
    links = dict(step_links or {})
    known_steps = {_step_name(x) for x in (study.funnel_steps or [])}
    for tp, st in links.items():
        if st not in known_steps:
            raise JourneylabError(f"{func}(): step_links[{tp!r}] = {st!r} is not a funnel step; steps: "
                                  f"{', '.join(sorted(known_steps))}.")
    cb = study.codebook
    unknown = sorted(set(codings["code"].dropna().astype(str)) - set(cb.names))
    if unknown:
        raise JourneylabError(f"{func}(): code(s) {', '.join(map(repr, unknown[:5]))} in `codings` are not in the "
                              "study's codebook.")
    segments = study.segments
    pairs = _positive_codings(codings, with_human=True)
    pairs = pairs[pairs["segment_id"].isin(set(segments["segment_id"].astype(str)))]
    kept = participant_codings(pairs, segments=segments, what="the evidence table")
    pairs = kept.codings
    doc_of = segments.assign(segment_id=segments["segment_id"].astype(str)).drop_duplicates("segment_id") \
        .set_index("segment_id")["doc_id"]
    n_overruled = 0
    precision = rule_precision(_with_rule_hits(pairs, segments, doc_of, cb), doc_of, rules.level).set_index("code")
    if prefer_human:  # where a person coded a transcript, rule/model codings they did not confirm are dropped
        human_docs = set(pairs.loc[pairs["human"], "segment_id"].map(doc_of))
        drop = ~pairs["human"] & pairs["segment_id"].map(doc_of).isin(human_docs)
        n_overruled = int(drop.sum())
        pairs = pairs[~drop]
    coded_docs = set(segments.loc[segments["segment_id"].astype(str).isin(set(pairs["segment_id"])), "doc_id"])
    chosen_record = (codings.attrs.get("journeylab") or {}).get(ANALYSIS_KEY)
    chosen_base = {str(x) for x in chosen_record["participants"]} if chosen_record else None
    if sentiment is None:  # the run's scores (notebook 04's): sentences, with the study's lexicon
        sentiment = study_sentiment(study)
        sent_settings = {"engine": DEFAULT_ENGINE, "split": "sentence", "lexicon": sentiment.attrs.get("lexicon", 0),
                         "computed_by": "evidence_table (journeylab.study_sentiment)"}
    else:
        check_frame(sentiment, arg="sentiment", func=func, required=["segment_id", "compound"], allow_empty=True)
        sent_settings = {"computed_by": "caller", "engine": sentiment.attrs.get("engine", "unknown"),
                         "split": sentiment.attrs.get("split", "unknown")}
    survey = study.survey
    if survey_codings is None:
        cseg = _comment_segments(survey)
        survey_codings = (autocode(cseg, codebook=cb) if len(cseg) else
                          pd.DataFrame(columns=["segment_id", "code"]))
        survey_coding_how = f"comments auto-coded with the codebook's rules ({len(cseg)} comments)"
    else:
        check_frame(survey_codings, arg="survey_codings", func=func, required=["segment_id", "code"], allow_empty=True)
        survey_coding_how = "comment codings supplied by the caller"

    pid_of = segments.assign(segment_id=segments["segment_id"].astype(str)).drop_duplicates("segment_id") \
        .set_index("segment_id")["participant_id"]
    parts = study.participants
    blocks = []
    for p in _personas_arg(persona, study):
        if p is not None:
            has_column = persona_column in parts.columns
            known = sorted(parts[persona_column].dropna().unique()) if has_column else []
            # a persona study.yml lists is a persona of the study even when no participant has it
            # (yet): its block has no participants, so its claims have no qualitative support
            if p not in known and p not in (study.personas or []):
                if not has_column:
                    raise JourneylabError(f"{func}(): persona={p!r} but study.participants has no "
                                          f"'{persona_column}' column and study.yml lists no such persona.")
                raise JourneylabError(f"{func}(): persona {p!r} not found; personas: "
                                      f"{', '.join(dict.fromkeys([*(study.personas or []), *known]))}.")
            pids = set(parts.loc[parts[persona_column] == p, "participant_id"]) if has_column else set()
        else:
            pids = set(parts["participant_id"])
        # the denominator: participants whose interviews were coded (a transcript nobody coded is not a "no")
        coded_pids = set(segments.loc[segments["doc_id"].isin(coded_docs), "participant_id"].dropna())
        if chosen_base is not None:  # jl.analysis_codings says whose transcripts were read (rules read them all)
            coded_pids = {x for x in parts["participant_id"] if str(x) in chosen_base}
        pids = pids & coded_pids if coded_pids else pids
        blocks.append(_persona_block(study, pairs, pid_of, pids, sentiment, survey_codings, p, rules, n_quotes,
                                     n_boot, random_state, persona_column, links, precision, baseline))
    ev = pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=EVIDENCE_COLUMNS)
    ev = grade_claims(ev, rules=rules)
    chosen = (codings.attrs.get("journeylab") or {}).get(ANALYSIS_KEY)  # jl.analysis_codings' record, if any
    coders = sorted(codings["coder"].dropna().astype(str).unique()) if "coder" in codings else []
    origins = sorted(codings["origin"].dropna().astype(str).unique()) if "origin" in codings else []
    ev.attrs["journeylab"] = {
        "codings": {"coders": coders, "origins": origins, "n_codings": int(len(codings)),
                    "n_segments_coded": int(pairs["segment_id"].nunique()),
                    "prefer_human": bool(prefer_human), "n_rule_codings_overruled": n_overruled,
                    "n_interviewer_codings_left_out": kept.n_left_out,
                    "n_documents_coded": int(segments.loc[segments["segment_id"].astype(str).isin(
                        set(pairs["segment_id"])), "doc_id"].nunique()),
                    **({"analysis": {k: chosen[k] for k in ("preference", "declared", "documents", "coders",
                                                            "n_participants", "n_documents", "text")}}
                       if chosen else {})},
        "sentiment": sent_settings,
        "survey_coding": survey_coding_how,
        "rules": rules.to_dict(),
        "targets": {**study_targets(study), **({"baseline": str(baseline.name)} if baseline is not None else {})},
        "n_quotes": n_quotes, "n_boot": n_boot, "random_state": random_state,
        # the blocks computed, even those without rows (a persona nobody interviewed has no claims)
        "personas": ["all" if p is None else str(p) for p in _personas_arg(persona, study)],
    }
    return ev


def _persona_block(study, pairs, pid_of, pids, sentiment, survey_codings, persona, rules, n_quotes, n_boot,
                   random_state, persona_column, step_links, precision=None, baseline=None) -> pd.DataFrame:
    cb = study.codebook
    label = "all" if persona is None else persona
    segments = study.segments
    seg = segments[segments["participant_id"].isin(pids)]
    seg_ids = set(seg["segment_id"].astype(str))
    cod = pairs[pairs["segment_id"].isin(seg_ids)]
    cod = cod.assign(participant_id=cod["segment_id"].map(pid_of))
    n_total = len(pids)
    # stages that follow the session: a coding takes the stage of the turn it is on, so a code is
    # counted per stage (its key joins code and stage) among the participants who reached the stage
    ss = getattr(study, "segment_stages", None)
    staged = ss is not None and len(ss) > 0
    key_stage: dict = {}
    reached: dict = {}
    if staged:
        code_stage = code_stage_map(cb)
        stage = cod["segment_id"].map(dict(zip(ss["segment_id"].astype(str), ss["stage"])))
        stage = stage.where(stage.notna(), cod["code"].map(code_stage))
        cod = cod[stage.notna().to_numpy()].assign(code=(cod["code"] + _STAGE_KEY + stage.astype(str))
                                                   [stage.notna().to_numpy()])
        key_stage = {k: k.split(_STAGE_KEY, 1)[1] for k in cod["code"].unique()}
        reach = stage_reach(study, participants=pids)
        reached = {s: set(filter(None, p.split(";"))) for s, p in zip(reach["stage"], reach["participants"])}
        for k, g in cod.groupby("code")["participant_id"]:  # who spoke at a stage reached it
            reached[key_stage[k]] = reached.get(key_stage[k], set()) | set(g.dropna())
    task_stage_tp: dict = {}
    if study.tasks is not None and "stage" in study.tasks.columns:
        for st_, tp_ in study.tasks[["stage", "touchpoint"]].dropna(subset=["stage"]).drop_duplicates()\
                .itertuples(index=False):
            task_stage_tp.setdefault(st_, set()).add(tp_)
    stage_order = {s: i for i, s in enumerate(study.stages)}
    tp_order = {(s, t): i for s, t, i in study.touchpoints[["stage", "touchpoint", "touchpoint_order"]]
                .itertuples(index=False)}
    # qualitative counts
    counts = cod.groupby("code").agg(n_segments=("segment_id", "nunique"),
                                     n_participants=("participant_id", "nunique"))
    n_human = cod[cod["human"].to_numpy(dtype=bool)].groupby("code")["participant_id"].nunique()
    precision = precision if precision is not None else pd.DataFrame(columns=["rule_precision"])
    # sentiment per code (participant bootstrap)
    if len(cod):
        cs = code_sentiment(cod[["segment_id", "code"]], sentiment=sentiment, segments=seg, n_boot=n_boot,
                               ci=rules.level,
                               random_state=random_state).set_index("code")
    else:
        cs = pd.DataFrame(columns=["mean", "ci_low", "ci_high"])
    # exemplar quotes
    quotes = {}
    if len(cod):
        # turns a person coded come first (rules over-match: "late" also fires on "late at night"),
        # then rule-only turns, each group ranked by exemplar_quotes; at most one per participant
        ranked = {}
        for part in (cod[cod["human"]], cod[~cod["human"]]):
            if len(part):
                ex = exemplar_quotes(part[["segment_id", "code"]], segments=seg, n=n_quotes)
                for code, g in ex.groupby("code", sort=False):
                    ranked.setdefault(code, []).extend(g.sort_values("rank")[["segment_id", "participant_id"]]
                                                       .itertuples(index=False))
        for code, recs in ranked.items():
            taken, who = [], set()
            for sid, pid in recs:
                if pid in who:
                    continue
                taken.append(str(sid))
                who.add(pid)
                if len(taken) == n_quotes:
                    break
            quotes[code] = "; ".join(taken)
    # metrics
    tm = touchpoint_metrics(study, persona=persona, rules=rules, persona_column=persona_column, baseline=baseline)
    survey = study.survey
    if persona is not None and persona_column in survey.columns:
        survey = survey[survey[persona_column] == persona]
    nps_col = study.nps_column or "nps"
    if len(survey) and nps_col in survey.columns and "comment" in survey.columns:
        tn = theme_nps(survey, comment_codings=survey_codings, nps=nps_col, level=rules.level,
                       rules=rules).set_index("code")
    else:
        tn = pd.DataFrame(columns=["nps_theme"])
    persona_pids = None
    if persona is not None:
        parts = study.participants
        persona_pids = set(parts.loc[parts[persona_column] == persona, "participant_id"]) \
            if persona_column in parts.columns else set()
    tasks_m = _stage_tasks(study, persona_pids, rules.level)
    task_source = (f"tasks.csv: journeylab.task_metrics, success unaided (assisted counts as not), adjusted-Wald "
                   f"{rules.level:.0%} CI; time of successful attempts, geometric mean with t interval on log times"
                   f"{'' if persona is None else f'; persona {persona}'}")

    def task_vals(r) -> dict:
        return {"task": r["task"], "task_n": r["n"], "task_successes": r["successes"],
                "task_success_rate": r["success_rate"], "task_ci_low": r["ci_low"], "task_ci_high": r["ci_high"],
                "task_time_geomean_s": r["time_geomean_s"], "task_time_ci_low_s": r["time_ci_low_s"],
                "task_time_ci_high_s": r["time_ci_high_s"], "task_source": task_source}

    def task_for(stage, tp):
        m = tasks_m[tasks_m["stage"] == stage]
        if tp is not None and not pd.isna(tp) and (m["touchpoint"] == tp).any():
            m = m[m["touchpoint"] == tp]
        if len(m) == 0:
            return {}
        return task_vals(m.sort_values("success_rate", kind="stable").iloc[0])  # the stage's hardest task

    csat_by_column: dict = {}

    def theme_csat_of(column):  # the CSAT gap of those raising each theme, per touchpoint column
        if column not in csat_by_column:
            ok = len(survey) and column in survey.columns and "comment" in survey.columns
            csat_by_column[column] = (theme_csat(survey, comment_codings=survey_codings, column=column,
                                                 scale=study.csat_scale or (1, 5), level=rules.level)
                                      if ok else pd.DataFrame(columns=["code"])).set_index("code")
        return csat_by_column[column]

    nps_source = (f"journeylab.nps: {nps_col} of respondents whose comment carries the code vs other commenters"
                  f"{'' if persona is None else f', persona {persona}'}; comments coded with the codebook's rules; "
                  f"gap CI adjusted-Wald per group (Rocks 2016), {rules.level:.0%}")

    def step_for(stage, tp):
        m = tm[(tm["metric"] == "step") & (tm["touchpoint"] == tp)]
        if tp in step_links:
            m = tm[(tm["metric"] == "step") & (tm["name"] == step_links[tp])]
        if len(m) == 0:
            return {}
        r = m.iloc[-1]  # the step that completes the touchpoint (the last of the funnel there)
        return {"step": r["name"], "step_from": r["step_from"], "step_users_from": r["users_from"],
                "step_users": r["users"], "step_conversion": r["value"], "step_ci_low": r["ci_low"],
                "step_ci_high": r["ci_high"], "step_lost": r["lost"], "step_lost_per_week": r["lost_per_week"],
                "step_rank": r["rank"], "funnel_n_steps": r["n_steps"], "funnel_median": r["median"],
                "step_to_end": r["to_end"], "step_to_end_n": r["to_end_n"], "step_target": r["target"],
                "step_target_source": r["target_source"], "step_source": r["source"]}

    def csat_for(tp):
        m = tm[(tm["metric"] == "csat") & (tm["touchpoint"] == tp)]
        if len(m) == 0:
            return {}
        r = m.iloc[0]
        return {"csat_column": r["name"], "csat_n": r["n"], "csat_mean": r["mean"],
                "csat_mean_ci_low": r["mean_ci_low"],
                "csat_mean_ci_high": r["mean_ci_high"], "csat_top2": r["value"], "csat_top2_ci_low": r["ci_low"],
                "csat_top2_ci_high": r["ci_high"], "csat_target": r["target"],
                "csat_target_source": r["target_source"], "csat_source": r["source"]}

    rows = []
    for code in cb:
        if code.kind not in CLAIM_KINDS or not code.codable or (code.stage is None and not staged):
            continue
        if staged:  # one claim per stage the code was spoken at, in journey order
            places = [(f"{code.name}{_STAGE_KEY}{s}", s) for s in study.stages
                      if f"{code.name}{_STAGE_KEY}{s}" in counts.index]
        else:
            places = [(code.name, code.stage)] if code.name in counts.index else []
        for key, stage in places:
            n_part = int(counts.loc[key, "n_participants"])
            if n_part == 0:
                continue
            n_stage = len(reached.get(stage, ())) if staged else n_total
            if stage == code.stage:
                tp = code.touchpoint
            else:  # the code's touchpoint belongs to another stage: the stage's own, when it has one
                tps = task_stage_tp.get(stage) or set(study.stage_touchpoints.get(stage, []))
                tps = {t for t in tps if isinstance(t, str)}
                tp = next(iter(tps)) if len(tps) == 1 else None
            lo, hi = wilson(n_part, n_stage, rules.level)
            row = {"claim_id": _claim_id(stage, tp, code.name, persona), "stage": stage,
                   "stage_order": stage_order.get(stage), "touchpoint": tp, "persona": label,
                   "kind": code.kind, "code": code.name, "metric": pd.NA,
                   "claim": code.definition or code.name.replace("_", " "),
                   "n_participants": n_part, "n_participants_total": n_stage,
                   "share_participants": n_part / n_stage if n_stage else math.nan,
                   "share_ci_low": lo, "share_ci_high": hi,
                   "n_participants_human": int(n_human.get(key, 0)),
                   "n_participants_rule_only": n_part - int(n_human.get(key, 0)),
                   **({k: precision.loc[code.name, k] for k in ("rule_precision", "rule_precision_ci_low",
                                                                 "rule_precision_ci_high")}
                      if code.name in precision.index else {}),
                   "n_segments": int(counts.loc[key, "n_segments"]),
                   "quote_ids": quotes.get(key, ""),
                   "sentiment_mean": cs["mean"].get(key, math.nan) if len(cs) else math.nan,
                   "sentiment_ci_low": cs["ci_low"].get(key, math.nan) if len(cs) else math.nan,
                   "sentiment_ci_high": cs["ci_high"].get(key, math.nan) if len(cs) else math.nan}
            if tp:
                row.update(step_for(stage, tp))
                row.update(csat_for(tp))
                if isinstance(row.get("csat_column"), str):
                    tc = theme_csat_of(row["csat_column"])
                    if code.name in tc.index:
                        row.update(tc.loc[code.name].to_dict())
            row.update(task_for(stage, tp))
            if code.name in tn.index:
                r = tn.loc[code.name]
                row.update({c: r[c] for c in _NPS_COLS if c != "nps_source"})
                row["nps_source"] = nps_source
            rows.append(row)
    # metric-only pain points: a metric signals a problem where no pain point has qualitative support
    supported, supported_stages = set(), set()
    for r in rows:
        if r["kind"] == "pain_point" and (r["n_participants"] >= rules.min_participants
                                          or (r["share_participants"] >= rules.min_share
                                              and r["n_participants"] >= rules.min_share_participants)):
            supported.add(r["touchpoint"])
            supported_stages.add(r["stage"])
    extra, context = [], []
    for m in tm.to_dict("records"):
        if m["stage"] is None or pd.isna(m["stage"]):
            continue
        what = f"metric:{m['metric']}:{_slug(m['name'])}"
        base = {"stage": m["stage"], "stage_order": stage_order.get(m["stage"]), "touchpoint": m["touchpoint"],
                "persona": label, "code": pd.NA, "n_participants": 0, "n_participants_total": n_total,
                "share_participants": 0.0, "n_segments": 0, "quote_ids": ""}
        vals = (step_for(m["stage"], m["touchpoint"]) if m["metric"] == "step" else csat_for(m["touchpoint"]))
        if m["metric"] == "step":  # this very step, not the touchpoint's worst
            vals = {"step": m["name"], "step_from": m["step_from"], "step_users_from": m["users_from"],
                    "step_users": m["users"], "step_conversion": m["value"], "step_ci_low": m["ci_low"],
                    "step_ci_high": m["ci_high"], "step_lost": m["lost"], "step_lost_per_week": m["lost_per_week"],
                    "step_rank": m["rank"], "funnel_n_steps": m["n_steps"], "funnel_median": m["median"],
                    "step_to_end": m["to_end"], "step_to_end_n": m["to_end_n"], "step_target": m["target"],
                    "step_target_source": m["target_source"], "step_source": m["source"]}
            text = (f"{m['label']}: {_fmt_pct(m['value'])} of {int(m['users_from'])} users convert"
                    f"{_fmt_ci(m['ci_low'], m['ci_high'])}")
        else:
            text = f"{m['label']}: top-2 box {_fmt_pct(m['value'])}{_fmt_ci(m['ci_low'], m['ci_high'])}, n={m['n']}"
        context.append({**base, **vals, "claim_id": _claim_id(m["stage"], m["touchpoint"], what, persona),
                        "kind": "metric", "metric": f"{m['metric']}:{m['name']}", "claim": text})
        if m["signal"] == "problem" and m["touchpoint"] not in supported:
            low = "Low conversion" if m["metric"] == "step" else "Low satisfaction"
            extra.append({**base, **vals, "claim_id": _claim_id(m["stage"], m["touchpoint"], f"low:{m['metric']}:"
                                                                 f"{_slug(m['name'])}", persona),
                          "kind": "pain_point", "metric": f"{m['metric']}:{m['name']}",
                          "claim": f"{low} at {m['touchpoint'].replace('_', ' ')} ({text}); no interview theme "
                                   "explains it"})
    # usability tasks: a context row per task, and a pain point where many failed and no theme explains it
    for r in tasks_m.to_dict("records"):
        vals = task_vals(r)
        base = {"stage": r["stage"], "stage_order": stage_order.get(r["stage"]),
                "touchpoint": r["touchpoint"] if isinstance(r["touchpoint"], str) else pd.NA, "persona": label,
                "code": pd.NA, "n_participants": 0, "n_participants_total": n_total, "share_participants": 0.0,
                "n_segments": 0, "quote_ids": ""}
        time = (f"; time on task {r['time_geomean_s']:.0f} s (geometric mean of {r['n_timed']} successful attempts"
                + (f", CI {r['time_ci_low_s']:.0f}–{r['time_ci_high_s']:.0f} s)" if not pd.isna(r["time_ci_low_s"])
                   else ")") if not pd.isna(r["time_geomean_s"]) else "")
        text = (f"Task {r['task']}: {r['successes']} of {r['n']} participants succeeded unaided "
                f"({_fmt_rate(r['success_rate'], r['ci_low'], r['ci_high'])}){time}")
        context.append({**base, **vals, "claim_id": _claim_id(r["stage"], base["touchpoint"] if isinstance(
            base["touchpoint"], str) else None, f"metric:task:{_slug(r['task'])}", persona),
            "kind": "metric", "metric": f"task:{r['task']}", "claim": text})
        if (_task_signal(r["success_rate"], r["n"], rules) == "problem" and r["stage"] not in supported_stages):
            extra.append({**base, **vals, "claim_id": _claim_id(r["stage"], base["touchpoint"] if isinstance(
                base["touchpoint"], str) else None, f"low:task:{_slug(r['task'])}", persona),
                "kind": "pain_point", "metric": f"task:{r['task']}",
                "claim": f"Task {r['task']} failed by {r['n'] - r['successes']} of {r['n']} participants ({text}); "
                         "no interview theme explains it"})
    # a questionnaire linked to a stage (study.yml questionnaire: stage:)
    q = getattr(study, "questionnaire", None)
    if q is not None and q.get("stage") in stage_order and len(study.survey):

        qs = study_questionnaire(study, summary=True, confidence=rules.level)
        if persona is not None and persona_column in study.survey.columns:
            sv = study.survey[study.survey[persona_column] == persona]
            qs = study_questionnaire(dataclasses.replace(study, survey=sv), summary=True, confidence=rules.level) \
                if len(sv) else qs.iloc[0:0]
        qs = questionnaire_signals(qs, targets=study_targets(study), rules=rules) if len(qs) else qs
        for r in qs.to_dict("records"):
            grade = f", grade {r['grade']}" if isinstance(r.get("grade"), str) else ""
            vs = (f"; target {r['target']:g} ({r['target_source']}): {r['signal']}" if not pd.isna(r["target"])
                  else f"; {NO_BENCHMARK}" if not pd.isna(r["signal"]) else "")
            context.append({"stage": q["stage"], "stage_order": stage_order.get(q["stage"]), "touchpoint": pd.NA,
                            "persona": label, "code": pd.NA, "n_participants": 0, "n_participants_total": n_total,
                            "share_participants": 0.0, "n_segments": 0, "quote_ids": "",
                            "claim_id": _claim_id(q["stage"], None, f"metric:questionnaire:{_slug(r['scale'])}",
                                                  persona),
                            "kind": "metric", "metric": f"questionnaire:{r['scale']}",
                            "claim": f"{r['scale'].upper().replace('_', '-')} {r['mean']:.1f} (CI {r['ci_low']:.1f}–"
                                     f"{r['ci_high']:.1f}, n = {r['n']}){grade}{vs}"})
    # emotion per stage: the lexicon's, and the balance of the codes (delights minus pain points)
    emo = []
    if len(cod):
        curve = emotion_curve(sentiment, segments=seg, codings=cod[["segment_id", "code"]], stages=study.stages,
                                 code_stages=key_stage if staged else cb,
                                 min_n=rules.min_participants, n_boot=n_boot, ci=rules.level,
                                 random_state=random_state)
        if staged:
            kc = cod[["segment_id", "code"]].assign(stage=cod["code"].map(key_stage),
                                                  code=cod["code"].str.split(_STAGE_KEY, n=1).str[0])
            denominators = {s: reached.get(s, set()) for s in study.stages}
        else:
            kc, denominators = cod[["segment_id", "code"]], {s: pids for s in study.stages}
        coded = coded_emotion(kc, segments=seg, stages=study.stages, code_kinds=cb, code_stages=cb,
                              reached=denominators, level=rules.level)
        verdict = compare_emotion(curve, coded=coded).set_index("stage")
        coded = coded.set_index("stage")
        for r in curve.to_dict("records"):
            c, v = coded.loc[r["stage"]], verdict.loc[r["stage"]]
            emo_coded = {"coded_n": int(c["n_participants"]), "coded_n_pain": int(c["n_pain"]),
                         "coded_n_delight": int(c["n_delight"]), "coded_balance": c["balance"],
                         "coded_ci_low": c["ci_low"], "coded_ci_high": c["ci_high"],
                         "emotion_disagree": bool(v["disagree"])}
            emo.append({"claim_id": _claim_id(r["stage"], None, "emotion", persona), "stage": r["stage"],
                        "stage_order": r["stage_order"], "touchpoint": pd.NA, "persona": label, "kind": "emotion",
                        "code": pd.NA, "metric": "sentiment",
                        "claim": (f"Mean sentiment of the stage's coded turns"
                                  f"{'' if r['enough_data'] else ' (too little data)'}"),
                        "n_participants": r["n_participants"], "n_participants_total": n_total,
                        "share_participants": r["n_participants"] / n_total if n_total else math.nan,
                        "n_segments": r["n_segments"], "quote_ids": "", "sentiment_mean": r["mean"],
                        "sentiment_ci_low": r["ci_low"], "sentiment_ci_high": r["ci_high"], **emo_coded})
    out = pd.DataFrame(rows + extra + context + emo)
    for col in EVIDENCE_COLUMNS:
        if col not in out.columns:
            out[col] = pd.NA
    if len(out):
        kind_order = {k: i for i, k in enumerate(CLAIM_KINDS + ["emotion", "metric"])}
        out["_tp"] = [tp_order.get((s, t), -1) for s, t in zip(out["stage"], out["touchpoint"])]
        out["_k"] = out["kind"].map(kind_order)
        out = out.sort_values(["stage_order", "_tp", "_k", "claim_id"], kind="stable").drop(columns=["_tp", "_k"])
    return out[EVIDENCE_COLUMNS].reset_index(drop=True)
