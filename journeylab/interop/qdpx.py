"""Exchange projects with other QDA tools through the REFI-QDA project format (``.qdpx``).

:func:`export_qdpx` writes a study and its codings as a REFI-QDA 1.5 project that NVivo,
ATLAS.ti, MAXQDA and QualCoder import; :func:`import_qdpx` reads a project exported by any of
them (or by journeylab) back into a :class:`~journeylab.study.Study`. The format, the offsets
and the mapping rules are described in ``docs/interop.md``.

Offsets. A ``PlainTextSelection`` counts Unicode code points (Python ``str`` indices, not UTF-16
units and not bytes) from 0 in the embedded ``.txt`` source; the end is exclusive. journeylab
writes sources as UTF-8 without a byte-order mark with ``\\n`` line endings, so its positions
are exactly the ``start``/``end`` offsets of the segments frame.
"""
from __future__ import annotations

__all__ = ["export_qdpx", "import_qdpx", "contents", "verify_round_trip", "PROJECT_NS"]

import os
import re
import tempfile
import uuid
import warnings
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from ..errors import JourneylabError, Problem
from ..study.codebook import GUID_NAMESPACE, Code, Codebook, exporter_origin
from ..study.load import Study, check_study
from ..study.transcripts import SEGMENT_COLUMNS, decode_text, parse_transcript
from ..utils.checks import check_choice, check_frame, check_path
from ..utils.docstrings import shared_docs
from ..utils.limits import check_zip_entries, parse_xml

PROJECT_NS = "urn:QDA-XML:project:1.0"
"""XML namespace of a REFI-QDA project (``project.qde``)."""

_Q = f"{{{PROJECT_NS}}}"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_GUID_RE = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$")
_INT_RE = re.compile(r"^[+-]?(?:0|[1-9]\d*)$")
_DEC_RE = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+)$")
_ORIGIN_ID = "journeylab:origin="
SOURCE_EXT = re.compile(r"\.(txt|text|docx?|rtf|odt|pdf|vtt|srt|html?)$", re.IGNORECASE)
VARIABLE_TYPES = ("Text", "Boolean", "Integer", "Float", "Date", "DateTime")
CODING_OUT_COLUMNS = ["segment_id", "code", "coder", "origin", "memo", "decided_at", "doc_id", "span_start",
                      "span_end"]


# ----------------------------------------------------------------------------- small helpers


def _norm_guid(value) -> str:
    return str(value or "").strip().strip("{}").lower()


def _guid(namespace: str, key: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, f"{namespace}/{key}"))


def _blank(value) -> bool:
    if value is None:
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and value == ""


def _clean_xml(text: str, what: str) -> str:
    """Characters XML 1.0 cannot hold become U+FFFD (with a warning naming the field)."""
    if _XML_BAD.search(text):
        warnings.warn(f"export_qdpx(): {what} contains control characters XML cannot hold; "
                      "each was replaced by U+FFFD", stacklevel=3)
        return _XML_BAD.sub("\ufffd", text)
    return text


def _excerpt(text: str, n: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 1].rstrip() + "…"


def _sub(parent: ET.Element, tag: str, attrs: dict | None = None, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, _Q + tag, {k: v for k, v in (attrs or {}).items() if v is not None})
    if text is not None:
        el.text = text
    return el


# ----------------------------------------------------------------------------- variable types


def _infer_type(values: pd.Series) -> str:
    """REFI-QDA variable type of a participants column (see ``docs/interop.md``)."""
    dtype = values.dtype
    present = values[~values.map(_blank)]
    if pd.api.types.is_bool_dtype(dtype):
        return "Boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "Integer"
    if pd.api.types.is_float_dtype(dtype):
        return "Float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        ts = pd.to_datetime(present)
        return "Date" if len(ts) == 0 or (ts == ts.dt.normalize()).all() else "DateTime"
    if len(present) == 0:
        return "Text"
    s = present.astype(str)
    if s.str.lower().isin(["true", "false"]).all():
        return "Boolean"
    if s.str.match(_INT_RE).all():
        return "Integer"
    if s.str.match(_DEC_RE).all() or (s.str.match(_DEC_RE) | s.str.match(_INT_RE)).all():
        return "Float"
    if s.str.match(_DATE_RE).all() and pd.to_datetime(s, format="%Y-%m-%d", errors="coerce").notna().all():
        return "Date"
    if s.str.match(_DATETIME_RE).all() and pd.to_datetime(s, format="ISO8601", errors="coerce").notna().all():
        return "DateTime"
    return "Text"


def _format_value(value, vtype: str, where: str) -> str:
    """Lexical form of one variable value of type ``vtype`` (xsd types of the schema)."""
    if vtype == "Boolean":
        if isinstance(value, (bool, np.bool_)):
            return "true" if value else "false"
        s = str(value).strip().lower()
        if s in ("true", "false", "1", "0"):
            return {"1": "true", "0": "false"}.get(s, s)
    elif vtype == "Integer":
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            return str(int(value))
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return str(int(value))
        s = str(value).strip()
        if _INT_RE.match(s):
            return str(int(s))
    elif vtype == "Float":  # canonical shortest form, so that a re-import re-exports the same text
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
            if np.isfinite(float(value)):
                return np.format_float_positional(float(value), trim="-")
        else:
            s = str(value).strip()
            if _DEC_RE.match(s) or _INT_RE.match(s):
                return np.format_float_positional(float(s), trim="-")
    elif vtype == "Date":
        if isinstance(value, (pd.Timestamp, np.datetime64)):
            return pd.Timestamp(value).strftime("%Y-%m-%d")
        s = str(value).strip()
        if _DATE_RE.match(s) and not pd.isna(pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")):
            return s
    elif vtype == "DateTime":
        if isinstance(value, (pd.Timestamp, np.datetime64)):
            return pd.Timestamp(value).isoformat()
        s = str(value).strip()
        if _DATETIME_RE.match(s):
            return s
    else:  # Text
        return _clean_xml(str(value), where)
    raise JourneylabError(f"export_qdpx(): {where}: expected a {vtype} value, found {value!r}; "
                          f"pass variable_types={{...: 'Text'}} to export the column as text")


_VALUE_TAG = {"Text": "TextValue", "Boolean": "BooleanValue", "Integer": "IntegerValue", "Float": "FloatValue",
              "Date": "DateValue", "DateTime": "DateTimeValue"}


# ----------------------------------------------------------------------------- export


def _resolve_codings(codings: pd.DataFrame, segments: pd.DataFrame, texts: dict) -> "OrderedDict":
    """Group codings into selections: (doc_id, start, end) -> {(coder, origin, code): [memos, decided_at]}."""
    seg_index = {}
    if len(segments):
        for sid, doc, s, e in segments[["segment_id", "doc_id", "start", "end"]].itertuples(index=False):
            seg_index[str(sid)] = (str(doc), int(s), int(e))
    if "span_start" not in codings.columns and {"doc_id", "start", "end"} <= set(codings.columns):
        # load_study's codings frame names the span start/end (docs/study-format.md)
        codings = codings.rename(columns={"start": "span_start", "end": "span_end"})
    has_span = "span_start" in codings.columns and "span_end" in codings.columns
    has_doc = "doc_id" in codings.columns
    problems = []
    selections: dict = {}
    cols = list(codings.columns)
    pos = {c: cols.index(c) for c in cols}
    for i, row in enumerate(codings.itertuples(index=False, name=None)):
        def get(col):
            return row[pos[col]] if col in pos else None

        sid = get("segment_id")
        doc = get("doc_id") if has_doc else None
        span = None
        if has_span and not _blank(get("span_start")) and not _blank(get("span_end")):
            span = (int(get("span_start")), int(get("span_end")))
        if _blank(doc) or span is None:
            if _blank(sid) or str(sid) not in seg_index:
                problems.append(f"row {i}: segment_id {sid!r} is not a segment of the study"
                                + ("" if span is None else " and the row has no doc_id for its span"))
                continue
            seg_doc, s, e = seg_index[str(sid)]
            doc = seg_doc if _blank(doc) else doc
            if span is None:
                span = (s, e)
        doc = str(doc)
        if doc not in texts:
            problems.append(f"row {i}: doc_id {doc!r} is not a document of the study")
            continue
        a, b = span
        if not 0 <= a < b <= len(texts[doc]):
            problems.append(f"row {i}: span [{a}, {b}) is not a non-empty range inside document {doc!r} "
                            f"(length {len(texts[doc])})")
            continue
        code = get("code")
        coder = get("coder")
        if _blank(code) or _blank(coder):
            problems.append(f"row {i}: empty {'code' if _blank(code) else 'coder'}")
            continue
        origin = get("origin")
        origin = "manual" if _blank(origin) else str(origin)
        key = (str(coder), origin, str(code))
        entry = selections.setdefault((doc, a, b), {}).setdefault(key, [[], None])
        memo = get("memo")
        if not _blank(memo) and str(memo) not in entry[0]:
            entry[0].append(str(memo))
        decided = get("decided_at")
        if not _blank(decided):
            d = str(decided).strip()
            if not _DATETIME_RE.match(d):
                try:
                    d = pd.Timestamp(d).isoformat()
                except (ValueError, TypeError):
                    d = None
            if d and (entry[1] is None or d < entry[1]):
                entry[1] = d
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise JourneylabError("export_qdpx(): cannot place every coding of `codings` in a document; "
                              "nothing was written: " + "; ".join(problems[:10]) + more)
    return selections


def _project_tree(study, codings: pd.DataFrame, *, variable_types: dict | None) -> tuple[ET.Element, dict]:
    """Build the ``<Project>`` element and the embedded source files."""
    cfg = dict((getattr(study, "config", None) or {}).get("refi_qda") or {})
    name = str(study.name)
    docs = check_frame(study.documents, arg="study.documents", func="export_qdpx", required=["doc_id", "text"],
                       allow_empty=True)
    segments = study.segments if study.segments is not None else pd.DataFrame()
    if docs["doc_id"].duplicated().any():
        dup = docs.loc[docs["doc_id"].duplicated(), "doc_id"].iloc[0]
        raise JourneylabError(f"export_qdpx(): two documents share the doc_id {dup!r}; doc_ids must be unique")
    texts = {}
    for doc_id, text in docs[["doc_id", "text"]].itertuples(index=False):
        text = "" if _blank(text) else str(text)
        if "\r" in text or text.startswith("\ufeff"):
            raise JourneylabError(f"export_qdpx(): the text of document {doc_id!r} contains a carriage return or "
                                  "byte-order mark; expected the normalised text journeylab's readers produce "
                                  "(\\n line endings, no BOM), which segment offsets point into")
        texts[str(doc_id)] = text
    selections = _resolve_codings(codings, segments, texts)

    # --- users: one per coder (and per non-manual origin of that coder)
    user_keys = sorted({(k[0], k[1]) for sel in selections.values() for k in sel})
    known_users = {str(k): str(v) for k, v in (cfg.get("users") or {}).items()}
    users = {}
    for coder, origin in user_keys:
        if origin == "manual":
            guid = known_users.get(coder) or _guid(name, f"user:{coder}")
        else:
            guid = known_users.get(f"{coder}|{origin}") or _guid(name, f"user:{coder}:{origin}")
        users[(coder, origin)] = guid

    # --- codebook: every code used must be in it
    codebook = study.codebook if isinstance(study.codebook, Codebook) else Codebook([], name=name)
    used = OrderedDict((k[2], None) for sel in selections.values() for k in sel)
    missing = [c for c in used if c not in codebook]
    if missing:
        codebook = codebook.with_codes(list(codebook.codes) + [Code(c) for c in missing])

    root = ET.Element(_Q + "Project", {"name": _clean_xml(name, "the study name"), "origin": exporter_origin()})
    if users:
        users_el = _sub(root, "Users")
        for (coder, origin), guid in users.items():
            attrs = {"guid": guid, "name": _clean_xml(coder, f"coder {coder!r}")}
            if origin != "manual":
                attrs["id"] = _ORIGIN_ID + origin
            _sub(users_el, "User", attrs)
    if len(codebook):
        cb_el = _sub(root, "CodeBook")
        cb_el.append(codebook.qdc_codes_element(namespace=PROJECT_NS))
    code_guid = {c: codebook.guid(c) for c in codebook.names}

    # --- variables and cases
    parts = study.participants if study.participants is not None else pd.DataFrame(columns=["participant_id"])
    parts = check_frame(parts, arg="study.participants", func="export_qdpx", required=["participant_id"],
                        allow_empty=True)
    known_vars = cfg.get("variables") or {}
    types = {k: v.get("type") for k, v in known_vars.items() if isinstance(v, dict) and v.get("type")}
    types.update(variable_types or {})
    var_cols = [c for c in parts.columns if c != "participant_id"]
    var_info = []
    for col in var_cols:
        vtype = types.get(col) or _infer_type(parts[col])
        check_choice(vtype, arg=f"variable_types[{col!r}]", func="export_qdpx", choices=VARIABLE_TYPES)
        vguid = (known_vars.get(col) or {}).get("guid") if isinstance(known_vars.get(col), dict) else None
        var_info.append((col, vtype, vguid or _guid(name, f"variable:{col}")))
    if var_info:
        vars_el = _sub(root, "Variables")
        for col, vtype, vguid in var_info:
            _sub(vars_el, "Variable", {"guid": vguid, "name": _clean_xml(str(col), "a participants column"),
                                       "typeOfVariable": vtype})
    known_sources = {str(k): str(v) for k, v in (cfg.get("sources") or {}).items()}
    source_guid = {d: known_sources.get(d) or _guid(name, f"source:{d}") for d in texts}
    doc_pids = {}
    if "participant_id" in docs.columns:
        for doc_id, pid in docs[["doc_id", "participant_id"]].itertuples(index=False):
            if not _blank(pid):
                for p in str(pid).split(";"):
                    doc_pids.setdefault(p.strip(), []).append(str(doc_id))
    known_cases = {str(k): str(v) for k, v in (cfg.get("cases") or {}).items()}
    if len(parts):
        cases_el = _sub(root, "Cases")
        for row in parts.itertuples(index=False):
            rec = dict(zip(parts.columns, row))
            pid = str(rec["participant_id"])
            case = _sub(cases_el, "Case", {"guid": known_cases.get(pid) or _guid(name, f"case:{pid}"),
                                           "name": _clean_xml(pid, "a participant_id")})
            for col, vtype, vguid in var_info:
                value = rec[col]
                if _blank(value):
                    continue
                vv = _sub(case, "VariableValue")
                _sub(vv, "VariableRef", {"targetGUID": vguid})
                _sub(vv, _VALUE_TAG[vtype], text=_format_value(value, vtype, f"participant {pid!r}, column {col!r}"))
            for doc_id in doc_pids.get(pid, []):
                _sub(case, "SourceRef", {"targetGUID": source_guid[doc_id]})

    # --- sources, selections, codings and memos
    files = {}
    notes = []
    if texts:
        sources_el = _sub(root, "Sources")
        by_doc: dict = {}
        for (doc, a, b), sel in selections.items():
            by_doc.setdefault(doc, []).append((a, b, sel))
        for doc_id, text in texts.items():
            sguid = source_guid[doc_id]
            src = _sub(sources_el, "TextSource", {"guid": sguid, "name": _clean_xml(doc_id, "a doc_id"),
                                                  "plainTextPath": f"internal://{sguid}.txt"})
            files[f"sources/{sguid}.txt"] = text.encode("utf-8")
            for a, b, sel in sorted(by_doc.get(doc_id, []), key=lambda t: (t[0], t[1])):
                sel_guid = _guid(name, f"selection:{doc_id}:{a}:{b}")
                keys = sorted(sel)
                attrs = {"guid": sel_guid, "name": _clean_xml(_excerpt(text[a:b]), "a selection"),
                         "startPosition": str(a), "endPosition": str(b), "creatingUser": users[keys[0][:2]]}
                sel_el = _sub(src, "PlainTextSelection", attrs)
                for coder, origin, code in keys:
                    memos, decided = sel[(coder, origin, code)]
                    cguid = _guid(name, f"coding:{doc_id}:{a}:{b}:{coder}:{origin}:{code}")
                    coding = _sub(sel_el, "Coding", {"guid": cguid, "creatingUser": users[(coder, origin)],
                                                     "creationDateTime": decided})
                    _sub(coding, "CodeRef", {"targetGUID": code_guid[code]})
                    if memos:
                        nguid = _guid(name, f"note:{cguid}")
                        _sub(coding, "NoteRef", {"targetGUID": nguid})
                        notes.append((nguid, f"memo: {code} ({coder})", users[(coder, origin)],
                                      "\n\n".join(memos)))
    if notes:
        notes_el = _sub(root, "Notes")
        for nguid, title, user, memo in notes:
            note = _sub(notes_el, "Note", {"guid": nguid, "name": _clean_xml(title, "a memo title"),
                                           "creatingUser": user})
            _sub(note, "PlainTextContent", text=_clean_xml(memo, f"memo {title!r}"))
    sets_el = codebook.qdc_sets_element(namespace=PROJECT_NS)
    if sets_el is not None:
        known_sets = {str(k): str(v) for k, v in (cfg.get("sets") or {}).items()}
        for s in sets_el.findall(_Q + "Set"):
            if s.get("name") in known_sets:
                s.set("guid", known_sets[s.get("name")])
            for m in s.findall(_Q + "MemberCode"):  # a project's sets use CodeRefType: targetGUID
                m.attrib = {"targetGUID": m.get("guid")}
        root.append(sets_el)
    return root, files


def _write_zip(path: Path, entries: dict) -> None:
    """Write a zip with sorted entries, fixed timestamps and attributes (byte-identical re-exports)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".qdpx-", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w") as zf:
            for name in sorted(entries):
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.external_attr = 0o644 << 16
                zf.writestr(info, entries[name], compresslevel=6)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def export_qdpx(study, *, path, codings: pd.DataFrame | None = None, variable_types: dict | None = None) -> Path:
    """Write a study and its codings as a REFI-QDA project (``.qdpx``) for NVivo, ATLAS.ti, MAXQDA, QualCoder.

    Parameters
    ----------
    study : Study
        From :func:`journeylab.load_study` or :func:`import_qdpx`. Its ``documents`` (the normalised
        ``text`` offsets point into), ``segments``, ``participants``, ``codebook`` and ``name`` are
        exported.
    codings : DataFrame or None
        Codings frame: ``segment_id``, ``code``, ``coder``; optional ``origin`` (default
        ``manual``), ``memo``, ``decided_at``, and ``doc_id``/``span_start``/``span_end`` for a span
        that is not a whole segment (as :func:`import_qdpx` returns; ``doc_id``/``start``/``end``
        as :func:`journeylab.load_study` returns them from span columns). None: ``study.codings``.
    path : str or Path
        The ``.qdpx`` file to write (replaced atomically).
    variable_types : dict, optional
        ``{participants column: "Text" | "Boolean" | "Integer" | "Float" | "Date" | "DateTime"}``
        overriding the inferred types (see Notes).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    JourneylabError
        When a coding cannot be placed (unknown segment or document, span outside the text),
        naming the rows; nothing is written then. When a value does not fit its variable type.

    Notes
    -----
    Contents (REFI-QDA 1.5 project exchange, schema ``Project-mrt2019.xsd``):

    - ``<Users>``: one user per coder (named as in ``coder``); a coder's codings of origin
      ``rule`` or ``model`` get a separate user with the same name and ``id="journeylab:origin=rule"``.
    - ``<CodeBook>``: the codebook with hierarchy, colours, codability and descriptions (as in
      :meth:`Codebook.to_qdc`); codes used in ``codings`` but missing from it are added at the top.
      Stage, touchpoint and kind travel as code sets (``<Sets>``).
    - ``<Variables>``/``<Cases>``: one case per participant (named by ``participant_id``) with
      one variable per other column, typed Boolean (all values true/false), Integer (whole
      numbers without leading zeros), Float (decimals), Date (``YYYY-MM-DD``), DateTime (ISO
      8601) or Text, inferred from the dtype or the values; each case refers to its transcripts.
    - ``<Sources>``: one ``TextSource`` per transcript, embedded as UTF-8 (no BOM, ``\\n`` line
      endings) at ``sources/<GUID>.txt`` and referenced as ``internal://<GUID>.txt``.
    - One ``PlainTextSelection`` per coded span (a segment, or ``span_start``/``span_end``) with
      one ``Coding`` per coder and code (``creationDateTime`` from ``decided_at``); each memo is a
      ``<Note>`` referenced from its coding.

    Positions count Unicode code points from 0, end exclusive, in the embedded text, which is
    exactly ``documents.text``: ``startPosition``/``endPosition`` equal the segment offsets.
    GUIDs are UUID-5 hashes of the study name and stable keys (coder, doc_id, participant,
    span, code), or the GUIDs kept from an imported project, so every export of the same study
    has the same GUIDs and, with fixed zip timestamps and sorted entries, the same bytes.

    References: REFI-QDA Standard 1.5 (2019), sections 5.3, 8 and 10.2, https://www.qdasoftware.org.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())          # doctest: +SKIP
    >>> jl.export_qdpx(study, codings=study.codings, path="outputs/study.qdpx")      # doctest: +SKIP
    PosixPath('outputs/study.qdpx')
    """
    check_study(study, func="export_qdpx")
    check_path(path, arg="path", func="export_qdpx")
    if codings is None:
        codings = study.codings
    codings = check_frame(codings, arg="codings", func="export_qdpx", required=["segment_id", "code", "coder"],
                          allow_empty=True)
    if variable_types is not None and not isinstance(variable_types, dict):
        raise JourneylabError(f"export_qdpx(): `variable_types` must be a dict, got {type(variable_types).__name__}")
    root, files = _project_tree(study, codings, variable_types=variable_types)
    ET.indent(root, space="  ")
    ET.register_namespace("", PROJECT_NS)
    xml = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    entries = {"project.qde": xml.encode("utf-8"), **files}
    path = Path(path)
    _write_zip(path, entries)
    return path


def contents(path) -> pd.DataFrame:
    """What a REFI-QDA project holds: one row per kind of element, with its count.

    Parameters
    ----------
    path : str or Path
        A ``.qdpx`` file.

    Returns
    -------
    DataFrame
        ``part`` (``users``, ``codes``, ``code sets``, ``variables``, ``cases``, ``text sources``,
        ``other sources``, ``text selections``, ``codings``, ``notes``, ``links``, ``files``),
        ``n``, ``detail`` (names, origin, or the kinds of other sources).

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.qdpx_contents("../shared/refi-qda/target-atlas-project.qdpx")  # doctest: +SKIP
    """
    check_path(path, arg="path", func="qdpx_contents")
    path = Path(path)
    archive = _Archive(path)
    try:
        where = path.name if archive.zip is None else f"{path.name}: project.qde"
        root = parse_xml(archive.project_xml(), where=where)
        files = sorted(archive.names.values()) if archive.zip is not None else []
    except ET.ParseError as exc:
        raise JourneylabError(f"{path.name}: project.qde is not well-formed XML: {exc}") from None
    finally:
        archive.close()
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    sources = root.find(f"{ns}Sources")
    kids = list(sources) if sources is not None else []
    text_sources = [k for k in kids if k.tag == f"{ns}TextSource"]
    others = [k.tag[len(ns):] for k in kids if k.tag != f"{ns}TextSource"]

    def names(els, n=6):
        got = [e.get("name") or "?" for e in els]
        return ", ".join(got[:n]) + (f", … ({len(got) - n} more)" if len(got) > n else "")

    codes = list(root.iter(f"{ns}Code"))
    variables = root.findall(f"{ns}Variables/{ns}Variable")
    rows = [
        ("project", 1, f"{root.get('name')!r} from {root.get('origin') or 'unknown tool'}"),
        ("users", len(root.findall(f"{ns}Users/{ns}User")), names(root.findall(f"{ns}Users/{ns}User"))),
        ("codes", len(codes), names(codes)),
        ("code sets", len(root.findall(f"{ns}Sets/{ns}Set")), names(root.findall(f"{ns}Sets/{ns}Set"))),
        ("variables", len(variables),
         ", ".join(f"{v.get('name')} ({v.get('typeOfVariable')})" for v in variables)),
        ("cases", len(root.findall(f"{ns}Cases/{ns}Case")), names(root.findall(f"{ns}Cases/{ns}Case"))),
        ("text sources", len(text_sources), names(text_sources)),
        ("other sources", len(others), ", ".join(f"{k} ×{others.count(k)}" for k in sorted(set(others)))),
        ("text selections", sum(len(t.findall(f"{ns}PlainTextSelection")) for t in text_sources), ""),
        ("codings", len(list(root.iter(f"{ns}Coding"))), ""),
        ("notes", len(root.findall(f"{ns}Notes/{ns}Note")), ""),
        ("links", len(root.findall(f"{ns}Links/{ns}Link")), ""),
        ("files", len(files), ", ".join(files[:4]) + ("…" if len(files) > 4 else "")),
    ]
    return pd.DataFrame(rows, columns=["part", "n", "detail"])


@shared_docs
def verify_round_trip(study, *, path, codings: pd.DataFrame | None = None, interviewer_labels=None) -> pd.DataFrame:
    """Export, re-import and re-export a study, and check that nothing moved.

    Parameters
    ----------
    {study}
    path : str or Path
        Where to write the project (a second export is written beside it, ``<stem>.again.qdpx``,
        and removed).
    codings : DataFrame, optional
        As in :func:`export_qdpx` (None: ``study.codings``).
    interviewer_labels : list of str, optional
        Passed to :func:`import_qdpx`; default ``study.config["interviewer_labels"]`` if set.

    Returns
    -------
    DataFrame
        One row per check: ``check``, ``ok`` (bool), ``detail``. Checks: the document texts come
        back identical; the segments (ids, speakers, offsets, text) are identical; the codings
        (segment, code, coder, origin, memo) are the same set; every imported span's text equals
        the text of the segment or span that was coded, character for character; the second
        export is byte-identical to the first.
    """
    check_study(study, func="verify_qdpx_round_trip")
    if codings is None:
        codings = study.codings
    path = Path(path)
    first = export_qdpx(study, codings=codings, path=path)
    labels = interviewer_labels or (getattr(study, "config", None) or {}).get("interviewer_labels")
    back = import_qdpx(first, interviewer_labels=labels)
    again = path.with_name(path.stem + ".again.qdpx")
    try:
        export_qdpx(back, codings=back.codings, path=again)
        same_bytes = first.read_bytes() == again.read_bytes()
    finally:
        if again.exists():
            again.unlink()
    rows = []
    a = study.documents.set_index("doc_id")["text"].astype(str)
    b = back.documents.set_index("doc_id")["text"].astype(str)
    rows.append(("document texts identical", bool(a.sort_index().equals(b.sort_index())),
                 f"{len(b)} of {len(a)} documents, {int(b.str.len().sum())} characters"))
    cols = ["segment_id", "doc_id", "speaker", "speaker_role", "turn", "start", "end", "text"]
    sa = study.segments[cols].astype(str).reset_index(drop=True)
    sb = back.segments[cols].astype(str).reset_index(drop=True)
    rows.append(("segments identical", bool(sa.equals(sb)), f"{len(sb)} of {len(sa)} segments"))
    key = ["segment_id", "code", "coder", "origin", "memo"]

    def norm(df):
        return sorted(set(map(tuple, df.reindex(columns=key).astype(object)
                              .where(df.reindex(columns=key).notna(), "").astype(str).values)))

    ca = codings.assign(origin=codings["origin"] if "origin" in codings else "manual")
    rows.append(("codings identical", norm(ca) == norm(back.codings),
                 f"{len(back.codings)} imported rows, {len(norm(ca))} distinct in the study"))
    # what each coding pointed at in the study: its own span, else its segment
    seg = study.segments.set_index("segment_id")
    expected = {}
    for rec in codings.to_dict("records"):
        sid = rec.get("segment_id")
        if not _blank(rec.get("span_start")) and not _blank(rec.get("span_end")):
            doc = rec.get("doc_id") if not _blank(rec.get("doc_id")) else seg.loc[sid, "doc_id"]
            text = a[str(doc)][int(rec["span_start"]):int(rec["span_end"])]
        else:
            text = str(seg.loc[sid, "text"])
        expected[(str(sid), str(rec["code"]), str(rec["coder"]))] = text
    exact = sum(b[r.doc_id][r.span_start:r.span_end] == expected.get((str(r.segment_id), r.code, r.coder))
                for r in back.codings.itertuples())
    rows.append(("every span's text exact", exact == len(back.codings),
                 f"{exact} of {len(back.codings)} imported spans hold exactly the text that was coded"))
    rows.append(("re-export byte-identical", same_bytes, f"{first.stat().st_size} bytes"))
    return pd.DataFrame(rows, columns=["check", "ok", "detail"])


# ----------------------------------------------------------------------------- import


def _decode_source(data: bytes, name: str, label: str | None = None) -> tuple[str, str, list]:
    try:
        text, encoding, warns = decode_text(data, name)
    except JourneylabError as exc:
        if label is None:
            raise
        raise JourneylabError(f"{label}: {exc}") from None  # which project, then which source in it
    return (text[1:] if text.startswith("\ufeff") else text), encoding, warns


def _normalise_with_map(text: str, line_endings: str) -> tuple[str, np.ndarray | None]:
    """Text with ``\\n`` line ends, and (for ``"two"``) a map from raw positions to normalised ones."""
    if "\r" not in text:
        return text, None
    norm = text.replace("\r\n", "\n").replace("\r", "\n")
    if line_endings == "one":
        return norm, None
    # raw position i -> normalised position: i minus the number of '\r' of a '\r\n' pair before i
    arr = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    pair = np.zeros(len(arr) + 1, dtype=np.int64)
    if len(arr) > 1:
        pair[1:len(arr)] = (arr[:-1] == 13) & (arr[1:] == 10)
    return norm, np.arange(len(arr) + 1) - np.cumsum(pair)


def _paragraph_segments(text: str, doc_id: str, pid) -> pd.DataFrame:
    rows = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            s = pos + (len(line) - len(line.lstrip()))
            rows.append((s, s + len(stripped), stripped))
        pos += len(line) + 1
    n = len(rows)
    return pd.DataFrame({
        "segment_id": pd.array([f"{doc_id}-p{i:03d}" for i in range(1, n + 1)], dtype="string"),
        "doc_id": pd.array([doc_id] * n, dtype="string"),
        "participant_id": pd.array([pid] * n, dtype="string"),
        "speaker": pd.array([pd.NA] * n, dtype="string"),
        "speaker_role": pd.array(["participant"] * n, dtype="string"),
        "turn": np.arange(1, n + 1, dtype=np.int64),
        "start": np.asarray([r[0] for r in rows], dtype=np.int64),
        "end": np.asarray([r[1] for r in rows], dtype=np.int64),
        "time_start": np.full(n, np.nan), "time_end": np.full(n, np.nan),
        "text": pd.array([r[2] for r in rows], dtype="string"),
    })[SEGMENT_COLUMNS]


def segments_for_text(text: str, doc_id: str, *, interviewer_labels=None, case: str | None = None,
                      source: str = "") -> tuple[pd.DataFrame, list]:
    """Segment an imported text: speaker turns when it has labels, else one segment per paragraph.

    Returns the segments frame and a list of :class:`~journeylab.errors.Problem` warnings.
    """
    problems = []
    try:
        doc = parse_transcript(text, format="txt", doc_id=doc_id, interviewer_labels=interviewer_labels,
                               display_path=source or doc_id)
        seg = doc.segments
        problems.extend(doc.warnings)
        labels = seg.loc[seg["speaker_role"] == "participant", "participant_id"].dropna().unique().tolist()
        if case is not None and len(labels) == 1 and labels[0] != case:
            seg = seg.assign(participant_id=seg["participant_id"].where(seg["participant_id"].isna(), case))
    except JourneylabError as exc:
        seg = _paragraph_segments(text, doc_id, case)
        if text.strip():
            problems.append(Problem(source or doc_id, getattr(exc, "line", None), None,
                                    f"no speaker turns recognised ({getattr(exc, 'detail', exc)}); "
                                    "segmented into one segment per non-empty line", "warning"))
    return seg, problems


def map_spans(spans: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Give each span the segment it starts in (the overlap rule of ``docs/interop.md``).

    ``spans`` has ``doc_id``, ``span_start``, ``span_end`` and any other columns; the result has
    one row per span — a coded selection is one coding, however many turns it runs across — with
    ``segment_id`` the first segment of its document it overlaps, or ``<NA>`` when it overlaps
    none. A span overlaps a segment when they share at least one character:
    ``max(span_start, start) < min(span_end, end)``.
    """
    out = []
    by_doc = {d: g.sort_values("start")[["segment_id", "start", "end"]].to_numpy()
              for d, g in segments.groupby("doc_id", sort=False)} if len(segments) else {}
    for rec in spans.to_dict("records"):
        segs = by_doc.get(rec["doc_id"])
        hit = []
        if segs is not None and len(segs):
            a, b = rec["span_start"], rec["span_end"]
            mask = (np.maximum(segs[:, 1].astype(np.int64), a) < np.minimum(segs[:, 2].astype(np.int64), b))
            hit = segs[mask, 0].tolist()
        out.append({**rec, "segment_id": hit[0] if hit else pd.NA})
    return pd.DataFrame(out, columns=list(dict.fromkeys(["segment_id"] + list(spans.columns))))


def empty_study_frames() -> dict:
    return dict(
        stages=[], touchpoints=pd.DataFrame(columns=["stage", "stage_order", "touchpoint", "touchpoint_order"]),
        events_map=pd.DataFrame(columns=["event", "stage", "touchpoint"]), funnel_steps=[], funnel_window="7D",
        changes=pd.DataFrame(columns=["date", "name", "stage", "touchpoint"]), csat_columns={}, csat_scale=(1, 5),
        nps_column="nps", personas=[], survey=pd.DataFrame(columns=["respondent_id", "nps", "comment"]),
        events=pd.DataFrame({"user_id": pd.Series(dtype=str), "timestamp": pd.Series(dtype="datetime64[ns]"),
                             "event": pd.Series(dtype=str)}),
        redactions=pd.DataFrame(columns=["doc_id", "segment_id", "kind", "placeholder", "original_start",
                                         "original_end", "start", "end"]),
    )


def codings_frame(rows: list[dict]) -> pd.DataFrame:
    """The imported codings frame with its dtypes (``CODING_OUT_COLUMNS``)."""
    df = pd.DataFrame(rows, columns=CODING_OUT_COLUMNS)
    for c in ("segment_id", "code", "coder", "origin", "memo", "decided_at", "doc_id"):
        df[c] = pd.array(df[c].where(df[c].notna(), None).tolist(), dtype="string")
    for c in ("span_start", "span_end"):
        df[c] = pd.array(df[c].tolist(), dtype="Int64")
    return df


_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError,
               OSError, ValueError)  # what a damaged or unusual zip makes zipfile raise


class _Archive:
    """A .qdpx zip (or a bare project.qde beside a sources/ folder), entries matched case-insensitively.

    Every path a project names stays inside the project (``sources/`` of the zip, or the
    ``sources/`` folder beside a bare project.qde); the zip's declared sizes are checked against
    :mod:`journeylab.utils.limits` before anything is decompressed.
    """

    def __init__(self, path: Path):
        self.path = path
        self.zip = None
        self.names: dict[str, str] = {}
        if path.suffix.lower() == ".qde":
            self.base = path.parent
            return
        try:
            self.zip = zipfile.ZipFile(path)
            self.names = {n.lower().replace("\\", "/"): n for n in self.zip.namelist()}
        except _ZIP_ERRORS as exc:
            raise JourneylabError(f"{path}: not a REFI-QDA project (.qdpx zip): the zip archive cannot be read "
                                  f"({type(exc).__name__}: {exc})") from None
        try:
            check_zip_entries(self.zip, where=str(path))
        except BaseException:
            self.zip.close()
            raise

    def _read(self, name: str) -> bytes:
        try:
            return self.zip.read(name)
        except _ZIP_ERRORS as exc:
            raise JourneylabError(f"{self.path}, entry {name!r}: the zip entry is damaged or cannot be "
                                  f"decompressed ({type(exc).__name__}: {exc}); re-export the project") from None

    def project_xml(self) -> bytes:
        if self.zip is None:
            return self.path.read_bytes()
        qde = [n for low, n in self.names.items() if "/" not in low.strip("/") and low.endswith(".qde")]
        if not qde:
            raise JourneylabError(f"{self.path}: the archive holds no project.qde; found "
                                  f"{', '.join(sorted(self.names.values())[:10]) or 'no files'}")
        return self._read(qde[0])

    def _inside(self, ref: str) -> str:
        """The path of ``ref`` under ``sources/``; refuses a path that leaves it."""
        name = ref.split("://", 1)[-1].replace("\\", "/").lstrip("/")
        parts = PurePosixPath(name).parts
        if not parts or ".." in parts or name.startswith("~") or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
            raise JourneylabError(f"{self.path}: project.qde refers to the source file {ref!r}, which lies outside "
                                  "the project's sources/ folder; expected a path like 'internal://<name>.txt'")
        return name

    def source(self, ref: str) -> bytes | None:
        name = self._inside(ref)
        if self.zip is None:
            for folder in (self.base / "sources", self.base / "Sources"):
                cand = folder / name
                try:
                    inside = cand.resolve().is_relative_to(folder.resolve())
                except (OSError, RuntimeError):
                    inside = False
                if not inside:  # a symbolic link out of the project
                    raise JourneylabError(f"{self.path}: the source file {ref!r} resolves to "
                                          f"{cand.resolve()}, outside the project's sources/ folder; refused")
                if cand.is_file():
                    return cand.read_bytes()
            return None
        key = f"sources/{name}".lower()
        if key in self.names:
            return self._read(self.names[key])
        base = PurePosixPath(name).name.lower()  # tolerate a nested folder
        for low, real in self.names.items():
            if low.startswith("sources/") and PurePosixPath(low).name == base:
                return self._read(real)
        return None

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _value(vv: ET.Element, var_type: str):
    for tag in _VALUE_TAG.values():
        el = vv.find(_Q + tag)
        if el is not None:
            text = el.text or ""
            if tag == "IntegerValue":
                return int(text.strip())
            if tag == "FloatValue":
                return float(text.strip())
            if tag == "BooleanValue":
                return text.strip().lower() in ("true", "1")
            return text
    return None


def import_qdpx(path, *, interviewer_labels=None, line_endings: str = "one") -> "Study":
    """Read a REFI-QDA project (``.qdpx``) from NVivo, ATLAS.ti, MAXQDA, QualCoder or journeylab.

    Parameters
    ----------
    path : str or Path
        The ``.qdpx`` file (or a bare ``project.qde`` beside its ``sources/`` folder).
    interviewer_labels : list of str, optional
        Speaker labels of the research team when sources are transcripts (default as in
        :func:`journeylab.read_transcript`).
    line_endings : {"one", "two"}, default "one"
        How the exporting tool counted a ``\\r\\n`` pair in positions: ``"one"`` character
        (ATLAS.ti; also right for files with ``\\n`` only) or ``"two"`` (raw code points).

    Returns
    -------
    Study
        - ``name``: the project name; ``path``: the file.
        - ``documents``: ``doc_id`` (source name without its extension), ``path``
          (``sources/<file>`` or ``PlainTextContent``), ``format`` (``"txt"``), ``encoding``,
          ``participant_id`` (the cases that refer to the source), ``text`` (normalised: UTF-8
          decoded, BOM removed, ``\\n`` line ends).
        - ``segments``: speaker turns when the text has ``Label: ...`` lines (as
          :func:`journeylab.parse_transcript`), else one segment per non-empty line
          (``<doc_id>-p001``...).
        - ``participants``: one row per case, ``participant_id`` (case name) then one column per
          variable (Integer → ``Int64``, Float → ``Float64``, Boolean → ``boolean``, others text).
        - ``codebook``: the project's codes with their GUIDs, hierarchy, colours, descriptions.
        - ``codings``: one row per (coding, overlapping segment): ``segment_id`` (``<NA>`` when
          the selection overlaps no segment), ``code``, ``coder`` (the coding's user),
          ``origin``, ``memo`` (notes of the coding, else the selection's description and notes),
          ``decided_at`` (``creationDateTime``), ``doc_id``, ``span_start``, ``span_end`` (the
          exact selection, normalised positions).
        - ``problems``: warnings for everything not imported (pictures, PDFs, audio, video,
          links, graphs, uncoded selections, references to unknown codes or users).
        - ``config["refi_qda"]``: GUIDs of users, sources, cases, variables and code sets, so a
          later :func:`export_qdpx` keeps them (re-imports update rather than duplicate).

    Notes
    -----
    **Overlap rule.** A selection is one codings row with its exact ``span_start``/``span_end``;
    its ``segment_id`` is the first segment of its document it overlaps by at least one
    character (``max(span_start, start) < min(span_end, end)``): the turn it starts in. A selection that
    overlaps no segment (it covers only a speaker label or blank lines) is kept with
    ``segment_id`` ``<NA>`` and reported in ``problems``. Codings on a whole source count as the
    span ``[0, len(text))``.

    **Positions.** Unicode code points from 0, end exclusive (REFI-QDA 1.5, section 10.2). A
    byte-order mark is not counted; ``\\r\\n`` counts as one character (``line_endings="one"``,
    ATLAS.ti), so normalising it to ``\\n`` keeps every position.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.import_qdpx("../shared/refi-qda/target-atlas-project.qdpx")  # doctest: +SKIP
    >>> study.codebook.names                                                    # doctest: +SKIP
    ['Commits', '2022-05-10T02:05:59Z 19e4dce', '2022-02-11T10:39:25Z cdbfd92']
    """
    check_choice(line_endings, arg="line_endings", func="import_qdpx", choices=["one", "two"])
    check_path(path, arg="path", func="import_qdpx")
    path = Path(path)
    if not path.is_file():
        raise JourneylabError(f"{path}: file not found; expected a REFI-QDA project (.qdpx)")
    label = path.name
    archive = _Archive(path)
    try:
        try:
            where = label if archive.zip is None else f"{label}: project.qde"
            root = parse_xml(archive.project_xml(), where=where)
        except ET.ParseError as exc:
            raise JourneylabError(f"{label}: project.qde is not well-formed XML: {exc}") from None
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        if root.tag != ns + "Project":
            raise JourneylabError(f"{label}: expected a <Project> root element in project.qde; found <{root.tag}>")
        return _import_tree(root, ns, archive, path, label, interviewer_labels, line_endings)
    finally:
        archive.close()


def _import_tree(root, ns, archive, path, label, interviewer_labels, line_endings):
    problems: list[Problem] = []

    def warn(msg):
        problems.append(Problem(label, None, None, msg, "warning"))

    name = root.get("name") or path.stem
    cfg: dict = {"origin": root.get("origin"), "users": {}, "sources": {}, "cases": {}, "variables": {},
                 "sets": {}}
    # users
    users = {}
    for u in root.findall(f"{ns}Users/{ns}User"):
        uname = u.get("name") or u.get("id") or u.get("guid")
        uid = u.get("id") or ""
        origin = uid[len(_ORIGIN_ID):] if uid.startswith(_ORIGIN_ID) else "manual"
        if not u.get("guid"):
            raise JourneylabError(f"{label}: project.qde: <User name={uname!r}> has no guid attribute; "
                                  "REFI-QDA requires one on every user")
        users[_norm_guid(u.get("guid"))] = (uname, origin)
        cfg["users"][uname if origin == "manual" else f"{uname}|{origin}"] = u.get("guid").strip("{}")
    # codebook (+ code sets)
    codes_el = root.find(f"{ns}CodeBook/{ns}Codes")
    sets_el = root.find(f"{ns}Sets")
    code_sets = None
    if sets_el is not None:
        code_sets = ET.Element(sets_el.tag)
        for s in sets_el.findall(f"{ns}Set"):
            kinds = {child.tag for child in s if child.tag != f"{ns}Description"}
            if kinds and kinds <= {f"{ns}MemberCode"}:
                copy = ET.SubElement(code_sets, s.tag, dict(s.attrib))
                for child in s:
                    if child.tag == f"{ns}MemberCode":
                        ET.SubElement(copy, child.tag, {"guid": child.get("targetGUID") or child.get("guid") or ""})
                    else:
                        copy.append(child)
                cfg["sets"][s.get("name") or ""] = (s.get("guid") or "").strip("{}")
            else:
                warn(f"set {s.get('name')!r} groups sources or notes; not imported (journeylab keeps code sets only)")
    if codes_el is not None:
        codebook = Codebook.from_qdc_elements(codes_el, code_sets if code_sets is not None and len(code_sets) else None,
                                              name=name, source=f"{label}: project.qde")
    else:
        codebook = Codebook([], name=name)
    code_by_guid = {_norm_guid(codebook.guid(c)): c for c in codebook.names}
    # variables and cases
    variables = OrderedDict()
    used_names = {"participant_id"}
    for v in root.findall(f"{ns}Variables/{ns}Variable"):
        if _norm_guid(v.get("guid")) in variables:
            continue
        if not v.get("name") or v.get("name") in used_names:
            raise JourneylabError(f"{label}: project.qde: <Variable guid={v.get('guid')!r}> has "
                                  + (f"the name {v.get('name')!r}, already used" if v.get("name") else "no name")
                                  + "; expected one distinct name per variable")
        used_names.add(v.get("name"))
        variables[_norm_guid(v.get("guid"))] = (v.get("name"), v.get("typeOfVariable") or "Text")
        cfg["variables"][v.get("name")] = {"guid": (v.get("guid") or "").strip("{}"),
                                           "type": v.get("typeOfVariable") or "Text"}
    part_rows = []
    source_cases: dict[str, list] = {}
    for c in root.findall(f"{ns}Cases/{ns}Case"):
        pid = c.get("name") or c.get("guid")
        cfg["cases"][pid] = (c.get("guid") or "").strip("{}")
        rec = {"participant_id": pid}
        for vv in c.findall(f"{ns}VariableValue"):
            ref = vv.find(f"{ns}VariableRef")
            key = _norm_guid(ref.get("targetGUID") if ref is not None else "")
            if key not in variables:
                warn(f"case {pid!r} has a value for an unknown variable {key!r}; not imported")
                continue
            vname, vtype = variables[key]
            try:
                rec[vname] = _value(vv, vtype)
            except ValueError:
                raise JourneylabError(f"{label}: project.qde: case {pid!r}, variable {vname!r}: expected a number, "
                                      f"found {''.join(vv.itertext()).strip()[:40]!r}") from None
        for sref in c.findall(f"{ns}SourceRef"):
            source_cases.setdefault(_norm_guid(sref.get("targetGUID")), []).append(pid)
        if c.find(f"{ns}SelectionRef") is not None or c.find(f"{ns}CodeRef") is not None:
            warn(f"case {pid!r} refers to selections or codes; those links are not imported")
        part_rows.append(rec)
    var_names = [n for n, _ in variables.values()]
    participants = pd.DataFrame(part_rows, columns=["participant_id"] + var_names)
    participants["participant_id"] = participants["participant_id"].astype("str")
    for vname, vtype in variables.values():
        col = participants[vname]
        dtype = {"Integer": "Int64", "Float": "Float64", "Boolean": "boolean"}.get(vtype)
        if dtype is not None:
            try:
                participants[vname] = pd.array(col.where(col.notna(), None).tolist(), dtype=dtype)
            except (TypeError, ValueError, OverflowError):
                raise JourneylabError(f"{label}: project.qde: variable {vname!r} is declared {vtype} but a case "
                                      "holds a value of another type "
                                      f"({', '.join(map(repr, col.dropna()[:3]))})") from None
        else:
            participants[vname] = col.astype("str").where(col.notna(), pd.NA) if len(col) else col.astype("str")
    # notes
    notes = {}
    for n in root.findall(f"{ns}Notes/{ns}Note"):
        content = n.find(f"{ns}PlainTextContent")
        text = content.text if content is not None and content.text else None
        if text is None and n.get("plainTextPath"):
            data = archive.source(n.get("plainTextPath"))
            text = _decode_source(data, n.get("plainTextPath"), label)[0] if data is not None else None
        notes[_norm_guid(n.get("guid"))] = (text or "").replace("\r\n", "\n")

    def note_text(el) -> list:
        return [notes[g] for g in (_norm_guid(r.get("targetGUID")) for r in el.findall(f"{ns}NoteRef"))
                if notes.get(g)]

    # sources
    doc_rows, seg_frames, coding_rows = [], [], []
    sources_el = root.find(f"{ns}Sources")
    used_ids: set = set()
    for k_src, src in enumerate(list(sources_el) if sources_el is not None else [], 1):
        kind = src.tag[len(ns):]
        sname = src.get("name") or src.get("guid")
        if not sname or not sname.strip():
            raise JourneylabError(f"{label}: project.qde: <{kind}> number {k_src} under <Sources> has neither a "
                                  "name nor a guid attribute; REFI-QDA requires a guid (and a name) on every source")
        if kind != "TextSource":
            n_sel = sum(1 for child in src.iter() if child.tag.endswith("Selection"))
            warn(f"{kind} {sname!r} ({n_sel} selections) not imported: journeylab reads text sources only")
            continue
        sguid = (src.get("guid") or "").strip("{}")
        content = src.find(f"{ns}PlainTextContent")
        where = "PlainTextContent"
        encoding = "utf-8"
        if content is not None and content.text is not None:
            raw = content.text
        elif src.get("plainTextPath"):
            where = src.get("plainTextPath")
            data = archive.source(where)
            if data is None:
                n_sel = len(src.findall(f"{ns}PlainTextSelection"))
                warn(f"TextSource {sname!r}: its text {where!r} is not in the archive; the source and its "
                     f"{n_sel} selections are not imported")
                continue
            raw, encoding, dec_warn = _decode_source(data, where, label)
            problems.extend(dec_warn)
            where = "sources/" + where.split("://", 1)[-1].lstrip("/")
        else:
            warn(f"TextSource {sname!r} has neither PlainTextContent nor plainTextPath; not imported")
            continue
        text, posmap = _normalise_with_map(raw, line_endings)
        doc_id = SOURCE_EXT.sub("", sname).strip() or sguid
        base, k = doc_id, 2
        while doc_id in used_ids:
            doc_id, k = f"{base}-{k}", k + 1
        used_ids.add(doc_id)
        cfg["sources"][doc_id] = sguid
        cases = source_cases.get(_norm_guid(sguid), [])
        seg, seg_problems = segments_for_text(text, doc_id, interviewer_labels=interviewer_labels,
                                              case=cases[0] if len(cases) == 1 else None,
                                              source=f"{label}: {sname}")
        problems.extend(seg_problems)
        seg_frames.append(seg)
        seg_pids = seg["participant_id"].dropna().unique().tolist()
        doc_rows.append({"doc_id": doc_id, "path": where, "format": "txt", "encoding": encoding,
                         "participant_id": ";".join(cases) if cases else (";".join(seg_pids) or pd.NA),
                         "text": text})

        def pos(p: int) -> int:
            if posmap is None:
                return p
            return int(posmap[min(max(p, 0), len(posmap) - 1)]) + max(0, p - (len(posmap) - 1))

        spans = []
        for sel in src.findall(f"{ns}PlainTextSelection"):
            try:
                a_raw, b_raw = int(sel.get("startPosition")), int(sel.get("endPosition"))
            except (TypeError, ValueError):
                warn(f"{sname!r}: selection {sel.get('guid')} has no integer startPosition/endPosition; not imported")
                continue
            if max(abs(a_raw), abs(b_raw)) >= 2**62:
                warn(f"{sname!r}: selection {sel.get('guid')} [{a_raw}, {b_raw}) is far outside any text; not imported")
                continue
            a, b = pos(a_raw), pos(b_raw)
            if a > b:
                a, b = b, a
            if not (0 <= a and b <= len(text)):
                warn(f"{sname!r}: selection {sel.get('guid')} [{a_raw}, {b_raw}) lies outside the text "
                     f"(length {len(text)}); kept with segment_id <NA>, check the source")
            codings = sel.findall(f"{ns}Coding")
            if not codings:
                warn(f"{sname!r}: selection [{a_raw}, {b_raw}) {sel.get('name') or ''!r} has no coding; "
                     "not imported (journeylab keeps coded spans)")
                continue
            desc = sel.find(f"{ns}Description")
            sel_memo = ([desc.text] if desc is not None and desc.text else []) + note_text(sel)
            for cod in codings:
                spans.append(_coding_row(cod, sel, sel_memo, a, b, doc_id, ns, users, code_by_guid, note_text,
                                         warn, sname))
        for cod in src.findall(f"{ns}Coding"):
            spans.append(_coding_row(cod, src, note_text(src), 0, len(text), doc_id, ns, users, code_by_guid,
                                     note_text, warn, sname))
        if spans:
            spans_df = pd.DataFrame(spans)
            inside = (spans_df["span_start"] >= 0) & (spans_df["span_end"] <= len(text))
            mapped = map_spans(spans_df[inside], seg)
            outside = spans_df[~inside].assign(segment_id=pd.NA)
            mapped = pd.concat([mapped, outside], ignore_index=True) if len(outside) else mapped
            for rec in mapped.to_dict("records"):
                if _blank(rec["segment_id"]) and rec["span_start"] >= 0 and rec["span_end"] <= len(text):
                    warn(f"{sname!r}: the {rec['code']!r} coding of [{rec['span_start']}, {rec['span_end']}) "
                         f"by {rec['coder']!r} overlaps no segment; kept with segment_id <NA>")
                coding_rows.append(rec)
    for tag in ("Links", "Graphs"):
        el = root.find(f"{ns}{tag}")
        if el is not None and len(el):
            warn(f"{len(el)} {tag.lower()} not imported (journeylab has no equivalent)")
    if root.find(f"{ns}NoteRef") is not None:
        warn("project-level notes are not imported")
    segments = (pd.concat(seg_frames, ignore_index=True) if seg_frames
                else pd.DataFrame({c: pd.Series(dtype="string") for c in SEGMENT_COLUMNS}))
    documents = pd.DataFrame(doc_rows, columns=["doc_id", "path", "format", "encoding", "participant_id", "text"])
    codings = codings_frame(coding_rows)
    return Study(path=path, name=name, config={"name": name, "refi_qda": cfg}, participants=participants,
                 segments=segments, documents=documents, codebook=codebook, codings=codings, problems=problems,
                 redacted=False, **empty_study_frames())


def _coding_row(cod, parent, parent_memo, a, b, doc_id, ns, users, code_by_guid, note_text, warn, sname) -> dict:
    ref = cod.find(f"{ns}CodeRef")
    key = _norm_guid(ref.get("targetGUID") if ref is not None else "")
    code = code_by_guid.get(key)
    if code is None:
        code = key or "(no code)"
        warn(f"{sname!r}: a coding refers to code {key!r}, which is not in the codebook; kept with that GUID "
             "as its code")
    ukey = _norm_guid(cod.get("creatingUser") or parent.get("creatingUser"))
    coder, origin = users.get(ukey, (None, "manual"))
    if coder is None:
        coder = ukey or "unknown"
        if ukey:
            warn(f"{sname!r}: user {ukey!r} is not listed under <Users>; kept as the coder name")
    memo_parts = note_text(cod) or parent_memo
    return {"code": code, "coder": coder, "origin": origin,
            "memo": "\n\n".join(memo_parts) if memo_parts else None,
            "decided_at": cod.get("creationDateTime"), "doc_id": doc_id, "span_start": a, "span_end": b}
