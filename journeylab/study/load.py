"""The study folder: load and validate everything a user brings.

A study is a folder::

    study.yml            name, stages and touchpoints, event mapping, funnel, survey scales
    participants.csv     one row per interviewee
    transcripts/         one file per interview (.txt, .vtt, .srt)
    survey.csv           one row per survey response (optional)
    events.csv[.gz]      the event log (or events.parquet; optional)
    codebook.yml         the codebook (optional)
    codings/             one CSV per coder (optional)
    tasks.csv            usability-test task outcomes (optional)
    segment_stages.csv   the stage (or task) of each turn, when the session follows the stages (optional)

:func:`validate_study` collects *every* problem (file, line, column, what was expected, what was
found); :func:`load_study` raises :class:`~journeylab.errors.StudyError` listing them all, or
returns a :class:`Study`. The format is documented in ``docs/study-format.md``.
"""
from __future__ import annotations

__all__ = ["Study", "load_study", "validate_study", "study_part", "StudyPart", "redact_study",
           "redaction_review"]

import bisect
import csv
import dataclasses
import gzip
import html
import io
import re
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import phonenumbers
import yaml

from ..errors import JourneylabError, Problem, StudyError
from ..utils.checks import check_path
from ..utils.docstrings import shared_docs
from ..utils.limits import BoundedReader, load_yaml
from ..utils.tables import unneutralise
from . import cache as _cache
from . import transcripts as tr
from .anchor import ANCHOR_REPORT_COLUMNS, Fingerprint, parse_fingerprint, reanchor, text_hash
from .codebook import Codebook, CodebookError
from .redact import make_detector, offset_mapper, redact_texts
from .redact import redact as _redact
from .units import participant_codings

DEFAULT_INTERVIEWER_LABELS = ["Interviewer", "Moderator", "Facilitator", "Researcher", "Int", "I"]
TRANSCRIPT_SUFFIXES = {".txt", ".vtt", ".srt", ".docx", ".odt"}
TRANSCRIPT_KEYS = {"speaker_labels", "moderator_pattern", "unlabelled", "participant_from", "stage_marker"}
#: Study.segment_stages: the stage of each turn taken from where it is in the session
SEGMENT_STAGE_COLUMNS = ["segment_id", "doc_id", "participant_id", "stage", "task", "source"]
EVENT_FILES = ["events.parquet", "events.csv.gz", "events.csv"]
CODING_COLUMNS = ["segment_id", "code", "coder", "origin", "memo"]
CODING_ORIGINS = {"manual", "rule", "model"}
SOURCE_COLUMNS = ["file", "format", "encoding", "rows"]
#: Study.redactions: where each replacement is, in which part of the study (never the replaced text)
REDACTION_COLUMNS = ["source", "doc_id", "segment_id", "field", "kind", "placeholder", "original_start",
                     "original_end", "start", "end"]
#: Study.redaction_flags: what looked personal but was kept
REDACTION_FLAG_COLUMNS = ["source", "doc_id", "segment_id", "field", "kind", "text", "reason", "start", "end"]
_FREE_TEXT_NAME = re.compile(r"comment|feedback|verbatim|free_?text|open_?(?:text|answer|ended)|reason|why|"
                             r"suggest|other|note|describe|explain|answer|remark", re.IGNORECASE)
#: The outcome of a usability-test task attempt (tasks.csv); study.yml `tasks: outcomes:` maps other words.
TASK_OUTCOMES = ("success", "assisted", "failed", "abandoned")
#: Instruments study.yml's ``questionnaire:`` may name (scored by journeylab.score_questionnaire).
QUESTIONNAIRE_INSTRUMENTS = ("sus", "umux_lite", "pssuq", "pssuq_v2", "seq", "ces", "nps", "csat")
#: The answer scale of one item of each instrument (CSAT takes study.yml's csat_scale).
_ANSWER_RANGES = {"sus": (1, 5), "umux_lite": (1, 7), "pssuq": (1, 7), "pssuq_v2": (1, 7), "seq": (1, 7),
                  "ces": (1, 7), "nps": (0, 10)}
TASK_COLUMNS = ["participant_id", "task", "outcome", "time_s", "notes", "stage", "touchpoint"]

# canonical column -> default name; study.yml `columns:` may rename each per file
CANONICAL = {
    "participants": ["participant_id"],
    "survey": ["respondent_id"],
    "events": ["user_id", "timestamp", "event"],
    "tasks": ["participant_id", "task", "outcome"],
}


# ----------------------------------------------------------------------------- helpers


class _Collector:
    """Accumulates problems while validation carries on."""

    def __init__(self) -> None:
        self.anchoring: list[dict] = []
        self.problems: list[Problem] = []
        self.sources: list[dict] = []  # one row per file read (Study.sources)

    def error(self, file: str, message: str, line: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(file, line, column, message, "error"))

    def warn(self, file: str, message: str, line: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(file, line, column, message, "warning"))

    def info(self, file: str, message: str, line: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(file, line, column, message, "info"))

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


def _csv_line_numbers(path: Path, opener=open, encoding: str = "utf-8-sig") -> list[int]:
    """Line number (1-based) on which each data record of a CSV starts (header is line 1)."""
    starts = []
    with opener(path, "rt", encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        prev = 0
        for i, _ in enumerate(reader):
            if i > 0:
                starts.append(prev + 1)
            prev = reader.line_num
    return starts


def _unclosed_quote_line(path: Path, opener=open, encoding: str = "utf-8-sig") -> int | None:
    """Line on which the CSV record holding a never-closed quote starts (the last record)."""
    try:
        with opener(path, "rt", encoding=encoding, newline="") as fh:
            reader = csv.reader(fh)
            start = prev = 0
            for _ in reader:
                start, prev = prev + 1, reader.line_num
            return start or None
    except (csv.Error, UnicodeDecodeError, OSError, EOFError, zlib.error):
        return None


class _LineMap:
    """Maps a data row index to its CSV line, computed only when a problem needs it."""

    def __init__(self, path: Path, opener=open, encoding: str = "utf-8-sig") -> None:
        self.path, self.opener, self.encoding, self._lines = path, opener, encoding, None

    def __call__(self, row: int) -> int:
        if self.opener is None:  # parquet: report the row number (header-less, 1-based)
            return row + 1
        if self._lines is None:
            try:
                self._lines = _csv_line_numbers(self.path, self.opener, self.encoding)
            except (csv.Error, UnicodeDecodeError, OSError, EOFError, zlib.error):
                self._lines = []
        if row < len(self._lines):
            return self._lines[row]
        return row + 2

#: How an encoding is named in messages.
_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE",
                   "cp1252": "cp1252"}


def _sniff_encoding(head: bytes, rel: str, col: _Collector) -> tuple[str | None, str | None]:
    """The encoding of a CSV from its first bytes (byte-order marks, NUL patterns), and its display name.

    UTF-8 (with or without a byte-order mark) is read as ``utf-8-sig``; a file that then turns out
    not to be UTF-8 is retried as Windows-1252 by :func:`_fallback_cp1252`.
    """
    if head[:3] == b"\xef\xbb\xbf":
        col.info(rel, "read as UTF-8 with a byte-order mark (as Excel's 'CSV UTF-8' saves it)")
        return "utf-8-sig", "UTF-8 with BOM"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        order = "LE" if head[:2] == b"\xff\xfe" else "BE"
        col.info(rel, f"read as UTF-16 {order} (byte-order mark found)")
        return "utf-16", f"UTF-16 {order} with BOM"
    if b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if len(head) >= 4 and odd.count(0) > 0.4 * len(odd) and even.count(0) == 0:
            col.warn(rel, "read as UTF-16 LE: the file has no byte-order mark but every other byte is 0 "
                     "(check the text; re-save it as CSV UTF-8)")
            return "utf-16-le", "UTF-16 LE"
        if len(head) >= 4 and even.count(0) > 0.4 * len(even) and odd.count(0) == 0:
            col.warn(rel, "read as UTF-16 BE: the file has no byte-order mark but every other byte is 0 "
                     "(check the text; re-save it as CSV UTF-8)")
            return "utf-16-be", "UTF-16 BE"
        nul = head.find(b"\x00")
        col.error(rel, f"the file contains NUL bytes (first at byte offset {nul}) and is neither UTF-8 nor "
                  "UTF-16 text; expected a CSV (is it a spreadsheet saved as .xlsx/binary? Save it as CSV UTF-8)",
                  line=head.count(b"\n", 0, nul) + 1)
        return None, None
    return "utf-8-sig", "UTF-8"


def _read_all(path: Path, opener) -> bytes:
    """The whole file's bytes; a gzip file is decompressed within the limits (utils.limits)."""
    if opener is gzip.open:
        with open(path, "rb") as raw, BoundedReader(gzip.GzipFile(fileobj=raw), compressed=raw.tell,
                                                    where=path.name) as fh:
            return fh.read()
    with opener(path, "rb") as fh:
        return fh.read()


def _bad_byte_line(path: Path, opener, encoding: str) -> int | None:
    try:
        _read_all(path, opener).decode(encoding)
    except UnicodeDecodeError as exc:
        data = exc.object
        if encoding.startswith("utf-16"):
            return data[: exc.start].decode(encoding, errors="replace").count("\n") + 1
        return data.count(b"\n", 0, exc.start) + 1
    except (OSError, EOFError):
        return None
    return None


def _fallback_cp1252(path: Path, opener, rel: str, col: _Collector) -> str | None:
    """A CSV that is not UTF-8: read it as Windows-1252 with a warning, or report the undecodable byte."""
    data = _read_all(path, opener)
    try:
        data.decode("utf-8-sig")
        return "utf-8-sig"  # pragma: no cover - pandas found a decode error the full decode does not
    except UnicodeDecodeError as exc:
        bad, line = exc.start, data.count(b"\n", 0, exc.start) + 1
    try:
        data.decode("cp1252")
    except UnicodeDecodeError as exc:
        col.error(rel, f"cannot decode the file: byte 0x{data[exc.start]:02x} at byte offset {exc.start} is valid "
                  f"neither in UTF-8 (first invalid byte: offset {bad}, line {line}) nor in Windows-1252 "
                  "(cp1252); re-save the file as CSV UTF-8", line=data.count(b"\n", 0, exc.start) + 1)
        return None
    col.warn(rel, f"not valid UTF-8 (byte 0x{data[bad]:02x} at byte offset {bad}); read as Windows-1252 (cp1252), "
             "as older Excel saves CSV — check accented letters, or re-save the file as CSV UTF-8", line=line)
    return "cp1252"


class _NulByte(Exception):
    """A NUL byte in a CSV (raised from inside pandas' read, caught by :func:`_read_table`)."""

    def __init__(self, offset: int, line: int):
        super().__init__(offset, line)
        self.offset, self.line = offset, line


class _NulCheckingReader(io.RawIOBase):
    """A binary reader that raises :class:`_NulByte` at the first NUL byte anywhere in the file.

    pandas' C parser reads a NUL as an ordinary character, so a file holding one would load
    silently with a mangled cell; checking every chunk costs one ``bytes.find`` per 64 KB.
    """

    def __init__(self, stream):
        self._stream, self._offset, self._lines = stream, 0, 1

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        n = len(data)
        at = data.find(b"\x00")
        if at >= 0:
            raise _NulByte(self._offset + at, self._lines + data.count(b"\n", 0, at))
        buffer[:n] = data
        self._offset += n
        self._lines += data.count(b"\n")
        return n

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            super().close()


_NESTED = (list, tuple, dict, set, np.ndarray, bytes, bytearray)


def _parquet_as_text(df: pd.DataFrame, rel: str, col: _Collector) -> pd.DataFrame | None:
    """A parquet frame whose text columns are read as a CSV's are (str, '' for null); typed columns kept.

    Cells holding lists, mappings or bytes (a nested parquet column) are reported, naming the
    column and the row; the file is then not loaded.
    """
    out = {}
    ok = True
    for name in df.columns:
        s = df[name]
        if pd.api.types.is_datetime64_any_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype) \
                or pd.api.types.is_numeric_dtype(s.dtype):
            out[str(name)] = s  # typed properties stay typed (nulls stay missing and are checked per column)
            continue
        values = s.astype(object)
        nested = values.map(lambda v: isinstance(v, _NESTED))
        if nested.any():
            i = int(np.flatnonzero(nested.to_numpy())[0])
            v = values.iloc[i]
            col.error(rel, f"expected one text, number or timestamp per cell, found a {type(v).__name__} "
                      f"({repr(v)[:60]}) in {int(nested.sum())} row(s); flatten the column before saving",
                      line=i + 1, column=str(name))
            ok = False
            continue
        out[str(name)] = values.where(values.notna(), "").astype(str)
    return pd.DataFrame(out, index=df.index) if ok else None


def _read_csv_arrow(stream, header: str, sep: str) -> pd.DataFrame | None:
    """A UTF-8 CSV read with pyarrow's multi-threaded reader, every column as text; None to fall back.

    Gives the frame ``pd.read_csv(dtype=str, keep_default_na=False)`` gives, for the files it
    accepts: a header of distinct, non-empty names, no NUL byte, valid UTF-8 and the same number of
    fields on every line. Anything else returns None and the file goes through the pandas reader,
    which reports the problem with its line. ``stream(check_nul)`` opens the (decompressed, bounded)
    bytes; a decompression limit raises as it does for the pandas reader.
    """
    import pyarrow as pa  # lazy: pyarrow's CSV module costs import time that most studies (small CSVs) never need
    from pyarrow import csv as pacsv  # lazy: as above

    try:
        names = next(csv.reader([header.rstrip("\r")], delimiter=sep))
    except (csv.Error, StopIteration):
        return None
    if not names or len(set(names)) != len(names) or any(not n.strip() for n in names):
        return None
    with stream(False) as fh:
        data = fh.read()
    if b"\0" in data:
        return None
    if data.count(b'"') % 2:   # an unclosed quote: pyarrow would read to the end of the file without a word
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 22),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                 null_values=[]))
    except (pa.ArrowException, ValueError, UnicodeDecodeError):
        return None
    if table.column_names != names:
        return None
    df = table.to_pandas()
    df = df.astype({c: str for c in df.columns if df[c].dtype != "str"}) if len(df.columns) else df
    return df


def _read_table(path: Path, rel: str, col: _Collector) -> tuple[pd.DataFrame | None, _LineMap | None]:
    """Read a CSV (optionally gzip) or parquet file as strings, reporting problems with places."""
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
        except Exception as exc:  # pyarrow raises many types (ArrowMemoryError, ArrowInvalid, OSError, ...)
            col.error(rel, f"cannot read the parquet file: {type(exc).__name__}: {str(exc)[:300]}")
            return None, None
        df = _parquet_as_text(df, rel, col)
        if df is None:
            return None, None
        col.sources.append({"file": rel, "format": "parquet", "encoding": pd.NA, "rows": len(df)})
        return df, _LineMap(path, None)
    opener = gzip.open if path.suffix == ".gz" else open
    compressed = opener is gzip.open

    def stream(check_nul: bool):
        """The file's bytes (decompressed within the limits), NUL-checked unless the text is UTF-16."""
        raw = open(path, "rb")
        body = BoundedReader(gzip.GzipFile(fileobj=raw), compressed=raw.tell, where=rel) if compressed else raw
        return io.BufferedReader(_NulCheckingReader(body) if check_nul else body, 1 << 16)

    try:
        with stream(False) as fh:
            raw_head = fh.read(1 << 16)
    except JourneylabError as exc:  # over a decompression limit
        msg = str(exc)
        col.error(rel, msg[len(rel) + 2:] if msg.startswith(rel + ": ") else msg)
        return None, None
    except (OSError, EOFError, zlib.error) as exc:
        col.error(rel, f"cannot read the file: {exc}")
        return None, None
    encoding, shown = _sniff_encoding(raw_head, rel, col)
    if encoding is None:
        return None, None
    compression = "gzip" if compressed else None
    header = raw_head.decode(encoding, errors="replace").lstrip("\ufeff").split("\n", 1)[0]
    sep = "\t" if "\t" in header and "," not in header else ","
    if sep == "\t":  # Excel's "Unicode Text" (UTF-16) and many exports are tab-separated
        col.info(rel, "read as tab-separated (the header line has tabs and no commas)")

    def read(enc: str) -> pd.DataFrame:
        with stream(not enc.startswith("utf-16")) as fh:
            return pd.read_csv(fh, dtype=str, keep_default_na=False, na_values=[], encoding=enc,
                               compression=None, skipinitialspace=False, sep=sep)

    try:
        # fast path: pyarrow's CSV reader; None when the file needs the careful reader below (which
        # also finds what is wrong with a bad file and says where)
        df = _read_csv_arrow(stream, header, sep) if encoding == "utf-8-sig" else None
        if df is None:
            try:
                df = read(encoding)
            except UnicodeDecodeError:
                if encoding != "utf-8-sig":
                    raise
                encoding = _fallback_cp1252(path, opener, rel, col)
                if encoding is None:
                    return None, None
                shown = _ENCODING_NAMES[encoding]
                df = read(encoding)
    except _NulByte as exc:
        col.error(rel, f"the file contains a NUL byte (byte {exc.offset:,} of the "
                  f"{'decompressed ' if compressed else ''}file); expected a text CSV "
                  "(is it a spreadsheet saved as binary? Save it as CSV UTF-8)", line=exc.line)
        return None, None
    except JourneylabError as exc:  # over a decompression limit, or a damaged gzip stream
        msg = str(exc)
        col.error(rel, msg[len(rel) + 2:] if msg.startswith(rel + ": ") else msg)
        return None, None
    except UnicodeDecodeError as exc:
        col.error(rel, f"cannot decode the file as {_ENCODING_NAMES.get(encoding, encoding)} ({exc.reason}); "
                  "re-save it as CSV UTF-8", line=_bad_byte_line(path, opener, encoding))
        return None, None
    except pd.errors.EmptyDataError:
        col.error(rel, "the file is empty; expected a header line and at least one row")
        return None, None
    except pd.errors.ParserError as exc:
        msg = str(exc)
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
        if m:
            col.error(rel, f"expected {m.group(1)} fields (as in the header), found {m.group(3)}; "
                      "check for an unquoted comma or a missing one", line=int(m.group(2)))
        elif "EOF inside string" in msg:
            col.error(rel, "a quote (\") opened here is never closed, so the rest of the file reads as one "
                      "field; check for an unbalanced quote", line=_unclosed_quote_line(path, opener, encoding))
        else:
            col.error(rel, f"cannot parse the CSV ({msg.strip()}); check for an unbalanced quote")
        return None, None
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        col.error(rel, f"cannot read the file: {exc}")
        return None, None
    col.sources.append({"file": rel, "format": ("tsv" if sep == "\t" else "csv") + (".gz" if compression else ""),
                        "encoding": shown, "rows": len(df)})
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        col.error(rel, "the file has a header but no rows")
    return df, _LineMap(path, opener, encoding)


def _rename(df: pd.DataFrame, mapping: dict, rel: str, col: _Collector, required: list[str]) -> pd.DataFrame:
    """Rename user columns to canonical names and report missing required ones."""
    mapping = dict(mapping or {})
    inverse = {v: k for k, v in mapping.items() if v in df.columns}
    df = df.rename(columns=inverse)
    for name in required:
        if name not in df.columns:
            user = mapping.get(name, name)
            hint = f" (study.yml maps '{name}' to '{user}')" if user != name else (
                f"; if your file calls it differently, add "
                f"`columns: {{{_file_key(rel)}: {{{name}: <your column>}}}}` to study.yml"
            )
            col.error(rel, f"missing required column '{user}'{hint}; found: {', '.join(df.columns) or '(none)'}",
                      line=1, column=user)
    dupes = df.columns[df.columns.duplicated()].tolist()
    for d in dupes:
        col.error(rel, f"column '{d}' appears more than once in the header", line=1, column=d)
    return df


def _file_key(rel: str) -> str:
    name = Path(rel).name
    for key in ("participants", "survey", "events", "tasks"):
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
        idx = np.flatnonzero(raw.isna().to_numpy())
        for i in idx[:20]:
            col.error(rel, "empty timestamp; every row needs one", line=lines(int(i)), column=column)
        if len(idx) > 20:
            col.error(rel, f"... and {len(idx) - 20} more empty timestamps", column=column)
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
    transcripts: dict = field(default_factory=dict)
    task_outcomes: dict = field(default_factory=dict)
    task_stages: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["task", "stage", "touchpoint"]))
    vocabulary: dict = field(default_factory=dict)
    questionnaire: dict | None = None


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
        ("redaction", lambda v: isinstance(v, dict), {}, "a mapping {enabled: true, region: GB, order_pattern: ...}"),
        ("unmapped_events", lambda v: isinstance(v, str), "error", "'error' or 'exclude'"),
        ("transcripts", lambda v: isinstance(v, dict), {},
         "a mapping {speaker_labels: false, moderator_pattern: '^(Q:|Interviewer)'}"),
        ("tasks", lambda v: isinstance(v, dict), {}, "a mapping {outcomes: {your word: success, ...}, "
         "stages: {task: stage, ...}}"),
        ("questionnaire", lambda v: isinstance(v, dict), None,
         "a mapping {instrument: sus, items: [survey columns in the instrument's order], stage: <optional>}"),
        ("targets", lambda v: isinstance(v, dict), {},
         "a mapping {steps: {event: 0.8}, csat: {touchpoint: 0.7}}"),
        ("analysis_codings", lambda v: (isinstance(v, str) and v.strip()) or (_is_str_list(v) and v), None,
         "a list such as [gold, human, rules]: coder names, 'human' (every person who coded) or 'rules' "
         "(the codebook's rules), in the order each transcript takes its codings"),
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
    raw["transcripts"] = _check_transcripts(dict(raw.get("transcripts") or {}), root, rel, col)
    raw["targets"] = _check_targets(dict(raw.get("targets") or {}), root, rel, col)
    return raw


def _check_targets(targets: dict, root, rel: str, col: _Collector) -> dict:
    """study.yml ``targets:`` — benchmarks the grading compares metrics with (see GradingRules)."""
    out = {}
    for key, value in targets.items():
        line = _yaml_line(root, "targets", key)
        if key in ("steps", "csat"):
            what = "funnel step event" if key == "steps" else "touchpoint (or CSAT column)"
            if not isinstance(value, dict):
                col.error(rel, f"targets {key}: expected a mapping {{{what}: share between 0 and 1}}, found {value!r}",
                          line=line)
                continue
            ok = {}
            for name, share in value.items():
                if (isinstance(share, bool) or not isinstance(share, (int, float))
                        or not 0 < float(share) <= 1):
                    col.error(rel, f"targets {key} {name!r}: expected a share between 0 and 1 such as 0.8 "
                              f"(80%), found {share!r}", line=_yaml_line(root, "targets", key, name))
                    continue
                ok[str(name)] = float(share)
            out[key] = ok
        elif key == "questionnaire":
            if not isinstance(value, dict):
                col.error(rel, f"targets questionnaire: expected a mapping {{scale: score on the scale, such as "
                          f"sus: 68}}, found {value!r}", line=line)
                continue
            ok = {}
            for name, score in value.items():
                if isinstance(score, bool) or not isinstance(score, (int, float)):
                    col.error(rel, f"targets questionnaire {name!r}: expected a score on the scale (such as 68 for "
                              f"sus), found {score!r}", line=_yaml_line(root, "targets", key, name))
                    continue
                ok[str(name)] = float(score)
            out[key] = ok
        else:
            col.warn(rel, f"targets: unknown key {key!r} (expected steps, csat, questionnaire); ignored", line=line)
    return out


def _check_transcripts(tr: dict, root, rel: str, col: _Collector) -> dict:
    """Check study.yml's ``transcripts:`` section; return it with bad values removed."""
    for key in list(tr):
        if key not in TRANSCRIPT_KEYS:
            col.error(rel, f"transcripts: unknown key {key!r}; expected {', '.join(sorted(TRANSCRIPT_KEYS))}",
                      line=_yaml_line(root, "transcripts", key))
            del tr[key]
    labels = tr.get("speaker_labels", True)
    if not isinstance(labels, bool):
        col.error(rel, f"transcripts speaker_labels: expected true (turns start with 'Name: ') or false (one "
                  f"paragraph per turn, no labels), found {labels!r}",
                  line=_yaml_line(root, "transcripts", "speaker_labels"))
        tr.pop("speaker_labels")
        labels = True
    unl = tr.get("unlabelled")
    if unl is not None and not _is_str_list(unl):
        col.error(rel, f"transcripts unlabelled: expected a list of transcript file stems (e.g. [P03, P07]) read "
                  f"without speaker labels, found {unl!r}", line=_yaml_line(root, "transcripts", "unlabelled"))
        tr.pop("unlabelled")
    pfrom = tr.get("participant_from", "label")
    if pfrom not in ("label", "file"):
        col.error(rel, f"transcripts participant_from: expected 'label' (a participant's speaker label is their "
                  f"participant_id) or 'file' (each transcript is one participant, named by its file stem), found "
                  f"{pfrom!r}", line=_yaml_line(root, "transcripts", "participant_from"))
        tr.pop("participant_from")
    marker = tr.get("stage_marker")
    if marker is not None:
        line = _yaml_line(root, "transcripts", "stage_marker")
        problem = None
        if not isinstance(marker, str) or not marker:
            problem = (f"expected a regular expression with a named group `task` or `stage`, such as "
                       f"'^## (?P<task>T\\d+)' or '\\[(?P<task>T\\d+)\\]', found {marker!r}")
        else:
            try:
                groups = set(re.compile(marker).groupindex)
            except re.error as exc:
                problem = f"{marker!r} is not a valid regular expression ({exc})"
            else:
                if len(groups & {"task", "stage"}) != 1:
                    problem = (f"{marker!r} needs exactly one named group, `(?P<task>...)` (a task of `tasks: "
                               "stages:`) or `(?P<stage>...)` (a stage name), to say which stage the marker opens")
        if problem:
            col.error(rel, f"transcripts stage_marker: {problem}", line=line)
            tr.pop("stage_marker")
    pattern = tr.get("moderator_pattern")
    if pattern is not None:
        line = _yaml_line(root, "transcripts", "moderator_pattern")
        if not isinstance(pattern, str) or not pattern:
            col.error(rel, f"transcripts moderator_pattern: expected a regular expression such as "
                      f"'^(Q:|Interviewer)', found {pattern!r}", line=line)
            tr.pop("moderator_pattern")
        else:
            try:
                re.compile(pattern)
            except re.error as exc:
                col.error(rel, f"transcripts moderator_pattern: {pattern!r} is not a valid regular expression "
                          f"({exc})", line=line)
                tr.pop("moderator_pattern")
            else:
                if labels and not tr.get("unlabelled"):
                    col.error(rel, "transcripts moderator_pattern: applies only to transcripts without speaker "
                              "labels; add `speaker_labels: false` (or list them under `unlabelled:`), or (with "
                              "labels) list the moderator's label under `interviewer_labels:`", line=line)
                    tr.pop("moderator_pattern")
    return tr


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
        root, raw = load_yaml(text)
        raw = raw or {}
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
        col.error(rel, "'events:' must map each event name to {stage: ..., touchpoint: ...}",
                  line=_yaml_line(root, "events"))
        events_raw = {}
    for ev, spec in events_raw.items():
        line = _yaml_line(root, "events", ev)
        if isinstance(spec, str):
            spec = {"stage": spec}
        if (not isinstance(spec, dict) or not isinstance(spec.get("stage"), str)
                or not isinstance(spec.get("touchpoint", ""), (str, type(None)))):
            col.error(rel, f"event {ev!r}: expected {{stage: <stage>, touchpoint: <touchpoint>}}, found {spec!r}",
                      line=line)
            continue
        if spec["stage"] not in stages:
            col.error(rel, f"event {ev!r}: stage {spec['stage']!r} is not one of the stages ({', '.join(stages)})",
                      line=line)
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
    if not (isinstance(scale, list) and len(scale) == 2 and all(isinstance(x, (int, float)) for x in scale)
            and scale[0] < scale[1]):
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
    redaction = dict(raw.get("redaction") or {})
    region = redaction.get("region", "GB")
    if not isinstance(region, str) or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        col.error(rel, f"redaction region: expected a two-letter region code such as GB, US or DE (the country "
                  f"whose national phone numbers the study's text holds), found {region!r}",
                  line=_yaml_line(root, "redaction", "region"))
        redaction["region"] = "GB"
    else:
        redaction["region"] = region.upper()
    extra = redaction.get("extra_regions", ["US"])
    extra = [extra] if isinstance(extra, str) else extra
    if not isinstance(extra, list) or not all(isinstance(r, str) and r.upper() in phonenumbers.SUPPORTED_REGIONS
                                              for r in extra):
        col.error(rel, f"redaction extra_regions: expected a list of region codes like [US, IE], found {extra!r}",
                  line=_yaml_line(root, "redaction", "extra_regions"))
        extra = ["US"]
    redaction["extra_regions"] = [r.upper() for r in extra]
    if redaction.get("columns") is not None and not _is_str_list(redaction["columns"]):
        col.error(rel, f"redaction columns: expected a list of survey column names, found {redaction['columns']!r}",
                  line=_yaml_line(root, "redaction", "columns"))
        redaction["columns"] = []
    task_outcomes, task_stages = _parse_task_config(raw.get("tasks") or {}, root, rel, col, stages, known_tp)
    questionnaire = _parse_questionnaire_config(raw.get("questionnaire"), root, rel, col, stages)
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
        columns=columns, unmapped_events=unmapped, redaction=dict(redaction),
        transcripts=dict(raw.get("transcripts") or {}),
        task_outcomes=task_outcomes, task_stages=task_stages,
        vocabulary=vocabulary, questionnaire=questionnaire,
    )


def _parse_questionnaire_config(q, root, rel: str, col: _Collector, stages: list) -> dict | None:
    """study.yml `questionnaire:` -> {instrument, items, stage}; problems reported with their line."""
    if q is None:
        return None
    ok = True
    for key in q:
        if key not in ("instrument", "items", "stage"):
            col.error(rel, f"questionnaire: unknown key {key!r}; expected instrument, items, stage",
                      line=_yaml_line(root, "questionnaire", key))
            ok = False
    inst = q.get("instrument")
    if inst not in QUESTIONNAIRE_INSTRUMENTS:
        col.error(rel, f"questionnaire instrument: expected one of {', '.join(QUESTIONNAIRE_INSTRUMENTS)}, found "
                  f"{inst!r}",
                  line=_yaml_line(root, "questionnaire", "instrument") or _yaml_line(root, "questionnaire"))
        ok = False
    items = q.get("items")
    if not _is_str_list(items) or not items:
        col.error(rel, "questionnaire items: expected the survey.csv columns of the items, in the instrument's "
                  f"order (e.g. [sus_1, sus_2, ..., sus_10]), found {items!r}",
                  line=_yaml_line(root, "questionnaire", "items") or _yaml_line(root, "questionnaire"))
        ok = False
    stage = q.get("stage")
    if stage is not None and stage not in stages:
        col.error(rel, f"questionnaire stage: {stage!r} is not one of the stages ({', '.join(stages)})",
                  line=_yaml_line(root, "questionnaire", "stage"))
        ok = False
    return {"instrument": inst, "items": list(items), "stage": stage} if ok else None



def _parse_task_config(tasks: dict, root, rel: str, col: _Collector, stages: list, known_tp: set):
    """study.yml `tasks:` -> ({word: outcome}, frame task, stage, touchpoint); problems reported."""
    for key in tasks:
        if key not in ("outcomes", "stages"):
            col.error(rel, f"tasks: unknown key {key!r}; expected 'outcomes' (your outcome words -> "
                      f"{', '.join(TASK_OUTCOMES)}) and 'stages' (task -> stage)", line=_yaml_line(root, "tasks", key))
    outcomes_raw = tasks.get("outcomes") or {}
    outcomes: dict = {}
    if not isinstance(outcomes_raw, dict):
        col.error(rel, f"tasks outcomes: expected a mapping {{your word: one of {', '.join(TASK_OUTCOMES)}}}, "
                  f"found {outcomes_raw!r}", line=_yaml_line(root, "tasks", "outcomes"))
        outcomes_raw = {}
    for word, canonical in outcomes_raw.items():
        if not isinstance(canonical, str) or canonical.strip().lower() not in TASK_OUTCOMES:
            col.error(rel, f"tasks outcomes: {word!r} maps to {canonical!r}; expected one of "
                      f"{', '.join(TASK_OUTCOMES)}", line=_yaml_line(root, "tasks", "outcomes", word))
            continue
        outcomes[str(word).strip().lower()] = canonical.strip().lower()
    stages_raw = tasks.get("stages") or {}
    rows = []
    if not isinstance(stages_raw, dict):
        col.error(rel, "tasks stages: expected a mapping {task: stage} or {task: {stage: ..., touchpoint: ...}}, "
                  f"found {stages_raw!r}", line=_yaml_line(root, "tasks", "stages"))
        stages_raw = {}
    for name, spec in stages_raw.items():
        line = _yaml_line(root, "tasks", "stages", name)
        if isinstance(spec, str):
            spec = {"stage": spec}
        if (not isinstance(spec, dict) or not isinstance(spec.get("stage"), str)
                or not isinstance(spec.get("touchpoint", ""), (str, type(None)))):
            col.error(rel, f"task {name!r}: expected a stage name or {{stage: <stage>, touchpoint: <touchpoint>}}, "
                      f"found {spec!r}", line=line)
            continue
        if stages and spec["stage"] not in stages:
            col.error(rel, f"task {name!r}: stage {spec['stage']!r} is not one of the stages ({', '.join(stages)})",
                      line=line)
        tp = spec.get("touchpoint")
        if tp is not None and tp not in known_tp:
            col.error(rel, f"task {name!r}: touchpoint {tp!r} is not listed under any stage", line=line)
        rows.append({"task": str(name), "stage": spec["stage"], "touchpoint": tp})
    return outcomes, pd.DataFrame(rows, columns=["task", "stage", "touchpoint"])


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
        Where PII was replaced — never the PII itself: ``source`` (``transcripts``, ``survey``,
        ``codings``, ``notes``, ``codebook``), ``doc_id`` (document, respondent, codings row,
        notes key or codebook example), ``segment_id``, ``field`` (the column), ``kind``,
        ``placeholder``, ``original_start``, ``original_end``, ``start``, ``end``.
    notes : dict or None
        notes.yml as parsed, every string redacted (None when the study has no notes.yml).
    redaction_flags : DataFrame
        What looked like personal data but was kept (see :func:`journeylab.redaction_review`).
    tasks : DataFrame or None
        Usability-test task outcomes (``tasks.csv``): ``participant_id``, ``task``, ``outcome``
        (``success``, ``assisted``, ``failed`` or ``abandoned``, after study.yml's ``tasks: outcomes:``
        mapping), ``time_s`` (float, NaN when not timed), ``notes``, ``stage`` and ``touchpoint``
        (from ``tasks: stages:``; missing when not mapped), then any other columns. None when the
        study has no tasks.csv.
    segment_stages : DataFrame or None
        Where the session follows the stages (study.yml ``transcripts: stage_marker:`` or a
        ``segment_stages.csv``): one row per turn that has a stage from where it is —
        ``segment_id``, ``doc_id``, ``participant_id``, ``stage``, ``task`` (NA when the marker or
        file names a stage), ``source`` (``marker`` or ``segment_stages.csv``). Turns before the
        first marker, and transcripts without markers, have no row (their codings take their
        code's stage). None when the study uses neither: every coding takes its code's stage.
    questionnaire : dict or None
        study.yml's ``questionnaire:``: ``instrument`` (``sus``, ``umux_lite``, ``pssuq``, ...),
        ``items`` (its survey.csv columns, in the instrument's order) and ``stage`` (the stage it
        rates, or None for the product as a whole); score it with
        :func:`journeylab.study_questionnaire`. None when study.yml has none.
    problems : list of Problem
        Warnings and information found while loading (errors make loading fail), e.g. the
        encoding a CSV was read in when it is not plain UTF-8.
    vocabulary : dict
        ``conversion`` (what the study calls a completed funnel: "sign-ups", "orders"; default
        "conversions") and ``period`` (the unit of time upsides are counted in: day, week, month,
        quarter or year; default "week"), from study.yml ``vocabulary:``.
    exclusions : DataFrame
        What was left out and why: ``file``, ``rows``, ``reason``.
    redacted : bool
        Whether personal information was replaced on load.
    sources : DataFrame
        One row per file read: ``file`` (relative to the study folder), ``format`` (``csv``,
        ``csv.gz``, ``parquet``, ``txt``, ``vtt``, ``srt``, ``docx``, ``odt``), ``encoding`` (as
        detected: ``UTF-8``, ``UTF-8 with BOM``, ``UTF-16 LE with BOM``, ``cp1252``...; ``<NA>``
        for parquet, .docx and .odt), ``rows`` (rows, or segments of a transcript).
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
    tasks: pd.DataFrame | None = None
    segment_stages: pd.DataFrame | None = None
    questionnaire: dict | None = None
    problems: list = field(default_factory=list)
    exclusions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["file", "rows", "reason"]))
    redacted: bool = True
    sources: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SOURCE_COLUMNS))
    notes: Any = None
    redaction_flags: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REDACTION_FLAG_COLUMNS))
    vocabulary: dict = field(default_factory=lambda: dict(DEFAULT_VOCABULARY))
    #: codings whose transcript changed since coding: one row per coding moved, changed or lost
    #: (columns ANCHOR_REPORT_COLUMNS; see journeylab.study.anchor)
    anchoring: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ANCHOR_REPORT_COLUMNS))

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
            ("transcripts", len(self.documents),
             ", ".join(sorted(self.documents["format"].unique())) if len(self.documents) else ""),
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
        return (f"<p><b>{html.escape(self.name)}</b> ({html.escape(str(self.path))})</p>"
                + self.summary().to_html(index=False))


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
        if cfg.questionnaire is not None:
            col.error("study.yml", "'questionnaire:' names survey.csv columns, but the study has no survey.csv")
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
        col.error(rel, f"study.yml names NPS column '{cfg.nps_column}', which the file lacks", line=1,
                  column=cfg.nps_column)
    lo, hi = cfg.csat_scale
    for c in cfg.csat_columns:
        if c not in df.columns:
            col.error(rel, f"study.yml names CSAT column '{c}', which the file lacks; found: {', '.join(df.columns)}",
                      line=1, column=c)
            continue
        out[c] = _numeric_in_range(df, c, lo, hi, rel, col, lines, integer=True,
                                   what=f"a CSAT score on the {lo:g}–{hi:g} scale").astype("Float64")
    if cfg.questionnaire is not None:
        inst = cfg.questionnaire["instrument"]
        lo, hi = cfg.csat_scale if inst == "csat" else _ANSWER_RANGES[inst]
        for c in cfg.questionnaire["items"]:
            if c not in df.columns:
                col.error(rel, f"study.yml's questionnaire names item column '{c}', which the file lacks; found: "
                          f"{', '.join(df.columns)}", line=1, column=c)
                continue
            text = df[c].astype(str).str.strip()
            values = pd.to_numeric(text, errors="coerce")
            na_word = text.str.lower().isin({"", "n/a", "na", "not applicable"})
            bad = ~na_word & (values.isna() | (values < lo) | (values > hi) | (values % 1 != 0))
            for i in np.flatnonzero(bad.to_numpy())[:20]:
                col.error(rel, f"expected a {inst.upper()} answer (a whole number from {lo:g} to {hi:g}, or blank"
                          f"{', or N/A' if inst.startswith('pssuq') else ''}), found {text.iloc[i]!r}",
                          line=lines(int(i)), column=c)
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
    blank_user = df["user_id"].isna() | (df["user_id"].astype(str).str.strip() == "")
    for i in np.flatnonzero(blank_user.to_numpy())[:20]:
        col.error(rel, "empty user_id; every event needs the user who did it", line=lines(int(i)), column="user_id")
    blank_event = df["event"].isna() | (df["event"].astype(str).str.strip() == "")
    for i in np.flatnonzero(blank_event.to_numpy())[:20]:
        col.error(rel, "empty event; every row needs the name of the event", line=lines(int(i)), column="event")
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


_TRANSCRIPT_ENCODINGS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16 with BOM",
                         "cp1252": "cp1252"}


def _load_transcripts(root: Path, cfg: _Config, participants: pd.DataFrame, col: _Collector):
    folder = root / "transcripts"
    seg_rows, doc_rows = {c: [] for c in tr.SEGMENT_COLUMNS}, []
    if not folder.is_dir():
        col.error("transcripts/", "folder not found; expected one file per interview (.txt, .vtt, .srt, .docx "
                  "or .odt)")
        return pd.DataFrame(), pd.DataFrame()
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    unlabelled = set(cfg.transcripts.get("unlabelled") or [])
    by_file = cfg.transcripts.get("participant_from", "label") == "file"
    for name in sorted(unlabelled - {p.stem for p in files}):
        col.error("study.yml", f"transcripts unlabelled: {name!r} is not a transcript in transcripts/ (a file stem "
                  "such as P03 for transcripts/P03.docx)", line=None)
    for p in files:
        rel = f"transcripts/{p.name}"
        if p.suffix.lower() not in TRANSCRIPT_SUFFIXES:
            col.warn(rel, f"skipped: expected a .txt, .vtt, .srt, .docx or .odt transcript, found '{p.suffix}'"
                     + (" (re-save an old Word .doc as .docx)" if p.suffix.lower() == ".doc" else ""))
            continue
        try:
            plain = not cfg.transcripts.get("speaker_labels", True) or p.stem in unlabelled
            doc = tr._read_document(p, interviewer_labels=cfg.interviewer_labels, display_path=rel,
                                    speaker_labels=not plain,
                                    moderator_pattern=cfg.transcripts.get("moderator_pattern") if plain else None,
                                    stage_marker=cfg.transcripts.get("stage_marker"), as_rows=True)
            seg = doc.segments  # lists, one per column: one frame for every document at the end
            if by_file:
                seg["participant_id"] = [doc.doc_id if r == "participant" else p_ for p_, r in
                                         zip(seg["participant_id"], seg["speaker_role"])]
        except tr.TranscriptError as exc:
            col.problems.append(exc.to_problem())
            continue
        except JourneylabError as exc:
            msg = str(exc)
            col.problems.append(Problem(rel, None, None, msg[len(rel) + 2:] if msg.startswith(rel + ": ") else msg))
            continue
        for w in doc.warnings:
            col.problems.append(w)
        if doc.encoding in ("utf-16", "utf-8-sig"):
            col.info(rel, "read as " + ("UTF-16 (byte-order mark found)" if doc.encoding == "utf-16"
                                        else "UTF-8 with a byte-order mark"))
        col.sources.append({"file": rel, "format": doc.format,
                            "encoding": _TRANSCRIPT_ENCODINGS.get(doc.encoding, doc.encoding or pd.NA),
                            "rows": len(seg["segment_id"])})
        for c, values in seg.items():
            seg_rows[c] += values
        pids = list(dict.fromkeys(v for v in seg["participant_id"] if not _missing(v)))
        doc_rows.append({"doc_id": doc.doc_id, "path": rel, "format": doc.format, "encoding": doc.encoding,
                         "participant_id": pids[0] if len(pids) == 1 else (";".join(map(str, pids)) or pd.NA),
                         "text": doc.text})
    if not doc_rows:
        if files:
            return pd.DataFrame(), pd.DataFrame()
        col.error("transcripts/", "the folder holds no transcripts")
        return pd.DataFrame(), pd.DataFrame()
    segments = tr._rows_frame(seg_rows)
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
                text = documents.loc[documents["doc_id"] == doc_id, "text"].iloc[0]
                line = text[: int(first["start"])].count("\n") + 1
                col.error(path, f"speaker {pid!r} is not in participants.csv; add a row for them or list the label "
                          "under `interviewer_labels:` in study.yml", line=line)
    return segments, documents


def _missing(v) -> bool:
    """None, pd.NA or NaN: what ``dropna`` drops."""
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


def _load_codebook(root: Path, cfg: _Config, col: _Collector):
    path = root / "codebook.yml"
    if not path.is_file():
        return None
    try:
        tps = cfg.touchpoints
        return Codebook.from_yaml(path, stages={s: tps.loc[tps.stage == s, "touchpoint"].tolist() for s in cfg.stages})
    except CodebookError as exc:
        col.problems.append(Problem("codebook.yml", exc.line, None, exc.problem))
        return None
    except JourneylabError as exc:
        msg = str(exc)
        col.problems.append(Problem("codebook.yml", None, None, msg.split("codebook.yml", 1)[-1].lstrip(": ,") or msg))
        return None


SPAN_COLUMNS = ["doc_id", "start", "end"]


def _turns_by_doc(segments: pd.DataFrame, *, na_docs: bool = False) -> dict:
    """doc_id → (starts, ends, segment ids) of its segments, in order of start.

    One sort and one split of the arrays (a groupby over hundreds of documents costs a pandas
    frame per document). A segment without a doc_id is left out, or (``na_docs``) filed under
    ``"<NA>"``.
    """
    seg = segments.sort_values(["doc_id", "start"])
    docs = seg["doc_id"].astype(str).to_numpy(dtype=object)
    if not na_docs:
        ok = seg["doc_id"].notna().to_numpy()
        seg, docs = seg[ok], docs[ok]
    starts, ends = seg["start"].to_numpy(np.int64), seg["end"].to_numpy(np.int64)
    ids = seg["segment_id"].astype(str).to_numpy()
    out: dict = {}
    if not len(docs):
        return out
    cut = np.flatnonzero(docs[1:] != docs[:-1]) + 1
    for a, b in zip(np.r_[0, cut], np.r_[cut, len(docs)]):
        out[docs[a]] = (starts[a:b], ends[a:b], ids[a:b])
    return out


def _in_set(values: pd.Series, known: set) -> pd.Series:
    """``values.isin(known)`` at the speed of a Python set (pyarrow-string ``isin`` converts each of ``known``)."""
    return pd.Series([v in known for v in values.tolist()], index=values.index, dtype=bool)


def _span_turns(df: pd.DataFrame, documents: pd.DataFrame, segments: pd.DataFrame, rel: str, col: _Collector,
                lines) -> pd.DataFrame:
    """Check the ``doc_id, start, end`` spans of a codings file and fill ``segment_id`` from them.

    A span's segment is the turn it starts in: the first turn of its document whose text ends after
    ``start`` and begins before ``end``. Rows without a span keep their ``segment_id``.
    """
    texts = dict(zip(documents["doc_id"].astype(str), documents["text"])) if len(documents) else {}
    by_doc = _turns_by_doc(segments) if len(segments) else {}
    raw_a, raw_b = df["start"].astype(str).str.strip(), df["end"].astype(str).str.strip()
    has_span = (raw_a != "") | (raw_b != "")
    starts, ends, seg_ids = [], [], df["segment_id"].astype(str).str.strip().tolist()
    keep = np.ones(len(df), dtype=bool)
    n_err = 0
    for i in range(len(df)):
        if not has_span.iloc[i]:
            starts.append(pd.NA)
            ends.append(pd.NA)
            if not seg_ids[i]:
                col.error(rel, "neither a segment_id nor a span (doc_id, start, end); every coding needs one",
                          line=lines(i), column="segment_id")
            continue
        doc, sa, sb = str(df["doc_id"].iloc[i]).strip(), raw_a.iloc[i], raw_b.iloc[i]
        problem = None
        try:
            a, b = int(sa), int(sb)
        except ValueError:
            a = b = None
            problem = (f"expected whole-number character positions in start and end, found {sa!r} and {sb!r}",
                       "start")
        if problem is None and doc not in texts:
            problem = (f"doc_id {doc!r} is not a transcript of the study (transcripts/ file stems: "
                       f"{', '.join(sorted(texts)[:8])}{'...' if len(texts) > 8 else ''})", "doc_id")
        if problem is None and not (0 <= a < b <= len(texts[doc])):
            problem = (f"span [{a}, {b}) does not fit transcript {doc!r} ({len(texts[doc])} characters); expected "
                       "0 <= start < end <= its length (was the transcript edited after coding?)", "start")
        if problem is None and "text" in df.columns:
            want = str(df["text"].iloc[i]).replace("\r\n", "\n").replace("\r", "\n")
            if want and want != texts[doc][a:b]:
                problem = (f"the text column {_short(want)!r} is not the transcript's text at [{a}, {b}) "
                           f"({_short(texts[doc][a:b])!r}); was the transcript edited after coding?", "text")
        if problem is not None:
            n_err += 1
            if n_err <= 20:
                col.error(rel, problem[0], line=lines(i), column=problem[1])
            starts.append(pd.NA)
            ends.append(pd.NA)
            continue
        starts.append(a)
        ends.append(b)
        s0, e0, ids = by_doc.get(doc, (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, object)))
        k = int(np.searchsorted(e0, a, side="right"))
        turn = ids[k] if k < len(ids) and s0[k] < b else None
        if turn is None:
            col.warn(rel, f"the span [{a}, {b}) in {doc!r} ({_short(texts[doc][a:b])!r}) covers no turn's text (only "
                     "a speaker label or blank lines); left out", line=lines(i), column="start")
            keep[i] = False
            continue
        if seg_ids[i] and seg_ids[i] != turn:
            sid = seg_ids[i]
            j = np.flatnonzero(ids == sid)
            if not len(j) or not (s0[j[0]] < b and a < e0[j[0]]):
                n_err += 1
                if n_err <= 20:
                    col.error(rel, f"segment_id {sid!r} does not overlap the span [{a}, {b}) of {doc!r}; leave "
                              f"segment_id empty to take the turn the span starts in ({turn!r})",
                              line=lines(i), column="segment_id")
            continue
        seg_ids[i] = turn
    if n_err > 20:
        col.error(rel, f"... and {n_err - 20} more spans with problems", column="start")
    out = df.assign(segment_id=seg_ids, start=pd.array(starts, dtype="Int64"), end=pd.array(ends, dtype="Int64"))
    return out[keep]


def _short(text: str, n: int = 40) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def _blank(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == ""


def _reanchor_file(df: pd.DataFrame, documents: pd.DataFrame, segments: pd.DataFrame, rel: str, col: _Collector,
                   lines, *, has_span: bool) -> pd.DataFrame:
    """Check each coding's fingerprint against the transcript and re-anchor the ones whose text moved.

    A row's fingerprint is its ``fingerprint`` column, else (a span row) its ``text`` column. Rows
    re-anchored get their new span / turn; rows that cannot be placed are left out. Every moved,
    changed or lost coding is reported (``col.anchoring`` and one warning per file, code and status).
    """
    if not len(documents) or not len(segments) or not len(df):
        return df
    has_fp = "fingerprint" in df.columns
    has_text = "text" in df.columns and has_span
    if not has_fp and not has_text:
        if not has_span or (df["start"].astype(str).str.strip() == "").any():
            col.info(rel, "no fingerprint column: journeylab cannot check these codings against later edits of the "
                     "transcripts (a line inserted above a coded turn shifts every turn id after it); "
                     "CodingStore.export_csv(..., study=...) or jl.fingerprint_codings writes one",
                     column="segment_id")
        return df
    texts = dict(zip(documents["doc_id"].astype(str), documents["text"]))
    doc_ids = sorted(texts, key=len, reverse=True)
    seg_span = {k: (d, int(a), int(b)) for k, d, a, b in  # lists: iterating arrow strings costs ~2 µs a value
                zip(map(str, segments["segment_id"].tolist()), map(str, segments["doc_id"].tolist()),
                    segments["start"].tolist(), segments["end"].tolist())}
    turns = _turns_by_doc(segments, na_docs=True)
    out = df.copy()
    keep = np.ones(len(df), dtype=bool)
    n_bad = 0
    for i in range(len(df)):
        row = df.iloc[i]
        raw = row["fingerprint"] if has_fp else None
        try:
            fp = parse_fingerprint(raw)
        except JourneylabError as exc:
            n_bad += 1
            if n_bad <= 20:
                col.error(rel, str(exc), line=lines(i), column="fingerprint")
            continue
        old_text = None
        if has_text and not _blank(row["text"]):
            old_text = str(row["text"]).replace("\r\n", "\n").replace("\r", "\n")
        span_row = has_span and not _blank(row["start"]) and not _blank(row["end"])
        sid = "" if _blank(row.get("segment_id")) else str(row["segment_id"]).strip()
        if span_row:
            doc = str(row["doc_id"]).strip()
            try:
                a, b = int(str(row["start"]).strip()), int(str(row["end"]).strip())
            except ValueError:
                continue  # reported by _span_turns
        elif sid in seg_span:
            doc, a, b = seg_span[sid]
        else:
            doc = next((d for d in doc_ids if sid.startswith(d + "-")), None)
            a = b = None
        if fp is None:
            if old_text is None or not span_row:
                continue
            fp = Fingerprint(text_hash(old_text), len(old_text), "", "")
        if doc not in texts:
            continue  # reported by the span / segment_id checks
        s0, e0, ids = turns.get(doc, (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, object)))
        place = reanchor(texts[doc], a, b, fp, old_text=old_text,
                         turns=None if span_row else np.column_stack([s0, e0]))
        if place.status == "same":
            continue
        new_sid = sid
        if place.status != "lost":
            overlap = np.minimum(e0, place.end) - np.maximum(s0, place.start)
            new_sid = str(ids[int(np.argmax(overlap))]) if len(ids) and overlap.max() > 0 else sid
            if span_row:
                out.iloc[i, out.columns.get_loc("start")] = str(place.start)
                out.iloc[i, out.columns.get_loc("end")] = str(place.end)
                if has_text:
                    out.iloc[i, out.columns.get_loc("text")] = texts[doc][place.start:place.end]
                if sid:
                    out.iloc[i, out.columns.get_loc("segment_id")] = ""  # retaken from the new span
            else:
                out.iloc[i, out.columns.get_loc("segment_id")] = new_sid
        else:
            keep[i] = False
        col.anchoring.append({
            "file": rel, "line": lines(i), "coder": row.get("coder", pd.NA), "code": row["code"],
            "status": place.status, "segment_id_before": sid or pd.NA,
            "segment_id": new_sid if place.status != "lost" else pd.NA,
            "start_before": a, "end_before": b, "start": place.start, "end": place.end,
            "text": texts[doc][place.start:place.end] if place.status != "lost" else (old_text or pd.NA),
            "score": place.score})
    if n_bad > 20:
        col.error(rel, f"... and {n_bad - 20} more malformed fingerprints", column="fingerprint")
    _report_anchoring([r for r in col.anchoring if r["file"] == rel], rel, col)
    return out[keep]


_ANCHOR_WORDS = {
    "moved": ("re-anchored: the transcript changed since coding and the same text now sits elsewhere", "moved to"),
    "changed": ("re-anchored to similar but different text (fuzzy match): the coded text itself was edited; check "
                "them", "now on"),
    "lost": ("could not be placed: their text is no longer in the transcript; left out of every analysis "
             "(re-code them, or restore the text)", "was"),
}


def _report_anchoring(records: list[dict], rel: str, col: _Collector) -> None:
    """One warning per code and status, naming every coding (turn or span) it moved or lost."""
    if not records:
        return
    rep = pd.DataFrame(records)
    for (status, code), g in rep.groupby(["status", "code"], sort=False):
        what, verb = _ANCHOR_WORDS[status]
        items = []
        for r in g.itertuples():
            before = (r.segment_id_before if isinstance(r.segment_id_before, str)
                      else f"[{r.start_before}, {r.end_before})")
            if status == "lost":
                items.append(f"line {r.line}: {before}")
            else:
                after = r.segment_id if status != "changed" and not isinstance(r.segment_id_before, float) \
                    else f"{r.segment_id} [{r.start}, {r.end})"
                items.append(f"line {r.line}: {before} → {after}")
        shown = "; ".join(items[:8]) + (f"; ... and {len(items) - 8} more" if len(items) > 8 else "")
        n = len(g)
        col.warn(rel, f"{n} {code!r} coding{'s' if n != 1 else ''} {what} ({shown})",
                 line=int(g["line"].iloc[0]) if pd.notna(g["line"].iloc[0]) else None, column="fingerprint")


def _load_codings(root: Path, segments: pd.DataFrame, documents: pd.DataFrame, codebook,
                  col: _Collector) -> pd.DataFrame:
    folder = root / "codings"
    empty = pd.DataFrame(columns=CODING_COLUMNS)
    if not folder.is_dir():
        return empty
    frames = []
    spans = False
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
        has_span = any(c in df.columns for c in SPAN_COLUMNS)
        if has_span:
            df = _rename(df, {}, rel, col, ["code", *SPAN_COLUMNS])
            if not {"code", *SPAN_COLUMNS} <= set(df.columns):
                continue
            if "segment_id" not in df.columns:
                df["segment_id"] = ""
        else:
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
        if known_codes is not None:
            unknown = ~df["code"].isin(known_codes)
            for i in np.flatnonzero(unknown.to_numpy())[:20]:
                col.error(rel, f"code {df['code'].iloc[i]!r} is not in codebook.yml", line=lines(int(i)), column="code")
        df = _reanchor_file(df, documents, segments, rel, col, lines, has_span=has_span)
        if has_span:
            spans = True
            df = _span_turns(df, documents, segments, rel, col, lines)
        if known_seg:
            unknown = ~_in_set(df["segment_id"], known_seg)
            if has_span:
                unknown &= df["start"].isna() & (df["segment_id"] != "")
            for i in np.flatnonzero(unknown.to_numpy())[:20]:
                col.error(rel, f"segment_id {df['segment_id'].iloc[i]!r} matches no transcript segment",
                          line=lines(int(df.index[i])), column="segment_id")
        frames.append(df)
    if not frames:
        return empty
    out = pd.concat(frames, ignore_index=True)
    out = out.drop(columns=["fingerprint"], errors="ignore")  # checked above; writers compute it afresh
    out["memo"] = out["memo"].replace({"": pd.NA})
    lead = CODING_COLUMNS
    if spans:
        for c in ("start", "end"):
            out[c] = (pd.array(out[c].tolist(), dtype="Int64") if c in out
                      else pd.array([pd.NA] * len(out), dtype="Int64"))
        texts = dict(zip(documents["doc_id"].astype(str), documents["text"])) if len(documents) else {}
        out["doc_id"] = out["doc_id"].where(out["doc_id"].notna() & (out["doc_id"].astype(str) != ""), pd.NA) \
            if "doc_id" in out else pd.NA
        out["text"] = [texts[d][a:b] if a is not pd.NA and d in texts else pd.NA
                       for d, a, b in zip(out["doc_id"], out["start"], out["end"])]
        lead = ["doc_id", "start", "end", "text"] + CODING_COLUMNS
    cols = lead + [c for c in out.columns if c not in lead]
    return out[cols].reset_index(drop=True)


def _redact_spans(codings: pd.DataFrame, redactions: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """Move coding spans from the original transcript text to the redacted one (and re-take their text)."""
    if "start" not in codings.columns or not len(codings):
        return codings
    out = codings.copy()
    texts = dict(zip(documents["doc_id"].astype(str), documents["text"]))
    starts = out["start"].astype("float").to_numpy().copy()
    ends = out["end"].astype("float").to_numpy().copy()
    for doc, rows in redactions.sort_values("original_start").groupby("doc_id"):
        m = (out["doc_id"].astype(str) == str(doc)).to_numpy() & ~np.isnan(starts)
        if not m.any():
            continue
        recs = list(zip(rows["original_start"], rows["original_end"], rows["kind"], rows["placeholder"],
                        rows["start"], rows["end"]))
        to_start, to_end = offset_mapper(recs)
        starts[m] = to_start(starts[m].astype(np.int64))
        ends[m] = to_end(ends[m].astype(np.int64))
    out["start"] = pd.array([pd.NA if np.isnan(x) else int(x) for x in starts], dtype="Int64")
    out["end"] = pd.array([pd.NA if np.isnan(x) else int(x) for x in ends], dtype="Int64")
    out["text"] = [texts[d][a:b] if a is not pd.NA and d in texts else pd.NA
                   for d, a, b in zip(out["doc_id"].astype(object), out["start"], out["end"])]
    return out


def _load_notes_raw(root: Path, col: _Collector):
    """notes.yml as parsed (None when absent or unreadable: JourneyMap.build then reports why)."""
    path = root / "notes.yml"
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        mark = getattr(exc, "problem_mark", None)
        col.warn("notes.yml", f"not read ({getattr(exc, 'problem', None) or exc}); the analyst's notes are left out "
                 "until it is valid YAML", line=mark.line + 1 if mark is not None else None)
        return None
    return data if isinstance(data, dict) else None


def _survey_text_columns(survey: pd.DataFrame, redaction: dict, scores: set) -> list:
    """Free-text survey columns: ``comment``, names that say so, and ``redaction: {columns: [...]}``."""
    listed = [c for c in (redaction.get("columns") or []) if isinstance(c, str)]
    scores = set(scores) | {"respondent_id", "submitted_at"}
    out = []
    for c in survey.columns:
        if c in scores:
            continue
        if c in listed or c == "comment" or _FREE_TEXT_NAME.search(str(c)):
            out.append(c)
    return out


def _walk_strings(obj, path=""):
    """(path, value) of every string in a parsed YAML document."""
    if isinstance(obj, str):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk_strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _walk_strings(v, f"{path}[{i}]")


def _replace_strings(obj, new: dict, path=""):
    if isinstance(obj, str):
        return new.get(path, obj)
    if isinstance(obj, dict):
        return {k: _replace_strings(v, new, f"{path}.{k}" if path else str(k)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_replace_strings(v, new, f"{path}[{i}]") for i, v in enumerate(obj)]
    return obj


def _redact_study(redaction: dict, scores: set, participants, segments, documents, survey, codings, notes, codebook,
                  *, tasks=None):
    """One redaction step for everything user-written: transcripts, survey text, memos, notes, codebook
    examples, the moderator's task notes.

    One detector (one name matcher) serves the whole study. Returns the redacted parts and the
    ``redactions`` and ``redaction_flags`` frames (with ``source`` and ``field`` columns).
    """
    kw = {}
    if redaction.get("order_pattern"):
        kw["order_pattern"] = redaction["order_pattern"]
    det = make_detector(participants if participants is not None and len(participants.columns) else None,
                        region=redaction.get("region", "GB"), extra_regions=redaction.get("extra_regions", ["US"]),
                        func=redaction.get("func", "load_study"), **kw)
    maps, fls = [], []

    def _tag(res, source, field):
        m, f = res.mapping.copy(), res.flags.copy()
        m["source"], m["field"] = source, field
        f["source"], f["field"] = source, field
        maps.append(m)
        fls.append(f)

    if len(segments) and documents is not None and len(documents):
        res = _redact(segments, documents=documents, detector=det)
        segments, documents = res.segments, res.documents
        _tag(res, "transcripts", "text")
    if survey is not None and len(survey) and "respondent_id" in survey.columns:
        for c in _survey_text_columns(survey, redaction, scores):
            res = redact_texts(survey[c].tolist(), keys=survey["respondent_id"].astype(str).tolist(), detector=det)
            survey = survey.assign(**{c: pd.array(res.segments["text"].tolist(), dtype=survey[c].dtype
                                                  if str(survey[c].dtype) == "string" else object)})
            _tag(res, "survey", c)
    if codings is not None and len(codings):
        for c in [c for c in ("memo", "text") if c in codings.columns]:
            res = redact_texts(codings[c].tolist(), keys=[str(i) for i in range(len(codings))], detector=det)
            red = res.segments["text"].tolist()
            codings = codings.assign(**{c: pd.array(red, dtype=codings[c].dtype) if str(codings[c].dtype) == "string"
                                        else pd.Series(red, index=codings.index, dtype=object)})
            if len(res.mapping):
                rows = res.mapping["doc_id"].astype(int)
                res.mapping["segment_id"] = codings["segment_id"].iloc[rows].astype(str).values
            _tag(res, "codings", c)
    if notes is not None:
        items = list(_walk_strings(notes))
        res = redact_texts([v for _, v in items], keys=[k for k, _ in items], detector=det)
        notes = _replace_strings(notes, dict(zip([k for k, _ in items], res.segments["text"])))
        res.mapping["doc_id"] = "notes.yml" if not len(res.mapping) else res.mapping["doc_id"]
        _tag(res, "notes", "notes.yml")
    if codebook is not None and any(c.examples for c in codebook.codes):
        keys, texts = [], []
        for c in codebook.codes:
            for i, ex in enumerate(c.examples):
                keys.append(f"{c.name}.examples[{i}]")
                texts.append(ex)
        res = redact_texts(texts, keys=keys, detector=det)
        new = dict(zip(keys, res.segments["text"]))
        codes = [replace(c, examples=[new[f"{c.name}.examples[{i}]"] for i in range(len(c.examples))])
                 for c in codebook.codes]
        codebook = Codebook(codes, name=codebook.name, version=codebook.version, sets=codebook.sets)
        _tag(res, "codebook", "examples")
    if tasks is not None and "notes" in tasks.columns and len(tasks):
        res = redact_texts(tasks["notes"].tolist(), keys=[f"{p}/{t}" for p, t in zip(tasks["participant_id"],
                                                                                     tasks["task"])], detector=det)
        tasks = tasks.assign(notes=pd.array(res.segments["text"].tolist(), dtype="string"))
        _tag(res, "tasks", "notes")
    redactions = pd.concat([m for m in maps if len(m)], ignore_index=True) if any(len(m) for m in maps) else \
        pd.DataFrame(columns=REDACTION_COLUMNS)
    flags = pd.concat([f for f in fls if len(f)], ignore_index=True) if any(len(f) for f in fls) else \
        pd.DataFrame(columns=REDACTION_FLAG_COLUMNS)
    return (segments, documents, survey, codings, notes, codebook, redactions[REDACTION_COLUMNS],
            flags[REDACTION_FLAG_COLUMNS], tasks)


def _load_tasks(root: Path, cfg: _Config, participants: pd.DataFrame, col: _Collector) -> pd.DataFrame | None:
    """tasks.csv: one row per participant × task attempt; None when the study has none."""
    rel = "tasks.csv"
    path = root / rel
    if not path.is_file():
        if len(cfg.task_stages):
            col.warn("study.yml", "'tasks: stages:' maps tasks, but the study has no tasks.csv")
        return None
    df, lines = _read_table(path, rel, col)
    if df is None:
        return None
    df = _rename(df, cfg.columns.get("tasks"), rel, col, ["participant_id", "task", "outcome"])
    if not {"participant_id", "task", "outcome"} <= set(df.columns):
        return None
    for c in ("participant_id", "task", "outcome"):
        df[c] = df[c].str.strip()
        for i in np.flatnonzero((df[c] == "").to_numpy())[:20]:
            col.error(rel, f"empty {c}; every row needs one", line=lines(int(i)), column=c)
    known = set(participants["participant_id"]) if "participant_id" in participants else set()
    unknown = ~df["participant_id"].isin(known) & (df["participant_id"] != "")
    if not known:  # participants.csv is missing or unreadable: that error is reported already
        unknown[:] = False
    for i in np.flatnonzero(unknown.to_numpy())[:20]:
        col.error(rel, f"participant {df['participant_id'].iloc[i]!r} is not in participants.csv",
                  line=lines(int(i)), column="participant_id")
    words = {w: w for w in TASK_OUTCOMES} | cfg.task_outcomes
    outcome = df["outcome"].str.lower().map(words)
    bad = outcome.isna() & (df["outcome"] != "")
    for i in np.flatnonzero(bad.to_numpy())[:20]:
        mapped = f"; study.yml maps {', '.join(map(repr, cfg.task_outcomes))}" if cfg.task_outcomes else ""
        col.error(rel, f"unknown outcome {df['outcome'].iloc[i]!r}; expected one of {', '.join(TASK_OUTCOMES)}"
                  f"{mapped} (map other words in study.yml under `tasks: outcomes: {{your word: success}}`)",
                  line=lines(int(i)), column="outcome")
    if bad.sum() > 20:
        col.error(rel, f"... and {int(bad.sum()) - 20} more unknown outcomes", column="outcome")
    key = df["participant_id"] + "\x00" + df["task"]
    dup = key.duplicated(keep="first") & (df["participant_id"] != "") & (df["task"] != "")
    for i in np.flatnonzero(dup.to_numpy())[:20]:
        first = int(np.flatnonzero((key == key.iloc[i]).to_numpy())[0])
        col.error(rel, f"participant {df['participant_id'].iloc[i]!r} has task {df['task'].iloc[i]!r} twice "
                  f"(first on line {lines(first)}); keep one attempt per participant and task",
                  line=lines(int(i)), column="task")
    if "time_s" in df.columns:
        raw = df["time_s"].str.strip()
        blank = raw == ""
        times = pd.to_numeric(raw.where(~blank), errors="coerce")
        bad_time = ~blank & (times.isna() | (times < 0) | ~np.isfinite(times.fillna(0)))
        for i in np.flatnonzero(bad_time.to_numpy())[:20]:
            col.error(rel, f"expected a time in seconds (a number ≥ 0, or blank when not timed), found "
                      f"{raw.iloc[i]!r}", line=lines(int(i)), column="time_s")
        time_s = times.where(~bad_time).astype(float)
    else:
        time_s = pd.Series(np.nan, index=df.index)
    mapped = cfg.task_stages
    if len(mapped):
        unmapped = ~df["task"].isin(set(mapped["task"])) & (df["task"] != "")
        for name in df.loc[unmapped, "task"].unique()[:20]:
            first = int(np.flatnonzero((df["task"] == name).to_numpy())[0])
            col.error(rel, f"task {name!r} is not mapped to a stage; add it under `tasks: stages:` in study.yml",
                      line=lines(first), column="task")
        for name in sorted(set(mapped["task"]) - set(df["task"])):
            col.warn("study.yml", f"task {name!r} is mapped under `tasks: stages:` but has no row in tasks.csv")
    stage = df["task"].map(dict(zip(mapped["task"], mapped["stage"])))
    touchpoint = df["task"].map(dict(zip(mapped["task"], mapped["touchpoint"])))
    out = pd.DataFrame({
        "participant_id": df["participant_id"], "task": df["task"], "outcome": outcome,
        "time_s": time_s,
        "notes": df["notes"].replace({"": pd.NA}).astype("string") if "notes" in df.columns
        else pd.Series(pd.NA, index=df.index, dtype="string"),
        "stage": stage.astype(object).where(stage.notna(), pd.NA),
        "touchpoint": touchpoint.astype(object).where(touchpoint.notna(), pd.NA),
    })
    for c in df.columns:
        if c not in out.columns:
            out[c] = df[c].replace({"": pd.NA})
    return out.reset_index(drop=True)


def _stage_of_value(value: str, kind: str, cfg: _Config) -> tuple[str | None, str | None]:
    """A marker's or segment_stages.csv's value -> (stage, task); (None, None) when unknown."""
    if kind == "stage":
        return (value, None) if value in cfg.stages else (None, None)
    stages = dict(zip(cfg.task_stages["task"], cfg.task_stages["stage"]))
    return (stages[value], value) if value in stages else (None, None)


def _unknown_value(value: str, kind: str, cfg: _Config) -> str:
    if kind == "stage":
        return f"stage {value!r} is not one of the stages in study.yml ({', '.join(cfg.stages)})"
    known = ", ".join(map(str, cfg.task_stages["task"])) or "none"
    return f"task {value!r} is not mapped to a stage under `tasks: stages:` in study.yml (mapped: {known})"


def _load_segment_stages(root: Path, cfg: _Config, segments: pd.DataFrame, documents: pd.DataFrame,
                         col: _Collector) -> pd.DataFrame | None:
    """The stage of each turn from where it is: transcript markers, then segment_stages.csv (which wins)."""

    marker = cfg.transcripts.get("stage_marker")
    path = root / "segment_stages.csv"
    if marker is None and not path.is_file():
        return None
    rows = {}
    seg = segments if len(segments) else pd.DataFrame(columns=["segment_id", "doc_id", "participant_id", "end"])
    if marker is not None and len(documents):
        pattern = re.compile(marker)
        kind = "task" if "task" in pattern.groupindex else "stage"
        if kind == "task" and not len(cfg.task_stages):
            col.error("study.yml", "transcripts stage_marker: names tasks (?P<task>...) but no task is mapped to a "
                      "stage; add `tasks: stages: {T1: <stage>, ...}`", line=None)
            return None
        by_doc = {d: g for d, g in seg.groupby("doc_id", sort=False)}
        n_marked = 0
        for doc_id, rel, text in documents[["doc_id", "path", "text"]].itertuples(index=False):
            marks, pos = [], 0  # (offset, stage, task)
            for i, line in enumerate(text.split("\n")):
                m = pattern.search(line)
                if m is not None:
                    value = (m.group(kind) or "").strip()
                    stage, task = _stage_of_value(value, kind, cfg)
                    if stage is None:
                        col.error(rel, f"stage marker {m.group(0).strip()!r}: {_unknown_value(value, kind, cfg)}",
                                  line=i + 1)
                    else:
                        marks.append((pos + m.start(), stage, task))
                pos += len(line) + 1
            if not marks or doc_id not in by_doc:
                continue
            n_marked += 1
            offsets = [m[0] for m in marks]
            for sid, pid, end in by_doc[doc_id][["segment_id", "participant_id", "end"]].itertuples(index=False):
                k = bisect.bisect_left(offsets, int(end)) - 1  # the last marker before the turn ends
                if k >= 0:
                    rows[str(sid)] = (str(sid), doc_id, pid, marks[k][1], marks[k][2], "marker")
        if n_marked == 0:
            col.warn("study.yml", f"transcripts stage_marker {marker!r} matches no line of any transcript; every "
                     "coding takes its code's stage")
    if path.is_file():
        rel = "segment_stages.csv"
        df, lines = _read_table(path, rel, col)
        if df is not None:
            has = [c for c in ("stage", "task") if c in df.columns]
            if "segment_id" not in df.columns or len(has) != 1:
                col.error(rel, "expected the columns segment_id and either stage (a stage of study.yml) or task (a "
                          f"task of `tasks: stages:`); found: {', '.join(df.columns) or '(none)'}", line=1)
            else:
                kind = has[0]
                info = seg.assign(segment_id=seg["segment_id"].astype(str)).drop_duplicates("segment_id") \
                    .set_index("segment_id")
                seen: dict = {}
                n_bad = 0
                for i, (sid, value) in enumerate(zip(df["segment_id"].str.strip(), df[kind].str.strip())):
                    problem, column = None, None
                    if sid not in info.index:
                        problem, column = (f"segment {sid!r} is not a turn of any transcript (ids look like "
                                           "'P07-t012')"), "segment_id"
                    elif sid in seen:
                        problem, column = f"segment {sid!r} is listed twice (first on line {seen[sid]})", "segment_id"
                    else:
                        stage, task = _stage_of_value(value, kind, cfg)
                        if stage is None:
                            problem, column = _unknown_value(value, kind, cfg), kind
                    if problem:
                        n_bad += 1
                        if n_bad <= 20:
                            col.error(rel, problem, line=lines(i), column=column)
                        continue
                    seen[sid] = lines(i)
                    rows[sid] = (sid, info.loc[sid, "doc_id"], info.loc[sid, "participant_id"], stage, task, rel)
                if n_bad > 20:
                    col.error(rel, f"... and {n_bad - 20} more such rows")
    out = pd.DataFrame(list(rows.values()), columns=SEGMENT_STAGE_COLUMNS)
    order = {sid: i for i, sid in enumerate(seg["segment_id"].astype(str))}
    out = out.assign(_o=out["segment_id"].map(order)).sort_values("_o", kind="stable").drop(columns="_o")
    for c in ("participant_id", "task"):
        out[c] = out[c].astype(object).where(out[c].notna(), pd.NA)
    return out.reset_index(drop=True)


def _collect(path, *, redact: bool = True, func: str = "load_study"):
    check_path(path, arg="path", func=func)
    root = Path(path)
    col = _Collector()
    if not root.is_dir():
        raise JourneylabError(f"{root}: not a folder; expected a study folder holding study.yml "
                              "(see docs/study-format.md)")
    cfg = _parse_config(root / "study.yml", col)
    if cfg is None:
        return None, col
    exclusions: list = []
    participants = _load_participants(root, cfg, col)
    survey = _load_survey(root, cfg, col, exclusions)
    events = _load_events(root, cfg, col, exclusions)
    segments, documents = _load_transcripts(root, cfg, participants, col)
    codebook = _load_codebook(root, cfg, col)
    codings = _load_codings(root, segments, documents, codebook, col)
    if len(codings) and len(segments):
        left = participant_codings(codings, segments=segments,
                                   what="frequencies, evidence, the learned coder and agreement",
                                   warn=False)
        if left.n_left_out:
            col.warn("codings/", left.message + " (they record what the research team said; the turns are "
                     "interviewer turns by study.yml's interviewer_labels / moderator_pattern)")
    tasks = _load_tasks(root, cfg, participants, col)
    segment_stages = _load_segment_stages(root, cfg, segments, documents, col)
    notes = _load_notes_raw(root, col)
    redactions = pd.DataFrame(columns=REDACTION_COLUMNS)
    flags = pd.DataFrame(columns=REDACTION_FLAG_COLUMNS)
    if redact and col.n_errors == 0 and cfg.redaction.get("enabled", True):
        scores = set(cfg.csat_columns) | {cfg.nps_column}
        red = _redact_study(cfg.redaction, scores, participants, segments, documents, survey, codings, notes, codebook,
                             tasks=tasks)
        segments, documents, survey, codings, notes, codebook, redactions, flags, tasks = red
        # coded spans move with the transcript's replacements (and re-take their text from it)
        codings = _redact_spans(codings, redactions[redactions["source"] == "transcripts"], documents)
    if redact:
        participants = participants.drop(columns=[c for c in ("name", "aliases") if c in participants.columns])
    study = Study(
        path=root, name=str(cfg.raw.get("name", root.name)), config=cfg.raw, stages=cfg.stages,
        touchpoints=cfg.touchpoints, events_map=cfg.events_map, funnel_steps=cfg.funnel_steps,
        funnel_window=cfg.funnel_window, changes=cfg.changes, csat_columns=cfg.csat_columns,
        csat_scale=cfg.csat_scale, nps_column=cfg.nps_column,
        personas=cfg.personas if "persona" in participants.columns else [],  # no persona column: no personas
        participants=participants, survey=survey, events=events, segments=segments, documents=documents,
        codebook=codebook, codings=codings, redactions=redactions, notes=notes, redaction_flags=flags,
        tasks=tasks, segment_stages=segment_stages, questionnaire=cfg.questionnaire,
        problems=[p for p in col.problems if p.severity != "error"],
        exclusions=pd.DataFrame(exclusions, columns=["file", "rows", "reason"]), redacted=redact,
        sources=pd.DataFrame(col.sources, columns=SOURCE_COLUMNS),
        vocabulary=dict(cfg.vocabulary),
        anchoring=pd.DataFrame(col.anchoring, columns=ANCHOR_REPORT_COLUMNS),
    )
    return study, col


def check_study(obj, *, func: str, arg: str = "study") -> Study:
    """Raise a clear error unless ``obj`` is a :class:`journeylab.Study`; return it.

    The argument check every layer above this one uses for a ``study`` argument.
    """
    if not isinstance(obj, Study):
        raise JourneylabError(
            f"{func}(): `{arg}` must be a journeylab Study (jl.load_study(...)), got {type(obj).__name__}."
        )
    return obj


def redact_study(study: "Study", *, region: str = "GB", extra_regions=("US",), order_pattern=None,
                 columns=None) -> "Study":
    """Apply load_study's redaction step to a study that did not come through it (an imported QDA project).

    :func:`load_study` redacts by default; a study from :func:`journeylab.import_qdpx` or
    :func:`journeylab.import_taguette` holds the imported text as it was. This runs the same one
    step over its transcripts, survey free text, coding memos, notes and codebook examples.

    Parameters
    ----------
    study : Study
        The study.
    region : str, default ``"GB"``
        Region of national phone numbers (see ``docs/transcripts.md``).
    extra_regions : list of str, default ``["US"]``
        Further regions whose valid national numbers are phone numbers too.
    order_pattern : str, optional
        Your order/customer numbers (default: 2-4 capitals, ``-``, 5-10 digits).
    columns : list of str, optional
        Survey free-text columns to redact besides those whose names say so.

    Returns
    -------
    Study
        A new study with the texts redacted, ``redactions`` and ``redaction_flags`` filled in
        and ``redacted`` True; the names in ``participants`` (``name``, ``aliases``) dropped.

    Examples
    --------
    >>> import journeylab as jl
    >>> raw = jl.load_study(jl.datasets.sample_study_path(), redact=False)
    >>> red = jl.redact_study(raw)
    >>> red.redacted, len(red.redactions) > 0, "name" in red.participants.columns
    (True, True, False)
    """
    check_study(study, func="redact_study")
    if not isinstance(region, str) or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise JourneylabError(f"redact_study(): `region` must be a two-letter region code such as 'GB', 'US' or "
                              f"'DE'; found {region!r}.")
    redaction = {"region": region.upper(), "extra_regions": list(extra_regions or []), "func": "redact_study",
                 "columns": list(columns or [])}
    if order_pattern is not None:
        redaction["order_pattern"] = order_pattern
    scores = set(getattr(study, "csat_columns", {}) or {}) | {getattr(study, "nps_column", "nps")}
    out = _redact_study(redaction, scores, study.participants, study.segments, study.documents, study.survey,
                        study.codings, getattr(study, "notes", None), study.codebook,
                        tasks=getattr(study, "tasks", None))
    segments, documents, survey, codings, notes, codebook, redactions, flags, tasks = out
    participants = study.participants.drop(columns=[c for c in ("name", "aliases") if c in study.participants.columns])
    return replace(study, segments=segments, documents=documents, survey=survey, codings=codings, notes=notes,
                   codebook=codebook, redactions=redactions, redaction_flags=flags, participants=participants,
                   tasks=tasks, redacted=True)


_REVIEW_COLUMNS = ["action", "source", "doc_id", "segment_id", "field", "kind", "value", "reason", "start", "end",
                   "context"]


def _study_text(study, source: str, doc_id, field) -> str | None:
    """The redacted text a redactions/flags row points into."""
    try:
        if source == "transcripts":
            docs = study.documents
            hit = docs.loc[docs["doc_id"].astype(str) == str(doc_id), "text"]
            return str(hit.iloc[0]) if len(hit) else None
        if source == "survey":
            sv = study.survey
            hit = sv.loc[sv["respondent_id"].astype(str) == str(doc_id), field]
            return hit.iloc[0] if len(hit) and isinstance(hit.iloc[0], str) else None
        if source == "codings":
            v = study.codings[field].iloc[int(doc_id)]
            return v if isinstance(v, str) else None
        if source == "notes":
            obj = study.notes
            for part in re.findall(r"[^.\[\]]+|\[\d+\]", str(doc_id)):
                obj = obj[int(part[1:-1])] if part.startswith("[") else obj[part]
            return obj if isinstance(obj, str) else None
        if source == "codebook":
            name, i = re.fullmatch(r"(.*)\.examples\[(\d+)\]", str(doc_id)).groups()
            return study.codebook[name].examples[int(i)]
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return None
    return None


def redaction_review(study, *, width: int = 40) -> pd.DataFrame:
    """What redaction replaced in a study, and what looked personal but was kept, for a researcher to confirm.

    Parameters
    ----------
    study : Study
        A study loaded with redaction on (:func:`journeylab.load_study`).
    width : int, default 40
        Characters of redacted text shown either side in ``context``.

    Returns
    -------
    DataFrame
        One row per replacement (``action`` = ``"replaced"``) and per suspicious word kept
        (``"kept"``), in study order: ``action``, ``source`` (``transcripts``, ``survey``,
        ``codings``, ``notes``, ``codebook``), ``doc_id`` (document, respondent, codings row,
        notes key or codebook example), ``segment_id``, ``field``, ``kind``, ``value`` (the
        placeholder, or the word kept), ``reason`` (why a word was kept), ``start``, ``end``
        (in the redacted text) and ``context`` (the redacted text around it). The replaced
        values themselves are never shown: whoever holds the original files can look them up
        by position.

    Notes
    -----
    Read the ``kept`` rows first: a first name that is also a word ("Will", "Grace") with no
    context, or a participant's name read as a word ("Grace period"). If one is a person, add
    it to the ``aliases`` column of participants.csv (it is then always replaced) and reload.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> review = jl.redaction_review(study)
    >>> sorted(review["source"].unique())
    ['survey', 'transcripts']
    >>> list(review.columns)[:7]
    ['action', 'source', 'doc_id', 'segment_id', 'field', 'kind', 'value']
    """
    check_study(study, func="redaction_review")
    if isinstance(width, bool) or not isinstance(width, int) or width < 0:
        raise JourneylabError(f"redaction_review(): `width` must be a whole number of characters >= 0, got {width!r}.")
    rows = []
    red = study.redactions
    flags = getattr(study, "redaction_flags", None)
    cache: dict = {}

    def ctx(source, doc_id, field, a, b):
        key = (source, doc_id, field)
        if key not in cache:
            cache[key] = _study_text(study, source, doc_id, field)
        t = cache[key]
        if not isinstance(t, str):
            return None
        return ("…" if a > width else "") + t[max(0, a - width):b + width].replace("\n", " ") + (
            "…" if b + width < len(t) else "")

    def get(r, name, default=None):
        return getattr(r, name, default)

    for r in red.itertuples(index=False):
        src = get(r, "source", "transcripts")
        rows.append(("replaced", src, r.doc_id, r.segment_id, get(r, "field", "text"), r.kind, r.placeholder, None,
                     int(r.start), int(r.end), ctx(src, r.doc_id, get(r, "field", "text"), int(r.start), int(r.end))))
    if flags is not None:
        for r in flags.itertuples(index=False):
            rows.append(("kept", r.source, r.doc_id, r.segment_id, r.field, r.kind, r.text, r.reason,
                         int(r.start), int(r.end), ctx(r.source, r.doc_id, r.field, int(r.start), int(r.end))))
    out = pd.DataFrame(rows, columns=_REVIEW_COLUMNS)
    order = {"transcripts": 0, "survey": 1, "codings": 2, "notes": 3, "codebook": 4}
    if len(out):
        out = (out.assign(_o=out["source"].map(order).fillna(9))
               .sort_values(["_o", "doc_id", "start"], kind="stable").drop(columns="_o").reset_index(drop=True))
    for c in ("action", "source", "doc_id", "segment_id", "field", "kind", "value", "reason", "context"):
        out[c] = pd.array([None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v)
                           for v in out[c]], dtype="string")
    out["start"] = out["start"].astype("int64")
    out["end"] = out["end"].astype("int64")
    return out


def validate_study(path, *, cache=None) -> list[Problem]:
    """Check a study folder and return every problem found (errors and warnings).

    Parameters
    ----------
    path : str or Path
        The study folder.
    cache : str or Path, optional
        An output folder holding a study cache (see :func:`load_study`): when it is current, the
        problems are the ones found when it was made (a cached study loaded, so it has no errors)
        and the folder is not read again.

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
    if cache is not None:
        check_path(path, arg="path", func="validate_study")
        key = _cache.study_key(path) if Path(path).is_dir() else None
        for redact in (True, False) if key is not None else ():
            fields = _cache.read_cache(_cache.cache_folder(cache, redact=redact), {**key, "redact": redact})
            if fields is not None:
                return list(fields["problems"])
    _, col = _collect(path, redact=False, func="validate_study")
    return col.problems


def load_study(path, *, redact: bool = True, cache=None) -> Study:
    """Load and validate a study folder.

    Parameters
    ----------
    path : str or Path
        The study folder (see ``docs/study-format.md``).
    redact : bool, default True
        Replace personal information (e-mails, phone, card, bank and ID numbers, addresses,
        order numbers, the names in participants.csv and other people's names; see
        ``docs/transcripts.md``) with typed placeholders such as ``[EMAIL]`` and ``[NAME:P07]``
        in everything user-written: transcripts, survey free text, coding memos, notes.yml and
        codebook examples. Where it was replaced is in ``Study.redactions``; what looked personal
        but was kept is in ``Study.redaction_flags`` (:func:`journeylab.redaction_review` shows
        both). The ``name`` and ``aliases`` columns are then dropped from ``participants``.
    cache : str or Path, optional
        An output folder (a notebook's ``output_dir``). The loaded study is kept there, in
        ``.journeylab-cache/``, and read back instead of loading the study again while the study's
        files, ``redact`` and the journeylab version are unchanged (:mod:`journeylab.study.cache`).
        ``journeylab run`` loads the study once this way and every notebook reads it.

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
    if cache is None:
        study, col = _collect(path, redact=redact)
        if study is None or col.n_errors:
            raise StudyError(col.problems, str(path))
        return study
    return load_study_cached(path, cache, redact=redact)[0]


def load_study_cached(path, out, *, redact: bool = True) -> tuple[Study, bool]:
    """:func:`load_study` through the study cache in the output folder ``out``.

    Returns
    -------
    (Study, bool)
        The study, and whether it was read from a current cache (False: loaded and cached now).
    """
    check_path(path, arg="path", func="load_study")
    check_path(out, arg="cache", func="load_study")
    folder = _cache.cache_folder(out, redact=redact)
    key = _cache.study_key(path, redact=redact) if Path(path).is_dir() else None
    fields = _cache.read_cache(folder, key) if key is not None else None
    if fields is not None:
        return Study(path=Path(path), **fields), True
    study, col = _collect(path, redact=redact)
    if study is None or col.n_errors:
        raise StudyError(col.problems, str(path))
    _cache.write_cache(folder, key, {f.name: getattr(study, f.name) for f in dataclasses.fields(study)
                                     if f.name != "path"})
    return study, False


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


@shared_docs
def study_part(study: "Study", *, part: str) -> StudyPart:
    """Whether ``study`` has an optional part (survey, event log, codings), or why not.

    Notebooks ask this before a section that needs the part, so a study without a survey, an event
    log or codings (all optional, see ``docs/study-format.md``) says why the section does not apply
    instead of failing in it.

    Parameters
    ----------
    {study}
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
    >>> bool(jl.study_part(study, part="survey")), jl.study_part(study, part="events").n > 0
    (True, True)
    >>> from dataclasses import replace
    >>> print(jl.study_part(replace(study, survey=study.survey.iloc[:0]), part="survey").reason)
    this study has no survey (survey.csv), so there are no NPS, CSAT or comment scores to measure
    """
    check_study(study, func="study_part")
    if not isinstance(part, str) or part not in _PART_REASONS:
        raise JourneylabError(f"study_part(): `part` must be one of {', '.join(map(repr, _PART_REASONS))}; "
                              f"got {part!r}")
    frame = getattr(study, part, None)
    n = 0 if frame is None else len(frame)
    return StudyPart(part, n, "" if n else _PART_REASONS[part])
