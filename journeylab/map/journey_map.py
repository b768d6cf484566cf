"""The journey map: stages, lanes and the evidence behind every claim; versions and personas.

:class:`JourneyMap` is built from a study and its evidence table (:func:`journeylab.evidence_table`).
It holds the lanes practitioners expect on a journey canvas — persona card, goals, actions,
touchpoints, thoughts (real quotes), the emotion curve, pain points, delights, opportunities
(with the owning team per stage: the "backstage") and metrics — plus every claim's evidence,
the quotes' source context and a methods record. It saves to and loads from a documented JSON
file (``docs/journey-map.md``), draws itself (:meth:`JourneyMap.plot`) and writes a standalone
HTML report (:meth:`JourneyMap.to_html`).
"""
from __future__ import annotations

__all__ = ["JourneyMap", "compare_maps", "compare_personas", "prioritise", "load_notes", "SCHEMA",
           "SCHEMA_VERSION", "ALL_PERSONAS_WARNING"]

import html
import json
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..coding.reliability import agreement as _agreement
from ..errors import JourneylabError
from ..evidence.claims import (
    CLAIM_KINDS,
    EVIDENCE_COLUMNS,
    GRADES,
    GradingRules,
    questionnaire_signals,
    study_between,
    study_targets,
    touchpoint_metrics,
)
from ..measure.questionnaires import study_questionnaire
from ..study.load import DEFAULT_VOCABULARY, PERIOD_DAYS, check_study
from ..utils.checks import check_frame, check_path
from ..utils.docstrings import shared_docs
from ..utils.limits import load_yaml
from ..utils.provenance import file_hashes, package_versions

SCHEMA = "journeylab.journeymap"
SCHEMA_VERSION = 1
ALL_PERSONAS_WARNING = ("This map pools every persona. One map for all segments is accurate for none: "
                        "read it next to the per-persona maps before acting on it.")

_STR_COLS = ["claim_id", "stage", "touchpoint", "persona", "kind", "code", "metric", "claim", "quote_ids", "step",
             "step_from", "step_source", "csat_column", "csat_source", "nps_source", "step_signal", "csat_signal",
             "nps_signal", "grade", "grade_reason", "task", "task_signal", "task_source"]
_INT_COLS = ["stage_order", "n_participants", "n_participants_total", "n_segments", "task_n", "task_successes",
             "coded_n", "coded_n_pain", "coded_n_delight"]
_BOOL_COLS = ["qual_support", "quant_support", "emotion_disagree"]
GRADE_PRIORITY = {"strong": 1.0, "quantitative_only": 0.75, "mixed": 0.6, "qualitative_only": 0.5, "weak": 0.25,
                  "contradicted": 0.0}
#: The share of a step's drop-off a fix is assumed to recover when the study does not say (study.yml
#: ``sizing: recovery:``): a range, so the upside's interval carries the assumption; its middle is 0.1.
DEFAULT_RECOVERY = (0.05, 0.15)
#: Default weights of the parts of :func:`prioritise`'s score (the report's footnote is written from them).
SCORE_WEIGHTS = {"grade": 0.4, "share": 0.25, "sentiment": 0.15, "size": 0.2}


# ----------------------------------------------------------------------------- helpers


def _normalise_evidence(ev: pd.DataFrame) -> pd.DataFrame:
    """Evidence frame with canonical columns and dtypes (so JSON round trips are exact)."""
    ev = ev.copy()
    for col in EVIDENCE_COLUMNS:
        if col not in ev.columns:
            ev[col] = pd.NA
    extra = [c for c in ev.columns if c not in EVIDENCE_COLUMNS]
    ev = ev[EVIDENCE_COLUMNS + extra]
    for col in EVIDENCE_COLUMNS:
        s = ev[col]
        if col in _STR_COLS:
            ev[col] = pd.Series([None if _missing(v) else str(v) for v in s], index=ev.index, dtype=object)
        elif col in _INT_COLS:
            ev[col] = pd.array([None if _missing(v) else int(v) for v in s], dtype="Int64")
        elif col in _BOOL_COLS:
            ev[col] = pd.array([None if _missing(v) else bool(v) for v in s], dtype="boolean")
        else:
            ev[col] = pd.to_numeric(pd.Series([np.nan if _missing(v) else v for v in s], index=ev.index,
                                              dtype=object), errors="coerce").astype(float)
    return ev.reset_index(drop=True)


def _missing(v) -> bool:
    if v is None or v is pd.NA:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _jsonable(v):
    """Plain Python value for JSON (NaN/NA → None)."""
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return [_jsonable(x) for x in v.tolist()]
    if _missing(v):
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, (pd.Timestamp,)):
        return v.isoformat()
    return v


def _label(name) -> str:
    return str(name).replace("_", " ")


def load_notes(source) -> dict:
    """Read an analyst's notes file (``notes.yml``): goals, opportunities and owners per stage.

    Parameters
    ----------
    source : str, Path, dict or None
        A YAML file or an already parsed mapping. Format::

            personas:                      # optional: persona card text per persona ("all" too)
              bargain hunter:
                description: Waits for a sale ...
                goals: [Pay as little as possible]
            stages:
              purchase:
                owner: Checkout squad      # the team that owns the stage ("backstage")
                goals: [Pay quickly, no surprises]
                opportunities:
                  - text: Address lookup by postcode
                    code: shipping_form_tedious   # optional: the claim it answers
                    owner: Checkout squad         # optional: defaults to the stage's owner

    Returns
    -------
    dict
        ``{"personas": {...}, "stages": {stage: {"owner", "goals", "opportunities"}}}`` with
        every field present (empty when not given).
    """
    if source is None:
        return {"personas": {}, "stages": {}}
    where = "notes"
    if isinstance(source, (str, Path)):
        path = Path(check_path(source, arg="source", func="load_notes"))
        where = str(path)
        if not path.is_file():
            raise JourneylabError(f"notes file {path} not found.")
        try:
            data = load_yaml(path.read_text(encoding="utf-8"))[1] or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f", line {mark.line + 1}" if mark is not None else ""
            raise JourneylabError(f"{where}{line}: not valid YAML ({getattr(exc, 'problem', exc)}).") from None
    elif isinstance(source, dict):
        data = source
    else:
        raise JourneylabError(f"load_notes(): `source` must be a YAML file path, a mapping or None; got "
                              f"{type(source).__name__}.")
    if not isinstance(data, dict):
        raise JourneylabError(f"{where}: expected a mapping with `personas` and/or `stages`; found "
                              f"{type(data).__name__}.")
    unknown = sorted(set(data) - {"personas", "stages"})
    if unknown:
        raise JourneylabError(f"{where}: unknown top-level key {unknown[0]!r}; expected personas, stages.")
    out = {"personas": {}, "stages": {}}
    for name, p in (data.get("personas") or {}).items():
        if not isinstance(p, dict):
            raise JourneylabError(f"{where}: personas.{name} must be a mapping (description, goals); found {p!r}.")
        out["personas"][str(name)] = {"description": str(p.get("description") or ""),
                                      "goals": [str(g) for g in (p.get("goals") or [])]}
    for stage, st in (data.get("stages") or {}).items():
        if not isinstance(st, dict):
            raise JourneylabError(f"{where}: stages.{stage} must be a mapping (owner, goals, opportunities); "
                                  f"found {st!r}.")
        bad = sorted(set(st) - {"owner", "goals", "opportunities"})
        if bad:
            raise JourneylabError(f"{where}: stages.{stage}: unknown key {bad[0]!r}; expected owner, goals, "
                                  "opportunities.")
        opps = []
        for i, o in enumerate(st.get("opportunities") or []):
            if isinstance(o, str):
                o = {"text": o}
            if not isinstance(o, dict) or not o.get("text"):
                raise JourneylabError(f"{where}: stages.{stage}.opportunities[{i}] needs a `text`; found {o!r}.")
            opps.append({"text": str(o["text"]), "code": None if o.get("code") is None else str(o["code"]),
                         "owner": None if o.get("owner") is None else str(o["owner"])})
        out["stages"][str(stage)] = {"owner": None if st.get("owner") is None else str(st["owner"]),
                                     "goals": [str(g) for g in (st.get("goals") or [])], "opportunities": opps}
    return out


# ----------------------------------------------------------------------------- the map


# JourneyMap.plot and JourneyMap.to_html are drawn by the modules above this one (map/render.py,
# map/report.py), which import JourneyMap. Each registers its function here with @register_view
# when it is imported (journeylab.map imports both), so this module imports neither: no cycle.
_VIEWS: dict = {}


def register_view(name: str):
    """Decorator: the function draws a :class:`JourneyMap` as ``name`` (``"plot"``, ``"html"``)."""
    def register(func):
        _VIEWS[name] = func
        return func
    return register


class JourneyMap:
    """An evidence-backed customer journey map.

    Build one with :meth:`JourneyMap.build` (or load a saved one with :meth:`JourneyMap.load`);
    the constructor only stores what it is given.

    Attributes
    ----------
    title : str
    persona : str
        ``"all"`` for a map of every participant, else the persona's name.
    stages : list of dict
        ``name``, ``order``, ``touchpoints`` (list), ``owner`` (team, or None), in journey order.
    persona_card : dict
        ``name``, ``description``, ``goals``, ``needs`` (claims of kind need), ``participants``
        (ids the map rests on), ``n_participants``, ``attributes`` (counts per attribute value).
    goals : dict
        Stage → list of customer goals (analyst's notes, else the stage's needs).
    actions : dict
        Stage → list of ``{"event", "label", "users", "share", "users_total"}``: what users do there
        (event log); ``share`` is ``users`` of ``users_total``, every user in the event log.
    thoughts : dict
        Stage → list of ``{"segment_id", "participant_id", "claim_id", "text"}``: real (redacted) quotes.
    emotion : DataFrame
        ``stage``, ``stage_order``, ``mean``, ``ci_low``, ``ci_high``, ``n_segments``,
        ``n_participants``, ``enough_data`` (the words: lexicon sentiment), then the codes'
        balance (:func:`journeylab.coded_emotion`): ``coded_balance``, ``coded_ci_low``,
        ``coded_ci_high``, ``coded_n``, ``coded_n_pain``, ``coded_n_delight``, and ``disagree``
        (the two intervals on opposite sides of zero, :func:`journeylab.compare_emotion`).
    evidence : DataFrame
        The evidence table rows of this persona (see :func:`journeylab.evidence_table`).
    opportunities : DataFrame
        ``stage``, ``touchpoint``, ``text``, ``source`` (``analyst`` or ``codebook``), ``code``,
        ``claim_id``, ``owner``, ``grade``.
    quotes : dict
        Segment id → ``participant_id``, ``doc_id``, ``start``, ``end``, ``time_start`` (seconds
        into the recording, None when the transcript has no times), ``speaker``, ``text`` and
        ``context`` (the surrounding turns, each ``segment_id``, ``speaker``, ``speaker_role``,
        ``text``, ``is_quote``).
    methods : dict
        What was run: codebook, coders and agreement, sentiment settings, funnel definition,
        sample sizes, grading rules, period.
    manifest : dict
        Input file hashes, package versions and build parameters.
    warnings : list of str
        Printed on the map's face (the all-persona warning among them).
    """

    def __init__(self, *, title: str = "Journey map", persona: str = "all", stages=None, persona_card=None,
                 goals=None, actions=None, thoughts=None, emotion=None, evidence=None, opportunities=None,
                 quotes=None, methods=None, manifest=None, warnings=None):
        self.title = title
        self.persona = persona
        self.stages = stages if stages is not None else []
        self.persona_card = persona_card if persona_card is not None else {}
        self.goals = goals if goals is not None else {}
        self.actions = actions if actions is not None else {}
        self.thoughts = thoughts if thoughts is not None else {}
        self.emotion = emotion if emotion is not None else pd.DataFrame(columns=_EMOTION_COLS)
        self.evidence = evidence if evidence is not None else pd.DataFrame(columns=EVIDENCE_COLUMNS)
        self.opportunities = opportunities if opportunities is not None else pd.DataFrame(columns=_OPP_COLS)
        self.quotes = quotes if quotes is not None else {}
        self.methods = methods if methods is not None else {}
        self.manifest = manifest if manifest is not None else {}
        self.warnings = warnings if warnings is not None else []

    # ------------------------------------------------------------------ building

    @classmethod
    def build(cls, study, evidence: pd.DataFrame, *, persona: str | None = None, notes=None,
              title: str | None = None, n_thoughts: int = 3, context_turns: int = 2,
              agreement: bool = True) -> "JourneyMap":
        """Build the map of one persona (or of everyone) from a study and its evidence table.

        Parameters
        ----------
        study : Study
            The study the evidence was computed on (stages, events, segments, participants).
        evidence : DataFrame
            From :func:`journeylab.evidence_table`. Its rows for ``persona`` are used (for
            ``persona=None`` the rows whose ``persona`` is ``"all"``).
        persona : str, optional
            Build the map of this persona (the evidence table must hold its rows:
            ``evidence_table(..., persona=...)``). ``None``: every participant; the map then says
            on its face that one map for all segments is accurate for none.
        notes : str, Path, dict, optional
            The analyst's notes (:func:`load_notes`): goals, opportunities and owning team per
            stage. Default: ``study.notes`` (``notes.yml`` as :func:`load_study` read and
            redacted it), else ``notes.yml`` in the study folder, when there is one.
        title : str, optional
            Default: the study's name and the persona.
        n_thoughts : int, default 3
            Quotes per stage in the thoughts lane.
        context_turns : int, default 2
            Turns before and after each quote kept as its source context.
        agreement : bool, default True
            Compute inter-coder agreement for the methods record when the study holds two or
            more coders' codings.

        Returns
        -------
        JourneyMap

        Examples
        --------
        >>> import journeylab as jl
        >>> study = jl.load_study(jl.datasets.sample_study_path())
        >>> ev = jl.evidence_table(study, codings=jl.autocode(study.segments, codebook=study.codebook),
        ...                        persona=[None, "gift buyer"])
        >>> jmap = jl.JourneyMap.build(study, ev, persona="gift buyer")
        >>> jmap.persona_card["participants"]
        ['P03', 'P08', 'P12']
        >>> [s["owner"] for s in jmap.stages][2]  # from the study's notes.yml
        'Checkout squad'
        """
        func = "JourneyMap.build"
        check_study(study, func=func)
        check_frame(evidence, arg="evidence", func=func, required=["claim_id", "stage", "kind", "persona"],
                    allow_empty=True)
        label = "all" if persona is None else str(persona)
        ev = evidence[evidence["persona"].astype(str) == label]
        computed = evidence.attrs.get("journeylab", {}).get("personas") or []
        if len(ev) == 0 and len(evidence) and label not in computed:
            have = sorted(evidence["persona"].dropna().astype(str).unique())
            raise JourneylabError(f"{func}(): the evidence table has no rows for persona {label!r}; it holds "
                                  f"{', '.join(have)}. Run evidence_table(..., persona={persona!r}).")
        unknown = sorted(set(ev["stage"].dropna()) - set(study.stages))
        if unknown:
            raise JourneylabError(f"{func}(): stage(s) {', '.join(map(repr, unknown))} in `evidence` are not stages "
                                  f"of the study ({', '.join(study.stages)}).")
        ev = _normalise_evidence(ev)
        info = dict(evidence.attrs.get("journeylab", {}))
        if notes is None and getattr(study, "notes", None) is not None:
            notes = study.notes  # notes.yml as load_study read it: redacted like every user-written text
        elif notes is None and getattr(study, "path", None) is not None and (Path(study.path) / "notes.yml").is_file():
            notes = Path(study.path) / "notes.yml"
        nt = load_notes(notes)
        bad = sorted(set(nt["stages"]) - set(study.stages))
        if bad:
            raise JourneylabError(f"{func}(): notes name stage {bad[0]!r}, which is not a stage of the study "
                                  f"({', '.join(study.stages)}).")
        parts = study.participants
        if persona is not None:  # without a persona column, nobody has the persona
            parts = parts[parts["persona"] == persona] if "persona" in parts.columns else parts.iloc[:0]
        pids = sorted(parts["participant_id"].dropna().astype(str))

        stages = []
        for i, s in enumerate(study.stages):
            stages.append({"name": s, "order": i, "touchpoints": list(study.stage_touchpoints.get(s, [])),
                           "owner": nt["stages"].get(s, {}).get("owner")})
        claims = ev[ev["kind"].isin(CLAIM_KINDS)]
        # persona card
        pnote = nt["personas"].get(label, {})
        needs = claims[(claims["kind"] == "need") & claims["qual_support"].fillna(False).astype(bool)]
        attrs = {}
        for col in ("segment", "channel", "device"):
            if col in parts.columns:
                attrs[col] = {str(k): int(v) for k, v in parts[col].value_counts().sort_index().items()}
        n_personas = (study.participants["persona"].nunique()
                      if "persona" in getattr(study, "participants", pd.DataFrame()).columns else 0)
        everyone = "All personas" if n_personas > 1 else "Everyone"   # a study with one persona, or none
        persona_card = {
            "name": everyone if persona is None else str(persona),
            "description": pnote.get("description", ""),
            "goals": pnote.get("goals", []),
            "needs": [f"{r['claim']} ({r['n_participants']} of {r['n_participants_total']})"
                      for r in needs.sort_values("n_participants", ascending=False).to_dict("records")],
            "participants": pids, "n_participants": len(pids), "attributes": attrs,
        }
        # goals per stage
        goals = {}
        for s in study.stages:
            g = list(nt["stages"].get(s, {}).get("goals", []))
            if not g:
                g = [str(r["claim"]) for r in claims[(claims["stage"] == s) & (claims["kind"] == "need")
                                                     & claims["qual_support"].fillna(False).astype(bool)]
                     .to_dict("records")]
            goals[s] = g
        actions = _actions(study)
        quotes, thoughts = _quotes_and_thoughts(study, ev, n_thoughts, context_turns)
        emo = ev[ev["kind"] == "emotion"]
        emotion = pd.DataFrame({"stage": emo["stage"], "stage_order": emo["stage_order"].astype(int),
                                "mean": emo["sentiment_mean"], "ci_low": emo["sentiment_ci_low"],
                                "ci_high": emo["sentiment_ci_high"], "n_segments": emo["n_segments"].astype(int),
                                "n_participants": emo["n_participants"].astype(int),
                                "coded_balance": emo["coded_balance"], "coded_ci_low": emo["coded_ci_low"],
                                "coded_ci_high": emo["coded_ci_high"], "coded_n": emo["coded_n"],
                                "coded_n_pain": emo["coded_n_pain"], "coded_n_delight": emo["coded_n_delight"],
                                "disagree": emo["emotion_disagree"]})
        min_n = int(info.get("rules", {}).get("min_participants", GradingRules().min_participants))
        emotion["enough_data"] = emotion["n_participants"] >= min_n
        emotion = emotion.set_index("stage").reindex(study.stages).reset_index()
        emotion["stage_order"] = range(len(study.stages))
        emotion["n_segments"] = emotion["n_segments"].fillna(0).astype(int)
        emotion["n_participants"] = emotion["n_participants"].fillna(0).astype(int)
        emotion["enough_data"] = emotion["enough_data"].fillna(False).astype(bool)
        emotion = _normalise_emotion(emotion)
        opportunities = _opportunities(study, ev, nt)
        warnings = []
        if persona is None and n_personas > 1:  # one persona, or none: nothing is pooled
            warnings.append(ALL_PERSONAS_WARNING)
        thin = [s for s in emotion.loc[~emotion["enough_data"], "stage"]]
        if thin:
            warnings.append(f"Too little interview data for the emotion at: {', '.join(thin)} "
                            f"(fewer than {min_n} participants).")
        if len(pids) < 5:
            warnings.append(f"This map rests on {len(pids)} participant(s): treat it as a hypothesis.")
        if persona is not None and len(study.events) and "persona" not in study.events.columns:
            warnings.append("Actions and funnel steps are those of all users: the event log has no persona.")
        methods = _methods(study, ev, info, agreement, label)
        manifest = _manifest(study, info, label)
        title = title or f"{study.name} — {everyone.lower() if persona is None else persona}"
        return cls(title=title, persona=label, stages=stages, persona_card=persona_card, goals=goals,
                   actions=actions, thoughts=thoughts, emotion=emotion, evidence=ev, opportunities=opportunities,
                   quotes=quotes, methods=methods, manifest=manifest, warnings=warnings)

    # ------------------------------------------------------------------ views

    @property
    def stage_names(self) -> list:
        """Stage names in journey order."""
        return [s["name"] for s in self.stages]

    def claims(self, kind: str | None = None, stage: str | None = None) -> pd.DataFrame:
        """Claim rows of the evidence (pain points, delights, needs, behaviours), optionally filtered."""
        ev = self.evidence[self.evidence["kind"].isin(CLAIM_KINDS)]
        if kind is not None:
            ev = ev[ev["kind"] == kind]
        if stage is not None:
            ev = ev[ev["stage"] == stage]
        return ev.reset_index(drop=True)

    @property
    def pain_points(self) -> pd.DataFrame:
        """Pain-point claims, best supported first within each stage."""
        return order_claims(self.claims("pain_point"))

    @property
    def delights(self) -> pd.DataFrame:
        """Delight claims, best supported first within each stage."""
        return order_claims(self.claims("delight"))

    @property
    def metrics(self) -> pd.DataFrame:
        """The touchpoint metric rows (funnel steps, CSAT) of the evidence."""
        return self.evidence[self.evidence["kind"] == "metric"].reset_index(drop=True)

    def prioritise(self, **kwargs) -> pd.DataFrame:
        """Ranked pain points with an upside estimate; see :func:`journeylab.prioritise`."""
        return prioritise(self, **kwargs)

    def plot(self, **kwargs):
        """Draw the map (:func:`journeylab.plot_map`); returns the matplotlib Figure."""
        return _VIEWS["plot"](self, **kwargs)

    def to_html(self, path, **kwargs):
        """Write the standalone HTML report (:func:`journeylab.map.report.to_html`); returns the path."""
        return _VIEWS["html"](self, path, **kwargs)

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict:
        """The map as the JSON-ready mapping documented in ``docs/journey-map.md``."""
        ev = self.evidence
        return _jsonable({
            "schema": SCHEMA, "schema_version": SCHEMA_VERSION, "title": self.title, "persona": self.persona,
            "stages": self.stages, "persona_card": self.persona_card, "goals": self.goals, "actions": self.actions,
            "thoughts": self.thoughts,
            "emotion": self.emotion.reindex(columns=_EMOTION_COLS).to_dict("records"),
            "evidence": {"columns": list(ev.columns), "rows": ev.to_numpy(dtype=object).tolist()},
            "opportunities": self.opportunities[_OPP_COLS].to_dict("records"),
            "quotes": self.quotes, "methods": self.methods, "manifest": self.manifest, "warnings": self.warnings,
        })

    def save(self, path) -> Path:
        """Write the map as JSON (UTF-8, sorted keys are not used: the order is the schema's).

        Parameters
        ----------
        path : str or Path
            Target file (``.json``).

        Returns
        -------
        Path
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1, allow_nan=False) + "\n",
                        encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "map") -> "JourneyMap":
        """A map from :meth:`to_dict` output (checks the schema and its version)."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise JourneylabError(f"{source}: not a journeylab journey map (expected \"schema\": \"{SCHEMA}\"; "
                                  f"found {data.get('schema') if isinstance(data, dict) else type(data).__name__!r}).")
        ver = data.get("schema_version")
        if not isinstance(ver, int) or ver > SCHEMA_VERSION or ver < 1:
            raise JourneylabError(f"{source}: schema_version {ver!r} is not supported (this journeylab reads "
                                  f"1 to {SCHEMA_VERSION}); upgrade journeylab.")
        missing = [k for k in ("stages", "evidence", "emotion") if k not in data]
        if missing:
            raise JourneylabError(f"{source}: missing key(s) {', '.join(missing)}.")
        evd = data["evidence"]
        ev = pd.DataFrame(evd.get("rows", []), columns=evd.get("columns", EVIDENCE_COLUMNS))
        ev = _normalise_evidence(ev)
        emo = _normalise_emotion(pd.DataFrame(data["emotion"], columns=_EMOTION_COLS))
        opp = _normalise_opportunities(pd.DataFrame(data.get("opportunities", []), columns=_OPP_COLS))
        return cls(title=data.get("title", "Journey map"), persona=data.get("persona", "all"), stages=data["stages"],
                   persona_card=data.get("persona_card", {}), goals=data.get("goals", {}),
                   actions=data.get("actions", {}), thoughts=data.get("thoughts", {}), emotion=emo, evidence=ev,
                   opportunities=opp, quotes=data.get("quotes", {}), methods=data.get("methods", {}),
                   manifest=data.get("manifest", {}), warnings=data.get("warnings", []))

    @classmethod
    def load(cls, path) -> "JourneyMap":
        """Read a map written by :meth:`save`.

        Raises
        ------
        JourneylabError
            When the file is not valid JSON or not a journey map of a supported schema version.
        """
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise JourneylabError(f"journey map file {path} not found.") from None
        except json.JSONDecodeError as exc:
            raise JourneylabError(f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON "
                                  f"({exc.msg}).") from None
        return cls.from_dict(data, source=str(path))

    def __eq__(self, other) -> bool:
        if not isinstance(other, JourneyMap):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    # ------------------------------------------------------------------ display

    def __repr__(self) -> str:
        c = self.claims()
        grades = c["grade"].value_counts()
        g = ", ".join(f"{k} {grades.get(k, 0)}" for k in GRADES if grades.get(k, 0))
        return (f"JourneyMap({self.title!r}, persona={self.persona!r}, {len(self.stages)} stages, "
                f"{len(c)} claims: {g or 'none'})")

    def _repr_html_(self) -> str:
        e = html.escape
        out = [f"<div class='jl-map'><p><b>{e(self.title)}</b> — persona: {e(self.persona)}, "
               f"{self.persona_card.get('n_participants', 0)} participants</p>"]
        for w in self.warnings:
            out.append(f"<p style='color:#a04000'>⚠ {e(w)}</p>")
        out.append("<table><thead><tr><th>stage</th><th>emotion: words; codes (95% CI)</th><th>pain points</th>"
                   "<th>delights</th><th>key metric</th></tr></thead><tbody>")
        for s in self.stage_names:
            em = self.emotion[self.emotion["stage"] == s]
            emo = ""
            if len(em) and not pd.isna(em["mean"].iloc[0]):
                r = em.iloc[0]
                emo = f"{r['mean']:+.2f}" + (
                    "" if pd.isna(r["ci_low"]) else f" ({r['ci_low']:+.2f} to {r['ci_high']:+.2f})")
            if len(em) and not pd.isna(em["coded_balance"].iloc[0] if "coded_balance" in em else math.nan):
                r = em.iloc[0]
                emo += (f"; codes {r['coded_balance']:+.2f} ({r['coded_ci_low']:+.2f} to {r['coded_ci_high']:+.2f})"
                        + (" ⚠ they disagree" if bool(r["disagree"]) else ""))
            pp = "<br>".join(f"{e(_label(r['code'] or r['metric']))} · {e(str(r['grade']))}"
                             for r in order_claims(self.claims("pain_point", s)).to_dict("records"))
            de = "<br>".join(f"{e(_label(r['code']))} · {e(str(r['grade']))}"
                             for r in order_claims(self.claims("delight", s)).to_dict("records"))
            m = self.metrics[self.metrics["stage"] == s]
            km = "<br>".join(e(str(x)) for x in m["claim"].head(2))
            out.append(f"<tr><td>{e(s)}</td><td>{e(emo)}</td><td>{pp}</td><td>{de}</td><td>{km}</td></tr>")
        out.append("</tbody></table></div>")
        return "".join(out)


_EMOTION_COLS = ["stage", "stage_order", "mean", "ci_low", "ci_high", "n_segments", "n_participants", "enough_data",
                 "coded_balance", "coded_ci_low", "coded_ci_high", "coded_n", "coded_n_pain", "coded_n_delight",
                 "disagree"]


def _normalise_emotion(emo: pd.DataFrame) -> pd.DataFrame:
    """The emotion lane's frame with its columns and dtypes (a map saved before the coded balance lacks it)."""
    emo = emo.reindex(columns=_EMOTION_COLS)
    emo = emo.astype({"stage_order": int, "n_segments": int, "n_participants": int})
    emo["enough_data"] = emo["enough_data"].fillna(False).astype(bool)
    emo["disagree"] = emo["disagree"].astype(object).where(emo["disagree"].notna(), False).astype(bool)
    for c in ("mean", "ci_low", "ci_high", "coded_balance", "coded_ci_low", "coded_ci_high"):
        emo[c] = pd.to_numeric(emo[c], errors="coerce").astype(float)
    for c in ("coded_n", "coded_n_pain", "coded_n_delight"):
        emo[c] = pd.array([None if _missing(v) else int(v) for v in emo[c]], dtype="Int64")
    return emo.reset_index(drop=True)
_OPP_COLS = ["stage", "touchpoint", "text", "source", "code", "claim_id", "owner", "grade"]


def order_claims(c: pd.DataFrame) -> pd.DataFrame:
    if len(c) == 0:
        return c
    pr = c["grade"].map(GRADE_PRIORITY).fillna(-1)
    return (c.assign(_p=pr).sort_values(["stage_order", "_p", "share_participants", "claim_id"],
                                        ascending=[True, False, False, True], kind="stable")
            .drop(columns="_p").reset_index(drop=True))


def _actions(study, top: int = 4) -> dict:
    ev = study.events
    out = {s: [] for s in study.stages}
    if len(ev) == 0 or study.events_map is None or len(study.events_map) == 0:
        return out
    users = ev.groupby("event", observed=True)["user_id"].nunique()
    total = ev["user_id"].nunique()
    em = study.events_map
    for s in study.stages:
        evs = em.loc[em["stage"] == s, "event"].tolist()
        rows = [(e, int(users.get(e, 0))) for e in evs if users.get(e, 0) > 0]
        rows.sort(key=lambda r: -r[1])
        out[s] = [{"event": e, "label": _label(e).capitalize(), "users": n, "share": n / total if total else None,
                   "users_total": int(total)}
                  for e, n in rows[:top]]
    return out


def _quotes_and_thoughts(study, ev: pd.DataFrame, n_thoughts: int, context_turns: int):
    seg = study.segments.copy()
    seg["segment_id"] = seg["segment_id"].astype(str)
    seg = seg.drop_duplicates("segment_id")
    by_id = seg.set_index("segment_id")
    claims = order_claims(ev[ev["kind"].isin(CLAIM_KINDS)])
    quotes, thoughts = {}, {s: [] for s in study.stages}
    wanted = []
    for r in claims.to_dict("records"):
        for q in [x.strip() for x in str(r["quote_ids"] or "").split(";") if x.strip()]:
            wanted.append((r, q))
    for r, q in wanted:
        if q not in by_id.index:
            continue
        s = by_id.loc[q]
        if q not in quotes:
            doc = seg[seg["doc_id"] == s["doc_id"]].sort_values("turn")
            pos = list(doc["segment_id"]).index(q)
            ctx = doc.iloc[max(0, pos - context_turns): pos + context_turns + 1]
            quotes[q] = {"participant_id": None if _missing(s["participant_id"]) else str(s["participant_id"]),
                         "doc_id": str(s["doc_id"]), "start": int(s["start"]), "end": int(s["end"]),
                         "speaker": str(s.get("speaker", "")), "text": str(s["text"]),
                         "time_start": None if _missing(s.get("time_start")) else float(s["time_start"]),
                         "context": [{"segment_id": c["segment_id"], "speaker": str(c.get("speaker", "")),
                                      "speaker_role": str(c.get("speaker_role", "")), "text": str(c["text"]),
                                      "is_quote": c["segment_id"] == q}
                                     for c in ctx.to_dict("records")]}
    # thoughts: best claims' first quotes, one per claim, emotional claims (pain/delight) first
    used = set()  # a turn coded for claims of several stages is shown once, at its first stage
    for st in study.stages:
        voices = set()  # prefer a participant not yet heard at this stage
        for r in claims[claims["stage"] == st].to_dict("records"):
            if r["grade"] in ("weak",) or not r["quote_ids"]:
                continue
            cands = [q for q in (x.strip() for x in r["quote_ids"].split(";")) if q in quotes and q not in used]
            if not cands:
                continue
            q = next((c for c in cands if quotes[c]["participant_id"] not in voices), cands[0])
            thoughts[st].append({"segment_id": q, "participant_id": quotes[q]["participant_id"],
                                 "claim_id": r["claim_id"], "text": quotes[q]["text"]})
            used.add(q)
            voices.add(quotes[q]["participant_id"])
            if len(thoughts[st]) >= n_thoughts:
                break
    return quotes, thoughts


def _opportunities(study, ev: pd.DataFrame, nt: dict) -> pd.DataFrame:
    rows = []
    claims = ev[ev["kind"] == "pain_point"]
    by_code = {r["code"]: r for r in claims.to_dict("records") if r["code"]}
    noted = set()
    for s in study.stages:
        st = nt["stages"].get(s, {})
        for o in st.get("opportunities", []):
            r = by_code.get(o["code"]) if o["code"] else None
            noted.add(o["code"])
            rows.append({"stage": s, "touchpoint": r["touchpoint"] if r else None, "text": o["text"],
                         "source": "analyst", "code": o["code"], "claim_id": r["claim_id"] if r else None,
                         "owner": o["owner"] or st.get("owner"), "grade": r["grade"] if r else None})
    cb = study.codebook
    for r in order_claims(claims).to_dict("records"):
        if r["grade"] not in ("strong", "quantitative_only", "qualitative_only") or r["code"] in noted:
            continue
        if r["code"]:
            definition = cb[r["code"]].definition if cb is not None and r["code"] in cb else r["claim"]
            text = f"Fix: {definition[0].lower() + definition[1:] if definition else _label(r['code'])}"
        else:
            text = f"Find out why: {r['claim']}"
        rows.append({"stage": r["stage"], "touchpoint": r["touchpoint"], "text": text, "source": "codebook",
                     "code": r["code"], "claim_id": r["claim_id"],
                     "owner": nt["stages"].get(r["stage"], {}).get("owner"), "grade": r["grade"]})
    return _normalise_opportunities(pd.DataFrame(rows, columns=_OPP_COLS))


def _normalise_opportunities(opp: pd.DataFrame) -> pd.DataFrame:
    opp = opp.reindex(columns=_OPP_COLS)
    return pd.DataFrame({c: pd.Series([None if _missing(v) else str(v) for v in opp[c]], dtype=object)
                         for c in _OPP_COLS}).reset_index(drop=True)


_AGREEMENT_CACHE: dict = {}


def _overall_agreement(codings: pd.DataFrame, segments: pd.DataFrame) -> pd.Series:
    """Pooled agreement of the study's coders (cached on the frames' content: persona maps share it)."""
    key = (int(pd.util.hash_pandas_object(codings.astype(str), index=False).sum()),
           int(pd.util.hash_pandas_object(segments[["segment_id"]].astype(str), index=False).sum()))
    if key not in _AGREEMENT_CACHE:
        a = _agreement(codings, segments=segments, n_boot=200, random_state=0)
        _AGREEMENT_CACHE.clear()
        _AGREEMENT_CACHE[key] = a[a["code"] == "(overall)"].iloc[0]
    return _AGREEMENT_CACHE[key]


def _methods(study, ev: pd.DataFrame, info: dict, agreement: bool, persona: str) -> dict:
    cb = study.codebook
    m: dict[str, Any] = {"study": study.name, "persona": persona, "stages": list(study.stages)}
    m["codebook"] = {"name": getattr(cb, "name", None), "version": getattr(cb, "version", None),
                     "n_codes": len(cb) if cb is not None else 0}
    cod = dict(info.get("codings", {}))
    m["codings"] = cod
    m["agreement"] = None
    coders = sorted(study.codings["coder"].dropna().unique()) if len(study.codings) else []
    if agreement and len(coders) >= 2:
        try:
            o = _overall_agreement(study.codings, study.segments)
            m["agreement"] = {"coders": coders, "n_units": int(o["n_units"]),
                              "cohen_kappa": _jsonable(o["cohen_kappa"]), "ci_low": _jsonable(o["ci_low"]),
                              "ci_high": _jsonable(o["ci_high"]),
                              "krippendorff_alpha": _jsonable(o["krippendorff_alpha"]),
                              "interpretation": str(o["interpretation"]),
                              "documents": sorted(study.segments.loc[study.segments["segment_id"].isin(
                                  study.codings["segment_id"]), "doc_id"].unique().tolist())}
        except JourneylabError as exc:  # e.g. coders who saw no common segment
            m["agreement"] = {"coders": coders, "error": str(exc)}
    m["sentiment"] = info.get("sentiment", {})
    m["survey_coding"] = info.get("survey_coding")
    m["funnel"] = {"steps": [s if isinstance(s, str) else list(s) for s in (study.funnel_steps or [])],
                   "window": study.funnel_window, "counting": "unique users, ordered steps, window from step 1"}
    ts = pd.to_datetime(study.events["timestamp"]) if len(study.events) else pd.Series([], dtype="datetime64[ns]")
    sv = study.survey
    parts = study.participants
    if persona != "all" and "persona" in parts.columns:
        parts = parts[parts["persona"] == persona]
        if "persona" in sv.columns:
            sv = sv[sv["persona"] == persona]
    pids = set(parts["participant_id"])
    seg = study.segments[study.segments["participant_id"].isin(pids)]
    m["sample"] = {
        "participants": len(pids),
        "transcripts": int(study.documents["participant_id"].isin(pids).sum()),
        "participant_turns": int(len(seg)),
        "survey_responses": int(len(sv)),
        "survey_comments": int(sv["comment"].astype("string").fillna("").str.strip().ne("").sum())
        if "comment" in sv.columns else 0,
        "event_users": int(study.events["user_id"].nunique()) if len(study.events) else 0,
        "events": int(len(study.events)),
        "events_from": ts.min().isoformat() if len(ts) else None,
        "events_to": ts.max().isoformat() if len(ts) else None,
    }
    m["rules"] = info.get("rules", GradingRules().to_dict())
    m["targets"] = info.get("targets", study_targets(study))
    # the rules as the sentences the report prints (GradingRules.describe, with the study's targets)
    m["rules_text"] = GradingRules.from_dict(m["rules"]).describe(m["targets"])
    m["period"] = study.config.get("period") if isinstance(study.config, dict) else None
    m["sizing"] = study.config.get("sizing") if isinstance(study.config, dict) else None
    ch = study.changes
    m["changes"] = [{"date": str(pd.Timestamp(r["date"]).date()), "name": r["name"], "stage": r.get("stage"),
                     "touchpoint": r.get("touchpoint")} for r in ch.to_dict("records")] if len(ch) else []
    m["claims"] = {g: int((ev["grade"] == g).sum()) for g in GRADES}
    m["usability"] = _usability_methods(study, sv)
    m["ranking"] = _ranking_period(study, persona)
    return _jsonable(m)


def _ranking_period(study, persona: str) -> dict | None:
    """The funnel after the last recorded change, which :func:`prioritise` ranks on (None without a change).

    Before a change the funnel described another product: a drop-off a fix already cut would
    otherwise still size its pain point. Returns the change (``change``, ``date``), the events
    after it (``events``, ``events_from``, ``events_to``) and, per funnel step, ``lost``,
    ``lost_per_week``, ``to_end`` and ``to_end_n`` on those events (``steps``; empty, with a
    ``note``, when no event follows the change).
    """
    ch = study.changes
    if not len(ch) or not len(study.events) or not study.funnel_steps:
        return None
    last = ch.assign(_d=pd.to_datetime(ch["date"])).sort_values("_d", kind="stable").iloc[-1]
    out = {"change": str(last["name"] or "the change"), "date": str(pd.Timestamp(last["date"]).date()),
           "events": 0, "events_from": None, "events_to": None, "steps": {}, "note": ""}
    part = study_between(study, start=last["date"])
    if not len(part.events):
        out["note"] = "no event follows the change: ranked on the whole period"
        return out
    ts = pd.to_datetime(part.events["timestamp"])
    out.update(events=int(len(part.events)), events_from=ts.min().isoformat(), events_to=ts.max().isoformat())
    tm = touchpoint_metrics(part, persona=None if persona == "all" else persona)
    for r in tm[tm["metric"] == "step"].to_dict("records"):
        out["steps"][str(r["name"])] = {k: _jsonable(r[k]) for k in ("lost", "lost_per_week", "to_end", "to_end_n")}
    return out


def _usability_methods(study, survey) -> dict | None:
    """What a usability study adds to the methods: tasks, session stages, the questionnaire's score."""
    tasks = getattr(study, "tasks", None)
    ss = getattr(study, "segment_stages", None)
    q = getattr(study, "questionnaire", None)
    if (tasks is None or not len(tasks)) and ss is None and q is None:
        return None
    out: dict[str, Any] = {}
    if tasks is not None and len(tasks):
        out["tasks"] = {"n_tasks": int(tasks["task"].nunique()), "n_attempts": int(len(tasks)),
                        "method": "success unaided (assisted counts as not), adjusted-Wald 95% CI; time on task of "
                                  "successful attempts, geometric mean with a t interval on log times"}
    if ss is not None:
        out["session_stages"] = {"n_turns": int(len(ss)),
                                 "sources": sorted(str(x) for x in ss["source"].dropna().unique())}
    if q is not None and len(survey):
        summ = study_questionnaire(replace(study, survey=survey), summary=True)
        summ = questionnaire_signals(summ, targets=study_targets(study)) if len(summ) else summ
        out["questionnaire"] = {"instrument": q["instrument"], "stage": q.get("stage"), "scales": [
            {"scale": r["scale"], "n": int(r["n"]), "mean": r["mean"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
             "grade": r.get("grade") if isinstance(r.get("grade"), str) else None,
             "target": None if pd.isna(r.get("target", math.nan)) else r["target"],
             "target_source": r.get("target_source"), "signal": r.get("signal")}
            for r in summ.to_dict("records")]}
    return out


def _manifest(study, info: dict, persona: str) -> dict:
    inputs = {}
    if getattr(study, "path", None) is not None and Path(study.path).is_dir():
        inputs = file_hashes(study.path)
    return _jsonable({"study": Path(study.path).name if getattr(study, "path", None) else None, "inputs": inputs,
                      "versions": package_versions(),
                      "parameters": {"persona": persona, "period": (study.config or {}).get("period"),
                                     "vocabulary": dict(getattr(study, "vocabulary", None) or DEFAULT_VOCABULARY),
                                     **{k: v for k, v in info.items() if k in ("rules", "n_quotes", "n_boot",
                                                                               "random_state", "sentiment")}}})


# ----------------------------------------------------------------------------- prioritising


def vocabulary_of(obj, vocabulary: dict | None = None) -> dict:
    """What a map's study calls a conversion and its period (``vocabulary`` overrides it).

    Examples
    --------
    >>> vocabulary_of(None, {"conversion": "sign-ups"})
    {'conversion': 'sign-ups', 'period': 'week'}
    """
    vocab = dict(DEFAULT_VOCABULARY)
    if isinstance(obj, JourneyMap):
        vocab.update((obj.manifest.get("parameters") or {}).get("vocabulary") or {})
    if vocabulary is not None:
        if not isinstance(vocabulary, dict) or set(vocabulary) - set(DEFAULT_VOCABULARY):
            raise JourneylabError(f"vocabulary: expected a dict with keys {', '.join(DEFAULT_VOCABULARY)}; "
                                  f"got {vocabulary!r}")
        vocab.update(vocabulary)
    if vocab["period"] not in PERIOD_DAYS:
        raise JourneylabError(f"vocabulary period: expected one of {', '.join(PERIOD_DAYS)}; got {vocab['period']!r}")
    return vocab


def recovery_range(value, *, where: str = "prioritise(): `recovery`") -> tuple[float, float]:
    """A recovery assumption as (low, high): a share in (0, 1] gives (share, share).

    Examples
    --------
    >>> recovery_range(0.1), recovery_range([0.05, 0.2])
    ((0.1, 0.1), (0.05, 0.2))
    """
    if isinstance(value, (tuple, list)):
        if (len(value) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value)
                and 0 < value[0] <= value[1] <= 1):
            return float(value[0]), float(value[1])
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 1:
        return float(value), float(value)
    raise JourneylabError(f"{where} must be a share in (0, 1] or a range (low, high) of them with low <= high; "
                          f"got {value!r}.")


def _evidence_of(obj) -> pd.DataFrame:
    if isinstance(obj, JourneyMap):
        return obj.evidence
    check_frame(obj, arg="evidence", func="prioritise", required=["claim_id", "kind", "grade"], allow_empty=True)
    return _normalise_evidence(obj)


def _amount(x, like=None) -> str:
    """A count per period as people read it: whole numbers from 10, two significant digits below
    (an upside of 0.13 a week is not "0"), "< 0.01" for less. ``like``: an interval's bound is
    written as precisely as its estimate."""
    if _missing(x):
        return "?"
    a = abs(float(x)) if like is None or _missing(like) else max(abs(float(like)), abs(float(x)))
    if a >= 10 or a == 0:
        return f"{x:,.0f}"
    if a >= 0.01:
        return f"{x:.2g}"
    return "< 0.01"


@shared_docs
def prioritise(evidence, *, recovery: float | tuple | None = None, weights: dict | None = None, n_sim: int = 4000,
               random_state: int = 0, include_contradicted: bool = True,
               vocabulary: dict | None = None, after_change: bool = True) -> pd.DataFrame:
    r"""Rank pain points by frequency, emotional weight, size and evidence grade, with an upside.

    Parameters
    ----------
    evidence : JourneyMap or DataFrame
        A map, or an evidence table (:func:`journeylab.evidence_table`).
    recovery : float or (low, high), optional
        Share of the linked step's drop-off assumed recoverable for the upside estimate
        (0.1: "recovering a tenth of the drop-off"). A range ``(0.05, 0.2)`` states the assumption
        as uncertain: the estimate uses its middle and the interval draws it uniformly from the
        range, so the interval carries the assumption as well as the sampling. Default: the
        study's (study.yml ``sizing: recovery:``, a share or ``[low, high]``) when ``evidence``
        is a map, else :data:`DEFAULT_RECOVERY`, 0.05 to 0.15 (middle 0.1).
    weights : dict, optional
        Weights of the score's parts: ``grade``, ``share``, ``sentiment``, ``size`` (default 0.4,
        0.25, 0.15, 0.2).
    n_sim : int, default 4000
        Simulation draws for the upside interval.
    vocabulary : dict, optional
        ``conversion`` (what a completed funnel is called: "sign-ups") and ``period`` (the unit of
        time of the ``upside`` text: day, week, month, quarter, year). Default: the study's
        (``study.yml`` ``vocabulary:``) when ``evidence`` is a JourneyMap, else "conversions" a
        "week". The ``*_per_week`` columns stay per week whatever the period.
    {random_state}
        Here the seed of the simulation.
    include_contradicted : bool, default True
        Keep contradicted pain points (ranked last by their grade) so the frame shows why they
        are not a priority.
    after_change : bool, default True
        When ``evidence`` is a map of a study with a recorded product change (study.yml
        ``changes:``), size and rank on the events after the last change (the funnel before it
        described another product), and say so in ``sized_on`` and ``upside``. False: the whole
        period, as the evidence table measured it.

    Returns
    -------
    DataFrame
        One row per pain point, best first (contradicted ones last, whatever their score):
        ``rank``, ``claim_id``, ``stage``, ``touchpoint``,
        ``persona``, ``code``, ``claim``, ``grade``, ``n_participants``, ``n_participants_total`` (the
        base of the share), ``share_participants``,
        ``share_ci_low``, ``share_ci_high``, ``sentiment_mean``, ``sentiment_ci_low``,
        ``sentiment_ci_high``, ``step``, ``step_lost_per_week`` (users lost a week at the linked
        step), ``nps_gap``, ``nps_gap_ci_low``, ``nps_gap_ci_high``, ``score`` (0–1, see Notes),
        ``upside_per_week`` (extra completions a week if ``recovery`` of the drop-off were
        recovered), ``upside_ci_low``, ``upside_ci_high``, ``upside_nps_points`` (a pain point without a
        funnel step that survey commenters raise: how many points the commenters' NPS would rise by if
        those who raise it recommended like the others) with ``upside_nps_ci_low``/``_high``,
        ``upside_csat_points`` (the same for the touchpoint's CSAT top-2 box, in percentage points,
        :func:`journeylab.theme_csat`) with ``upside_csat_ci_low``/``_high``,
        ``upside`` (the sentence; where there is no upside, why), ``sized_on`` (the
        events the step's numbers come from: "events since <change> (<date>)" or "the whole period";
        NaN without a step), and, given a map,
        ``opportunity`` and ``owner`` (the analyst's opportunity answering the claim, else the
        codebook's "Fix …", with the owning team; NaN from a bare evidence table).

    Notes
    -----
    ``score`` = Σ weight × part, each part in [0, 1]: ``grade`` (strong 1, quantitative only
    0.75, qualitative only 0.5, weak 0.25, contradicted 0), ``share`` (share of participants),
    ``sentiment`` (negativity: −mean compound, clipped to [0, 1]), ``size`` (users lost a week at
    the linked step, divided equally among the pain points linked to that step so one drop-off
    is not counted several times, relative to the largest such loss; without a step, the NPS
    gap's magnitude / 100, else — in a usability study — the share of participants who did not
    complete the linked task unaided). Missing parts count 0. The weights are a judgement:
    show them with the ranking.

    Upside: recovered completions a week = ``recovery`` × users lost a week at the step × the
    share of the step's users who go on to complete the funnel. Its interval is simulated:
    the weekly loss as a Poisson count (its Gamma posterior under a Jeffreys prior) and the
    onward conversion as Beta(x + ½, n − x + ½) (Jeffreys); the 2.5th and 97.5th percentiles of
    the product. With a single ``recovery`` the interval ignores uncertainty in it (an assumption,
    stated); with a range it is drawn uniformly from the range in every simulation. A pain
    point linked to a usability task and no funnel step gets an ``upside`` in participants
    instead: how many did not complete the task unaided, and so how many fixing it could help.
    Without either, a pain point that survey commenters raise is sized by its own metric: with
    :math:`n_t` commenters raising it and :math:`n_o` others, and NPS gap :math:`g` (theirs minus
    the others'), the commenters' NPS would rise by :math:`-g\,n_t/(n_t+n_o)` points if they
    recommended like the others (interval: the gap's adjusted-Wald interval times the same share);
    likewise the touchpoint's CSAT top-2 box, from the gap of those who raise it in their comment
    (:func:`journeylab.theme_csat`, Newcombe interval), in percentage points.
    A pain point with none of these says why it has no upside.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> ev = pd.DataFrame({"claim_id": ["a", "b"], "stage": "buy", "stage_order": 0, "persona": "all",
    ...                    "kind": "pain_point", "code": ["form", "late"], "grade": ["strong", "contradicted"],
    ...                    "n_participants": [6, 8], "n_participants_total": 10, "share_participants": [0.6, 0.8],
    ...                    "step": ["form", None], "step_lost": [800, None], "step_lost_per_week": [100.0, None],
    ...                    "step_to_end": [0.5, None], "step_to_end_n": [1000, None]})
    >>> jl.prioritise(ev)[["rank", "code", "upside_per_week"]]
       rank  code  upside_per_week
    0     1  form              5.0
    1     2  late              NaN
    """
    ev = _evidence_of(evidence)
    w = dict(SCORE_WEIGHTS)
    if weights:
        bad = sorted(set(weights) - set(w))
        if bad:
            raise JourneylabError(f"prioritise(): unknown weight {bad[0]!r}; expected grade, share, sentiment, size.")
        w.update(weights)
    if recovery is None:
        sizing = ((evidence.methods or {}).get("sizing") or {}) if isinstance(evidence, JourneyMap) else {}
        recovery = sizing.get("recovery", DEFAULT_RECOVERY) if isinstance(sizing, dict) else DEFAULT_RECOVERY
        rec_lo, rec_hi = recovery_range(recovery, where="study.yml sizing: recovery:")
    else:
        rec_lo, rec_hi = recovery_range(recovery)
    rec_mid = (rec_lo + rec_hi) / 2
    vocab = vocabulary_of(evidence, vocabulary)
    conversion, period = vocab["conversion"], vocab["period"]
    per_week_factor = PERIOD_DAYS[period] / 7
    pp = ev[(ev["kind"] == "pain_point")].copy()
    if not include_contradicted:
        pp = pp[pp["grade"] != "contradicted"]
    pp["sized_on"] = np.where(pp["step"].notna(), "the whole period", None)
    ranking = ((evidence.methods or {}).get("ranking") if isinstance(evidence, JourneyMap) and after_change
               else None) or {}
    if ranking.get("steps"):  # the funnel after the last change: what the product is now
        since = f"events since the change of {ranking['date']} ({ranking['change']})"
        for i, step in pp["step"].items():
            after = ranking["steps"].get(step) if isinstance(step, str) else None
            if after is None:
                continue
            for col, key in (("step_lost", "lost"), ("step_lost_per_week", "lost_per_week"),
                             ("step_to_end", "to_end"), ("step_to_end_n", "to_end_n")):
                pp.at[i, col] = math.nan if after[key] is None else after[key]
            pp.at[i, "sized_on"] = since
    rng = np.random.default_rng(random_state)
    cols = ["rank", "claim_id", "stage", "touchpoint", "persona", "code", "claim", "grade", "n_participants",
            "n_participants_total", "share_participants", "share_ci_low", "share_ci_high", "sentiment_mean",
            "sentiment_ci_low", "sentiment_ci_high", "step", "step_lost_per_week", "nps_gap", "nps_gap_ci_low",
            "nps_gap_ci_high", "score", "upside_per_week", "upside_ci_low", "upside_ci_high", "upside_nps_points",
            "upside_nps_ci_low", "upside_nps_ci_high", "upside_csat_points", "upside_csat_ci_low",
            "upside_csat_ci_high", "upside", "sized_on", "opportunity", "owner"]
    if len(pp) == 0:
        return pd.DataFrame(columns=cols)
    # pain points linked to one step share its drop-off: each gets an equal part for the ranking
    sharing = pp.groupby(pp["step"].fillna("\0"))["claim_id"].transform("count")
    pp["_sharing"] = np.where(pp["step"].notna(), sharing, 1)
    pp["_lost"] = pp["step_lost_per_week"] / pp["_sharing"]
    pp["_task_sharing"] = pp.groupby(pp["task"].fillna("\0"))["claim_id"].transform("count").where(
        pp["task"].notna(), 1)
    lost_max = pp["_lost"].max(skipna=True)
    size = []
    for r in pp.to_dict("records"):
        if not _missing(r["_lost"]) and lost_max and lost_max > 0:
            size.append(r["_lost"] / lost_max)
        elif not _missing(r["nps_gap"]) and not _missing(r["nps_gap_ci_low"]):  # no interval: too few to size
            size.append(min(1.0, max(0.0, -r["nps_gap"] / 100)))
        elif not _missing(r.get("task_success_rate")):  # a usability study: the share who failed the task
            size.append(min(1.0, max(0.0, 1 - r["task_success_rate"])))
        else:
            size.append(0.0)
    pp["_size"] = size
    pp["score"] = (w["grade"] * pp["grade"].map(GRADE_PRIORITY).fillna(0)
                   + w["share"] * pp["share_participants"].fillna(0)
                   + w["sentiment"] * (-pp["sentiment_mean"]).clip(0, 1).fillna(0)
                   + w["size"] * pp["_size"]) / sum(w.values())
    ups = []
    for r in pp.to_dict("records"):
        lost, to_end, n = r["step_lost_per_week"], r["step_to_end"], r["step_to_end_n"]
        if _missing(lost) or _missing(to_end) or _missing(n) or _missing(r["step_lost"]):
            text = _task_upside(r)
            if text and r["_task_sharing"] > 1:
                text += (f"; {int(r['_task_sharing'])} pain points are linked to task {r['task']}: they may be the "
                         "same participants, do not add them up")
            nps_up, csat_up = _nps_upside(r), _csat_upside(r)
            if not text:
                own = "; ".join(x for x in (nps_up[3], csat_up[3]) if x)
                text = f"no funnel step; its own metrics: {own}" if own else _no_upside_reason(r)
            ups.append((math.nan, math.nan, math.nan, text, *nps_up[:3], *csat_up[:3]))
            continue
        weeks = r["step_lost"] / lost if lost else math.nan
        est = rec_mid * lost * to_end
        if weeks and not math.isnan(weeks) and n > 0:
            lost_draw = rng.gamma(r["step_lost"] + 0.5, 1.0, n_sim) / weeks
            conv_draw = rng.beta(to_end * n + 0.5, n - to_end * n + 0.5, n_sim)
            rec_draw = rng.uniform(rec_lo, rec_hi, n_sim) if rec_hi > rec_lo else rec_mid
            draws = rec_draw * lost_draw * conv_draw
            lo, hi = np.percentile(draws, [2.5, 97.5])
        else:
            lo = hi = math.nan
        k = per_week_factor
        share_txt = _frac(rec_mid) if rec_hi == rec_lo else f"{rec_lo:.0%}–{rec_hi:.0%}"
        users = lost * k
        text = (f"recovering {share_txt} of the {_label(r['step'])} drop-off ≈ {_amount(est * k)} more "
                f"{conversion} a {period} (95% interval {_amount(lo * k, est * k)}–{_amount(hi * k, est * k)}; "
                f"{_amount(users)} user{'' if users == 1 else 's'} a {period} lost at this step, {to_end:.0%} of "
                "those who pass it complete)")
        if r["sized_on"] != "the whole period":
            text += f"; sized on {r['sized_on']}"
        if r["_sharing"] > 1:
            text += (f"; {int(r['_sharing'])} pain points are linked to this step: they share this upside, "
                     "do not add them up")
        ups.append((est, lo, hi, text, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan))
    pp["upside_per_week"] = [u[0] for u in ups]
    pp["upside_nps_points"] = [u[4] for u in ups]
    pp["upside_nps_ci_low"] = [u[5] for u in ups]
    pp["upside_nps_ci_high"] = [u[6] for u in ups]
    pp["upside_csat_points"] = [u[7] for u in ups]
    pp["upside_csat_ci_low"] = [u[8] for u in ups]
    pp["upside_csat_ci_high"] = [u[9] for u in ups]
    pp["upside_ci_low"] = [u[1] for u in ups]
    pp["upside_ci_high"] = [u[2] for u in ups]
    pp["upside"] = [u[3] for u in ups]
    opp_text, opp_owner = {}, {}
    if isinstance(evidence, JourneyMap) and len(evidence.opportunities):
        for o in evidence.opportunities.to_dict("records"):  # the analyst's first, then the codebook's
            if o["claim_id"] and o["claim_id"] not in opp_text:
                opp_text[o["claim_id"]], opp_owner[o["claim_id"]] = o["text"], o["owner"]
    pp["opportunity"] = pp["claim_id"].map(opp_text)
    pp["owner"] = pp["claim_id"].map(opp_owner)
    pp["_contra"] = pp["grade"] == "contradicted"
    pp = pp.sort_values(["_contra", "score", "claim_id"], ascending=[True, False, True],
                        kind="stable").reset_index(drop=True)
    pp["rank"] = np.arange(1, len(pp) + 1)
    return pp[cols]


def _nps_upside(r: dict) -> tuple:
    """(points, low, high, sentence): the commenters' NPS lift if those who raise the pain point recommended like
    the others; NaNs and "" without an NPS gap."""
    none = (math.nan, math.nan, math.nan, "")
    if _missing(r.get("nps_gap")) or _missing(r.get("nps_n_theme")) or _missing(r.get("nps_n_others")):
        return none
    nt, no = int(r["nps_n_theme"]), int(r["nps_n_others"])
    if nt + no == 0:
        return none
    if _missing(r.get("nps_gap_ci_low")):   # too few commenters raise it for an interval: no size either
        return (math.nan, math.nan, math.nan, f"only {nt} of {nt + no} survey commenters raise it, too few to size "
                                              "it by their NPS")
    share, gap = nt / (nt + no), float(r["nps_gap"])
    ci = "" if _missing(r.get("nps_gap_ci_low")) else (
        f" (95% CI {r['nps_gap_ci_low']:+.0f} to {r['nps_gap_ci_high']:+.0f})")
    said = f"the {nt} of {nt + no} survey commenters who raise it give an NPS {gap:+.0f} points against the others{ci}"
    if gap >= 0:
        return (0.0, math.nan, math.nan, said + ": they recommend no less than the others, so no upside in NPS")
    lo = hi = math.nan
    if not _missing(r.get("nps_gap_ci_low")):
        lo, hi = -float(r["nps_gap_ci_high"]) * share, -float(r["nps_gap_ci_low"]) * share
    up = -gap * share
    rng = "" if math.isnan(lo) else f" (95% CI {lo:+.1f} to {hi:+.1f}{': possibly none' if lo <= 0 else ''})"
    return (up, lo, hi, said + f"; if they recommended like the others, the commenters' NPS would rise by ≈{up:.1f} "
                               f"points{rng}")


def _csat_upside(r: dict) -> tuple:
    """(points, low, high, clause): the rise of the commenters' CSAT top-2 box (percentage points) if those who
    raise the pain point were as satisfied as the others; NaNs and "" without a CSAT gap."""
    none = (math.nan, math.nan, math.nan, "")
    if _missing(r.get("csat_gap")) or _missing(r.get("csat_n_theme")) or _missing(r.get("csat_n_others")):
        return none
    nt, no = int(r["csat_n_theme"]), int(r["csat_n_others"])
    if nt + no == 0:
        return none
    share, gap = nt / (nt + no), 100 * float(r["csat_gap"])
    col = _label(r["touchpoint"]) if isinstance(r.get("touchpoint"), str) else str(r.get("csat_column") or "it")
    ci = "" if _missing(r.get("csat_gap_ci_low")) else (
        f" (95% CI {100 * r['csat_gap_ci_low']:+.0f} to {100 * r['csat_gap_ci_high']:+.0f})")
    said = (f"the {nt} of {nt + no} commenters rating {col} who raise it are {-gap:.0f} points less often satisfied "
            f"(top-2 box) than the others{ci}") if gap < 0 else (
        f"the {nt} of {nt + no} commenters rating {col} who raise it are no less satisfied than the others "
        f"({gap:+.0f} points{ci}), so no upside in CSAT")
    if gap >= 0:
        return (0.0, math.nan, math.nan, said)
    lo = hi = math.nan
    if not _missing(r.get("csat_gap_ci_low")):
        lo, hi = -100 * float(r["csat_gap_ci_high"]) * share, -100 * float(r["csat_gap_ci_low"]) * share
    up = -gap * share
    rng = "" if math.isnan(lo) else f" (95% CI {lo:+.1f} to {hi:+.1f}{': possibly none' if lo <= 0 else ''})"
    return (up, lo, hi, said + f"; were they as satisfied, that top-2 box would rise by ≈{up:.1f} points{rng}")


def _no_upside_reason(r: dict) -> str:
    """Why a pain point has no upside estimate, with the touchpoint's satisfaction where there is one."""
    text = ("no upside estimate: not linked to a funnel step, no usability task at its stage, and no survey comment "
            "raises it (so no NPS or CSAT difference to size it by)")
    if not _missing(r.get("csat_top2")):
        text += (f"; its touchpoint's satisfaction is {r['csat_top2']:.0%} top-2 box"
                 + ("" if _missing(r.get("csat_top2_ci_low")) else
                    f" (95% CI {r['csat_top2_ci_low']:.0%}–{r['csat_top2_ci_high']:.0%})"))
    return text


def _task_upside(r: dict) -> str:
    """A usability study's upside: the participants who failed the task at the pain point's stage."""
    if _missing(r.get("task_success_rate")) or _missing(r.get("task_n")):
        return ""
    n, x = int(r["task_n"]), int(r["task_successes"])
    if n == x:
        return (f"every participant ({n} of {n}) completed task {r['task']} unaided; "
                "fixing it would smooth a task they pass")
    ci = ("" if _missing(r.get("task_ci_low")) else
          f"; success rate {x / n:.0%}, 95% CI {r['task_ci_low']:.0%}–{r['task_ci_high']:.0%}")
    return (f"{n - x} of {n} participants did not complete task {r['task']} unaided{ci}: fixing it could help up "
            f"to {n - x} of {n} participants")


def _frac(x: float) -> str:
    names = {0.1: "a tenth", 0.2: "a fifth", 0.25: "a quarter", 0.5: "half", 1.0: "all"}
    return names.get(round(x, 4), f"{x:.0%}")


# ----------------------------------------------------------------------------- comparing maps


def _grade_word(g) -> str:
    return {"qualitative_only": "interviews only", "quantitative_only": "numbers only"}.get(g, str(g))


def _approx_diff(old_v, old_lo, old_hi, new_v, new_lo, new_hi, z: float = 1.959963984540054):
    """Difference new − old with an approximate CI from the two CIs (normal, independent)."""
    if any(_missing(x) for x in (old_v, new_v)):
        return (math.nan, math.nan, math.nan)
    d = new_v - old_v
    if any(_missing(x) for x in (old_lo, old_hi, new_lo, new_hi)):
        return (d, math.nan, math.nan)
    se = math.sqrt(((old_hi - old_lo) / (2 * z)) ** 2 + ((new_hi - new_lo) / (2 * z)) ** 2)
    return (d, d - z * se, d + z * se)


_CHANGE_COLS = ["change", "stage", "touchpoint", "item", "claim_id", "old", "new", "delta", "delta_ci_low",
                "delta_ci_high", "beyond_ci", "detail"]

#: Order of the kinds of change within a stage.
CHANGE_KINDS = ["claim_added", "claim_removed", "grade_changed", "share_changed", "sentiment_changed",
                "signal_changed", "nps_gap_changed", "quotes_changed", "opportunity_added", "opportunity_removed",
                "owner_changed", "emotion_moved", "coded_emotion_moved", "metric_moved"]

_PERIOD_SUFFIX = re.compile(r" \((?:start|\d{4}-\d{2}-\d{2}[^)]*) to [^)]*\)$")


def _same(a, b) -> bool:
    if _missing(a) and _missing(b):
        return True
    if _missing(a) or _missing(b):
        return False
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return str(a) == str(b)


def _share_diff(a, b, level_z: float = 1.959963984540054):
    """New − old share of participants, with Newcombe's hybrid score interval (independent samples)."""
    na, ta, nb, tb = a["n_participants"], a["n_participants_total"], b["n_participants"], b["n_participants_total"]
    if any(_missing(x) for x in (na, ta, nb, tb)) or not ta or not tb:
        return (math.nan, math.nan, math.nan)
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,  # lazy: statsmodels adds ~1.3 s to `import journeylab` (measured)
    )

    d = nb / tb - na / ta
    lo, hi = confint_proportions_2indep(int(nb), int(tb), int(na), int(ta), method="newcomb", compare="diff")
    return (d, float(lo), float(hi))


def _study_identity(m: "JourneyMap") -> str:
    name = str((m.methods or {}).get("study") or "")
    return _PERIOD_SUFFIX.sub("", name) if (m.methods or {}).get("period") else name


def compare_maps(old: JourneyMap, *, new: JourneyMap, across: bool = False) -> pd.DataFrame:
    """Every change between two versions of a map, with an interval on each numeric difference.

    Parameters
    ----------
    old, new : JourneyMap
        Two versions of one map (last quarter's and this quarter's, before and after a fix).
    across : bool, default False
        Two maps of different personas or different studies are not versions of one map, and
        comparing them raises unless ``across=True`` (use :func:`compare_personas` to set personas
        side by side). Maps of two periods of one study (:func:`journeylab.study_between`) are
        versions of one map.

    Returns
    -------
    DataFrame
        One row per change, in stage order, then kind of change (``CHANGE_KINDS``): ``change``,
        ``stage``, ``touchpoint``, ``item`` (code, metric or ``"emotion"``), ``claim_id``,
        ``old``, ``new`` (values as text), ``delta`` (new − old for numbers: percentage points
        for shares and conversions, sentiment points, NPS points), ``delta_ci_low``,
        ``delta_ci_high``, ``beyond_ci`` (True when the difference's interval excludes 0; NA for
        changes that are not numbers), ``detail`` (a sentence). Identical maps give an empty frame.

        Changes of a claim present in both maps: ``grade_changed``; ``share_changed`` (share of
        participants; the count and base are in ``detail``); ``sentiment_changed``;
        ``signal_changed`` (a linked metric's verdict: funnel step, CSAT or NPS gap);
        ``nps_gap_changed``; ``quotes_changed`` (``detail`` lists the quotes added and removed).
        Opportunities: ``opportunity_added``, ``opportunity_removed``, ``owner_changed``. Per
        stage and metric: ``emotion_moved`` (the words, lexicon mean), ``coded_emotion_moved`` (the
        codes' balance of delights and pain points, :func:`journeylab.coded_emotion`),
        ``metric_moved`` (written only when the value moved).

    Notes
    -----
    Claims are matched on ``claim_id`` (stage/touchpoint/code), opportunities on stage and text.
    The share's interval is Newcombe's hybrid score interval for a difference of two independent
    proportions (``statsmodels`` ``confint_proportions_2indep(method="newcomb")``); the other
    intervals are approximated from the two maps' intervals (each CI's half-width / 1.96 taken as
    a standard error, the two added in quadrature). Both treat the two versions as independent
    samples; when the same participants are in both, the true interval is narrower, so
    ``beyond_ci`` errs on the side of "within the noise". Overlapping CIs do not mean "no
    difference"; this test is the one to read.
    """
    for name, m in (("old", old), ("new", new)):
        if not isinstance(m, JourneyMap):
            raise JourneylabError(f"compare_maps(): `{name}` must be a JourneyMap; got {type(m).__name__}.")
    if not across:
        if str(old.persona) != str(new.persona):
            raise JourneylabError(f"compare_maps(): the maps are of different personas ({old.persona!r} and "
                                  f"{new.persona!r}), so they are not two versions of one map. Pass across=True to "
                                  "compare them anyway, or use jl.compare_personas to set personas side by side.")
        so, sn = _study_identity(old), _study_identity(new)
        if so and sn and so != sn:
            raise JourneylabError(f"compare_maps(): the maps are of different studies ({so!r} and {sn!r}). "
                                  "Pass across=True to compare them anyway.")
    rows = []
    order = {s: i for i, s in enumerate(new.stage_names + [s for s in old.stage_names if s not in new.stage_names])}
    oc = old.claims().set_index("claim_id")
    nc = new.claims().set_index("claim_id")

    def add(change, r, cid, old_v=None, new_v=None, detail="", delta=math.nan, lo=math.nan, hi=math.nan,
            numeric=False):
        # no interval (a group below its minimum n): the counts are shown, and no verdict on the noise
        beyond = (bool(lo > 0 or hi < 0) if numeric and not math.isnan(lo) else pd.NA)
        verdict = ("" if not numeric else ": no interval, too few to tell from the noise" if beyond is pd.NA
                   else f": {'beyond' if beyond else 'within'} the uncertainty")
        rows.append({"change": change, "stage": r["stage"], "touchpoint": r["touchpoint"],
                     "item": r["code"] or r["metric"], "claim_id": cid, "old": old_v, "new": new_v,
                     "delta": delta, "delta_ci_low": lo, "delta_ci_high": hi, "beyond_ci": beyond,
                     "detail": detail + verdict})

    for cid in sorted(set(nc.index) - set(oc.index)):
        r = nc.loc[cid]
        add("claim_added", r, cid, None, r["grade"],
            f"new claim ({r['kind'].replace('_', ' ')}): {r['claim']} — {r['n_participants']} participant(s), "
            f"graded {r['grade']}")
    for cid in sorted(set(oc.index) - set(nc.index)):
        r = oc.loc[cid]
        add("claim_removed", r, cid, r["grade"], None,
            f"no longer claimed ({r['kind'].replace('_', ' ')}): {r['claim']} — was graded {r['grade']}")
    for cid in sorted(set(oc.index) & set(nc.index)):
        a, b = oc.loc[cid], nc.loc[cid]
        what = _label(b["code"] or b["metric"])
        if not _same(a["grade"], b["grade"]):
            add("grade_changed", b, cid, a["grade"], b["grade"],
                f"{what}: {_grade_word(a['grade'])} → {_grade_word(b['grade'])} "
                f"({a['n_participants']} → {b['n_participants']} participants)")
        if not (_same(a["n_participants"], b["n_participants"])
                and _same(a["n_participants_total"], b["n_participants_total"])):
            d, lo, hi = _share_diff(a, b)
            add("share_changed", b, cid, f"{a['n_participants']}/{a['n_participants_total']}",
                f"{b['n_participants']}/{b['n_participants_total']}",
                f"{what}: {a['n_participants']} of {a['n_participants_total']} → {b['n_participants']} of "
                f"{b['n_participants_total']} participants"
                + ("" if math.isnan(d) else f" ({100 * d:+.0f} points, CI {100 * lo:+.0f} to {100 * hi:+.0f})"),
                100 * d, 100 * lo, 100 * hi, numeric=True)
        if not _same(a["sentiment_mean"], b["sentiment_mean"]):
            d, lo, hi = _approx_diff(a["sentiment_mean"], a["sentiment_ci_low"], a["sentiment_ci_high"],
                                     b["sentiment_mean"], b["sentiment_ci_low"], b["sentiment_ci_high"])
            fo = "–" if _missing(a["sentiment_mean"]) else f"{a['sentiment_mean']:+.2f}"
            fn = "–" if _missing(b["sentiment_mean"]) else f"{b['sentiment_mean']:+.2f}"
            add("sentiment_changed", b, cid, fo, fn,
                f"{what}: sentiment {fo} → {fn}"
                + ("" if math.isnan(lo) else f" ({d:+.2f}, CI {lo:+.2f} to {hi:+.2f})"),
                d, lo, hi, numeric=True)
        for col, label in (("step_signal", "funnel step"), ("csat_signal", "CSAT"), ("nps_signal", "NPS gap")):
            if col in a.index and not _same(a[col], b[col]):
                fo = "none" if _missing(a[col]) else str(a[col])
                fn = "none" if _missing(b[col]) else str(b[col])
                add("signal_changed", b, cid, fo, fn, f"{what}: {label} signal {fo} → {fn}")
        if "nps_gap" in a.index and not _same(a["nps_gap"], b["nps_gap"]):
            d, lo, hi = _approx_diff(a["nps_gap"], a["nps_gap_ci_low"], a["nps_gap_ci_high"],
                                     b["nps_gap"], b["nps_gap_ci_low"], b["nps_gap_ci_high"])
            fo = "–" if _missing(a["nps_gap"]) else f"{a['nps_gap']:+.0f}"
            fn = "–" if _missing(b["nps_gap"]) else f"{b['nps_gap']:+.0f}"
            counts = ""
            if math.isnan(lo) and "nps_n_theme" in a.index:  # a side below min_nps_n: its count, no interval
                na_, nb_ = (("–" if _missing(x["nps_n_theme"]) else f"{int(x['nps_n_theme'])}") for x in (a, b))
                counts = f" ({na_} → {nb_} commenters raising it)"
            add("nps_gap_changed", b, cid, fo, fn,
                f"{what}: NPS gap {fo} → {fn}"
                + (counts if math.isnan(lo) else f" ({d:+.0f}, CI {lo:+.0f} to {hi:+.0f})"),
                d, lo, hi, numeric=True)
        qa = [q for q in str(a["quote_ids"] or "").split("; ") if q and q != "nan"]
        qb = [q for q in str(b["quote_ids"] or "").split("; ") if q and q != "nan"]
        if set(qa) != set(qb):
            plus = [q for q in qb if q not in qa]
            minus = [q for q in qa if q not in qb]
            add("quotes_changed", b, cid, "; ".join(qa), "; ".join(qb),
                f"{what}: quotes" + (f" added {', '.join(plus)}" if plus else "")
                + (";" if plus and minus else "") + (f" removed {', '.join(minus)}" if minus else ""))
    # opportunities, matched on stage and text
    oo = {(r["stage"], r["text"]): r for r in old.opportunities.to_dict("records")}
    no = {(r["stage"], r["text"]): r for r in new.opportunities.to_dict("records")}
    for key in [k for k in no if k not in oo]:
        r = no[key]
        add("opportunity_added", {**r, "metric": None, "code": r.get("code")}, r.get("claim_id"), None, r["text"],
            f"new opportunity: {r['text']}" + (f" (owner {r['owner']})" if r.get("owner") else ""))
    for key in [k for k in oo if k not in no]:
        r = oo[key]
        add("opportunity_removed", {**r, "metric": None, "code": r.get("code")}, r.get("claim_id"), r["text"], None,
            f"opportunity dropped: {r['text']}")
    for key in [k for k in no if k in oo]:
        a, b = oo[key], no[key]
        if not _same(a.get("owner"), b.get("owner")):
            add("owner_changed", {**b, "metric": None, "code": b.get("code")}, b.get("claim_id"), a.get("owner"),
                b.get("owner"), f"owner of '{b['text']}': {a.get('owner') or 'none'} → {b.get('owner') or 'none'}")
    oe = old.emotion.set_index("stage")
    ne = new.emotion.set_index("stage")
    for s_ in [s_ for s_ in new.stage_names if s_ in oe.index and s_ in ne.index]:
        a, b = oe.loc[s_], ne.loc[s_]
        if _same(a["mean"], b["mean"]):
            continue
        d, lo, hi = _approx_diff(a["mean"], a["ci_low"], a["ci_high"], b["mean"], b["ci_low"], b["ci_high"])
        if math.isnan(d):
            continue
        add("emotion_moved", {"stage": s_, "touchpoint": None, "code": None, "metric": "emotion"}, None,
            f"{a['mean']:+.2f}", f"{b['mean']:+.2f}",
            f"emotion at {s_} {a['mean']:+.2f} → {b['mean']:+.2f} ({d:+.2f}"
            + ("" if math.isnan(lo) else f", CI {lo:+.2f} to {hi:+.2f}") + ")", d, lo, hi, numeric=True)
    coded = ("coded_balance", "coded_ci_low", "coded_ci_high")
    if all(c in oe.columns and c in ne.columns for c in coded):  # maps saved before the coded balance have none
        for s_ in [s_ for s_ in new.stage_names if s_ in oe.index and s_ in ne.index]:
            a, b = oe.loc[s_], ne.loc[s_]
            if _same(a["coded_balance"], b["coded_balance"]) or _missing(a["coded_balance"]) \
                    or _missing(b["coded_balance"]):
                continue
            d, lo, hi = _approx_diff(*(a[c] for c in coded), *(b[c] for c in coded))
            add("coded_emotion_moved", {"stage": s_, "touchpoint": None, "code": None, "metric": "coded_emotion"},
                None, f"{a['coded_balance']:+.2f}", f"{b['coded_balance']:+.2f}",
                f"codes' balance at {s_} (delights − pain points) {a['coded_balance']:+.2f} → "
                f"{b['coded_balance']:+.2f} ({d:+.2f}" + ("" if math.isnan(lo) else f", CI {lo:+.2f} to {hi:+.2f}")
                + ")", d, lo, hi, numeric=True)
    om = old.metrics.set_index("metric")
    nm = new.metrics.set_index("metric")
    for key in [k for k in nm.index if k in om.index]:
        a, b = om.loc[key], nm.loc[key]
        if str(key).startswith("step:"):
            va, la, ha = a["step_conversion"], a["step_ci_low"], a["step_ci_high"]
            vb, lb, hb = b["step_conversion"], b["step_ci_low"], b["step_ci_high"]
            what = f"conversion {b['step_from']} → {b['step']}"
        else:
            va, la, ha = a["csat_top2"], a["csat_top2_ci_low"], a["csat_top2_ci_high"]
            vb, lb, hb = b["csat_top2"], b["csat_top2_ci_low"], b["csat_top2_ci_high"]
            what = f"CSAT {b['touchpoint']} top-2 box"
        if _same(va, vb):
            continue
        d, lo, hi = _approx_diff(va, la, ha, vb, lb, hb)
        if math.isnan(d):
            continue
        add("metric_moved", {"stage": b["stage"], "touchpoint": b["touchpoint"], "code": None, "metric": key},
            b["claim_id"], f"{va:.1%}", f"{vb:.1%}",
            f"{what} {va:.1%} → {vb:.1%} ({100 * d:+.1f} points"
            + ("" if math.isnan(lo) else f", CI {100 * lo:+.1f} to {100 * hi:+.1f}") + ")",
            100 * d, 100 * lo if not math.isnan(lo) else math.nan, 100 * hi if not math.isnan(hi) else math.nan,
            numeric=True)
    out = pd.DataFrame(rows, columns=_CHANGE_COLS)
    if len(out):
        kind = {k: i for i, k in enumerate(CHANGE_KINDS)}
        out = (out.assign(_s=out["stage"].map(order), _k=out["change"].map(kind))
               .sort_values(["_s", "_k", "item"], kind="stable").drop(columns=["_s", "_k"]))
    out["beyond_ci"] = out["beyond_ci"].astype("boolean")
    for c in ("delta", "delta_ci_low", "delta_ci_high"):
        out[c] = out[c].astype(float)
    out.attrs["journeylab"] = {"old": getattr(old, "title", None), "new": getattr(new, "title", None),
                               "across": bool(across)}
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------- personas side by side


def compare_personas(maps, *, view: str = "long") -> pd.DataFrame:
    """Claims of several persona maps side by side.

    Parameters
    ----------
    maps : list of JourneyMap or dict persona → JourneyMap
        One map per persona (``JourneyMap.build(..., persona=...)``); an all-persona map may be
        among them.
    view : {"long", "wide"}, default "long"
        ``"long"``: one row per persona and claim (tidy). ``"wide"``: one row per claim, one
        column per persona holding ``"<share> · <grade>"`` (``"—"`` where the persona did not
        raise it), plus each stage's emotion as rows whose ``kind`` is ``emotion``.

    Returns
    -------
    DataFrame
        Long: ``persona``, ``stage``, ``touchpoint``, ``kind``, ``code``, ``claim``,
        ``n_participants``, ``n_participants_total``, ``share_participants``, ``share_ci_low``,
        ``share_ci_high``, ``sentiment_mean``, ``grade``, ``coded_balance``; emotion rows (``kind``
        ``emotion``) carry the stage's mean sentiment (``code`` ``emotion``, the words) and the
        codes' balance of delights and pain points (``code`` ``coded_emotion``, in ``coded_balance``).
        Wide: ``stage``, ``touchpoint``, ``kind``, ``code``, then
        one column per persona.
    """
    if isinstance(maps, dict):
        maps = list(maps.values())
    elif isinstance(maps, (str, bytes, pd.DataFrame, JourneyMap)) or not hasattr(maps, "__iter__"):
        raise JourneylabError(f"compare_personas(): `maps` must be a list (or dict) of JourneyMap objects; got "
                              f"{type(maps).__name__}.")
    maps = list(maps)
    if not maps or not all(isinstance(m, JourneyMap) for m in maps):
        found = ("a list of " + ", ".join(sorted({type(m).__name__ for m in maps}))) if maps else "an empty list"
        raise JourneylabError(f"compare_personas(): `maps` must be a list (or dict) of JourneyMap objects; got "
                              f"{found}.")
    if view not in ("long", "wide"):
        raise JourneylabError(f"compare_personas(): `view` must be 'long' or 'wide'; got {view!r}.")
    personas = [m.persona for m in maps]
    dupes = sorted({p for p in personas if personas.count(p) > 1})
    if dupes:
        raise JourneylabError(f"compare_personas(): two maps have persona {dupes[0]!r}; pass one map per persona "
                              "(compare_maps compares two versions of one map).")
    rows = []
    stage_order = {}
    for m in maps:
        for s in m.stages:
            stage_order.setdefault(s["name"], s["order"])
        for r in m.claims().to_dict("records"):
            rows.append({"persona": m.persona, "stage": r["stage"], "touchpoint": r["touchpoint"], "kind": r["kind"],
                         "code": r["code"] or r["metric"], "claim": r["claim"], "n_participants": r["n_participants"],
                         "n_participants_total": r["n_participants_total"],
                         "share_participants": r["share_participants"], "share_ci_low": r["share_ci_low"],
                         "share_ci_high": r["share_ci_high"], "sentiment_mean": r["sentiment_mean"],
                         "grade": r["grade"]})
        for r in m.emotion.to_dict("records"):
            rows.append({"persona": m.persona, "stage": r["stage"], "touchpoint": None, "kind": "emotion",
                         "code": "emotion", "claim": "mean sentiment of the stage",
                         "n_participants": r["n_participants"],
                         "n_participants_total": m.persona_card.get("n_participants"), "share_participants": math.nan,
                         "share_ci_low": math.nan, "share_ci_high": math.nan, "sentiment_mean": r["mean"],
                         "grade": None})
            if not _missing(r.get("coded_balance", math.nan)):  # maps saved before the codes' balance have none
                rows.append({"persona": m.persona, "stage": r["stage"], "touchpoint": None, "kind": "emotion",
                             "code": "coded_emotion",
                             "claim": "codes' balance: share with a delight − share with a pain point",
                             "n_participants": r.get("coded_n"),
                             "n_participants_total": m.persona_card.get("n_participants"),
                             "share_participants": math.nan, "share_ci_low": math.nan, "share_ci_high": math.nan,
                             "sentiment_mean": math.nan, "coded_balance": r["coded_balance"], "grade": None})
    long = pd.DataFrame(rows)
    if "coded_balance" not in long.columns:
        long["coded_balance"] = math.nan
    long["_s"] = long["stage"].map(stage_order)
    long = long.sort_values(["_s", "kind", "code", "persona"], kind="stable").drop(columns="_s").reset_index(drop=True)
    if view == "long":
        return long

    def cell(r):
        if r["code"] == "coded_emotion":
            return f"{r['coded_balance']:+.2f} (n={r['n_participants']})"
        if r["kind"] == "emotion":
            return "—" if _missing(r["sentiment_mean"]) else f"{r['sentiment_mean']:+.2f} (n={r['n_participants']})"
        return f"{r['n_participants']}/{r['n_participants_total']} ({r['share_participants']:.0%}) · {r['grade']}"

    long["cell"] = [cell(r) for r in long.to_dict("records")]
    keys = ["stage", "touchpoint", "kind", "code"]
    wide = (long.assign(touchpoint=long["touchpoint"].fillna(""))
            .groupby(keys + ["persona"], sort=False)["cell"].first().unstack("persona").reset_index())
    wide["touchpoint"] = wide["touchpoint"].replace("", None)
    wide.columns.name = None
    for p in personas:
        if p not in wide.columns:
            wide[p] = "—"
    wide[personas] = wide[personas].fillna("—")
    wide = wide.dropna(subset=["code"])
    wide["_s"] = wide["stage"].map(stage_order)
    wide = wide.sort_values(["_s", "kind", "code"], kind="stable").drop(columns="_s")
    return wide[["stage", "touchpoint", "kind", "code", *personas]].reset_index(drop=True)
