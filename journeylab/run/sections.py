"""What each notebook of the sequence does with a study: its sections and what each needs.

A study folder needs only participant ids, transcripts and the list of stages
(``docs/study-format.md``); everything else — personas and other participant attributes, the
survey and each of its columns, the event log and its properties, codebook rules, codings — is
optional. Each notebook section declares the optional parts it needs (:data:`SECTIONS`); a need
is decided from the loaded :class:`~journeylab.Study` by a function of :data:`NEEDS`, which also
says in one sentence what is missing.

Two consumers read the registry:

- a notebook calls :func:`section` at the top of each section. It prints one sentence — what the
  section does, or what it would need and that it is skipped — and, inside IPython, when the
  section does not apply, turns every following code cell into a no-op until the next
  :func:`section` call, so cells need no ``if``;
- ``journeylab validate`` prints :func:`plan` as a table: which sections run on this study, which
  are skipped and why.
"""
from __future__ import annotations

__all__ = ["NEEDS", "SECTIONS", "Section", "SectionStatus", "section", "plan", "event_property",
           "taguette_reference", "lexicon_file", "file_name"]

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from ..coding.reliability import coder_pair
from ..coding.rules import autocode
from ..errors import JourneylabError
from ..measure.experiments import change_design
from ..study.load import check_study
from ..utils.docstrings import shared_docs

#: Columns of the event log that are not properties.
_EVENT_CORE = {"user_id", "timestamp", "event", "session_id"}


def _answers(frame: pd.DataFrame, column) -> int:
    if column is None or column not in frame.columns:
        return 0
    col = frame[column]
    if col.dtype == object:
        col = col.where(col.astype(str).str.strip() != "")
    return int(col.notna().sum())


@shared_docs
def file_name(*parts, suffix: str = "") -> str:
    """A file name made of a study's own names (its folder, a step, a change): lower case, words
    joined by ``_``, nothing but letters, digits, ``_``, ``-`` and ``.``.

    Parameters
    ----------
    *parts : str or object
        The names to join (each turned into text).
    suffix : str, default ""
        Appended as is, e.g. ``".csv"``.

    Returns
    -------
    str

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.file_name("One-page payment form", "before/after", suffix=".csv")
    'one-page_payment_form_before_after.csv'
    """
    words = [re.sub(r"[^\w.-]+", "_", str(p).strip().lower(), flags=re.UNICODE).strip("_.") for p in parts]
    stem = "_".join(w for w in words if w) or "study"
    return stem + suffix


@shared_docs
def event_property(study, *, prefer: str = "device") -> str | None:
    """The event-log property notebooks break the funnel down by: ``prefer`` if the log has it,
    else its first property column with values; None when the log has no property.

    Parameters
    ----------
    {study}
    prefer : str, default "device"
        The property to use when the event log has it.

    Returns
    -------
    str or None

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.event_property(jl.load_study(jl.datasets.sample_study_path()))
    'device'
    """
    check_study(study, func="event_property")
    ev = study.events
    props = [c for c in ev.columns if c not in _EVENT_CORE and _answers(ev, c)]
    if prefer in props:
        return prefer
    return props[0] if props else None


@shared_docs
def taguette_reference(study, *, project=None) -> Path | None:
    """The Taguette project to compare the study's coders with: ``project`` when given, else
    ``taguette.sqlite3`` in the study folder, else None (the study has no reference coding).

    Parameters
    ----------
    {study}
    project : str or Path, optional
        A Taguette project (``*.sqlite3``) given by the notebook's parameters.

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.taguette_reference(jl.load_study(jl.datasets.sample_study_path())).name
    'taguette.sqlite3'
    """
    check_study(study, func="taguette_reference")
    if project:
        path = Path(project)
        if not path.is_file():
            raise JourneylabError(f"taguette_project: {path} not found (expected a Taguette project, *.sqlite3)")
        return path
    path = Path(study.path) / "taguette.sqlite3"
    return path if path.is_file() else None


@shared_docs
def lexicon_file(study) -> Path | None:
    """The study's domain lexicon for sentiment: ``lexicon.csv`` (``term,valence``) in the study
    folder, or None.

    Parameters
    ----------
    {study}

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.lexicon_file(jl.load_study(jl.datasets.sample_study_path())).name
    'lexicon.csv'
    """
    check_study(study, func="lexicon_file")
    path = Path(study.path) / "lexicon.csv"
    return path if path.is_file() else None


def _persona_values(study) -> int:
    p = study.participants
    return int(p["persona"].nunique()) if "persona" in p.columns else 0


def _need_survey(study, params):
    return "" if len(study.survey) else "a survey (survey.csv)"


def _need_nps(study, params):
    if not len(study.survey):
        return "a survey (survey.csv) with an NPS column"
    if study.nps_column not in study.survey.columns:
        return f"an NPS column in survey.csv ('{study.nps_column}'; name yours in study.yml `survey: nps:`)"
    if _answers(study.survey, study.nps_column):
        return ""
    return f"NPS answers (survey column '{study.nps_column}' is blank)"


def _need_csat(study, params):
    if not len(study.survey):
        return "a survey (survey.csv) with CSAT columns"
    if not study.csat_columns:
        return "CSAT columns (study.yml `survey: csat: {column: touchpoint}`)"
    if not any(_answers(study.survey, c) for c in study.csat_columns):
        return f"CSAT answers (columns {', '.join(study.csat_columns)} are missing or blank)"
    return ""


def _need_survey_column(column: str, what: str):
    def need(study, params):
        if not len(study.survey):
            return f"a survey (survey.csv) with {what}"
        return "" if _answers(study.survey, column) else f"{what} in survey.csv (column '{column}')"
    return need


def _need_events(study, params):
    return "" if len(study.events) else "an event log (events.csv, events.csv.gz or events.parquet)"


def _need_funnel(study, params):
    if not len(study.events):
        return "an event log (events.csv, events.csv.gz or events.parquet) and funnel steps"
    return "" if len(study.funnel_steps) >= 2 else "at least two funnel steps (study.yml `funnel: steps:`)"


def _need_property(study, params):
    if not len(study.events):
        return "an event log with a property to group users by (e.g. a device column)"
    return "" if event_property(study) else "a property in the event log to group users by (e.g. a device column)"


def _need_personas(study, params):
    return "" if _persona_values(study) >= 2 else "two or more personas (a persona column in participants.csv)"


def _need_survey_persona(study, params):
    if _need_personas(study, params):
        return _need_personas(study, params)
    return "" if _answers(study.survey, "persona") else "a persona column in survey.csv"


def _need_rules(study, params):
    book = study.codebook
    if book is None or not len(book):
        return "a codebook (codebook.yml)"
    return "" if any(n for n in book.to_frame()["n_rules"]) else "matching rules in the codebook (`rules:` of a code)"


def _need_coded(study, params):
    if len(study.codings) or not _need_rules(study, params):
        return ""
    return "codings (a CSV in codings/) or codebook rules to code with"


def _need_pain_points(study, params):
    book = study.codebook
    if book is None or not len(book):
        return "a codebook (codebook.yml) with pain points"
    frame = book.to_frame()
    pains = set(frame.loc[frame["kind"] == "pain_point", "code"])
    if not pains:
        return "pain points in the codebook (codes of kind pain_point)"
    used = set(study.codings["code"]) if len(study.codings) else set()
    if not used & pains and not _need_rules(study, params):
        used |= set(autocode(study.segments, codebook=book)["code"])
    return "" if used & pains else "a pain point that someone (or a rule) coded"


def _need_numbers(study, params):
    if not _need_funnel(study, params) or not _need_csat(study, params) or not _need_nps(study, params):
        return ""
    return "funnel steps with an event log, CSAT or NPS answers"


def _need_codings(study, params):
    return "" if len(study.codings) else "codings (a CSV file per coder in codings/)"


def _need_two_coders(study, params):
    pair = coder_pair(study.codings, segments=study.segments)
    return "" if pair else "two coders who coded the same interviews (codings/)"


def _need_change(study, params):
    if not len(study.changes):
        return "a product change (study.yml `changes:`) with an event log to test it"
    design = change_design(study)
    return "" if design else f"a testable change ({design.reason})"


def _need_survey_dates(study, params):
    if _need_change(study, params):
        return _need_change(study, params)
    return "" if _answers(study.survey, "submitted_at") else "survey dates (a submitted_at column in survey.csv)"


def _need_interview_dates(study, params):
    if not len(study.changes):
        return "a product change (study.yml `changes:`)"
    return "" if _answers(study.participants, "interview_date") else \
        "interview dates (an interview_date column in participants.csv)"


def _need_taguette(study, params):
    if taguette_reference(study, project=params.get("taguette_project")) is None:
        return ("a Taguette project to compare with (taguette.sqlite3 in the study folder, or the taguette_project "
                "parameter)")
    return ""


def _need_lexicon(study, params):
    return "" if lexicon_file(study) else "a domain lexicon (lexicon.csv with term,valence in the study folder)"


#: key_drivers' default ``min_n``: a theme is modelled when at least this many respondents mention it
#: and this many do not.
DRIVER_MIN_N = 5


def _need_driver_themes(study, params):
    """A theme the rules find in at least DRIVER_MIN_N comments of respondents with a score, and
    absent from at least DRIVER_MIN_N of them: else key_drivers has nothing to compare."""
    survey, col = study.survey, study.nps_column
    if not len(survey) or col not in survey.columns or "comment" not in survey.columns or _need_rules(study, params):
        return ""   # the section's other needs say what is missing
    text = survey["comment"].astype("string").str.strip()
    scored = survey[text.notna() & (text != "").fillna(False) & pd.to_numeric(survey[col], errors="coerce").notna()]
    comments = scored[["respondent_id", "comment"]].rename(columns={"respondent_id": "segment_id", "comment": "text"})
    comments = comments.astype({"segment_id": str})
    codes = (autocode(comments, codebook=study.codebook) if len(comments)
             else pd.DataFrame(columns=["segment_id", "code"]))
    counts = codes.drop_duplicates(["segment_id", "code"])["code"].value_counts()
    n = len(comments)
    if any(c >= DRIVER_MIN_N and n - c >= DRIVER_MIN_N for c in counts):
        return ""
    best = f" (the most frequent is found in {int(counts.max())} of {n})" if len(counts) else f" (none in {n})"
    return (f"a theme the codebook's rules find in at least {DRIVER_MIN_N} scored survey comments and not in "
            f"{DRIVER_MIN_N} others{best}")


def _need_tasks(study, params):
    tasks = getattr(study, "tasks", None)
    return "" if tasks is not None and len(tasks) else "usability-test task outcomes (tasks.csv)"


def _need_questionnaire(study, params):
    if getattr(study, "questionnaire", None) is None:
        return "a standard questionnaire (study.yml `questionnaire: {instrument: sus, items: [...]}`)"
    return "" if len(study.survey) else "the questionnaire's answers (survey.csv)"


def _need_dask(study, params):
    try:
        import dask.dataframe  # noqa: F401  optional dependency
    except ImportError:
        return "Dask (pip install 'dask[dataframe]')"
    if params.get("events_parquet"):
        return "" if len(study.funnel_steps) >= 2 else "at least two funnel steps (study.yml `funnel: steps:`)"
    return _need_funnel(study, params)


#: Need → function(study, params) returning "" when the study has it, else what is missing.
NEEDS: dict[str, Callable] = {
    "survey": _need_survey,
    "survey.nps": _need_nps,
    "survey.csat": _need_csat,
    "survey.comment": _need_survey_column("comment", "comments"),
    "survey.persona": _need_survey_persona,
    "events": _need_events,
    "funnel": _need_funnel,
    "events.property": _need_property,
    "personas": _need_personas,
    "rules": _need_rules,
    "coded": _need_coded,
    "codings": _need_codings,
    "pain_points": _need_pain_points,
    "numbers": _need_numbers,
    "two_coders": _need_two_coders,
    "change": _need_change,
    "change.survey": _need_survey_dates,
    "change.interviews": _need_interview_dates,
    "taguette": _need_taguette,
    "lexicon": _need_lexicon,
    "dask": _need_dask,
    "tasks": _need_tasks,
    "driver_themes": _need_driver_themes,
    "questionnaire": _need_questionnaire,
}


@dataclass(frozen=True)
class Section:
    """One section of a notebook: its key (``"05.nps"``), title and needs."""

    key: str
    title: str
    needs: tuple = ()


def _s(key, title, *needs):
    return Section(key, title, tuple(needs))


#: Every notebook's sections that need an optional part of a study, in notebook order.
SECTIONS: dict[str, list[Section]] = {
    "01_study_data": [
        _s("01.personas", "Participants and personas", "personas"),
        _s("01.survey", "The survey", "survey"),
        _s("01.nps", "NPS answers", "survey.nps"),
        _s("01.blanks", "Exercise 1.2: blank answers", "survey.csat"),
        _s("01.events", "The event log", "events"),
        _s("01.redaction", "Redaction at work"),
    ],
    "02_coding": [
        _s("02.rules", "Rule-based coding of the study", "rules"),
        _s("02.rule_quality", "What rules cannot do", "rules", "codings"),
        _s("02.by_hand", "Coding by hand"),
        _s("02.click", "A decision stored from code", "rules"),
        _s("02.reading", "Reading the coding", "coded"),
        _s("02.by_persona", "Codes by persona", "coded", "personas"),
        _s("02.exercise", "Exercise 2.1: mentions or people", "rules"),
        _s("02.co_occurrence", "Co-occurrence and exemplar quotes", "coded"),
        _s("02.saturation", "Saturation", "rules"),
        _s("02.emergent", "Emergent themes"),
    ],
    "03_reliability": [
        _s("03.agreement", "Two coders, coding blind: agreement", "two_coders"),
        _s("03.sharpen", "Codes that need a sharper definition", "two_coders"),
        _s("03.reconcile", "Reconciliation", "two_coders"),
        _s("03.learned", "A coder that learns from the agreed coding", "two_coders"),
    ],
    "04_sentiment": [
        _s("04.lexicon", "Teach it your domain: the study's lexicon", "lexicon"),
        _s("04.scores", "Scores with the lexicon"),
        _s("04.per_code", "Sentiment per code and the emotion curve", "rules"),
        _s("04.by_persona", "Emotion curve per persona", "rules", "personas"),
        _s("04.comments", "Comments against scores", "survey.comment"),
        _s("04.nps_groups", "Comment sentiment by NPS group", "survey.comment", "survey.nps"),
        _s("04.summary", "What this notebook saved"),
    ],
    "05_metrics": [
        _s("05.funnel", "A funnel is a definition", "funnel"),
        _s("05.groups", "Intervals by group", "funnel", "events.property"),
        _s("05.paths", "Where do they go?", "funnel"),
        _s("05.nps", "NPS", "survey.nps"),
        _s("05.nps_persona", "NPS by persona", "survey.nps", "survey.persona"),
        _s("05.csat", "CSAT", "survey.csat"),
        _s("05.csat_period", "CSAT and NPS before and after the change", "change.survey", "survey.csat", "survey.nps"),
        _s("05.change", "Did the change work?", "change"),
        _s("05.change_groups", "The change by group, the plain funnel", "change", "events.property"),
        _s("05.placebo", "A placebo step", "change"),
        _s("05.planning", "Planning the next test", "funnel"),
        _s("05.drivers", "Key drivers", "survey.nps", "survey.comment", "rules", "driver_themes"),
        _s("05.drivers_persona", "Key drivers adjusted for persona", "survey.nps", "survey.comment", "rules",
           "driver_themes", "survey.persona"),
        _s("05.tasks", "Usability tasks: success and time on task", "tasks"),
        _s("05.questionnaire", "A standard questionnaire", "questionnaire"),
        _s("05.summary", "What this notebook saved"),
    ],
    "06_evidence": [
        _s("06.claims", "A map from quotes alone", "pain_points"),
        _s("06.metrics", "What the numbers say at each touchpoint", "numbers"),
        _s("06.table", "The evidence table", "pain_points"),
        _s("06.personas", "One map for everyone is accurate for no one", "pain_points", "personas"),
        _s("06.save", "Save the comparison", "pain_points"),
    ],
    "07_journey_map": [
        _s("07.personas", "One map per persona", "personas"),
        _s("07.export", "Export: the files a team receives"),
        _s("07.before_after", "Before and after the change", "change", "change.interviews"),
    ],
    "08_interop": [
        _s("08.selection", "A coded selection in the project", "codings"),
        _s("08.round_trip", "Import it back: is the round trip exact?"),
        _s("08.taguette", "Codes from another tool, and agreement with them", "taguette", "codings"),
        _s("08.codebook", "The codebook for Taguette"),
    ],
    "09_scale": [
        _s("09.dask", "The funnel on Dask", "dask"),
        _s("09.groups", "The funnel by group on Dask", "dask", "events.property"),
        _s("09.end", "Closing the cluster"),
    ],
}

_BY_KEY = {s.key: s for sections in SECTIONS.values() for s in sections}


@dataclass
class SectionStatus:
    """Whether a notebook section applies to a study (:func:`section`).

    Attributes
    ----------
    key, title : str
    applies : bool
    missing : list of str
        What the study lacks, one phrase per need (empty when the section applies).
    reason : str
        One sentence: what the section would need and that it is skipped ("" when it applies).
    """

    key: str
    title: str
    applies: bool
    missing: list = field(default_factory=list)

    @property
    def reason(self) -> str:
        if self.applies:
            return ""
        needs = "; and ".join(dict.fromkeys(self.missing))
        return f"Skipped: {self.title} needs {needs}, which this study does not have."

    def __bool__(self) -> bool:
        return self.applies

    def __str__(self) -> str:
        return f"{self.title}: runs." if self.applies else self.reason

    def __repr__(self) -> str:
        return f"SectionStatus({self.key!r}, applies={self.applies})"

    def _ipython_display_(self) -> None:
        """Shown as a cell's last value: nothing more, :func:`section` already printed the sentence."""


def _status(study, key: str, params: dict) -> SectionStatus:
    if key not in _BY_KEY:
        raise JourneylabError(f"section(): unknown section {key!r}; the sections are "
                              f"{', '.join(sorted(_BY_KEY))} (journeylab.run.sections.SECTIONS)")
    sec = _BY_KEY[key]
    missing = [m for m in (NEEDS[n](study, params) for n in sec.needs) if m]
    return SectionStatus(sec.key, sec.title, not missing, missing)


_SECTION_CALL = re.compile(r"\bsection\(")


class _SkipCells:
    """IPython input transformer: every cell becomes a no-op until one calls ``section(``."""

    def __call__(self, lines: list) -> list:
        if any(_SECTION_CALL.search(line) for line in lines):
            return lines
        return []


def _set_skipping(skip: bool) -> None:
    try:
        from IPython import get_ipython  # optional: only inside IPython/Jupyter
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return
    transformers = ip.input_transformers_post
    transformers[:] = [t for t in transformers if not isinstance(t, _SkipCells)]
    if skip:
        transformers.append(_SkipCells())


@shared_docs
def section(study, *, key: str, quiet: bool = False, **params) -> SectionStatus:
    """Start a notebook section: say whether it applies to ``study``, and skip it if not.

    Prints one sentence: the section's title and that it runs, or what it would need and that
    it is skipped. Inside IPython (Jupyter, ``journeylab run``), when the section does not apply,
    every following code cell is turned into a no-op until the next ``section(...)`` call — cells
    need no ``if``. Outside IPython it only returns the status.

    Parameters
    ----------
    {study}
    key : str
        The section, e.g. ``"05.nps"`` (see :data:`SECTIONS`).
    quiet : bool, default False
        Print nothing.
    **params
        Notebook parameters a need reads (``taguette_project=``, ``events_parquet=``).

    Returns
    -------
    SectionStatus
        ``applies``, ``reason``; true when the section applies.

    Examples
    --------
    >>> import journeylab as jl
    >>> from dataclasses import replace
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> jl.section(study, key="05.nps").applies
    NPS: runs.
    True
    >>> _ = jl.section(replace(study, survey=study.survey.iloc[:0]), key="05.nps")
    Skipped: NPS needs a survey (survey.csv) with an NPS column, which this study does not have.
    """
    check_study(study, func="section")
    status = _status(study, key, params)
    if not quiet:
        print(status)
    _set_skipping(not status.applies)
    return status


@shared_docs
def plan(study, **params) -> pd.DataFrame:
    """Every notebook section that needs an optional part, and whether it runs on ``study``.

    What ``journeylab validate`` prints after the problems.

    Parameters
    ----------
    {study}
    **params
        Notebook parameters a need reads (``taguette_project=``, ``events_parquet=``), as for
        :func:`section`.

    Returns
    -------
    DataFrame
        ``notebook``, ``section`` (key), ``title``, ``runs`` (bool), ``reason`` (what it would
        need; "" when it runs).

    Examples
    --------
    >>> import journeylab as jl
    >>> p = jl.section_plan(jl.load_study(jl.datasets.sample_study_path()))
    >>> list(p.columns)
    ['notebook', 'section', 'title', 'runs', 'reason']
    >>> p.loc[~p["runs"], "section"].tolist()   # the sample study has no usability tasks or questionnaire
    ['05.tasks', '05.questionnaire']
    """
    check_study(study, func="section_plan")
    rows = []
    for notebook, sections in SECTIONS.items():
        for sec in sections:
            if not sec.needs:  # a section every study runs (e.g. a notebook's closing listing)
                continue
            st = _status(study, sec.key, params)
            rows.append({"notebook": notebook, "section": sec.key, "title": sec.title, "runs": st.applies,
                         "reason": "; ".join(dict.fromkeys(st.missing))})
    return pd.DataFrame(rows, columns=["notebook", "section", "title", "runs", "reason"])
