"""Interview transcripts → a tidy frame of speaker turns (segments).

Reads plain text with speaker labels, WebVTT (Zoom, Teams, Otter exports, with or without
``<v Speaker>`` voice tags), SubRip (``.srt``), and Word (``.docx``) and OpenDocument (``.odt``)
documents, whose paragraphs are read as the lines of a plain-text transcript. Transcripts without
speaker labels (one paragraph per turn) are read with ``speaker_labels=False``. Every segment carries ``start``/``end``
character offsets into the document's *normalised text* (:attr:`Document.text`), so that
``doc.text[start:end] == text`` holds for every row: a quote can always be traced back to its
exact place. The format is described in ``docs/transcripts.md``.
"""
from __future__ import annotations

__all__ = ["Document", "read_document", "read_transcript", "parse_transcript", "SEGMENT_COLUMNS",
           "DEFAULT_INTERVIEWER_LABELS", "TranscriptError", "TRANSCRIPT_SUFFIXES", "MODERATOR"]

import bisect
import html
import io
import math
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import JourneylabError, Problem
from ..utils.checks import check_choice, check_path

SEGMENT_COLUMNS = ["segment_id", "doc_id", "participant_id", "speaker", "speaker_role", "turn",
                   "start", "end", "time_start", "time_end", "text"]
DEFAULT_INTERVIEWER_LABELS = ("Interviewer", "Moderator", "Facilitator", "Researcher", "Int", "I")
FORMATS = ("txt", "vtt", "srt")
_SUFFIX_FORMAT = {".txt": "txt", ".text": "txt", ".vtt": "vtt", ".webvtt": "vtt", ".srt": "srt"}
#: Word-processor formats: their paragraphs become the lines of a plain-text transcript.
DOCUMENT_SUFFIXES = {".docx": "docx", ".odt": "odt"}
#: Every transcript file suffix :func:`read_document` reads.
TRANSCRIPT_SUFFIXES = tuple(_SUFFIX_FORMAT) + tuple(DOCUMENT_SUFFIXES)


class TranscriptError(JourneylabError):
    """A transcript cannot be read; ``file`` and ``line`` (1-based, or None) say where."""

    def __init__(self, file: str, line: int | None, message: str):
        self.file, self.line, self.detail = file, line, message
        where = file if line is None else f"{file}, line {line}"
        super().__init__(f"{where}: {message}")

    def to_problem(self) -> Problem:
        """The error as a :class:`~journeylab.errors.Problem` (severity "error")."""
        return Problem(self.file, self.line, None, self.detail, "error")


@dataclass(frozen=True, eq=False)
class Document:
    """One transcript, read and segmented.

    Attributes
    ----------
    doc_id : str
        Identifier of the document (default: the file stem).
    path : str or None
        Where it came from (``display_path`` when given).
    format : {"txt", "vtt", "srt", "docx", "odt"}
        The format it was read as (``docx``/``odt``: the paragraphs, read as plain text).
    encoding : str or None
        The encoding actually used to decode the file (``utf-8``, ``utf-8-sig`` when it began
        with a byte-order mark, ``utf-16``, or ``cp1252`` with a warning); None for text given in
        memory.
    text : str
        The normalised text the segment offsets refer to (see ``docs/transcripts.md``).
    segments : DataFrame
        The segments frame (see :func:`read_transcript`).
    warnings : list of Problem
        Things worth knowing that did not stop the reading (severity ``"warning"``).
    """

    doc_id: str
    path: str | None
    format: str
    encoding: str | None
    text: str
    segments: pd.DataFrame
    warnings: list = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"Document({self.doc_id!r}, format={self.format!r}, encoding={self.encoding!r}, "
                f"{len(self.segments)} segments, {len(self.text)} characters, {len(self.warnings)} warnings)")


# ----------------------------------------------------------------------------- decoding


def _line_of_byte(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_text(data: bytes, name: str) -> tuple[str, str, list[Problem]]:
    """Decode file bytes: utf-8-sig, then utf-16 (with BOM), then cp1252 with a warning."""
    warnings: list[Problem] = []
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), "utf-16", warnings
        except UnicodeDecodeError as exc:
            raise TranscriptError(name, None, f"the file starts with a UTF-16 byte-order mark but byte offset "
                                  f"{exc.start} is not valid UTF-16; re-save it as UTF-8") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise TranscriptError(name, _line_of_byte(data, nul),
                              f"the file contains a NUL byte (byte offset {nul}); expected a text transcript "
                              "(is it a binary file such as .docx, or UTF-16 without a byte-order mark?)")
    try:
        text = data.decode("utf-8-sig")
        return text, ("utf-8-sig" if data[:3] == b"\xef\xbb\xbf" else "utf-8"), warnings
    except UnicodeDecodeError as exc:
        bad, bad_line = exc.start, _line_of_byte(data, exc.start)
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise TranscriptError(
            name, _line_of_byte(data, exc.start),
            f"cannot decode the file: byte 0x{data[exc.start]:02x} at byte offset {exc.start} is valid neither "
            f"in UTF-8 (first invalid byte: offset {bad}, line {bad_line}) nor in Windows-1252 (cp1252); "
            "re-save the transcript as UTF-8") from None
    warnings.append(Problem(
        name, bad_line, None,
        f"not valid UTF-8 (byte 0x{data[bad]:02x} at byte offset {bad}); decoded as Windows-1252 (cp1252) — "
        "check accented letters and re-save the file as UTF-8", "warning"))
    return text, "cp1252", warnings


def _normalise(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


# ----------------------------------------------------------------------------- shared pieces

_TS = r"\d{1,3}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?"
# a speaker label: 1-4 words, the first starting with a letter, no sentence punctuation
_LABEL = r"[^\W\d_][\w.'’&/()\-]*(?:[ \t]+[\w.'’&/()\-]+){0,3}?"
_TXT_LINE = re.compile(
    rf"[ \t]*(?:(?:\[(?P<ts1>{_TS})\]|\((?P<ts2>{_TS})\)|(?P<ts3>{_TS}))[ \t]+)?"
    rf"(?P<label>{_LABEL})(?:[ \t]*(?:\[(?P<ts4>{_TS})\]|\((?P<ts5>{_TS})\)))?[ \t]*:(?=[ \t]|$)[ \t]*"
)
_PAYLOAD_LABEL = re.compile(rf"[ \t]*(?:-[ \t]*)?(?P<label>{_LABEL})[ \t]*:(?=[ \t]|$)[ \t]*")
_ID_LIKE = re.compile(
    r"(?:[A-Z]{1,4}[ _-]?\d{1,4}|(?:speaker|participant|respondent|interviewee|customer|user|person)[ _]?\d{1,4})",
    re.IGNORECASE)
_TIMING = re.compile(
    r"[ \t]*(?P<a>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})[ \t]+-->[ \t]+"
    r"(?P<b>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})(?:[ \t].*)?")
# no '<' inside a tag: a line of unclosed "<v <v <v ..." is then linear, not quadratic
_VOICE = re.compile(r"<v(?:\.[^\s<>]*)?(?:[ \t]+(?P<name>[^<>]*))?>|</v>")
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>|<\d+(?::\d+)*(?:[.,]\d+)?>")


def _seconds(ts: str) -> float:
    parts = ts.replace(",", ".").split(":")
    total = 0.0
    for p in parts:
        total = total * 60 + float(p)
    return total


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _clean_payload(text: str) -> str:
    if "<" in text:
        text = _TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())


class _Labels:
    """Decides which label candidates are speakers (see docs/transcripts.md, "speaker labels")."""

    def __init__(self, interviewer_labels, speaker_map):
        labels = DEFAULT_INTERVIEWER_LABELS if interviewer_labels is None else interviewer_labels
        if isinstance(labels, str):
            labels = [labels]
        self.interviewers = {str(x).strip().casefold() for x in labels}
        self.speaker_map = dict(speaker_map or {})
        self._map_fold = {str(k).strip().casefold(): v for k, v in self.speaker_map.items()}

    def known(self, label: str) -> bool:
        f = label.casefold()
        return f in self.interviewers or f in self._map_fold or bool(_ID_LIKE.fullmatch(label))

    def accepted(self, counts: Counter, strong: set) -> set:
        ok = {lab for lab, n in counts.items() if n >= 2 or lab in strong or self.known(lab)}
        return ok or set(counts)  # a tiny file whose every label is new: trust them

    def role_and_pid(self, label: str):
        mapped = self.speaker_map.get(label, self._map_fold.get(label.casefold(), label))
        if label.casefold() in self.interviewers or str(mapped).casefold() in self.interviewers:
            return "interviewer", None
        return "participant", (None if mapped is None or (isinstance(mapped, float) and math.isnan(mapped))
                               else str(mapped))


def _not_a_label_warning(name, line, label, kind="line") -> Problem:
    return Problem(name, line, None,
                   f"'{label}:' looks like a speaker label but occurs only once; read it as part of the "
                   f"previous turn (list it in `speaker_map` or `interviewer_labels` if it is a speaker)",
                   "warning")


# ----------------------------------------------------------------------------- txt


def _is_heading(line: str, heading) -> bool:
    """A stage-marker line that is not a speaker turn: ``## Task 3``, ``## T3: find a plan``.

    The marker must not sit in the text after a speaker label (``Moderator: [T3] Now ...`` is a turn
    that opens the stage, not a heading).
    """
    if heading is None:
        return False
    m = heading.search(line)
    if m is None:
        return False
    lab = _TXT_LINE.match(line)
    return lab is None or m.start() < lab.end("label")


def _parse_txt(text: str, name: str, labels: _Labels, warnings: list, heading=None):
    lines = text.split("\n")
    cands = []  # (line index, match) of lines that start like "Label:"
    counts: Counter = Counter()
    strong = set()
    headings = [i for i, line in enumerate(lines) if _is_heading(line, heading)] if heading is not None else []
    heading_set = set(headings)
    for i, line in enumerate(lines):
        if ":" not in line or i in heading_set:
            continue
        m = _TXT_LINE.match(line)
        if m is not None:
            lab = m.group("label").strip()
            cands.append((i, m, lab))
            counts[lab] += 1
            if m.group("ts1") or m.group("ts2") or m.group("ts3") or m.group("ts4") or m.group("ts5"):
                strong.add(lab)
    if not cands:
        first = next((i for i, s in enumerate(lines) if s.strip()), 0)
        raise TranscriptError(name, first + 1,
                              "no speaker label found; expected lines like 'P07: ...' or 'Interviewer: ...' "
                              f"(optionally after a time, '[00:01:02] P07: ...'), found {lines[first].strip()[:60]!r}"
                              " (a transcript without speaker labels, one paragraph per turn, reads with "
                              "`transcripts: {speaker_labels: false}` in study.yml)")
    ok = labels.accepted(counts, strong)
    starts = []  # (line index, match, label) of accepted turn starts
    for i, m, lab in cands:
        if lab in ok:
            starts.append((i, m, lab))
        else:
            warnings.append(_not_a_label_warning(name, i + 1, lab))
    # character offset of each line start (linear)
    offsets = np.empty(len(lines) + 1, dtype=np.int64)
    offsets[0] = 0
    np.cumsum(np.fromiter((len(s) + 1 for s in lines), dtype=np.int64, count=len(lines)), out=offsets[1:])
    first_label_line = starts[0][0]
    for i in range(first_label_line):
        if lines[i].strip() and i not in heading_set:
            raise TranscriptError(name, i + 1,
                                  f"text before the first speaker label: {lines[i].strip()[:60]!r}; expected every "
                                  "turn to start with a label like 'P07: ...' or 'Interviewer: ...' "
                                  "(remove the heading or give it a label)")
    turns = []
    last_time, disorder = -math.inf, []
    for k, (i, m, lab) in enumerate(starts):
        a = int(offsets[i]) + m.end()
        b = int(offsets[starts[k + 1][0]]) - 1 if k + 1 < len(starts) else len(text)
        if headings:  # a stage-marker heading ends the turn before it
            h = bisect.bisect_right(headings, i)
            if h < len(headings):
                b = min(b, int(offsets[headings[h]]) - 1)
        region = text[a:b]
        stripped = region.strip()
        if not stripped:
            warnings.append(Problem(name, i + 1, None, f"'{lab}:' has no text; turn skipped", "warning"))
            continue
        s = a + (len(region) - len(region.lstrip()))
        ts = m.group("ts1") or m.group("ts2") or m.group("ts3") or m.group("ts4") or m.group("ts5")
        t0 = _seconds(ts) if ts else math.nan
        if ts:
            if t0 < last_time:
                disorder.append(i + 1)
            last_time = t0
        turns.append((lab, s, s + len(stripped), t0, math.nan, stripped))
    if disorder:
        warnings.append(Problem(name, disorder[0], None,
                                f"timestamps go backwards ({len(disorder)} time(s), first here); kept in file order",
                                "warning"))
    return text, turns


# ----------------------------------------------------------------------------- vtt / srt


def _blocks(lines, begin):
    """Yield (first line index, list of lines) of blank-line separated blocks."""
    i, n = begin, len(lines)
    while i < n:
        while i < n and not lines[i].strip():
            i += 1
        if i >= n:
            break
        j = i
        while j < n and lines[j].strip():
            j += 1
        yield i, lines[i:j]
        i = j


def _timing_error(name, line, found, fmt):
    example = "00:01:02.000 --> 00:01:05.500" if fmt == "vtt" else "00:01:02,000 --> 00:01:05,500"
    return TranscriptError(name, line, f"expected a cue timing like '{example}', found {found.strip()[:80]!r}")


def _parse_cues(text: str, fmt: str, name: str, labels: _Labels, warnings: list):
    lines = text.split("\n")
    begin = 0
    if fmt == "vtt":
        head = lines[0] if lines else ""
        if not (head.startswith("WEBVTT") and (len(head) == 6 or head[6] in " \t")):
            raise TranscriptError(name, 1, "expected the header 'WEBVTT' on the first line, found "
                                  f"{head.strip()[:60]!r}")
        begin = 1
        while begin < len(lines) and lines[begin].strip():  # header metadata lines
            begin += 1
    cues = []  # (line of timing, t0, t1, payload lines, line of payload start)
    last_t0, disorder = -math.inf, []
    for i, block in _blocks(lines, begin):
        first = block[0].strip()
        if fmt == "vtt" and (first.split(None, 1)[0] if first else "") in ("NOTE", "STYLE", "REGION"):
            continue
        if "-->" in block[0]:
            k = 0
        elif len(block) > 1 and "-->" in block[1]:
            k = 1
            if fmt == "srt" and not first.isdigit():
                raise TranscriptError(name, i + 1, f"expected a cue number like '12' followed by a timing line, "
                                                   f"found {first[:80]!r}")
        elif fmt == "srt" and first.isdigit():
            found = block[1] if len(block) > 1 else "(a blank line)"
            raise _timing_error(name, i + 2, found, fmt)
        elif fmt == "srt":
            raise TranscriptError(name, i + 1, f"expected a cue number like '12' followed by a timing line "
                                               f"like '00:01:02,000 --> 00:01:05,500', found {first[:80]!r}")
        elif len(block) > 1 and not any(c.isspace() for c in first):
            raise _timing_error(name, i + 2, block[1], fmt)  # line 1 reads as a cue identifier
        else:
            raise _timing_error(name, i + 1, block[0], fmt)
        m = _TIMING.fullmatch(block[k].rstrip())
        if m is None:
            raise _timing_error(name, i + k + 1, block[k], fmt)
        t0, t1 = _seconds(m.group("a")), _seconds(m.group("b"))
        if t1 < t0:
            raise TranscriptError(name, i + k + 1, f"the cue ends ({m.group('b')}) before it starts ({m.group('a')}); "
                                                   "expected an end time at or after the start time")
        if t0 < last_t0:
            disorder.append(i + k + 1)
        last_t0 = t0
        cues.append((i + k + 1, t0, t1, block[k + 1:], i + k + 2))
    if not cues:
        raise TranscriptError(name, None, "the file holds no cues; expected blocks like "
                              "'00:01:02.000 --> 00:01:05.500' followed by 'Speaker: text'")
    if disorder:
        warnings.append(Problem(name, disorder[0], None,
                                f"cue times go backwards ({len(disorder)} time(s), first here); kept in file order",
                                "warning"))
    # pieces: [line, t0, t1, speaker or None, candidate label or None, text, raw text]
    pieces = []
    counts: Counter = Counter()
    for tline, t0, t1, payload, pline in cues:
        joined = "\n".join(payload)
        pos, voice = 0, None
        chunks = []
        if "<v" in joined:
            for m in _VOICE.finditer(joined):
                chunks.append((joined[pos:m.start()], voice))
                voice = (m.group("name") or "").strip() or None if m.group(0) != "</v>" else None
                pos = m.end()
        chunks.append((joined[pos:], voice))
        for chunk, voice in chunks:
            if voice is not None:
                voice = _clean_payload(voice)
                pieces.append([pline, t0, t1, voice, None, _clean_payload(chunk), None])
                counts[voice] += 2  # voice tags are always speakers
                continue
            for raw in chunk.split("\n"):
                clean = _clean_payload(raw)
                if not clean:
                    continue
                m = _PAYLOAD_LABEL.match(clean)
                if m is not None:
                    lab = m.group("label").strip()
                    counts[lab] += 1
                    pieces.append([pline, t0, t1, None, lab, clean[m.end():].strip(), clean])
                else:
                    pieces.append([pline, t0, t1, None, None, clean, clean])
    ok = labels.accepted(counts, set()) if counts else set()
    for p in pieces:
        if p[4] is not None:
            if p[4] in ok:
                p[3] = p[4]
            else:
                warnings.append(_not_a_label_warning(name, p[0], p[4]))
                p[5] = p[6]
    # merge consecutive pieces of one speaker into turns
    merged = []  # [speaker, t0, t1, [texts], line]
    for line, t0, t1, spk, _, txt, _ in pieces:
        if spk is None:
            if not merged:
                if not txt:
                    continue
                raise TranscriptError(name, line, f"cue text without a speaker before any cue names one: "
                                                  f"{txt[:60]!r}; expected 'Name: text' or '<v Name>text</v>'")
            cur = merged[-1]
        elif merged and merged[-1][0] == spk:
            cur = merged[-1]
        else:
            cur = [spk, t0, t1, [], line]
            merged.append(cur)
        if txt:
            cur[3].append(txt)
        cur[2] = max(cur[2], t1)
    # render the document text: one paragraph per turn
    parts, turns, pos = [], [], 0
    for spk, t0, t1, texts, line in merged:
        if not texts:
            warnings.append(Problem(name, line, None, f"'{spk}:' has no text; turn skipped", "warning"))
            continue
        body = " ".join(texts)
        prefix = f"[{_clock(t0)}] {spk}: "
        if parts:
            parts.append("\n")
            pos += 1
        parts.append(prefix)
        pos += len(prefix)
        turns.append((spk, pos, pos + len(body), t0, t1, body))
        parts.append(body)
        parts.append("\n")
        pos += len(body) + 1
    return "".join(parts), turns



# ----------------------------------------------------------------------------- transcripts without labels

_LEAD_TIME = re.compile(rf"[ \t]*(?:\[(?P<a>{_TS})\]|\((?P<b>{_TS})\)"
                        rf"|(?P<c>\d{{1,3}}:\d{{1,2}}:\d{{1,2}}(?:[.,]\d{{1,3}})?))[ \t]+")
#: The speaker name given to the moderator's turns in a transcript without speaker labels.
MODERATOR = "Moderator"


def _parse_unlabelled(text: str, name: str, participant: str, moderator, warnings: list, heading=None):
    """One turn per non-empty line; a line matching ``moderator`` is the moderator's."""
    turns = []
    pos = 0
    last_time, disorder = -math.inf, []
    for i, line in enumerate(text.split("\n")):
        stripped = line.strip()
        mark = heading.search(line) if heading is not None and stripped else None
        if mark is not None and not line[:mark.start()].strip():  # a stage-marker heading line: not a turn
            stripped = ""
        if stripped:
            a = pos + (len(line) - len(line.lstrip()))
            t0 = math.nan
            m = _LEAD_TIME.match(line)
            if m is not None and line[m.end():].strip():
                ts = m.group("a") or m.group("b") or m.group("c")
                t0 = _seconds(ts)
                if t0 < last_time:
                    disorder.append(i + 1)
                last_time = t0
                a = pos + m.end()
                stripped = line[m.end():].strip()
            spk = MODERATOR if moderator is not None and moderator.search(stripped) else participant
            turns.append((spk, a, a + len(stripped), t0, math.nan, stripped))
        pos += len(line) + 1
    if disorder:
        warnings.append(Problem(name, disorder[0], None,
                                f"timestamps go backwards ({len(disorder)} time(s), first here); kept in file order",
                                "warning"))
    return text, turns


def _check_pattern(pattern, arg: str, func: str):
    """None, or ``pattern`` compiled; a clear error naming ``arg`` when it is not a valid regular expression."""
    if pattern is None:
        return None
    if not isinstance(pattern, str) or not pattern:
        raise JourneylabError(f"{func}(): `{arg}` must be a regular expression (a non-empty str), got {pattern!r}")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise JourneylabError(f"{func}(): `{arg}` {pattern!r} is not a valid regular expression: {exc}") from None


# ----------------------------------------------------------------------------- .docx / .odt


def _word_error(name: str, kind: str, exc) -> TranscriptError:
    what = {"docx": "a Word document (.docx)", "odt": "an OpenDocument text (.odt)"}[kind]
    return TranscriptError(name, None, f"cannot be read as {what}: {type(exc).__name__}: {exc}. Is it a file "
                           "of another type renamed, an old .doc file, or password-protected? Re-save it "
                           f"as .{kind}, or as plain text (.txt, UTF-8)")


def _docx_paragraphs(data: bytes, name: str) -> tuple[list, int, int]:
    import docx  # python-docx: a dependency, imported here because only .docx transcripts need it

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise _word_error(name, "docx", ValueError("the file is not a zip archive"))
    try:
        d = docx.Document(io.BytesIO(data))
        paragraphs = [p.text for p in d.paragraphs]
        n_tables = len(d.tables)
        n_pictures = len(d.inline_shapes)
    except Exception as exc:  # python-docx raises KeyError, PackageNotFoundError, XML errors...
        raise _word_error(name, "docx", exc) from None
    return paragraphs, n_tables, n_pictures


def _odt_paragraphs(data: bytes, name: str) -> tuple[list, int, int]:
    from odf import opendocument, teletype  # odfpy: a dependency, needed only for .odt transcripts

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise _word_error(name, "odt", ValueError("the file is not a zip archive"))
    try:
        doc = opendocument.load(io.BytesIO(data))
        body = doc.text
    except Exception as exc:  # odfpy raises KeyError, xml errors, ...
        raise _word_error(name, "odt", exc) from None
    paragraphs, counts = [], {"table": 0, "frame": 0}

    def walk(el):
        for child in el.childNodes:
            local = getattr(child, "qname", (None, None))[1]
            if local in ("p", "h"):
                paragraphs.append(teletype.extractText(child))
                counts["frame"] += sum(1 for x in child.getElementsByType(_odf_frame()))
            elif local in ("list", "list-item", "list-header", "section", "index-body"):
                walk(child)
            elif local == "table":
                counts["table"] += 1
            elif local == "frame":
                counts["frame"] += 1

    try:
        walk(body)
    except Exception as exc:
        raise _word_error(name, "odt", exc) from None
    return paragraphs, counts["table"], counts["frame"]


def _odf_frame():
    from odf.draw import Frame  # odfpy, as above

    return Frame


def _word_text(data: bytes, name: str, kind: str) -> tuple[str, list]:
    """The text of a .docx/.odt: one line per paragraph (line breaks inside a paragraph become spaces)."""
    paragraphs, n_tables, n_pictures = (_docx_paragraphs if kind == "docx" else _odt_paragraphs)(data, name)
    lines = [" ".join(p.replace("\r", "\n").replace("\v", "\n").split("\n")) for p in paragraphs]
    text = "\n".join(lines)
    warnings = []
    others = ", ".join(x for x in (f"{n_tables} table(s)" if n_tables else "",
                                   f"{n_pictures} picture(s)" if n_pictures else "") if x)
    if not text.strip():
        raise TranscriptError(name, None, "holds no text paragraphs" + (f" (only {others})" if others else "")
                              + "; expected one paragraph per turn, like 'P07: ...' (journeylab reads the "
                              "paragraphs of the document, not tables or pictures)")
    if n_tables:
        warnings.append(Problem(name, None, None, f"{n_tables} table(s) not read: journeylab reads the paragraphs "
                                "outside tables (copy a transcript kept in a table into paragraphs)", "warning"))
    return text, warnings


# ----------------------------------------------------------------------------- public API


def _detect(text: str, suffix: str | None) -> str:
    head = text.lstrip("\ufeff")
    if head.startswith("WEBVTT"):
        return "vtt"
    fmt = _SUFFIX_FORMAT.get((suffix or "").lower())
    if fmt in ("srt", "vtt"):
        return fmt
    lines = [s for s in head.lstrip().split("\n", 3)[:2]]
    if len(lines) == 2 and lines[0].strip().isdigit() and "-->" in lines[1]:
        return "srt"
    if fmt is None and lines and "-->" in lines[0] and _TIMING.fullmatch(lines[0].rstrip()):
        return "srt"
    return "txt"


def _segments_frame(turns, *, doc_id, labels: _Labels, split):
    return _rows_frame(_segments_rows(turns, doc_id=doc_id, labels=labels, split=split))


def _segments_rows(turns, *, doc_id, labels: _Labels, split) -> dict:
    """The segments of one document as lists, one per column (``doc_id`` included)."""
    rows = {c: [] for c in SEGMENT_COLUMNS}
    tokenizer = None
    if split == "sentence":
        # lazy: nltk adds ~2.3 s to `import journeylab` (measured; docs/architecture.md)
        from nltk.tokenize.punkt import PunktSentenceTokenizer

        tokenizer = PunktSentenceTokenizer()
    roles = {}
    for n, (spk, s, e, t0, t1, body) in enumerate(turns, start=1):
        if spk not in roles:
            roles[spk] = labels.role_and_pid(spk)
        role, pid = roles[spk]
        base = f"{doc_id}-t{n:03d}"
        if tokenizer is None:
            pieces = [(base, s, e, body)]
        else:
            pieces = [(f"{base}-s{j:02d}", s + a, s + b, body[a:b])
                      for j, (a, b) in enumerate(tokenizer.span_tokenize(body), start=1)]
        for sid, a, b, t in pieces:
            rows["segment_id"].append(sid)
            rows["participant_id"].append(pid)
            rows["speaker"].append(spk)
            rows["speaker_role"].append(role)
            rows["turn"].append(n)
            rows["start"].append(a)
            rows["end"].append(b)
            rows["time_start"].append(t0)
            rows["time_end"].append(t1)
            rows["text"].append(t)
    rows["doc_id"] = [doc_id] * len(rows["segment_id"])
    return rows


def _rows_frame(rows: dict) -> pd.DataFrame:
    """The segments frame of :func:`_segments_rows`' lists (of one document, or of many joined)."""
    out = pd.DataFrame({
        "segment_id": pd.array(rows["segment_id"], dtype="string"),
        "doc_id": pd.array(rows["doc_id"], dtype="string"),
        "participant_id": pd.array(rows["participant_id"], dtype="string"),
        "speaker": pd.array(rows["speaker"], dtype="string"),
        "speaker_role": pd.array(rows["speaker_role"], dtype="string"),
        "turn": np.asarray(rows["turn"], dtype=np.int64),
        "start": np.asarray(rows["start"], dtype=np.int64),
        "end": np.asarray(rows["end"], dtype=np.int64),
        "time_start": np.asarray(rows["time_start"], dtype=float),
        "time_end": np.asarray(rows["time_end"], dtype=float),
        "text": pd.array(rows["text"], dtype="string"),
    })
    return out


def parse_transcript(
    text: str,
    *,
    format: str | None = None,
    doc_id: str,
    split: str | None = None,
    interviewer_labels=None,
    speaker_map: dict | None = None,
    display_path: str | None = None,
    speaker_labels: bool = True,
    moderator_pattern: str | None = None,
    stage_marker: str | None = None,
    _encoding: str | None = None,
    _warnings: list | None = None,
    _as_rows: bool = False,
) -> Document:
    """Segment a transcript that is already in memory.

    Parameters
    ----------
    text : str
        The transcript. Line ends (``\\r\\n``, ``\\r``) are normalised to ``\\n`` and a leading
        byte-order mark is removed.
    format : {"txt", "vtt", "srt"} or None
        The format; None detects it from the content (a ``WEBVTT`` header means WebVTT, a first
        block ``1`` / ``00:00:01,000 --> ...`` means SRT, anything else plain text).
    doc_id : str
        Identifier of the document; segment ids are ``f"{doc_id}-t{turn:03d}"``.
    split, interviewer_labels, speaker_map, display_path, speaker_labels, moderator_pattern
        As in :func:`read_transcript`.
    stage_marker : str, optional
        A regular expression that marks where a stage or task begins (study.yml ``transcripts:
        stage_marker:``). In plain text, a line it matches outside a speaker turn (``## Task 3``) is
        a heading: it ends the turn before it, belongs to no turn, and may precede the first label.
        Markers inside a turn (``Moderator: [T3] Now ...``) leave the turn as it is.

    Returns
    -------
    Document
        The normalised text, the segments frame and any warnings.

    Examples
    --------
    >>> doc = parse_transcript("Interviewer: Hi.\\nP07: Hello. It was fine.\\n", format="txt", doc_id="P07")
    >>> doc.segments[["segment_id", "speaker_role", "start", "end", "text"]].values.tolist()
    [['P07-t001', 'interviewer', 13, 16, 'Hi.'], ['P07-t002', 'participant', 22, 41, 'Hello. It was fine.']]
    """
    name = display_path or doc_id
    if not isinstance(text, str):
        raise JourneylabError(f"parse_transcript(): `text` must be a str, got {type(text).__name__}.")
    if format is not None:
        check_choice(format, arg="format", func="parse_transcript", choices=FORMATS)
    check_choice(split, arg="split", func="read_transcript", choices=[None, "turn", "sentence"])
    text = _normalise(text)
    if not text.strip():
        raise TranscriptError(name, None, "the file is empty; expected a transcript with speaker turns")
    fmt = format or _detect(text, None)
    warnings = list(_warnings or [])
    if not isinstance(speaker_labels, bool):
        raise JourneylabError(f"parse_transcript(): `speaker_labels` must be True or False, got {speaker_labels!r}")
    moderator = _check_pattern(moderator_pattern, "moderator_pattern", "parse_transcript")
    heading = _check_pattern(stage_marker, "stage_marker", "parse_transcript")
    if moderator is not None and speaker_labels:
        raise JourneylabError("parse_transcript(): `moderator_pattern` applies to transcripts without speaker "
                              "labels (speaker_labels=False); with labels, name the moderator's label in "
                              "`interviewer_labels`")
    labels = _Labels(interviewer_labels, speaker_map)
    if not speaker_labels:
        if fmt != "txt":
            raise JourneylabError(f"parse_transcript(): speaker_labels=False reads plain text (one paragraph per "
                                  f"turn); {name} is {fmt}, whose cues carry their own speakers")
        labels.interviewers.add(MODERATOR.casefold())
        doc_text, turns = _parse_unlabelled(text, name, str(doc_id), moderator, warnings, heading=heading)
    elif fmt == "txt":
        doc_text, turns = _parse_txt(text, name, labels, warnings, heading=heading)
    else:
        doc_text, turns = _parse_cues(text, fmt, name, labels, warnings)
    if not turns:
        raise TranscriptError(name, None, "no speaker turn with text; expected turns like 'P07: ...'")
    # _as_rows (load_study's use): the segments as lists, made one frame with the other documents'
    rows = _segments_rows(turns, doc_id=str(doc_id), labels=labels, split=split)
    segments = rows if _as_rows else _rows_frame(rows)
    return Document(doc_id=str(doc_id), path=display_path, format=fmt, encoding=_encoding, text=doc_text,
                    segments=segments, warnings=warnings)


def read_document(
    path,
    *,
    doc_id: str | None = None,
    split: str | None = None,
    interviewer_labels=None,
    speaker_map: dict | None = None,
    display_path: str | None = None,
    speaker_labels: bool = True,
    moderator_pattern: str | None = None,
    stage_marker: str | None = None,
) -> Document:
    """Read a transcript file into a :class:`Document` (text, segments, warnings).

    Takes the same arguments as :func:`read_transcript`, which returns only the segments, and
    ``stage_marker`` (see :func:`parse_transcript`).

    Parameters
    ----------
    path, doc_id, split, interviewer_labels, speaker_map, display_path, speaker_labels, moderator_pattern
        As in :func:`read_transcript`.
    stage_marker : str, optional
        A regular expression for lines that open a stage or task (study.yml
        ``transcripts: stage_marker:``), with a named group ``task`` or ``stage``.

    Returns
    -------
    Document
        ``doc_id``, ``path``, ``format``, ``encoding``, ``text`` (the normalised text the offsets
        refer to), ``segments``, ``warnings``.

    Examples
    --------
    >>> import journeylab as jl
    >>> doc = jl.read_document(jl.datasets.sample_study_path() / "transcripts" / "P01.txt")  # doctest: +SKIP
    >>> row = doc.segments.iloc[1]                                                             # doctest: +SKIP
    >>> doc.text[row.start:row.end] == row.text                                                # doctest: +SKIP
    True
    """
    return _read_document(path, doc_id=doc_id, split=split, interviewer_labels=interviewer_labels,
                          speaker_map=speaker_map, display_path=display_path, speaker_labels=speaker_labels,
                          moderator_pattern=moderator_pattern, stage_marker=stage_marker)


def _read_document(path, *, doc_id=None, split=None, interviewer_labels=None, speaker_map=None, display_path=None,
                   speaker_labels=True, moderator_pattern=None, stage_marker=None, as_rows: bool = False) -> Document:
    """:func:`read_document`; ``as_rows`` (load_study's use): the segments as lists, one per column, to be
    made one frame with the other documents'."""
    check_path(path, arg="path", func="read_document")
    p = Path(path)
    name = display_path or p.name
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise TranscriptError(name, None, "file not found; expected a .txt, .vtt, .srt, .docx or .odt "
                              "transcript") from None
    except OSError as exc:
        raise TranscriptError(name, None, f"cannot read the file: {exc.strerror or exc}") from None
    if not data.strip():
        raise TranscriptError(name, None, "the file is empty; expected a transcript with speaker turns")
    word = DOCUMENT_SUFFIXES.get(p.suffix.lower())
    if word is not None:
        text, warnings = _word_text(data, name, word)
        encoding, fmt = None, "txt"
    else:
        text, encoding, warnings = decode_text(data, name)
        fmt = _detect(text, p.suffix)
    text = _normalise(text)
    doc = parse_transcript(text, format=fmt, doc_id=str(doc_id) if doc_id is not None else p.stem, split=split,
                           interviewer_labels=interviewer_labels, speaker_map=speaker_map,
                           display_path=name if display_path is None else display_path, speaker_labels=speaker_labels,
                           moderator_pattern=moderator_pattern, stage_marker=stage_marker, _encoding=encoding,
                           _warnings=warnings, _as_rows=as_rows)
    return doc if word is None else replace(doc, format=word)


def read_transcript(
    path,
    *,
    doc_id: str | None = None,
    split: str | None = None,
    interviewer_labels=None,
    speaker_map: dict | None = None,
    display_path: str | None = None,
    speaker_labels: bool = True,
    moderator_pattern: str | None = None,
) -> pd.DataFrame:
    """Read an interview transcript (plain text, WebVTT or SRT) into a segments frame.

    Parameters
    ----------
    path : str or Path
        The transcript file. The format is detected from the extension (``.txt``, ``.vtt``,
        ``.srt``, ``.docx``, ``.odt``) and the content (a ``WEBVTT`` header always means WebVTT).
        A ``.docx`` (Word) or ``.odt`` (LibreOffice, Google Docs) is read paragraph by paragraph:
        each paragraph becomes one line of the document text (a line break inside a paragraph
        becomes a space), which is then read as plain text; tables and pictures are not read.
    doc_id : str, optional
        Identifier of the document; default the file stem (``P07`` for ``P07.vtt``).
    split : {None, "turn", "sentence"}, default None
        None or ``"turn"``: one row per speaker turn. ``"sentence"``: each turn split into
        sentences with NLTK's untrained ``PunktSentenceTokenizer`` (needs no downloaded data);
        ids get a ``-s01`` suffix and offsets point at each sentence.
    interviewer_labels : list of str, optional
        Speaker labels (case-insensitive) of the research team. Default: Interviewer, Moderator,
        Facilitator, Researcher, Int, I.
    speaker_map : dict, optional
        ``{label: participant_id}``, e.g. ``{"Maya Okafor": "P01"}`` for a Zoom export that names
        people. Labels not in the map are their own participant id.
    display_path : str, optional
        How to name the file in messages (``transcripts/p07.vtt``); default the file name.
    speaker_labels : bool, default True
        False for a plain-text (or .docx/.odt) transcript without speaker labels: every non-empty
        line (paragraph) is one turn, a leading ``[00:01:02]`` is its time, and every turn is the
        participant's (speaker and participant id: ``doc_id``, or ``speaker_map[doc_id]``) unless
        it matches ``moderator_pattern``.
    moderator_pattern : str, optional
        With ``speaker_labels=False``: a regular expression searched in each turn (``re.search``);
        a matching turn is the moderator's (speaker ``"Moderator"``, role ``"interviewer"``), e.g.
        ``"^(Q:|Interviewer)"``.

    Returns
    -------
    DataFrame
        One row per speaker turn (or sentence), in document order:

        - ``segment_id`` (str): ``f"{doc_id}-t{turn:03d}"`` (``-s01`` appended per sentence);
          the same input always gives the same ids.
        - ``doc_id`` (str): the document.
        - ``participant_id`` (str): the speaker's participant id; ``<NA>`` for interviewer turns.
        - ``speaker`` (str): the label as written.
        - ``speaker_role`` (str): ``"interviewer"`` or ``"participant"``.
        - ``turn`` (int64): 1-based index of the speaker turn in the document.
        - ``start``, ``end`` (int64): character offsets (end exclusive) into the document's
          normalised text (:attr:`Document.text`): ``doc.text[start:end] == text``.
        - ``time_start``, ``time_end`` (float): seconds from the start of the recording; NaN
          when the format has no times (plain text has at most ``time_start``).
        - ``text`` (str): what was said.

    Raises
    ------
    JourneylabError
        (:class:`TranscriptError`) naming the file and line: empty file, undecodable bytes, NUL
        bytes, no speaker label, text before the first label, a malformed cue timing, a cue that
        ends before it starts. Warnings (cp1252 decoding, times going backwards, a label seen
        only once) are in :attr:`Document.warnings` (see :func:`read_document`).

    Notes
    -----
    Plain text: a turn starts at a line ``Label: text`` (optionally ``[00:01:02] Label:`` or
    ``00:01:02 Label:``) and runs over the following lines until the next label; its offsets
    point at the utterance with surrounding whitespace stripped. WebVTT/SRT: consecutive cues of
    one speaker are merged into one turn (Zoom splits long turns), a cue without a label
    continues the previous speaker, and the document text is a rendered transcript, one paragraph
    per turn: ``[00:01:02] P07: merged cue texts``. See ``docs/transcripts.md``.

    Examples
    --------
    >>> import journeylab as jl
    >>> seg = jl.read_transcript(jl.datasets.sample_study_path() / "transcripts" / "P01.txt")  # doctest: +SKIP
    >>> seg.loc[seg.speaker_role == "participant", "text"].head()                            # doctest: +SKIP
    """
    return read_document(path, doc_id=doc_id, split=split, interviewer_labels=interviewer_labels,
                         speaker_map=speaker_map, display_path=display_path, speaker_labels=speaker_labels,
                         moderator_pattern=moderator_pattern).segments
