"""The decision summary of a journey map: what a head of product reads first.

Everything here is computed from a map (and, for the headline metrics and the before/after
result, its study), never written for one study: the study in one sentence, the headline
metrics with their intervals, the measured effect of the change made during the study, the
decisions the evidence supports with their confidence said in words, what the evidence does not
support, the sizing assumptions with a sensitivity table, and display names for every internal
identifier (codes, stages, touchpoints, funnel steps, grades). :func:`journeylab.report.to_html`
puts them on the report's first page; :func:`decision_slide` draws the top decisions on one slide.
"""
from __future__ import annotations

__all__ = ["display_name", "GRADE_NAMES", "CONFIDENCE_WORDS", "headline_metrics", "change_effect", "decisions",
           "not_supported", "study_sentence", "sizing_assumptions", "sensitivity", "score_footnote",
           "decision_slide", "humanise"]

import math
import re
from pathlib import Path
from textwrap import fill

import pandas as pd

from ..errors import JourneylabError
from ..evidence.claims import questionnaire_signals, study_targets
from ..measure.experiments import change_design, compare_periods
from ..measure.funnel import funnel
from ..measure.questionnaires import study_questionnaire
from ..measure.survey import csat, nps
from ..measure.tasks import task_metrics
from ..study.load import PERIOD_DAYS
from .journey_map import DEFAULT_RECOVERY, GRADE_PRIORITY, SCORE_WEIGHTS, prioritise, recovery_range, vocabulary_of

#: Grades as a reader sees them.
GRADE_NAMES = {"strong": "Strong", "mixed": "Mixed", "quantitative_only": "Numbers only",
               "qualitative_only": "Interviews only",
               "weak": "Weak", "contradicted": "Contradicted"}

#: The confidence word of each grade, used in the decisions.
CONFIDENCE_WORDS = {"strong": "strong", "mixed": "mixed", "quantitative_only": "moderate",
                    "qualitative_only": "tentative",
                    "weak": "weak", "contradicted": "none"}

#: What a reader calls each linked metric.
_METRIC_WORDS = {"step": "the funnel", "csat": "the satisfaction survey", "nps": "the recommendation score (NPS)"}

def display_name(name, names: dict | None = None) -> str:
    """A readable name for an internal identifier.

    ``names`` (identifier → display name, e.g. from :func:`names_of`) wins; otherwise
    ``shipping_form`` → "Shipping form", ``step:add_to_cart`` → "Add to cart (funnel step)",
    ``csat:csat_payment`` → "Satisfaction with payment", a grade → its :data:`GRADE_NAMES` entry.

    Examples
    --------
    >>> display_name("shipping_form"), display_name("qualitative_only"), display_name("step:add_to_cart")
    ('Shipping form', 'Interviews only', 'Add to cart (funnel step)')
    """
    if name is None or (not isinstance(name, str) and pd.isna(name)):
        return ""
    s = str(name)
    if names and s in names:
        return names[s]
    if s in GRADE_NAMES:
        return GRADE_NAMES[s]
    if s.startswith("step:"):
        return f"{display_name(s[5:], names)} (funnel step)"
    if s.startswith("csat:"):
        col = s[5:]
        return names.get(s, f"Satisfaction with {display_name(col, names).lower()}") if names else (
            f"Satisfaction with {_plain(re.sub(r'^(csat|sat)_', '', col)).lower()}")
    return _plain(s)


def _plain(s: str) -> str:
    s = re.sub(r"[_]+", " ", str(s)).strip()
    return s[:1].upper() + s[1:]


def names_of(jmap, study=None) -> dict:
    """Identifier → display name for everything of a map a reader may see.

    Codes, stages, touchpoints, funnel steps (events), survey columns (``csat:<column>`` → the
    touchpoint it rates), metric ids and grades.
    """
    out = dict(GRADE_NAMES)
    ev = jmap.evidence
    ids = set()
    for col in ("code", "stage", "touchpoint", "step", "step_from", "grade", "kind"):
        if col in ev.columns:
            ids |= {str(v) for v in ev[col].dropna()}
    for s in jmap.stages:
        ids.add(s["name"])
        ids |= {str(t) for t in s.get("touchpoints", [])}
    steps = (jmap.methods or {}).get("funnel", {}).get("steps", [])
    for s in steps:
        ids |= set([s] if isinstance(s, str) else s)
    for i in ids:
        out.setdefault(i, _plain(i))
    if "metric" in ev.columns:
        for r in ev[ev["metric"].notna()].to_dict("records"):
            m = str(r["metric"])
            if m.startswith("step:"):
                out[m] = f"{_plain(m[5:])} (funnel step)"
            elif m.startswith("csat:"):
                tp = r.get("touchpoint")
                out[m] = f"Satisfaction with {_plain(tp if isinstance(tp, str) else m[5:]).lower()}"
                out[m[5:]] = out[m]
    if study is not None:
        for col, tp in (study.csat_columns or {}).items():
            out[col] = f"Satisfaction with {_plain(tp).lower()}"
            out[f"csat:{col}"] = out[col]
    return out


def humanise(text, names: dict) -> str:
    """Replace internal identifiers in a generated sentence by their display names.

    Only snake_case identifiers the map knows (and grade codes) are replaced; participants' words
    are never passed through here.

    Examples
    --------
    >>> humanise("qualitative_only: no linked metric at shipping_form", {"shipping_form": "Shipping form"})
    'Interviews only: no linked metric at shipping form'
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    s = str(text)
    keys = sorted((k for k in {**GRADE_NAMES, **names} if "_" in k or ":" in k), key=len, reverse=True)
    if not keys:
        return s
    table = {**GRADE_NAMES, **names}

    def repl(m):
        k = m.group(0)
        v = table[k]
        at_start = m.start() == 0 or s[max(0, m.start() - 2):m.start()] in (". ", ": ")
        return v if at_start or v[:2].isupper() else v[:1].lower() + v[1:]  # "CSAT …" keeps its capitals

    pat = re.compile(r"(?<![\w:])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w])")
    s = pat.sub(repl, s)
    s = re.sub(r"\bCSAT ([a-z][a-z ]*?) top-2", lambda m: f"satisfaction with {m.group(1)}: top-2", s)
    return s


# ----------------------------------------------------------------------------- numbers


def study_sentence(jmap, study=None) -> str:
    """The study in one sentence: who, how many, which data, over which period."""
    m = jmap.methods or {}
    sm = m.get("sample", {})
    bits = []
    if sm.get("participants"):
        bits.append(f"{sm['participants']} interviews")
    if sm.get("survey_responses"):
        bits.append(f"{sm['survey_responses']:,} survey answers")
    if sm.get("event_users"):
        span = ""
        if sm.get("events_from") and sm.get("events_to"):
            a, b = pd.Timestamp(sm["events_from"]), pd.Timestamp(sm["events_to"])
            weeks = max(1, round((b - a).days / 7))
            span = f" over {weeks} week{'s' if weeks != 1 else ''} ({a:%d %b} to {b:%d %b %Y})"
        bits.append(f"the journeys of {sm['event_users']:,} users in the event log{span}")
    name = m.get("study") or (study.name if study is not None else jmap.title)
    stages = [display_name(s).lower() for s in m.get("stages", jmap.stage_names)]
    what = ", ".join(bits[:-1]) + (" and " if len(bits) > 1 else "") + (bits[-1] if bits else "")
    path = f" across {len(stages)} stages ({' → '.join(stages)})" if stages else ""
    return f"{name}: {what or 'no data'}{path}."


def headline_metrics(study) -> pd.DataFrame:
    """The study's headline metrics with 95% intervals, as the run's notebooks compute them.

    Returns
    -------
    DataFrame
        One row per metric: ``metric`` (``nps``, ``conversion``, ``csat:<column>``,
        ``task:<task>``, ``questionnaire:<scale>``), ``label``, ``value``, ``ci_low``, ``ci_high``
        (NPS in points; shares in 0–1; questionnaire scores on their scale), ``n``, ``unit``
        (``points``, ``share`` or ``score``), ``text`` (the number as the report shows it), ``source``
        (the run's CSV file holding it: ``nps.csv``, ``funnel_steps.csv``, ``csat.csv``, ``tasks.csv``,
        ``questionnaire_summary.csv``), ``method``. Empty (with these columns) for a study with none.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab.map.decision import headline_metrics
    >>> h = headline_metrics(jl.load_study(jl.datasets.sample_study_path()))
    >>> h["metric"].iloc[0]
    'nps'
    """
    rows = []
    sv = study.survey
    if study.nps_column and study.nps_column in sv.columns and sv[study.nps_column].notna().any():
        r = nps(sv, score=study.nps_column).iloc[0]
        rows.append({"metric": "nps", "label": "Net Promoter Score", "value": r["nps"], "ci_low": r["ci_low"],
                     "ci_high": r["ci_high"], "n": int(r["n"]), "unit": "points",
                     "text": f"{r['nps']:+.1f}", "source": "nps.csv", "method": str(r.get("method", ""))})
    if len(study.events) and study.funnel_steps:
        f = funnel(study.events, steps=study.funnel_steps, window=study.funnel_window).steps
        last = f.iloc[-1]
        conv = (study.vocabulary or {}).get("conversion", "conversions")
        rows.append({"metric": "conversion", "label": f"Funnel conversion ({display_name(f['step'].iloc[0]).lower()}"
                     f" to {display_name(last['step']).lower()})", "value": last["conversion_from_start"],
                     "ci_low": last["from_start_ci_low"], "ci_high": last["from_start_ci_high"],
                     "n": int(f["users"].iloc[0]), "unit": "share",
                     "text": f"{100 * last['conversion_from_start']:.1f}%",
                     "source": "funnel_steps.csv",
                     "method": f"unique users, ordered steps within {study.funnel_window} of the first; "
                               "Wilson interval",
                     "conversion_word": conv})
    cols = study.csat_columns
    present = ({c: t for c, t in cols.items() if c in sv.columns} if isinstance(cols, dict)
               else [c for c in (cols or []) if c in sv.columns])
    if present:   # study.yml may name CSAT columns of a survey the study does not have
        cs = csat(sv, columns=present, scale=study.csat_scale)
        for r in cs.to_dict("records"):
            rows.append({"metric": f"csat:{r['column']}",
                         "label": f"Satisfaction with {_plain(r['touchpoint']).lower()}",
                         "value": r["top_box_share"], "ci_low": r["top_box_ci_low"], "ci_high": r["top_box_ci_high"],
                         "n": int(r["n"]), "unit": "share", "text": f"{100 * r['top_box_share']:.0f}%",
                         "source": "csat.csv",
                         "method": f"share answering {r['top_box']} (top-2 box); Wilson interval"})
    tasks = getattr(study, "tasks", None)
    if tasks is not None and len(tasks):
        for r in task_metrics(tasks).to_dict("records"):
            rows.append({"metric": f"task:{r['task']}", "label": f"Task {r['task']} completed unaided",
                         "value": r["success_rate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                         "n": int(r["n"]), "unit": "share",
                         "text": f"{int(r['successes'])} of {int(r['n'])}", "source": "tasks.csv",
                         "method": f"share of participants who completed the task unaided; {r['method']}"})
    if getattr(study, "questionnaire", None) is not None:
        q = study_questionnaire(study, summary=True)
        if q is not None and len(q):
            q = questionnaire_signals(q, targets=study_targets(study))
        for r in ([] if q is None else q.to_dict("records")):
            name = str(r["scale"]).upper() if len(str(r["scale"])) <= 6 else display_name(r["scale"])
            grade = f", grade {r['grade']}" if isinstance(r.get("grade"), str) and r["grade"] else ""
            if not pd.isna(r["target"]):
                where = "study target" if r["target_source"].startswith("study.yml") else "published average"
                grade += f"; {where} {r['target']:g}: {r['signal']}"
            rows.append({"metric": f"questionnaire:{r['scale']}", "label": f"{name} score (questionnaire)",
                         "value": r["mean"], "ci_low": r["ci_low"], "ci_high": r["ci_high"], "n": int(r["n"]),
                         "unit": "score", "text": f"{r['mean']:.1f}{grade}", "source": "questionnaire_summary.csv",
                         "method": str(r["method"])})
    cols = ["metric", "label", "value", "ci_low", "ci_high", "n", "unit", "text", "source", "method"]
    out = pd.DataFrame(rows, columns=cols).astype({"metric": object, "label": object, "unit": object,
                                                    "text": object, "source": object, "method": object})
    return out[out["value"].notna()].reset_index(drop=True)  # a metric nobody answered has no headline


def change_effect(study) -> dict | None:
    """The before/after result of the study's recorded change (as notebook 05 computes it), or None.

    Returns
    -------
    dict or None
        ``name``, ``date``, ``touchpoint``, ``steps``, ``rate_before``, ``rate_after``,
        ``difference``, ``ci_low``, ``ci_high`` (shares), ``p_value``, ``n_before``, ``n_after``,
        ``beyond_noise`` (the interval excludes 0), ``source`` (the run's CSV file), ``method``,
        ``warnings``; or ``{"reason": ...}`` when the study has a change but no test applies;
        None when it records no change.
    """
    if not len(study.changes):
        return None
    design = change_design(study)
    if not design:
        return {"name": design.name, "date": design.date, "reason": design.reason}
    r = compare_periods(study.events, steps=design.steps, change_date=design.date, window=study.funnel_window).iloc[0]
    return {"name": design.name, "date": design.date, "touchpoint": design.touchpoint, "steps": list(design.steps),
            "rate_before": float(r["rate_control"]), "rate_after": float(r["rate_treatment"]),
            "difference": float(r["difference"]), "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]),
            "p_value": float(r["p_value"]), "n_before": int(r["n_control"]), "n_after": int(r["n_treatment"]),
            "beyond_noise": bool(r["ci_low"] > 0 or r["ci_high"] < 0),
            "source": "the before/after table of the metrics notebook (…_before_after.csv)",
            "method": str(r.get("method", "")), "design": str(r.get("design", "")),
            "warnings": str(r.get("warnings", "") or "")}


# ----------------------------------------------------------------------------- decisions


def _agreeing(r: dict) -> list[str]:
    """Which linked metrics show the problem, in words."""
    out = []
    for key in ("step", "csat", "nps"):
        if r.get(f"{key}_signal") == "problem":
            out.append(_METRIC_WORDS[key])
    return out


def _n(x) -> int:
    """A count that may be missing, as an int (missing: 0)."""
    try:
        return 0 if x is None or pd.isna(x) else int(x)
    except (TypeError, ValueError):
        return 0


def _people(r: dict) -> str:
    total = _n(r.get("n_participants_total"))
    return f"{_n(r.get('n_participants'))} of {total} people" if total else f"{_n(r.get('n_participants'))} people"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def confidence_sentence(r: dict) -> str:
    """A claim's confidence in words: "strong: 10 of 14 people and the funnel agree"."""
    g = r.get("grade")
    word = CONFIDENCE_WORDS.get(g, display_name(g).lower())  # a grade added later still reads as words
    people = _people(r)
    metrics = _agreeing(r)
    if g == "strong":
        return f"{word}: {_and([people] + (metrics or ['the numbers']))} agree"
    if g == "quantitative_only":
        return (f"{word}: {_and(metrics) if metrics else 'the numbers'} show{'s' if len(metrics) < 2 else ''} it; "
                f"only {people} raised it")
    if g == "qualitative_only":
        return f"{word}: {people} said it; no number confirms it yet"
    if g == "contradicted":
        return f"{word}: {people} said it, but the numbers rule it out"
    return f"{word}: {people} raised it and no number shows it"


def decisions(jmap, *, top: int = 3, recovery: float | None = None) -> pd.DataFrame:
    """The decisions the evidence supports: the best-ranked pain points that are not weak or contradicted.

    Returns
    -------
    DataFrame
        ``rank``, ``claim_id``, ``stage``, ``touchpoint``, ``title`` (the pain point's display
        name), ``decision`` (what to do, in words: the analyst's opportunity, else "Fix …"),
        ``owner``, ``grade``, ``confidence`` (in words), ``upside`` (sentence, may be empty),
        ``score``.
    """

    kw = {} if recovery is None else {"recovery": recovery}
    p = prioritise(jmap, **kw)
    p = p[~p["grade"].isin(["weak", "contradicted"])].head(top)
    ev = jmap.evidence.set_index("claim_id")
    names = names_of(jmap)
    rows = []
    for r in p.to_dict("records"):
        full = {**ev.loc[r["claim_id"]].to_dict(), **r} if r["claim_id"] in ev.index else r
        title = display_name(r["code"], names) if r["code"] else humanise(r["claim"], names)
        where = display_name(r["touchpoint"], names) if r["touchpoint"] else display_name(r["stage"], names)
        opp = r.get("opportunity")
        decision = humanise(opp, names) if isinstance(opp, str) and opp else f"Fix: {title.lower()}"
        rows.append({"rank": len(rows) + 1, "claim_id": r["claim_id"], "stage": r["stage"],
                     "touchpoint": r["touchpoint"], "title": f"{title} ({where.lower()})", "decision": decision,
                     "owner": r.get("owner") if isinstance(r.get("owner"), str) else None, "grade": r["grade"],
                     "confidence": confidence_sentence(full), "upside": humanise(r.get("upside") or "", names),
                     "score": r["score"]})
    return pd.DataFrame(rows, columns=["rank", "claim_id", "stage", "touchpoint", "title", "decision", "owner",
                                       "grade", "confidence", "upside", "score"])


def not_supported(jmap, *, effect: dict | None = None) -> list[dict]:
    """What the evidence does not support: contradicted claims, weak pain points, thin stages,
    upsides added across one step, and a change whose effect is not distinguishable from none.

    Parameters
    ----------
    jmap : JourneyMap
    effect : dict, optional
        :func:`change_effect` of the map's study.

    Returns
    -------
    list of dict
        ``claim_id`` (or None), ``text`` (a sentence).
    """
    names = names_of(jmap)
    out = []
    if effect and "difference" in effect and not effect["beyond_noise"]:
        out.append({"claim_id": None, "text": (
            f"That the change “{str(effect['name'] or effect['date'])}” moved the "
            f"{display_name(effect['steps'][1], names).lower()} step: its interval "
            f"({100 * effect['ci_low']:+.1f} to {100 * effect['ci_high']:+.1f} points, {effect['n_before']:,} and "
            f"{effect['n_after']:,} users) includes no change.")})
    c = jmap.claims()
    for r in c[c["grade"] == "contradicted"].to_dict("records"):
        rules_out = [w for k, w in _METRIC_WORDS.items() if r.get(f"{k}_signal") in ("healthy", "strength")]
        name = display_name(r["code"], names) if r["code"] else humanise(r["claim"], names)
        out.append({"claim_id": r["claim_id"], "text": (
            f"{name}: {_people(r)} said it, but "
            f"{_and(rules_out) if rules_out else 'the numbers'} show{'s' if len(rules_out) < 2 else ''} no problem "
            "— not a priority on this evidence.")})
    weak = c[(c["grade"] == "weak") & (c["kind"] == "pain_point")]
    if len(weak):
        out.append({"claim_id": None, "text": "Too little evidence to act on: " + ", ".join(
            f"{display_name(r['code'], names).lower() if r['code'] else humanise(r['claim'], names)} "
            f"({_people(r)}, no number shows it)"
            for r in weak.to_dict("records")) + "."})
    thin = jmap.emotion[~jmap.emotion["enough_data"]]["stage"].tolist() if len(jmap.emotion) else []
    if thin:
        out.append({"claim_id": None, "text": "How customers feel at " + _and(
            [display_name(s, names).lower() for s in thin]) + ": too few interviews to say."})
    steps = c[(c["kind"] == "pain_point") & c["step"].notna()]
    shared = steps.groupby("step")["claim_id"].count()
    for step, k in shared[shared > 1].items():
        out.append({"claim_id": None, "text": (
            f"Adding up the upsides of the {k} pain points at the {display_name(step, names).lower()} step: "
            "they share one drop-off.")})
    return out


# ----------------------------------------------------------------------------- sizing


def sizing_assumptions(study=None, jmap=None) -> dict:
    """The sizing assumptions the report uses, from study.yml ``sizing:`` (defaults otherwise).

    study.yml may hold::

        sizing:
          recovery: [0.05, 0.15]     # share of a step's drop-off a fix is assumed to recover: a range
                                     # (the upside's interval draws from it) or one share (default 0.05-0.15)
          value_per_conversion: 42   # what one more conversion is worth
          currency: EUR
          effort:                    # effort per opportunity (code or claim id -> e.g. weeks)
            shipping_form_tedious: 3
          effort_unit: team-weeks

    Returns
    -------
    dict
        ``recovery`` (the middle of the range), ``recovery_range`` ((low, high); a single share
        gives (share, share)), ``value_per_conversion`` (None when not given), ``currency``, ``effort``
        (dict), ``effort_unit``, ``source`` ("study.yml" or "default").
    """
    cfg = {}
    if study is not None and isinstance(getattr(study, "config", None), dict):
        cfg = study.config.get("sizing") or {}
    elif jmap is not None:
        cfg = (jmap.methods or {}).get("sizing") or {}
    if not isinstance(cfg, dict):
        raise JourneylabError(f"study.yml sizing: expected a mapping (recovery, value_per_conversion, currency, "
                              f"effort); found {cfg!r}")
    lo, hi = recovery_range(cfg.get("recovery", DEFAULT_RECOVERY), where="study.yml sizing: recovery:")
    val = cfg.get("value_per_conversion")
    if val is not None and (not isinstance(val, (int, float)) or val < 0):
        raise JourneylabError(f"study.yml sizing: value_per_conversion: expected a number ≥ 0; found {val!r}")
    effort = cfg.get("effort") or {}
    if not isinstance(effort, dict):
        raise JourneylabError(f"study.yml sizing: effort: expected a mapping (code -> effort); found {effort!r}")
    return {"recovery": (lo + hi) / 2, "recovery_range": (lo, hi),
            "recovery_source": "study.yml" if "recovery" in cfg else "default", "value_per_conversion": val,
            "currency": cfg.get("currency", ""),
            "effort": effort, "effort_unit": cfg.get("effort_unit", "weeks"),
            "source": "study.yml" if cfg else "default"}


def sensitivity(jmap, *, sizing: dict, shares=(0.05, 0.1, 0.2, 0.3), top: int = 3) -> pd.DataFrame:
    """Upside of the top decisions under several recovery shares (and its value, when known).

    Returns
    -------
    DataFrame
        One row per (decision, recovery share): ``claim_id``, ``title``, ``recovery``,
        ``upside_per_period`` (extra conversions per the study's period), ``value_per_period``
        (NaN without ``value_per_conversion``), ``effort``, ``value_per_effort``.
    """

    per = PERIOD_DAYS[vocabulary_of(jmap)["period"]] / 7
    d = decisions(jmap, top=top, recovery=sizing["recovery"])
    names = names_of(jmap)
    rows = []
    for share in sorted(set(shares) | {sizing["recovery"]}):
        p = prioritise(jmap, recovery=share).set_index("claim_id")
        for r in d.to_dict("records"):
            up = p.loc[r["claim_id"], "upside_per_week"] * per
            code = p.loc[r["claim_id"], "code"]
            eff = sizing["effort"].get(code, sizing["effort"].get(r["claim_id"]))
            val = up * sizing["value_per_conversion"] if sizing["value_per_conversion"] is not None else math.nan
            rows.append({"claim_id": r["claim_id"], "title": r["title"], "recovery": share, "upside_per_period": up,
                         "value_per_period": val, "effort": eff,
                         "value_per_effort": val / eff if eff and not pd.isna(val) else math.nan})
    out = pd.DataFrame(rows, columns=["claim_id", "title", "recovery", "upside_per_period", "value_per_period",
                                      "effort", "value_per_effort"])
    del names
    return out


def score_footnote(weights: dict | None = None) -> str:
    """The priority score's explanation, generated from the weights and grade values the score uses."""

    w = dict(SCORE_WEIGHTS)
    w.update(weights or {})
    total = sum(w.values())
    grades = ", ".join(f"{GRADE_NAMES[g].lower()} {v:g}" for g, v in sorted(GRADE_PRIORITY.items(),
                                                                           key=lambda kv: -kv[1]))
    return (f"Score = ({w['grade']:g} × grade + {w['share']:g} × share of participants raising it + "
            f"{w['sentiment']:g} × negativity of their sentiment + {w['size']:g} × size)"
            + (f" / {total:g}" if abs(total - 1) > 1e-9 else "")
            + f". Grade values: {grades}. Size = users lost a week at the linked funnel step (after the last "
            "recorded product change, when there is one) divided "
            "equally among the pain points linked to that step (so one drop-off is not counted twice), "
            "relative to the largest such loss; a pain point without a funnel step uses its recommendation-"
            "score gap / 100 instead. Missing parts count 0. The weights are a judgement.")


# ----------------------------------------------------------------------------- slide


def decision_slide(jmap, path, *, study=None, top: int = 3, dpi: int = 150) -> Path:
    """Draw the top decisions on one 16:9 slide (PNG or SVG) and write it to ``path``.

    Examples
    --------
    >>> import journeylab as jl, tempfile, pathlib          # doctest: +SKIP
    >>> decision_slide(jmap, pathlib.Path(tempfile.mkdtemp()) / "decisions.png")  # doctest: +SKIP
    """

    import matplotlib.pyplot as plt  # lazy: pyplot adds ~0.8 s to `import journeylab` (measured; docs/architecture.md)

    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        raise JourneylabError(f"decision_slide(): {path.name}: expected a .png or .svg file name.")
    d = decisions(jmap, top=top)
    fig = plt.figure(figsize=(13.33, 7.5), dpi=dpi)
    fig.patch.set_facecolor("white")
    fig.text(0.04, 0.93, fill(jmap.title, 80), fontsize=22, weight="bold", va="top", color="#1d1d1d",
             parse_math=False)
    y = 0.85
    if study is not None:
        h = headline_metrics(study)
        parts = [f"{r['label'].split(' (')[0]} {r['text']}" for r in h.to_dict("records")
                 if r["metric"] in ("nps", "conversion")]
        eff = change_effect(study)
        if eff and "difference" in eff:
            parts.append(f"{_plain(eff['name'] or 'the change')}: {100 * eff['rate_before']:.1f}% → "
                         f"{100 * eff['rate_after']:.1f}% ({100 * eff['difference']:+.1f} points)")
        if parts:
            line = fill(" · ".join(parts), 120)
            fig.text(0.04, y, line, fontsize=13, va="top", color="#444444", parse_math=False)
            y -= 0.04 * (line.count("\n") + 1) + 0.04
    fig.text(0.04, y, "What to do next", fontsize=17, weight="bold", va="top", color="#0072B2", parse_math=False)
    y -= 0.07
    if not len(d):
        fig.text(0.04, y, "No pain point has enough evidence to act on.", fontsize=15, va="top", parse_math=False)
    for r in d.to_dict("records"):
        fig.text(0.04, y, f"{r['rank']}.", fontsize=20, weight="bold", va="top", color="#D55E00", parse_math=False)
        head = fill(r["decision"] + (f" — {r['owner']}" if isinstance(r["owner"], str) else ""), 95)
        fig.text(0.08, y, head, fontsize=15, weight="bold", va="top", parse_math=False)
        n = head.count("\n") + 1
        lines = fill(f"{r['title']}. Confidence {r['confidence']}.", 120)
        fig.text(0.08, y - 0.045 * n, lines, fontsize=12.5, va="top", color="#333333", parse_math=False)
        y -= 0.045 * n + 0.04 * (lines.count("\n") + 1) + 0.05
    fig.text(0.04, 0.03, "Evidence: interviews, survey and event log; every claim with its quotes in the report.",
             fontsize=10, color="#5b5b5b")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, facecolor="white",
                metadata={"Software": "journeylab"} if path.suffix == ".png" else None)
    plt.close(fig)
    return path

