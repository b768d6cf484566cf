"""The study folder: load and validate everything a user brings.

A study is a folder::

    study.yml            name, stages and touchpoints, event mapping, funnel, survey scales
    participants.csv     one row per interviewee
    transcripts/         one file per interview (.txt, .vtt, .srt)
    survey.csv           one row per survey response (optional)
    events.csv[.gz]      the event log (or events.parquet; optional)
    codebook.yml         the codebook (optional)
    codings/             one CSV per coder (optional)

:func:`validate_study` collects *every* problem (file, line, column, what was expected, what was
found); :func:`load_study` raises :class:`~journeylab.errors.StudyError` listing them all, or
returns a :class:`Study`. The format is documented in ``docs/study-format.md``.
"""
from __future__ import annotations

__all__ = ["Study", "load_study", "validate_study", "study_part", "StudyPart"]

import csv
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..utils.tables import unneutralise
from ..utils.checks import check_path
from ..errors import JourneylabError, Problem, StudyError

DEFAULT_INTERVIEWER_LABELS = ["Interviewer", "Moderator", "Facilitator", "Researcher", "Int", "I"]
TRANSCRIPT_SUFFIXES = {".txt", ".vtt", ".srt"}
EVENT_FILES = ["events.parquet", "events.csv.gz", "events.csv"]
CODING_COLUMNS = ["segment_id", "code", "coder", "origin", "memo"]
CODING_ORIGINS = {"manual", "rule", "model"}

# canonical column -> default name; study.yml `columns:` may rename each per file
CANONICAL = {
    "participants": ["participant_id"],
    "survey": ["respondent_id"],
    "events": ["user_id", "timestamp", "event"],
}


# ----------------------------------------------------------------------------- helpers


class _Collector:
    """Accumulates problems while validation carries on."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def error(self, file: str, message: str, line: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(file, line, column, message, "error"))

    def warn(self, file: str, message: str, line: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(file, line, column, message, "warning"))

    @property
    def n_errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)


def _yaml_line(root: yaml.Node | None, *keys: Any) -> int | None:
    """1-based line of the node at ``keys`` inside a composed YAML document (best effort)."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == key:
                    node = v
                    line = k.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _csv_line_numbers(path: Path, opener=open) -> list[int]:
    """Line number (1-based) on which each data record of a CSV starts (header is line 1)."""
    starts = []
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        prev = 0
        for i, _ in enumerate(reader):
            if i > 0:
                starts.append(prev + 1)
            prev = reader.line_num
    return starts


def _unclosed_quote_line(path: Path, opener=open) -> int | None:
    """Line on which the CSV record holding a never-closed quote starts (the last record)."""
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            start = prev = 0
            for _ in reader:
                start, prev = prev + 1, reader.line_num
            return start or None
    except (csv.Error, UnicodeDecodeError, OSError, EOFError):
        return None


class _LineMap:
    """Maps a data row index to its CSV line, computed only when a problem needs it."""

    def __init__(self, path: Path, opener=open) -> None:
        self.path, self.opener, self._lines = path, opener, None

    def __call__(self, row: int) -> int:
        if self.opener is None:  # parquet: report the row number (header-less, 1-based)
            return row + 1
        if self._lines is None:
            try:
                self._lines = _csv_line_numbers(self.path, self.opener)
            except (csv.Error, UnicodeDecodeError):
                self._lines = []
        if row < len(self._lines):
            return self._lines[row]
        return row + 2


def _read_table(path: Path, rel: str, col: _Collector) -> tuple[pd.DataFrame | None, _LineMap | None]:
    """Read a CSV (optionally gzip) or parquet file as strings, reporting problems with places."""
    import gzip

    try:
        if path.stat().st_size == 0:
            col.error(rel, "the file is empty; expected a header line and at least one row")
            return None, None
    except OSError as exc:
        col.error(rel, f"cannot read the file: {exc.strerror}")
        return None, None
    if path.suffix == ".parquet":
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types
            col.error(rel, f"cannot read the parquet file: {exc}")
            return None, None
        return df, _LineMap(path, None)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw_head = fh.read(1 << 16)
    except (OSError, EOFError) as exc:
        col.error(rel, f"cannot read the file: {exc}")
        return None, None
    if b"\x00" in raw_head:
        col.error(rel, "the file contains NUL bytes; expected a UTF-8 text CSV (is it a spreadsheet saved as binary?)")
        return None, None
    try:
        df = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=[],
            encoding="utf-8-sig",
            compression="gzip" if opener is gzip.open else None,
            skipinitialspace=False,
        )
    except UnicodeDecodeError as exc:
        col.error(rel, f"byte {exc.start}: not valid UTF-8 ({exc.reason}); save the file as UTF-8")
        return None, None
    except pd.errors.EmptyDataError:
        col.error(rel, "the file is empty; expected a header line and at least one row")
        return None, None
    except pd.errors.ParserError as exc:
        msg = str(exc)
        import re

        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
        if m:
            col.error(rel, f"expected {m.group(1)} fields (as in the header), found {m.group(3)}; "
                      "check for an unquoted comma or a missing one", line=int(m.group(2)))
        elif "EOF inside string" in msg:
            col.error(rel, "a quote (\") opened here is never closed, so the rest of the file reads as one "
                      "field; check for an unbalanced quote", line=_unclosed_quote_line(path, opener))
        else:
            col.error(rel, f"cannot parse the CSV ({msg.strip()}); check for an unbalanced quote")
        return None, None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        col.error(rel, f"cannot read the file: {exc}")
        return None, None
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        col.error(rel, "the file has a header but no rows")
    return df, _LineMap(path, opener)


def _rename(df: pd.DataFrame, mapping: dict, rel: str, col: _Collector, required: list[str]) -> pd.DataFrame:
    """Rename user columns to canonical names and report missing required ones."""
    mapping = dict(mapping or {})
    inverse = {v: k for k, v in mapping.items() if v in df.columns}
    df = df.rename(columns=inverse)
    for name in required:
        if name not in df.columns:
            user = mapping.get(name, name)
            hint = f" (study.yml maps '{name}' to '{user}')" if user != name else (
                f"; if your file calls it differently, add `columns: {{{_file_key(rel)}: {{{name}: <your column>}}}}` to study.yml"
            )
            col.error(rel, f"missing required column '{user}'{hint}; found: {', '.join(df.columns) or '(none)'}",
                      line=1, column=user)
    dupes = df.columns[df.columns.duplicated()].tolist()
    for d in dupes:
        col.error(rel, f"column '{d}' appears more than once in the header", line=1, column=d)
    return df


def _file_key(rel: str) -> str:
    name = Path(rel).name
    for key in ("participants", "survey", "events"):
        if name.startswith(key):
            return key
    return name


def _check_duplicates(df: pd.DataFrame, column: str, rel: str, col: _Collector, lines: _LineMap) -> None:
    if column not in df.columns:
        return
    values = df[column]
    blank = values.astype(str).str.strip() == ""
    for i in np.flatnonzero(blank.to_numpy())[:20]:
        col.error(rel, f"empty {column}; every row needs one", line=lines(int(i)), column=column)
    dup = values.duplicated(keep="first") & ~blank
    for i in np.flatnonzero(dup.to_numpy())[:20]:
        first = int(np.flatnonzero((values == values.iloc[i]).to_numpy())[0])
        col.error(rel, f"duplicate {column} {values.iloc[i]!r} (first seen on line {lines(first)})",
                  line=lines(int(i)), column=column)
    if dup.sum() > 20:
        col.error(rel, f"... and {int(dup.sum()) - 20} more duplicate {column} values", column=column)


def _numeric_in_range(df, column, lo, hi, rel, col, lines, *, integer: bool, what: str) -> pd.Series:
    """Parse a score column; blanks become NaN; report values that are not numbers in [lo, hi]."""
    raw = df[column].astype(str).str.strip()
    blank = raw.eq("") | raw.str.lower().isin(["na", "n/a", "nan", "null", "none"])
    values = pd.to_numeric(raw.where(~blank), errors="coerce")
    bad = ~blank & (values.isna() | (values < lo) | (values > hi) | (integer & (values % 1 != 0)))
    idx = np.flatnonzero(bad.to_numpy())
    for i in idx[:20]:
        col.error(rel, f"expected {what} (a {'whole ' if integer else ''}number from {lo:g} to {hi:g}, or blank), "
                  f"found {raw.iloc[i]!r}", line=lines(int(i)), column=column)
    if len(idx) > 20:
        col.error(rel, f"... and {len(idx) - 20} more values out of range", column=column)
    return values


def _parse_times(df, column, rel, col, lines) -> pd.Series:
    raw = df[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
    else:
        s = raw.astype(str).str.strip()
        parsed = pd.to_datetime(s, errors="coerce", utc=True, format="ISO8601")
        if parsed.isna().all() and (s != "").any():
            parsed = pd.to_datetime(s, errors="coerce", utc=True, format="mixed")
        bad = parsed.isna()
        idx = np.flatnonzero(bad.to_numpy())
        for i in idx[:20]:
            col.error(rel, f"expected a timestamp like 2026-08-31T14:05:00Z, found {s.iloc[i]!r}",
                      line=lines(int(i)), column=column)
        if len(idx) > 20:
            col.error(rel, f"... and {len(idx) - 20} more unparseable timestamps", column=column)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed


# ----------------------------------------------------------------------------- config


@dataclass
class _Config:
    raw: dict
    stages: list[str]
    touchpoints: pd.DataFrame
    events_map: pd.DataFrame
    funnel_steps: list
    funnel_window: str
    changes: pd.DataFrame
    csat_columns: dict
    csat_scale: tuple
    nps_column: str
    personas: list
    interviewer_labels: list
    columns: dict
    unmapped_events: str
    redaction: dict
    vocabulary: dict


#: What a study calls a conversion and the unit of time of the upsides (study.yml ``vocabulary:``).
DEFAULT_VOCABULARY = {"conversion": "conversions", "period": "week"}
#: Units of time a study may count its upsides in, in days.
PERIOD_DAYS = {"day": 1, "week": 7, "month": 365.25 / 12, "quarter": 365.25 / 4, "year": 365.25}


def _is_str_list(value, *, nested: bool = False) -> bool:
    return isinstance(value, list) and all(
        isinstance(x, str) or (nested and isinstance(x, list) and x and all(isinstance(y, str) for y in x))
        for x in value)


def _check_config_types(raw: dict, root, rel: str, col: _Collector) -> dict:
    """Report study.yml sections of the wrong type and return a copy with them emptied."""
    raw = dict(raw)
    expect = [  # key, check, default, what was expected
        ("name", lambda v: isinstance(v, (str, int, float)), None, "a title"),
        ("funnel", lambda v: isinstance(v, dict), {}, "a mapping {steps: [...], window: 7D}"),
        ("changes", lambda v: isinstance(v, list), [], "a list of {date: ..., name: ...}"),
        ("survey", lambda v: isinstance(v, dict), {}, "a mapping {nps: ..., csat: {...}, csat_scale: [1, 5]}"),
        ("personas", _is_str_list, [], "a list of persona names"),
        ("interviewer_labels", _is_str_list, None, "a list of speaker labels"),
        ("redaction", lambda v: isinstance(v, dict), {}, "a mapping {enabled: true, order_pattern: ...}"),
        ("unmapped_events", lambda v: isinstance(v, str), "error", "'error' or 'exclude'"),
        ("vocabulary", lambda v: isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, str)
                                                             for k, x in v.items()), {},
         "a mapping {conversion: sign-ups, period: month}"),
    ]
    for key, ok, default, what in expect:
        if raw.get(key) is not None and not ok(raw[key]):
            col.error(rel, f"'{key}:' must be {what}, found {raw[key]!r}", line=_yaml_line(root, key))
            raw[key] = default
    funnel = dict(raw.get("funnel") or {})
    if funnel.get("steps") is not None and not _is_str_list(funnel["steps"], nested=True):
        col.error(rel, "funnel steps: expected a list of event names (or lists of names), "
                  f"found {funnel['steps']!r}", line=_yaml_line(root, "funnel", "steps"))
        funnel["steps"] = []
    raw["funnel"] = funnel
    survey = dict(raw.get("survey") or {})
    csat = survey.get("csat")
    if csat is not None and not (isinstance(csat, dict) and all(isinstance(k, str) and isinstance(v, str)
                                                                  for k, v in csat.items())):
        col.error(rel, f"survey csat: expected a mapping {{survey column: touchpoint}}, found {csat!r}",
                  line=_yaml_line(root, "survey", "csat"))
        survey["csat"] = {}
    if survey.get("nps") is not None and not isinstance(survey["nps"], str):
        col.error(rel, f"survey nps: expected the name of the NPS column, found {survey['nps']!r}",
                  line=_yaml_line(root, "survey", "nps"))
        survey["nps"] = "nps"
    raw["survey"] = survey
    return raw


def _parse_config(path: Path, col: _Collector) -> _Config | None:
    rel = "study.yml"
    if not path.is_file():
        col.error(rel, "not found; every study folder needs a study.yml (see docs/study-format.md)")
        return None
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data:
        col.error(rel, "the file is UTF-16 or holds NUL bytes; expected UTF-8 text (re-save it as UTF-8)", line=1)
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        col.error(rel, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at byte offset {exc.start}); "
                  "re-save the file as UTF-8", line=data.count(b"\n", 0, exc.start) + 1)
        return None
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        col.error(rel, f"not valid YAML: {getattr(exc, 'problem', exc)}", line=mark.line + 1 if mark else None)
        return None
    if not isinstance(raw, dict):
        col.error(rel, f"expected a mapping of settings (name:, stages:, ...), found {type(raw).__name__}", line=1)
        return None
    n0 = col.n_errors
    raw = _check_config_types(raw, root, rel, col)
    if not raw.get("name"):
        col.error(rel, "missing 'name:' (the study's title)", line=1)
    stages_raw = raw.get("stages")
    stages: list[str] = []
    tp_rows = []
    if not isinstance(stages_raw, list) or not stages_raw:
        col.error(rel, "missing 'stages:' — a list of journey stages in order, e.g. "
                  "[awareness, consideration, purchase, retention, advocacy]", line=_yaml_line(root, "stages"))
    else:
        for i, st in enumerate(stages_raw):
            if isinstance(st, str):
                name, tps = st, []
            elif isinstance(st, dict) and isinstance(st.get("name"), str):
                name, tps = st["name"], st.get("touchpoints") or []
            else:
                col.error(rel, f"stage {i + 1}: expected a name or {{name: ..., touchpoints: [...]}}, found {st!r}",
                          line=_yaml_line(root, "stages", i))
                continue
            if name in stages:
                col.error(rel, f"stage {name!r} is listed twice", line=_yaml_line(root, "stages", i))
                continue
            stages.append(name)
            if not isinstance(tps, list) or not all(isinstance(t, str) for t in tps):
                col.error(rel, f"stage {name!r}: touchpoints must be a list of names, found {tps!r}",
                          line=_yaml_line(root, "stages", i))
                tps = []
            for j, tp in enumerate(tps):
                tp_rows.append({"stage": name, "stage_order": len(stages) - 1, "touchpoint": tp, "touchpoint_order": j})
    touchpoints = pd.DataFrame(tp_rows, columns=["stage", "stage_order", "touchpoint", "touchpoint_order"])
    dup_tp = touchpoints["touchpoint"][touchpoints["touchpoint"].duplicated()]
    for tp in dup_tp:
        col.error(rel, f"touchpoint {tp!r} belongs to more than one stage; give each touchpoint one stage",
                  line=_yaml_line(root, "stages"))
    known_tp = set(touchpoints["touchpoint"])

    ev_rows = []
    events_raw = raw.get("events") or {}
    if not isinstance(events_raw, dict):
        col.error(rel, "'events:' must map each event name to {stage: ..., touchpoint: ...}", line=_yaml_line(root, "events"))
        events_raw = {}
    for ev, spec in events_raw.items():
        line = _yaml_line(root, "events", ev)
        if isinstance(spec, str):
            spec = {"stage": spec}
        if (not isinstance(spec, dict) or not isinstance(spec.get("stage"), str)
                or not isinstance(spec.get("touchpoint", ""), (str, type(None)))):
            col.error(rel, f"event {ev!r}: expected {{stage: <stage>, touchpoint: <touchpoint>}}, found {spec!r}", line=line)
            continue
        if spec["stage"] not in stages:
            col.error(rel, f"event {ev!r}: stage {spec['stage']!r} is not one of the stages ({', '.join(stages)})", line=line)
        tp = spec.get("touchpoint")
        if tp is not None and tp not in known_tp:
            col.error(rel, f"event {ev!r}: touchpoint {tp!r} is not listed under any stage", line=line)
        ev_rows.append({"event": str(ev), "stage": spec["stage"], "touchpoint": tp})
    events_map = pd.DataFrame(ev_rows, columns=["event", "stage", "touchpoint"])

    funnel = raw.get("funnel") or {}
    steps = funnel.get("steps") or []
    window = str(funnel.get("window", "7D"))
    try:
        pd.Timedelta(window)
    except ValueError:
        col.error(rel, f"funnel window: expected a duration like 7D or 36h, found {window!r}",
                  line=_yaml_line(root, "funnel", "window"))
    for k, step in enumerate(steps):
        names = step if isinstance(step, list) else [step]
        for nm in names:
            if events_map.shape[0] and nm not in set(events_map["event"]):
                col.error(rel, f"funnel step {k + 1} names event {nm!r}, which is not listed under 'events:'",
                          line=_yaml_line(root, "funnel", "steps"))

    change_rows = []
    for i, ch in enumerate(raw.get("changes") or []):
        line = _yaml_line(root, "changes", i)
        if not isinstance(ch, dict) or "date" not in ch:
            col.error(rel, f"change {i + 1}: expected {{date: YYYY-MM-DD, name: ...}}, found {ch!r}", line=line)
            continue
        try:
            date = pd.Timestamp(str(ch["date"]))
        except ValueError:
            col.error(rel, f"change {i + 1}: expected a date like 2026-08-31, found {ch['date']!r}", line=line)
            continue
        change_rows.append({"date": date, "name": ch.get("name", ""), "stage": ch.get("stage"),
                            "touchpoint": ch.get("touchpoint")})
    changes = pd.DataFrame(change_rows, columns=["date", "name", "stage", "touchpoint"])

    survey = raw.get("survey") or {}
    csat_columns = dict(survey.get("csat") or {})
    for c, tp in csat_columns.items():
        if tp not in known_tp:
            col.error(rel, f"survey csat column {c!r} rates touchpoint {tp!r}, which is not listed under any stage",
                      line=_yaml_line(root, "survey", "csat", c))
    scale = survey.get("csat_scale", [1, 5])
    if not (isinstance(scale, list) and len(scale) == 2 and all(isinstance(x, (int, float)) for x in scale) and scale[0] < scale[1]):
        col.error(rel, f"survey csat_scale: expected [low, high] like [1, 5], found {scale!r}",
                  line=_yaml_line(root, "survey", "csat_scale"))
        scale = [1, 5]
    unmapped = str(raw.get("unmapped_events", "error"))
    if unmapped not in ("error", "exclude"):
        col.error(rel, f"unmapped_events: expected 'error' or 'exclude', found {unmapped!r}",
                  line=_yaml_line(root, "unmapped_events"))
    columns = raw.get("columns") or {}
    if not isinstance(columns, dict):
        col.error(rel, "'columns:' must map a file (participants, survey, events) to {canonical: yours}",
                  line=_yaml_line(root, "columns"))
        columns = {}
    redaction = raw.get("redaction") or {}
    vocabulary = dict(DEFAULT_VOCABULARY)
    for key, value in (raw.get("vocabulary") or {}).items():
        if key not in DEFAULT_VOCABULARY:
            col.warn(rel, f"vocabulary: unknown key {key!r} (expected {', '.join(DEFAULT_VOCABULARY)}); ignored",
                     line=_yaml_line(root, "vocabulary", key))
        elif key == "period" and value not in PERIOD_DAYS:
            col.error(rel, f"vocabulary period: expected one of {', '.join(PERIOD_DAYS)}, found {value!r}",
                      line=_yaml_line(root, "vocabulary", key))
        elif not value.strip():
            col.error(rel, f"vocabulary {key}: expected a word, found an empty string",
                      line=_yaml_line(root, "vocabulary", key))
        else:
            vocabulary[key] = value.strip()
    if col.n_errors > n0 and not stages:
        return None
    return _Config(
        raw=raw, stages=stages, touchpoints=touchpoints, events_map=events_map, funnel_steps=list(steps),
        funnel_window=window, changes=changes, csat_columns=csat_columns, csat_scale=tuple(scale),
        nps_column=str(survey.get("nps", "nps")), personas=list(raw.get("personas") or []),
        interviewer_labels=list(raw.get("interviewer_labels") or DEFAULT_INTERVIEWER_LABELS),
        columns=columns, unmapped_events=unmapped, redaction=dict(redaction), vocabulary=vocabulary,
    )


# ----------------------------------------------------------------------------- Study


@dataclass
class Study:
    """A loaded, validated study folder.

    Attributes
    ----------
    path : pathlib.Path
        The study folder.
    name : str
        Title from study.yml.
    config : dict
        study.yml as parsed.
    stages : list of str
        Journey stages in order.
    touchpoints : DataFrame
        ``stage``, ``stage_order``, ``touchpoint``, ``touchpoint_order``.
    events_map : DataFrame
        ``event``, ``stage``, ``touchpoint``: where each event name belongs.
    funnel_steps : list
        Funnel steps (an event name, or a list of names for a set of events).
    funnel_window : str
        Conversion window, e.g. ``"7D"``.
    changes : DataFrame
        Product changes during the study: ``date``, ``name``, ``stage``, ``touchpoint``.
    csat_columns : dict
        Survey column → touchpoint it rates.
    csat_scale : tuple
        (low, high) of the CSAT scale.
    nps_column : str
        Name of the NPS column in ``survey``.
    participants, survey, events, segments, documents, codings : DataFrame
        The frames of ``docs/architecture.md``; ``survey``/``events``/``codings`` are empty frames
        with the canonical columns when the study has no such file.
    codebook : Codebook or None
    redactions : DataFrame
        Where PII was replaced (kind, placeholder, positions) — never the PII itself.
    problems : list of Problem
        Warnings found while loading (errors make loading fail).
    vocabulary : dict
        ``conversion`` (what the study calls a completed funnel: "sign-ups", "orders"; default
        "conversions") and ``period`` (the unit of time upsides are counted in: day, week, month,
        quarter or year; default "week"), from study.yml ``vocabulary:``.
    exclusions : DataFrame
        What was left out and why: ``file``, ``rows``, ``reason``.
    """

    path: Path
    name: str
    config: dict
    stages: list
    touchpoints: pd.DataFrame
    events_map: pd.DataFrame
    funnel_steps: list
    funnel_window: str
    changes: pd.DataFrame
    csat_columns: dict
    csat_scale: tuple
    nps_column: str
    personas: list
    participants: pd.DataFrame
    survey: pd.DataFrame
    events: pd.DataFrame
    segments: pd.DataFrame
    documents: pd.DataFrame
    codebook: Any
    codings: pd.DataFrame
    redactions: pd.DataFrame
    problems: list = field(default_factory=list)
    exclusions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["file", "rows", "reason"]))
    redacted: bool = True
    vocabulary: dict = field(default_factory=lambda: dict(DEFAULT_VOCABULARY))

    @property
    def stage_touchpoints(self) -> dict:
        """Mapping stage → list of touchpoints, in order."""
        return {s: self.touchpoints.loc[self.touchpoints["stage"] == s, "touchpoint"].tolist() for s in self.stages}

    def summary(self) -> pd.DataFrame:
        """One row per part of the study with its size.

        Returns
        -------
        DataFrame
            ``part``, ``n``, ``detail``.
        """
        seg = self.segments
        part = seg[seg["speaker_role"] == "participant"] if len(seg) else seg
        rows = [
            ("stages", len(self.stages), " → ".join(self.stages)),
            ("touchpoints", len(self.touchpoints), ""),
            ("participants", len(self.participants),
             ", ".join(f"{k}: {v}" for k, v in self.participants["persona"].value_counts().sort_index().items())
             if "persona" in self.participants else ""),
            ("transcripts", len(self.documents), ", ".join(sorted(self.documents["format"].unique())) if len(self.documents) else ""),
            ("segments", len(seg), f"{len(part)} participant turns"),
            ("survey responses", len(self.survey), ""),
            ("events", len(self.events), f"{self.events['user_id'].nunique()} users" if len(self.events) else ""),
            ("codes", len(self.codebook) if self.codebook is not None else 0, ""),
            ("codings", len(self.codings),
             ", ".join(sorted(self.codings["coder"].unique())) if len(self.codings) else ""),
            ("redactions", len(self.redactions), ""),
            ("warnings", len(self.problems), ""),
        ]
        return pd.DataFrame(rows, columns=["part", "n", "detail"])

    def __repr__(self) -> str:
        return (f"Study({self.name!r}, {len(self.participants)} participants, {len(self.documents)} transcripts, "
                f"{len(self.segments)} segments, {len(self.survey)} survey responses, {len(self.events)} events)")

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self.name)}</b> ({html.escape(str(self.path))})</p>" + self.summary().to_html(index=False)


# ----------------------------------------------------------------------------- loaders


def _load_participants(root: Path, cfg: _Config, col: _Collector) -> pd.DataFrame:
    rel = "participants.csv"
    path = root / rel
    empty = pd.DataFrame(columns=["participant_id"])
    if not path.is_file():
        col.error(rel, "not found; expected one row per interviewee with a participant_id column")
        return empty
    df, lines = _read_table(path, rel, col)
    if df is None:
        return empty
    df = _rename(df, cfg.columns.get("participants"), rel, col, ["participant_id"])
    if "participant_id" not in df.columns:
        return empty
    df["participant_id"] = df["participant_id"].str.strip()
    _check_duplicates(df, "participant_id", rel, col, lines)
    if cfg.personas and "persona" in df.columns:
        unknown = ~df["persona"].isin(cfg.personas) & (df["persona"] != "")
        for i in np.flatnonzero(unknown.to_numpy())[:20]:
            col.error(rel, f"persona {df['persona'].iloc[i]!r} is not one of study.yml's personas "
                      f"({', '.join(cfg.personas)})", line=lines(int(i)), column="persona")
    if cfg.personas and "persona" not in df.columns:
        col.warn(rel, f"study.yml lists personas ({', '.join(cfg.personas)}) but this file has no persona column; "
                 "the per-persona sections of the notebooks are skipped", column="persona")
    cols = ["participant_id"] + [c for c in df.columns if c != "participant_id"]
    return df[cols].replace({"": pd.NA}).reset_index(drop=True)


def _load_survey(root: Path, cfg: _Config, col: _Collector, exclusions: list) -> pd.DataFrame:
    rel = "survey.csv"
    path = root / rel
    empty = pd.DataFrame(columns=["respondent_id", cfg.nps_column, "comment"])
    if not path.is_file():
        return empty
    df, lines = _read_table(path, rel, col)
    if df is None:
        return empty
    df = _rename(df, cfg.columns.get("survey"), rel, col, ["respondent_id"])
    if "respondent_id" not in df.columns:
        return empty
    _check_duplicates(df, "respondent_id", rel, col, lines)
    out = df.copy()
    if cfg.nps_column in df.columns:
        out[cfg.nps_column] = _numeric_in_range(df, cfg.nps_column, 0, 10, rel, col, lines, integer=True,
                                                what="an NPS score").astype("Float64")
    elif cfg.raw.get("survey", {}).get("nps"):
        col.error(rel, f"study.yml names NPS column '{cfg.nps_column}', which the file lacks", line=1, column=cfg.nps_column)
    lo, hi = cfg.csat_scale
    for c in cfg.csat_columns:
        if c not in df.columns:
            col.error(rel, f"study.yml names CSAT column '{c}', which the file lacks; found: {', '.join(df.columns)}",
                      line=1, column=c)
            continue
        out[c] = _numeric_in_range(df, c, lo, hi, rel, col, lines, integer=True,
                                   what=f"a CSAT score on the {lo:g}–{hi:g} scale").astype("Float64")
    for tcol in ("submitted_at",):
        if tcol in df.columns:
            out[tcol] = _parse_times(df, tcol, rel, col, lines)
    if "comment" in out.columns:
        out["comment"] = out["comment"].replace({"": pd.NA}).astype("string")
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].replace({"": pd.NA})
    return out.reset_index(drop=True)


def _find_events(root: Path) -> Path | None:
    for name in EVENT_FILES:
        if (root / name).is_file():
            return root / name
    return None


def _load_events(root: Path, cfg: _Config, col: _Collector, exclusions: list) -> pd.DataFrame:
    path = _find_events(root)
    empty = pd.DataFrame({"user_id": pd.Series(dtype=str), "timestamp": pd.Series(dtype="datetime64[ns]"),
                          "event": pd.Series(dtype=str)})
    if path is None:
        return empty
    rel = path.name
    df, lines = _read_table(path, rel, col)
    if df is None:
        return empty
    df = _rename(df, cfg.columns.get("events"), rel, col, ["user_id", "timestamp", "event"])
    if not {"user_id", "timestamp", "event"} <= set(df.columns):
        return empty
    df["timestamp"] = _parse_times(df, "timestamp", rel, col, lines)
    blank_user = df["user_id"].astype(str).str.strip() == ""
    for i in np.flatnonzero(blank_user.to_numpy())[:20]:
        col.error(rel, "empty user_id; every event needs the user who did it", line=lines(int(i)), column="user_id")
    known = set(cfg.events_map["event"])
    if known:
        unknown = ~df["event"].isin(known)
        if unknown.any():
            counts = df.loc[unknown, "event"].value_counts()
            if cfg.unmapped_events == "exclude":
                exclusions.append({"file": rel, "rows": int(unknown.sum()),
                                   "reason": "event names not mapped to a stage in study.yml: "
                                   + ", ".join(f"{k} ({v})" for k, v in counts.head(10).items())})
                col.warn(rel, f"excluded {int(unknown.sum())} rows whose event is not mapped to a stage in study.yml "
                         f"({', '.join(counts.index[:10])})", column="event")
                df = df.loc[~unknown]
            else:
                for name, n in counts.head(20).items():
                    first = int(np.flatnonzero((df["event"] == name).to_numpy())[0])
                    col.error(rel, f"event {name!r} ({n} rows) belongs to no known stage; add it under 'events:' in "
                              "study.yml (or set `unmapped_events: exclude` to leave such rows out, counted)",
                              line=lines(first), column="event")
    for c in ("user_id", "event", "session_id"):
        if c in df.columns:
            df[c] = df[c].astype(str)
    return df.reset_index(drop=True)


def _load_transcripts(root: Path, cfg: _Config, participants: pd.DataFrame, col: _Collector):
    from . import transcripts as tr

    folder = root / "transcripts"
    seg_frames, doc_rows = [], []
    if not folder.is_dir():
        col.error("transcripts/", "folder not found; expected one file per interview (.txt, .vtt or .srt)")
        return pd.DataFrame(), pd.DataFrame()
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    for p in files:
        rel = f"transcripts/{p.name}"
        if p.suffix.lower() not in TRANSCRIPT_SUFFIXES:
            col.warn(rel, f"skipped: expected a .txt, .vtt or .srt transcript, found '{p.suffix}'")
            continue
        try:
            doc = tr.read_document(p, interviewer_labels=cfg.interviewer_labels, display_path=rel)
        except tr.TranscriptError as exc:
            col.problems.append(exc.to_problem())
            continue
        except JourneylabError as exc:
            msg = str(exc)
            col.problems.append(Problem(rel, None, None, msg[len(rel) + 2:] if msg.startswith(rel + ": ") else msg))
            continue
        for w in doc.warnings:
            col.problems.append(w)
        seg_frames.append(doc.segments)
        pids = doc.segments["participant_id"].dropna().unique().tolist()
        doc_rows.append({"doc_id": doc.doc_id, "path": rel, "format": doc.format, "encoding": doc.encoding,
                         "participant_id": pids[0] if len(pids) == 1 else (";".join(map(str, pids)) or pd.NA),
                         "text": doc.text})
    if not doc_rows:
        if files:
            return pd.DataFrame(), pd.DataFrame()
        col.error("transcripts/", "the folder holds no transcripts")
        return pd.DataFrame(), pd.DataFrame()
    segments = pd.concat(seg_frames, ignore_index=True)
    documents = pd.DataFrame(doc_rows)
    dup = documents["doc_id"].duplicated()
    for d in documents.loc[dup, "doc_id"]:
        col.error("transcripts/", f"two transcripts share the id {d!r} (file stem); rename one")
    if len(participants) and "participant_id" in participants:
        known = set(participants["participant_id"])
        for doc_id, pid in segments[["doc_id", "participant_id"]].dropna().drop_duplicates().itertuples(index=False):
            if pid not in known:
                path = documents.loc[documents["doc_id"] == doc_id, "path"].iloc[0]
                first = segments[(segments["doc_id"] == doc_id) & (segments["participant_id"] == pid)].iloc[0]
                line = documents.loc[documents["doc_id"] == doc_id, "text"].iloc[0][: int(first["start"])].count("\n") + 1
                col.error(path, f"speaker {pid!r} is not in participants.csv; add a row for them or list the label "
                          "under `interviewer_labels:` in study.yml", line=line)
    return segments, documents


def _load_codebook(root: Path, cfg: _Config, col: _Collector):
    path = root / "codebook.yml"
    if not path.is_file():
        return None
    from .codebook import Codebook, CodebookError

    try:
        return Codebook.from_yaml(path, stages={s: cfg.touchpoints.loc[cfg.touchpoints.stage == s, "touchpoint"].tolist()
                                                for s in cfg.stages})
    except CodebookError as exc:
        col.problems.append(Problem("codebook.yml", exc.line, None, exc.problem))
        return None
    except JourneylabError as exc:
        msg = str(exc)
        col.problems.append(Problem("codebook.yml", None, None, msg.split("codebook.yml", 1)[-1].lstrip(": ,") or msg))
        return None


def _load_codings(root: Path, segments: pd.DataFrame, codebook, col: _Collector) -> pd.DataFrame:
    folder = root / "codings"
    empty = pd.DataFrame(columns=CODING_COLUMNS)
    if not folder.is_dir():
        return empty
    frames = []
    known_seg = set(segments["segment_id"]) if len(segments) else set()
    known_codes = set(codebook.names) if codebook is not None and hasattr(codebook, "names") else None
    for p in sorted(folder.iterdir()):
        rel = f"codings/{p.name}"
        if p.suffix.lower() != ".csv":
            if not p.name.startswith("."):
                col.warn(rel, "skipped: expected a CSV of codings (one file per coder)")
            continue
        df, lines = _read_table(p, rel, col)
        if df is None:
            continue
        df = _rename(df, {}, rel, col, ["segment_id", "code"])
        if not {"segment_id", "code"} <= set(df.columns):
            continue
        for c in df.columns:  # CodingStore.export_csv wrote "'=..." for a memo starting with "="
            df[c] = df[c].map(unneutralise)
        if "coder" not in df.columns:
            df["coder"] = p.stem
        if "origin" not in df.columns:
            df["origin"] = "manual"
        if "memo" not in df.columns:
            df["memo"] = ""
        bad_origin = ~df["origin"].isin(CODING_ORIGINS)
        for i in np.flatnonzero(bad_origin.to_numpy())[:20]:
            col.error(rel, f"origin must be manual, rule or model; found {df['origin'].iloc[i]!r}",
                      line=lines(int(i)), column="origin")
        if known_seg:
            unknown = ~df["segment_id"].isin(known_seg)
            for i in np.flatnonzero(unknown.to_numpy())[:20]:
                col.error(rel, f"segment_id {df['segment_id'].iloc[i]!r} matches no transcript segment",
                          line=lines(int(i)), column="segment_id")
        if known_codes is not None:
            unknown = ~df["code"].isin(known_codes)
            for i in np.flatnonzero(unknown.to_numpy())[:20]:
                col.error(rel, f"code {df['code'].iloc[i]!r} is not in codebook.yml", line=lines(int(i)), column="code")
        frames.append(df)
    if not frames:
        return empty
    out = pd.concat(frames, ignore_index=True)
    out["memo"] = out["memo"].replace({"": pd.NA})
    cols = CODING_COLUMNS + [c for c in out.columns if c not in CODING_COLUMNS]
    return out[cols]


def _collect(path, *, redact: bool = True, func: str = "load_study"):
    check_path(path, arg="path", func=func)
    root = Path(path)
    col = _Collector()
    if not root.is_dir():
        raise JourneylabError(f"{root}: not a folder; expected a study folder holding study.yml (see docs/study-format.md)")
    cfg = _parse_config(root / "study.yml", col)
    if cfg is None:
        return None, col
    exclusions: list = []
    participants = _load_participants(root, cfg, col)
    survey = _load_survey(root, cfg, col, exclusions)
    events = _load_events(root, cfg, col, exclusions)
    segments, documents = _load_transcripts(root, cfg, participants, col)
    codebook = _load_codebook(root, cfg, col)
    codings = _load_codings(root, segments, codebook, col)
    redactions = pd.DataFrame(columns=["doc_id", "segment_id", "kind", "placeholder", "original_start",
                                       "original_end", "start", "end"])
    if redact and len(segments) and col.n_errors == 0 and cfg.redaction.get("enabled", True):
        from .redact import redact as _redact, redact_text

        kw = {}
        if cfg.redaction.get("order_pattern"):
            kw["order_pattern"] = cfg.redaction["order_pattern"]
        res = _redact(segments, participants if "name" in participants.columns else None, documents=documents, **kw)
        segments, documents, redactions = res.segments, res.documents, res.mapping
        if "comment" in survey.columns and len(survey):
            # a name known from participants.csv becomes [NAME:P07], as in the transcripts
            names = (participants.dropna(subset=["name"]).set_index("name")["participant_id"].astype(str).to_dict()
                     if "name" in participants.columns else None)
            comments = survey["comment"]
            red = [redact_text(t, names=names, **kw)[0] if isinstance(t, str) else t for t in comments]
            survey = survey.assign(comment=pd.array(red, dtype="string"))
    if "name" in participants.columns and redact:
        participants = participants.drop(columns=["name"])
    study = Study(
        path=root, name=str(cfg.raw.get("name", root.name)), config=cfg.raw, stages=cfg.stages,
        touchpoints=cfg.touchpoints, events_map=cfg.events_map, funnel_steps=cfg.funnel_steps,
        funnel_window=cfg.funnel_window, changes=cfg.changes, csat_columns=cfg.csat_columns,
        csat_scale=cfg.csat_scale, nps_column=cfg.nps_column,
        personas=cfg.personas if "persona" in participants.columns else [],  # no persona column: no personas
        participants=participants, survey=survey, events=events, segments=segments, documents=documents,
        codebook=codebook, codings=codings, redactions=redactions,
        problems=[p for p in col.problems if p.severity == "warning"],
        exclusions=pd.DataFrame(exclusions, columns=["file", "rows", "reason"]), redacted=redact,
        vocabulary=dict(cfg.vocabulary),
    )
    return study, col


def validate_study(path) -> list[Problem]:
    """Check a study folder and return every problem found (errors and warnings).

    Parameters
    ----------
    path : str or Path
        The study folder.

    Returns
    -------
    list of Problem
        Each with ``file``, ``line``, ``column``, ``message`` and ``severity``. Empty when the folder
        is valid. ``journeylab validate PATH`` prints this list.

    Examples
    --------
    >>> import journeylab as jl
    >>> [p for p in jl.validate_study(jl.datasets.sample_study_path()) if p.severity == "error"]
    []
    """
    _, col = _collect(path, redact=False, func="validate_study")
    return col.problems


def load_study(path, *, redact: bool = True) -> Study:
    """Load and validate a study folder.

    Parameters
    ----------
    path : str or Path
        The study folder (see ``docs/study-format.md``).
    redact : bool, default True
        Replace personal information (emails, phone and card numbers, addresses, order numbers,
        the names in participants.csv) in transcripts and survey comments with typed placeholders
        such as ``[EMAIL]`` and ``[NAME:P07]``; where it was replaced is in ``Study.redactions``.
        The ``name`` column is then dropped from ``participants``.

    Returns
    -------
    Study

    Raises
    ------
    StudyError
        Listing every problem found, each with its file, line and column.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> study.stages
    ['awareness', 'consideration', 'purchase', 'retention', 'advocacy']
    """
    study, col = _collect(path, redact=redact)
    if study is None or col.n_errors:
        raise StudyError(col.problems, str(path))
    return study


#: Why a notebook section cannot use a part a study left out (docs/study-format.md: optional files).
_PART_REASONS = {
    "survey": "this study has no survey (survey.csv), so there are no NPS, CSAT or comment scores to measure",
    "events": ("this study has no event log (events.csv, events.csv.gz or events.parquet), so there is no "
               "funnel to count"),
    "codings": ("this study has no codings (no CSV file in codings/), so there is no coder's work to compare "
                "or count"),
}


class StudyPart:
    """Whether a study holds one of its optional parts (:func:`study_part`); false when it does not.

    ``if part:`` reads "if the study has it"; when it does not, ``reason`` is one sentence for the
    notebook to print before skipping the section.

    Attributes
    ----------
    name : str
        ``"survey"``, ``"events"`` or ``"codings"``.
    n : int
        Rows the study holds for it (survey responses, events or codings).
    reason : str
        Empty when the part is there; otherwise why the section does not apply.
    """

    def __init__(self, name: str, n: int, reason: str = "") -> None:
        self.name, self.n, self.reason = name, n, reason

    def __bool__(self) -> bool:
        return not self.reason

    def __repr__(self) -> str:
        return f"StudyPart({self.name!r}, n={self.n})" if self else f"StudyPart({self.name!r}, none: {self.reason})"


def study_part(study: "Study", part: str) -> StudyPart:
    """Whether ``study`` has an optional part (survey, event log, codings), or why not.

    Notebooks ask this before a section that needs the part, so a study without a survey, an event
    log or codings (all optional, see ``docs/study-format.md``) says why the section does not apply
    instead of failing in it.

    Parameters
    ----------
    study : Study
        A loaded study (:func:`load_study`).
    part : {"survey", "events", "codings"}
        The optional part.

    Returns
    -------
    StudyPart
        True when the study holds at least one row of it; false with ``reason`` set otherwise.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> bool(jl.study_part(study, "survey")), jl.study_part(study, "events").n > 0
    (True, True)
    >>> from dataclasses import replace
    >>> print(jl.study_part(replace(study, survey=study.survey.iloc[:0]), "survey").reason)
    this study has no survey (survey.csv), so there are no NPS, CSAT or comment scores to measure
    """
    from ..utils.checks import check_study

    check_study(study, func="study_part")
    if not isinstance(part, str) or part not in _PART_REASONS:
        raise JourneylabError(f"study_part(): `part` must be one of {', '.join(map(repr, _PART_REASONS))}; "
                              f"got {part!r}")
    frame = getattr(study, part, None)
    n = 0 if frame is None else len(frame)
    return StudyPart(part, n, "" if n else _PART_REASONS[part])
