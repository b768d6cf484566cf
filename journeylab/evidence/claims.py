"""The evidence table: every claim a journey map makes, with its support and a triangulation grade.

A journey map says things such as "the shipping form is a pain point" or "customers love the
packaging". :func:`evidence_table` turns a study and its codings into one row per such claim,
per stage × touchpoint (× persona), with the qualitative support (how many participants, which
quotes, their sentiment) and the quantitative support (the funnel step at that touchpoint, its
CSAT, the NPS of survey respondents whose comments raise the theme), and grades each claim by
whether the two kinds of evidence agree (:class:`GradingRules`, :func:`grade_claims`).
"""
from __future__ import annotations

__all__ = ["GradingRules", "evidence_table", "grade_claims", "touchpoint_metrics", "theme_nps",
           "study_between", "GRADES", "EVIDENCE_COLUMNS"]

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..study.codebook import Codebook
from ..utils.checks import check_frame, check_study
from ..errors import JourneylabError
from ..study.units import participant_codings

GRADES = ["strong", "quantitative_only", "qualitative_only", "weak", "contradicted"]
CLAIM_KINDS = ["pain_point", "delight", "need", "behaviour"]

#: Columns of the evidence table, in order (see :func:`evidence_table`).
EVIDENCE_COLUMNS = [
    "claim_id", "stage", "stage_order", "touchpoint", "persona", "kind", "code", "metric", "claim",
    "n_participants", "n_participants_total", "share_participants", "share_ci_low", "share_ci_high",
    "n_segments", "quote_ids", "sentiment_mean", "sentiment_ci_low", "sentiment_ci_high",
    "step", "step_from", "step_users_from", "step_users", "step_conversion", "step_ci_low", "step_ci_high",
    "step_lost", "step_lost_per_week", "step_rank", "funnel_n_steps", "funnel_median",
    "step_to_end", "step_to_end_n", "step_signal", "step_source",
    "csat_column", "csat_n", "csat_mean", "csat_mean_ci_low", "csat_mean_ci_high",
    "csat_top2", "csat_top2_ci_low", "csat_top2_ci_high", "csat_signal", "csat_source",
    "nps_theme", "nps_others", "nps_n_theme", "nps_n_others", "nps_gap", "nps_gap_ci_low", "nps_gap_ci_high",
    "nps_signal", "nps_source",
    "qual_support", "quant_support", "grade", "grade_reason",
]

_STEP_COLS = ["step", "step_from", "step_users_from", "step_users", "step_conversion", "step_ci_low",
              "step_ci_high", "step_lost", "step_lost_per_week", "step_rank", "funnel_n_steps", "funnel_median",
              "step_to_end", "step_to_end_n", "step_source"]
_CSAT_COLS = ["csat_column", "csat_n", "csat_mean", "csat_mean_ci_low", "csat_mean_ci_high", "csat_top2",
              "csat_top2_ci_low", "csat_top2_ci_high", "csat_source"]
_NPS_COLS = ["nps_theme", "nps_others", "nps_n_theme", "nps_n_others", "nps_gap", "nps_gap_ci_low",
             "nps_gap_ci_high", "nps_source"]


# ----------------------------------------------------------------------------- grading rules


@dataclass(frozen=True)
class GradingRules:
    """Thresholds of the triangulation grades (see :func:`grade_claims` for the rules).

    Parameters
    ----------
    min_participants : int, default 3
        Qualitative support: at least this many participants raised the theme ...
    min_share : float, default 0.25
        ... or at least this share of the participants (of the persona) did, counting at least
        ``min_share_participants`` people (so 1 of 3 is never enough).
    min_share_participants : int, default 2
        Fewest participants for the share rule to apply.
    worst_steps : int, default 2
        A funnel step signals a problem when its conversion is among the ``worst_steps`` lowest
        conversions of the funnel ...
    below_median : bool, default True
        ... or when the upper end of its conversion CI is below the median step conversion.
        It is healthy when the lower end of its CI is at or above that median (and it is not
        among the worst steps).
    csat_top2_min : float, default 0.65
        CSAT signals a problem when the upper end of the top-2-box share's CI is below this share,
        and is healthy when the lower end is at or above it.
    nps_gap_margin : float, default 10.0
        NPS points. The NPS gap (respondents whose comments raise the theme minus the other
        commenters) signals a problem when its CI lies wholly below 0, a strength when wholly
        above 0, and is healthy for a pain point when its CI lies wholly above ``-nps_gap_margin``
        (any gap is smaller than this margin).
    min_metric_n : int, default 30
        Fewest CSAT answers (or funnel entrants) for a metric to signal anything.
    min_nps_n : int, default 10
        Fewest respondents raising the theme for the NPS gap to signal anything.
    contradiction : {"any", "all"}, default "any"
        ``"any"``: a qualitatively supported claim is *contradicted* when no linked metric backs it
        and at least one linked metric, with its CI, rules the problem (or the strength) out.
        ``"all"``: every linked metric must rule it out.
    level : float, default 0.95
        Confidence level of every interval.
    """

    min_participants: int = 3
    min_share: float = 0.25
    min_share_participants: int = 2
    worst_steps: int = 2
    below_median: bool = True
    csat_top2_min: float = 0.65
    nps_gap_margin: float = 10.0
    min_metric_n: int = 30
    min_nps_n: int = 10
    contradiction: str = "any"
    level: float = 0.95

    def __post_init__(self):
        def bad(name, expected):
            raise JourneylabError(f"GradingRules: `{name}` must be {expected}; got {getattr(self, name)!r}.")

        for name in ("min_participants", "min_share_participants", "worst_steps", "min_metric_n", "min_nps_n"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                bad(name, "a non-negative integer")
        for name in ("min_share", "csat_top2_min"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not 0 <= v <= 1:
                bad(name, "a share between 0 and 1")
        if not isinstance(self.nps_gap_margin, (int, float)) or self.nps_gap_margin < 0:
            bad("nps_gap_margin", "a non-negative number of NPS points")
        if self.contradiction not in ("any", "all"):
            bad("contradiction", "'any' or 'all'")
        if not isinstance(self.level, float) or not 0.5 <= self.level < 1:
            bad("level", "a confidence level such as 0.95")

    def to_dict(self) -> dict:
        """The rules as a plain dict (JSON-ready)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "GradingRules":
        """Rules from :meth:`to_dict` (unknown keys raise)."""
        data = dict(data or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise JourneylabError(f"GradingRules: unknown rule(s) {', '.join(map(repr, unknown))}; "
                                  f"known: {', '.join(sorted(known))}.")
        return cls(**data)


# ----------------------------------------------------------------------------- small statistics


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def wilson(count, nobs, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of ``count / nobs`` (statsmodels ``proportion_confint``)."""
    if nobs is None or pd.isna(nobs) or nobs <= 0:
        return (math.nan, math.nan)
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(int(count), int(nobs), alpha=1 - level, method="wilson")
    return float(lo), float(hi)


# ----------------------------------------------------------------------------- study helpers


def study_between(study, start=None, end=None, *, interview_date: str = "interview_date"):
    """The part of a study that falls in ``[start, end)``: events, survey answers and interviews.

    Parameters
    ----------
    study : Study
        From :func:`journeylab.load_study`.
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
    out = out.assign(human=human)
    return out.groupby(["segment_id", "code"], sort=False, as_index=False)["human"].any()


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
    from ..measure.funnel import funnel

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


def _step_signal(conv, lo, hi, rank, k, median, n_from, rules: GradingRules) -> str:
    if conv is None or pd.isna(conv):
        return pd.NA
    if n_from < rules.min_metric_n:
        return "inconclusive"
    worst = rules.worst_steps > 0 and rank <= rules.worst_steps
    below = rules.below_median and not pd.isna(median) and hi < median
    if worst or below:
        return "problem"
    if not pd.isna(median) and lo >= median:
        return "healthy"
    return "inconclusive"


def _csat_signal(top2, lo, hi, n, rules: GradingRules) -> str:
    if top2 is None or pd.isna(top2):
        return pd.NA
    if n < rules.min_metric_n:
        return "inconclusive"
    if hi < rules.csat_top2_min:
        return "problem"
    if lo >= rules.csat_top2_min:
        return "healthy"
    return "inconclusive"


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


def touchpoint_metrics(study, *, persona: str | None = None, rules: GradingRules | None = None,
                       persona_column: str = "persona") -> pd.DataFrame:
    """The quantitative evidence at each touchpoint: funnel steps and CSAT, with intervals.

    Parameters
    ----------
    study : Study
        From :func:`journeylab.load_study` (``funnel_steps``, ``events_map``, ``csat_columns``).
    persona : str, optional
        Restrict the survey to this persona (``persona_column`` of ``study.survey``), and the
        event log too when it has that column; otherwise the funnel covers every user and
        ``source`` says so.
    rules : GradingRules, optional
        Thresholds for ``signal`` (default :class:`GradingRules`).

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
        ``mean_ci_high`` (t interval); and for both ``signal`` (``problem``, ``healthy``,
        ``inconclusive``; see :class:`GradingRules`) and ``source`` (where the number comes from).

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
            rows.append({
                "stage": stage, "touchpoint": tp, "metric": "step", "name": r["step"],
                "label": f"{fun['step'].iloc[k - 1]} → {r['step']}", "step_from": fun["step"].iloc[k - 1],
                "users_from": int(r["users_from"]), "users": int(r["users"]), "value": float(r["conversion"]),
                "ci_low": lo, "ci_high": hi, "lost": lost, "lost_per_week": lost / weeks if weeks else math.nan,
                "rank": rank, "n_steps": len(fun) - 1, "median": median, "to_end": to_end,
                "to_end_n": int(r["users"]), "n": int(r["users_from"]),
                "signal": _step_signal(r["conversion"], lo, hi, rank, rules.worst_steps, median, r["users_from"], rules),
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
        from ..measure.survey import csat

        cs = csat(survey, columns=cols_present, scale=(low, high), top_box=2, alpha=1 - level)
        who = f", persona {persona}" if persona is not None else ""
        for r in cs.to_dict("records"):
            tp, n = r["touchpoint"], int(r["n"])
            share = r["top_box_share"] if n else math.nan
            lo, hi = (r["top_box_ci_low"], r["top_box_ci_high"]) if n else (math.nan, math.nan)
            rows.append({
                "stage": tp_stage.get(tp), "touchpoint": tp, "metric": "csat", "name": r["column"],
                "label": f"CSAT {tp}", "n": n, "value": share, "ci_low": lo, "ci_high": hi,
                "mean": r["mean"], "mean_ci_low": r["mean_ci_low"], "mean_ci_high": r["mean_ci_high"],
                "signal": _csat_signal(share, lo, hi, n, rules),
                "source": f"journeylab.csat: survey column {r['column']} ({low}–{high} scale), {n} answers{who}, "
                          f"{int(r['n_blank'])} blanks excluded; top-2 box ({r['top_box']}) share with Wilson "
                          f"{level:.0%} CI, mean with t interval",
            })
    cols = ["stage", "touchpoint", "metric", "name", "label", "step_from", "users_from", "users", "n", "value",
            "ci_low", "ci_high", "lost", "lost_per_week", "rank", "n_steps", "median", "to_end", "to_end_n",
            "mean", "mean_ci_low", "mean_ci_high", "signal", "source"]
    return pd.DataFrame(rows, columns=cols)


def _comment_segments(survey: pd.DataFrame, comment: str = "comment") -> pd.DataFrame:
    if comment not in survey.columns or len(survey) == 0:
        return pd.DataFrame(columns=["segment_id", "participant_id", "speaker_role", "text"])
    text = survey[comment].astype("string").fillna("")
    ok = text.str.strip() != ""
    return pd.DataFrame({"segment_id": survey.loc[ok, "respondent_id"].astype(str).to_numpy(),
                         "participant_id": survey.loc[ok, "respondent_id"].astype(str).to_numpy(),
                         "speaker_role": "participant", "text": text[ok].astype(str).to_numpy()})


def theme_nps(survey: pd.DataFrame, comment_codings: pd.DataFrame, *, nps: str = "nps", comment: str = "comment",
              level: float = 0.95, rules: GradingRules | None = None) -> pd.DataFrame:
    """NPS of respondents whose comment raises each theme, against the other commenters.

    Parameters
    ----------
    survey : DataFrame
        ``respondent_id``, the ``nps`` column (0–10) and the ``comment`` column.
    comment_codings : DataFrame
        Codings of the comments: ``segment_id`` is the ``respondent_id`` (as made by
        :func:`evidence_table`, which auto-codes the comments with the codebook), ``code``.
    level : float, default 0.95
        Confidence level.

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
    shares of one trinomial sample, (p₊ + p₋ − (p₊ − p₋)²)/n; the two groups are independent,
    so the gap's variance is the sum, and the interval is normal (Wald). The comparison group is
    the other *commenters*: people who write comments are not a random part of the respondents
    (detractors write more), so comparing with everyone would blame the theme for that.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> survey = pd.DataFrame({"respondent_id": ["R1", "R2", "R3", "R4"], "nps": [2, 3, 9, 10],
    ...                        "comment": ["form!", "form...", "great", "lovely"]})
    >>> codes = pd.DataFrame({"segment_id": ["R1", "R2"], "code": ["form", "form"]})
    >>> jl.theme_nps(survey, codes)[["code", "nps_theme", "nps_others", "nps_gap"]]
       code  nps_theme  nps_others  nps_gap
    0  form     -100.0       100.0   -200.0
    """
    check_frame(survey, arg="survey", func="theme_nps", required=["respondent_id", nps, comment], allow_empty=True)
    check_frame(comment_codings, arg="comment_codings", func="theme_nps", required=["segment_id", "code"],
                allow_empty=True)
    from ..measure.survey import nps as _nps

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
        if na and nb:
            half = z * math.sqrt(a_["se"] ** 2 + b_["se"] ** 2)
            lo, hi = gap - half, gap + half
        else:
            lo = hi = math.nan
        rows.append({"code": code, "nps_theme": va, "nps_others": vb, "nps_n_theme": na, "nps_n_others": nb,
                     "nps_gap": gap, "nps_gap_ci_low": lo, "nps_gap_ci_high": hi,
                     "nps_signal": _nps_signal(gap, lo, hi, na, rules) if na and nb else pd.NA})
    return pd.DataFrame(rows, columns=["code", "nps_theme", "nps_others", "nps_n_theme", "nps_n_others", "nps_gap",
                                       "nps_gap_ci_low", "nps_gap_ci_high", "nps_signal"])


# ----------------------------------------------------------------------------- grading


def _fmt_pct(x) -> str:
    return "–" if x is None or pd.isna(x) else f"{100 * x:.0f}%"


def _fmt_ci(lo, hi, pct=True) -> str:
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return ""
    if pct:
        return f" (CI {100 * lo:.0f}–{100 * hi:.0f}%)"
    return f" (CI {lo:+.0f} to {hi:+.0f})"


def _metric_phrases(row) -> list[tuple[str, str]]:
    """(signal, phrase) of each linked metric of an evidence row."""
    out = []
    if not pd.isna(row.get("step_signal", pd.NA)):
        out.append((row["step_signal"], f"funnel step {row['step_from']} → {row['step']} converts "
                    f"{_fmt_pct(row['step_conversion'])}{_fmt_ci(row['step_ci_low'], row['step_ci_high'])}, "
                    f"rank {int(row['step_rank'])} of {int(row['funnel_n_steps'])} (1 = lowest), "
                    f"funnel median {_fmt_pct(row['funnel_median'])}: {row['step_signal']}"))
    if not pd.isna(row.get("csat_signal", pd.NA)):
        out.append((row["csat_signal"], f"CSAT {row['touchpoint']} top-2 box {_fmt_pct(row['csat_top2'])}"
                    f"{_fmt_ci(row['csat_top2_ci_low'], row['csat_top2_ci_high'])}, n={int(row['csat_n'])}: "
                    f"{row['csat_signal']}"))
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
    by_n = n >= rules.min_participants
    by_share = not pd.isna(share) and share >= rules.min_share and n >= max(1, rules.min_share_participants)
    qual = bool(by_n or by_share)
    if not pd.isna(total) and total:
        ci = ""
        if not pd.isna(row.get("share_ci_low")) and not pd.isna(row.get("share_ci_high")):
            ci = f", CI {100 * row['share_ci_low']:.0f}–{100 * row['share_ci_high']:.0f}%"
        q_text = f"{n} of {int(total)} participants ({_fmt_pct(share)}{ci})"
    else:
        q_text = f"{n} participants"
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
    support = any(s in good for s, _ in signals)
    against = [s in bad for s, _ in signals]
    m_text = "; ".join(p for _, p in phrases) if phrases else "no linked metric"
    what = "problem" if kind == "pain_point" else "strength"
    if qual and support:
        grade, why = "strong", f"interviews and numbers agree (a linked metric shows the {what})"
    elif qual and phrases and ((rules.contradiction == "any" and any(against))
                               or (rules.contradiction == "all" and all(against))):
        grade, why = "contradicted", (f"interviews say it, but no linked metric shows the {what} and "
                                      f"{'one rules it out' if rules.contradiction == 'any' else 'every one rules it out'}")
    elif qual:
        grade, why = "qualitative_only", ("no linked metric" if not phrases else
                                          f"no linked metric shows the {what}, none rules it out")
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

    **Linked metrics** and their signal (each is ``problem``, ``healthy`` or ``inconclusive``):

    - the funnel step at the claim's touchpoint — *problem* when its conversion is among the
      ``worst_steps`` lowest of the funnel or its CI lies below the median step conversion;
      *healthy* when its CI lies at or above that median;
    - the touchpoint's CSAT — *problem* when the top-2-box share's CI lies below
      ``csat_top2_min``, *healthy* when it lies at or above it;
    - the NPS gap of commenters raising the theme — *problem* when its CI lies below 0,
      *strength* when above 0, *healthy* when it lies above ``-nps_gap_margin``.

    Metrics with too few observations (``min_metric_n``, ``min_nps_n``) are inconclusive.

    **Grades** of a pain point (a delight mirrors it: *healthy* step/CSAT or an NPS *strength*
    back it, a *problem* goes against it):

    ==================== ==========================================================================
    ``strong``            qualitative support and at least one linked metric shows the problem
    ``contradicted``      qualitative support, no linked metric shows the problem, and at least one
                          (``contradiction="any"``) or every (``"all"``) linked metric rules it out
    ``qualitative_only``  qualitative support, metrics missing or inconclusive
    ``quantitative_only`` a linked metric shows the problem, too few participants raised it
    ``weak``              neither
    ==================== ==========================================================================

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
        _step_signal(c, lo, hi, rk, rules.worst_steps, med, (0 if pd.isna(nf) else nf), rules)
        if not pd.isna(c) else pd.NA
        for c, lo, hi, rk, med, nf in zip(ev["step_conversion"], ev["step_ci_low"], ev["step_ci_high"],
                                          ev["step_rank"].fillna(10 ** 6), ev["funnel_median"], ev["step_users_from"])]
    ev["csat_signal"] = [_csat_signal(t, lo, hi, (0 if pd.isna(n) else n), rules) if not pd.isna(t) else pd.NA
                         for t, lo, hi, n in zip(ev["csat_top2"], ev["csat_top2_ci_low"], ev["csat_top2_ci_high"],
                                                 ev["csat_n"])]
    ev["nps_signal"] = [_nps_signal(g, lo, hi, (0 if pd.isna(n) else n), rules) if not pd.isna(g) else pd.NA
                        for g, lo, hi, n in zip(ev["nps_gap"], ev["nps_gap_ci_low"], ev["nps_gap_ci_high"],
                                                ev["nps_n_theme"])]
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


def evidence_table(
    study,
    codings: pd.DataFrame,
    *,
    sentiment: pd.DataFrame | None = None,
    survey_codings: pd.DataFrame | None = None,
    persona=None,
    min_participants: int | None = None,
    thresholds: GradingRules | dict | None = None,
    n_quotes: int = 3,
    n_boot: int = 1000,
    random_state: int = 0,
    step_links: dict | None = None,
    prefer_human: bool = True,
    persona_column: str = "persona",
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
    n_boot : int, default 1000
        Bootstrap replicates of the sentiment intervals.
    random_state : int, default 0
        Seed of the bootstraps.
    step_links : dict, optional
        Touchpoint → funnel step (its event name) to link to that touchpoint's claims, overriding
        the default (the last funnel step whose event belongs to the touchpoint).
    prefer_human : bool, default True
        In transcripts a person coded (``origin`` manual), ignore rule or model codings that no
        person applied there: the person read those turns and left the code off. Elsewhere rule
        codings count as they are.
    persona_column : str, default "persona"
        Column of ``study.participants`` and ``study.survey`` naming the persona.

    Returns
    -------
    DataFrame
        One row per claim, in stage and touchpoint order. Identity: ``claim_id`` (stable:
        ``stage/touchpoint/code[@persona]``), ``stage``, ``stage_order``, ``touchpoint``, ``persona``,
        ``kind`` (``pain_point``, ``delight``, ``need``, ``behaviour``; plus context rows
        ``emotion`` — the stage's mean sentiment — and ``metric`` — a touchpoint metric), ``code``,
        ``metric`` (context and metric-only rows: which metric), ``claim`` (the code's definition).

        Qualitative support: ``n_participants``, ``n_participants_total``,
        ``share_participants`` with ``share_ci_low``/``share_ci_high`` (Wilson), ``n_segments``,
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
        ``nps_signal``, ``nps_source``.

        Grade: ``qual_support``, ``quant_support``, ``grade`` (one of ``strong``,
        ``qualitative_only``, ``quantitative_only``, ``contradicted``, ``weak``; NA for context
        rows) and ``grade_reason``.

        ``.attrs["journeylab"]`` records how the table was made (codings, sentiment settings,
        funnel, rules), which :meth:`journeylab.JourneyMap.build` copies into the map's methods.

    Notes
    -----
    The share's denominator is the persona's participants whose interviews were coded (a transcript
    that nobody coded is not a "no"). Exemplar quotes come first from turns a person coded
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

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> codings = pd.concat([study.codings, jl.autocode(study.segments, study.codebook)])
    >>> ev = jl.evidence_table(study, codings)
    >>> ev.set_index("code").loc[["shipping_form_tedious", "slow_delivery"], "grade"].tolist()
    ['strong', 'contradicted']
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
    import journeylab as jl

    cb = study.codebook
    unknown = sorted(set(codings["code"].dropna().astype(str)) - set(cb.names))
    if unknown:
        raise JourneylabError(f"{func}(): code(s) {', '.join(map(repr, unknown[:5]))} in `codings` are not in the "
                              "study's codebook.")
    segments = study.segments
    pairs = _positive_codings(codings, with_human=True)
    pairs = pairs[pairs["segment_id"].isin(set(segments["segment_id"].astype(str)))]
    kept = participant_codings(pairs, segments, what="the evidence table")
    pairs = kept.codings
    doc_of = segments.assign(segment_id=segments["segment_id"].astype(str)).drop_duplicates("segment_id") \
        .set_index("segment_id")["doc_id"]
    n_overruled = 0
    if prefer_human:  # where a person coded a transcript, rule/model codings they did not confirm are dropped
        human_docs = set(pairs.loc[pairs["human"], "segment_id"].map(doc_of))
        drop = ~pairs["human"] & pairs["segment_id"].map(doc_of).isin(human_docs)
        n_overruled = int(drop.sum())
        pairs = pairs[~drop]
    coded_docs = set(segments.loc[segments["segment_id"].astype(str).isin(set(pairs["segment_id"])), "doc_id"])
    if sentiment is None:
        sentiment = jl.sentiment(segments, split="sentence")
        from ..measure.sentiment import DEFAULT_ENGINE

        sent_settings = {"engine": DEFAULT_ENGINE, "split": "sentence", "computed_by": "evidence_table"}
    else:
        check_frame(sentiment, arg="sentiment", func=func, required=["segment_id", "compound"], allow_empty=True)
        sent_settings = {"computed_by": "caller", "engine": sentiment.attrs.get("engine", "unknown"),
                         "split": sentiment.attrs.get("split", "unknown")}
    survey = study.survey
    if survey_codings is None:
        cseg = _comment_segments(survey)
        survey_codings = (jl.autocode(cseg, cb) if len(cseg) else
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
        pids = pids & coded_pids if coded_pids else pids
        blocks.append(_persona_block(study, pairs, pid_of, pids, sentiment, survey_codings, p, rules, n_quotes,
                                     n_boot, random_state, persona_column, links))
    ev = pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=EVIDENCE_COLUMNS)
    ev = grade_claims(ev, rules=rules)
    coders = sorted(codings["coder"].dropna().astype(str).unique()) if "coder" in codings else []
    origins = sorted(codings["origin"].dropna().astype(str).unique()) if "origin" in codings else []
    ev.attrs["journeylab"] = {
        "codings": {"coders": coders, "origins": origins, "n_codings": int(len(codings)),
                    "n_segments_coded": int(pairs["segment_id"].nunique()),
                    "prefer_human": bool(prefer_human), "n_rule_codings_overruled": n_overruled,
                    "n_interviewer_codings_left_out": kept.n_left_out,
                    "n_documents_coded": int(segments.loc[segments["segment_id"].astype(str).isin(
                        set(pairs["segment_id"])), "doc_id"].nunique())},
        "sentiment": sent_settings,
        "survey_coding": survey_coding_how,
        "rules": rules.to_dict(),
        "n_quotes": n_quotes, "n_boot": n_boot, "random_state": random_state,
        # the blocks computed, even those without rows (a persona nobody interviewed has no claims)
        "personas": ["all" if p is None else str(p) for p in _personas_arg(persona, study)],
    }
    return ev


def _persona_block(study, pairs, pid_of, pids, sentiment, survey_codings, persona, rules, n_quotes, n_boot,
                   random_state, persona_column, step_links) -> pd.DataFrame:
    import journeylab as jl

    cb = study.codebook
    label = "all" if persona is None else persona
    segments = study.segments
    seg = segments[segments["participant_id"].isin(pids)]
    seg_ids = set(seg["segment_id"].astype(str))
    cod = pairs[pairs["segment_id"].isin(seg_ids)]
    cod = cod.assign(participant_id=cod["segment_id"].map(pid_of))
    n_total = len(pids)
    stage_order = {s: i for i, s in enumerate(study.stages)}
    tp_order = {(s, t): i for s, t, i in study.touchpoints[["stage", "touchpoint", "touchpoint_order"]]
                .itertuples(index=False)}
    # qualitative counts
    counts = cod.groupby("code").agg(n_segments=("segment_id", "nunique"),
                                     n_participants=("participant_id", "nunique"))
    # sentiment per code (participant bootstrap)
    if len(cod):
        cs = jl.code_sentiment(sentiment, cod[["segment_id", "code"]], seg, n_boot=n_boot, ci=rules.level,
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
                ex = jl.exemplar_quotes(part[["segment_id", "code"]], seg, n=n_quotes)
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
    tm = touchpoint_metrics(study, persona=persona, rules=rules, persona_column=persona_column)
    survey = study.survey
    if persona is not None and persona_column in survey.columns:
        survey = survey[survey[persona_column] == persona]
    nps_col = study.nps_column or "nps"
    if len(survey) and nps_col in survey.columns and "comment" in survey.columns:
        tn = theme_nps(survey, survey_codings, nps=nps_col, level=rules.level, rules=rules).set_index("code")
    else:
        tn = pd.DataFrame(columns=["nps_theme"])
    nps_source = (f"journeylab.nps: {nps_col} of respondents whose comment carries the code vs other commenters"
                  f"{'' if persona is None else f', persona {persona}'}; comments coded with the codebook's rules; "
                  f"gap CI from the trinomial variance (Wald, {rules.level:.0%})")

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
                "step_to_end": r["to_end"], "step_to_end_n": r["to_end_n"], "step_source": r["source"]}

    def csat_for(tp):
        m = tm[(tm["metric"] == "csat") & (tm["touchpoint"] == tp)]
        if len(m) == 0:
            return {}
        r = m.iloc[0]
        return {"csat_column": r["name"], "csat_n": r["n"], "csat_mean": r["mean"], "csat_mean_ci_low": r["mean_ci_low"],
                "csat_mean_ci_high": r["mean_ci_high"], "csat_top2": r["value"], "csat_top2_ci_low": r["ci_low"],
                "csat_top2_ci_high": r["ci_high"], "csat_source": r["source"]}

    rows = []
    for code in cb:
        if code.kind not in CLAIM_KINDS or not code.codable or code.stage is None:
            continue
        if code.name not in counts.index:
            continue
        if cb.children(code.name) and code.name not in counts.index:
            continue
        n_part = int(counts.loc[code.name, "n_participants"])
        if n_part == 0:
            continue
        lo, hi = wilson(n_part, n_total, rules.level)
        row = {"claim_id": _claim_id(code.stage, code.touchpoint, code.name, persona), "stage": code.stage,
               "stage_order": stage_order.get(code.stage), "touchpoint": code.touchpoint, "persona": label,
               "kind": code.kind, "code": code.name, "metric": pd.NA,
               "claim": code.definition or code.name.replace("_", " "),
               "n_participants": n_part, "n_participants_total": n_total,
               "share_participants": n_part / n_total if n_total else math.nan,
               "share_ci_low": lo, "share_ci_high": hi, "n_segments": int(counts.loc[code.name, "n_segments"]),
               "quote_ids": quotes.get(code.name, ""),
               "sentiment_mean": cs["mean"].get(code.name, math.nan) if len(cs) else math.nan,
               "sentiment_ci_low": cs["ci_low"].get(code.name, math.nan) if len(cs) else math.nan,
               "sentiment_ci_high": cs["ci_high"].get(code.name, math.nan) if len(cs) else math.nan}
        if code.touchpoint:
            row.update(step_for(code.stage, code.touchpoint))
            row.update(csat_for(code.touchpoint))
        if code.name in tn.index:
            r = tn.loc[code.name]
            row.update({c: r[c] for c in _NPS_COLS if c != "nps_source"})
            row["nps_source"] = nps_source
        rows.append(row)
    claims = pd.DataFrame(rows)
    # metric-only pain points: a metric signals a problem where no pain point has qualitative support
    supported = set()
    for r in rows:
        if r["kind"] == "pain_point" and (r["n_participants"] >= rules.min_participants
                                          or (r["share_participants"] >= rules.min_share
                                              and r["n_participants"] >= rules.min_share_participants)):
            supported.add(r["touchpoint"])
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
                    "step_to_end": m["to_end"], "step_to_end_n": m["to_end_n"], "step_source": m["source"]}
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
    # emotion per stage
    emo = []
    if len(cod):
        curve = jl.emotion_curve(sentiment, seg, cod[["segment_id", "code"]], stages=study.stages, code_stages=cb,
                                 min_n=rules.min_participants, n_boot=n_boot, ci=rules.level,
                                 random_state=random_state)
        for r in curve.to_dict("records"):
            emo.append({"claim_id": _claim_id(r["stage"], None, "emotion", persona), "stage": r["stage"],
                        "stage_order": r["stage_order"], "touchpoint": pd.NA, "persona": label, "kind": "emotion",
                        "code": pd.NA, "metric": "sentiment",
                        "claim": (f"Mean sentiment of the stage's coded turns"
                                  f"{'' if r['enough_data'] else ' (too little data)'}"),
                        "n_participants": r["n_participants"], "n_participants_total": n_total,
                        "share_participants": r["n_participants"] / n_total if n_total else math.nan,
                        "n_segments": r["n_segments"], "quote_ids": "", "sentiment_mean": r["mean"],
                        "sentiment_ci_low": r["ci_low"], "sentiment_ci_high": r["ci_high"]})
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
