"""Bring Taguette projects into journeylab, and hand codebooks to Taguette.

Taguette (https://www.taguette.org, open source) exports a project as an SQLite file
(``project.sqlite3``): documents are stored as HTML, and a highlight's ``start_offset`` and
``end_offset`` count **UTF-8 bytes** in the concatenated text nodes of that HTML (tags do not
count; ``&amp;`` is one byte, ``é`` two, ``😡`` four). It also exports the highlights as CSV
(``id, document, tag, content``; no offsets) and the codebook as CSV (``tag, description, ...``;
dots in a tag name act as a hierarchy). :func:`import_taguette` reads either export;
:func:`write_codebook` writes a journeylab codebook in the CSV format Taguette imports. The
method is described in ``docs/interop.md``.
"""
from __future__ import annotations

__all__ = ["import_taguette", "html_text", "read_codebook", "write_codebook"]

import csv
import io
import json
import sqlite3
import unicodedata
from bisect import bisect_right
from html.parser import HTMLParser
from itertools import accumulate
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import JourneylabError, Problem
from ..study.codebook import Code, Codebook, parse_description
from ..study.load import Study
from ..study.transcripts import SEGMENT_COLUMNS
from ..utils.checks import check_path
from ..utils.sqlite import file_uri
from ..utils.tables import read_rows
from .qdpx import SOURCE_EXT, codings_frame, empty_study_frames, map_spans, segments_for_text

_BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd", "br", "tr", "table",
          "thead", "tbody", "blockquote", "pre", "caption", "hr"}
SQLITE_MAGIC = b"SQLite format 3\x00"


# ----------------------------------------------------------------------------- HTML -> text


class _TextNodes(HTMLParser):
    """Collects text nodes (entity-decoded) and where block elements break the text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.items: list = []  # ("text", str) or ("break", None)

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCK:
            self.items.append(("break", None))

    def handle_endtag(self, tag):
        if tag in _BLOCK:
            self.items.append(("break", None))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self.items and self.items[-1][0] == "text":
            self.items[-1] = ("text", self.items[-1][1] + data)
        else:
            self.items.append(("text", data))


class HtmlText:
    """Plain text of a Taguette document and the map from Taguette's byte offsets to it.

    Attributes
    ----------
    text : str
        The text nodes in order, with a ``\\n`` added where a block element (``p``, ``li``,
        ``br``, ``h1``...) separates two nodes that are not already separated by a line break.
        The added line breaks are not in Taguette's byte count; every other character is.
    nodes : list of (int, int, str)
        ``(byte_start, char_start, node_text)`` of each text node.
    n_bytes : int
        Total UTF-8 bytes of the text nodes (Taguette's offsets run from 0 to ``n_bytes``).
    """

    def __init__(self, text: str, nodes: list, n_bytes: int):
        self.text, self.nodes, self.n_bytes = text, nodes, n_bytes
        self._byte_starts = [n[0] for n in nodes]
        self._cum: dict = {}

    def _cumulative(self, i: int) -> list:
        if i not in self._cum:
            self._cum[i] = [0] + list(accumulate(len(ch.encode("utf-8")) for ch in self.nodes[i][2]))
        return self._cum[i]

    def char_offset(self, byte_offset: int, *, end: bool) -> tuple[int, bool]:
        """Character offset in :attr:`text` of a Taguette byte offset, and whether it was exact.

        A start offset on a node boundary maps to the start of the next node, an end offset to
        the end of the previous one (as Taguette's ``extract.find_pos`` does). An offset inside a
        multi-byte character moves past that character (as Taguette's ``split_utf8``); the
        returned flag is then False.
        """
        if not self.nodes:
            return 0, byte_offset == 0
        b = int(byte_offset)
        if b <= 0:
            return (self.nodes[0][1], b == 0)
        if b >= self.n_bytes:
            last = self.nodes[-1]
            return last[1] + len(last[2]), b == self.n_bytes
        i = bisect_right(self._byte_starts, b) - 1
        if end and i > 0 and self._byte_starts[i] == b:
            i -= 1  # an end on a boundary closes the previous node
        while i > 0 and self._byte_starts[i] == self._byte_starts[i - 1]:
            i -= 1
        byte_start, char_start, node = self.nodes[i]
        cum = self._cumulative(i)
        k = b - byte_start
        j = bisect_right(cum, k) - 1
        exact = cum[j] == k
        if not exact:
            j += 1
        return char_start + j, exact


def html_text(html: str) -> HtmlText:
    """Turn a Taguette document's HTML into plain text with a byte-offset map (see :class:`HtmlText`).

    Parameters
    ----------
    html : str
        ``documents.contents`` of a Taguette project.

    Returns
    -------
    HtmlText

    Notes
    -----
    Taguette counts offsets over the text nodes of the HTML as parsed by BeautifulSoup with
    html5lib, in UTF-8 bytes (``taguette/extract.py``); a browser computes the same count from
    ``textContent``. Line ends ``\\r\\n`` and ``\\r`` become ``\\n`` first, as every HTML parser
    does before counting. Taguette stores sanitised HTML (``p``, ``br``, lists, tables,
    emphasis...), which Python's ``html.parser`` splits into the same text nodes.

    Examples
    --------
    >>> t = html_text("<p>Ça va?</p><p>Très <b>bien</b></p>")
    >>> t.text
    'Ça va?\\nTrès bien'
    >>> t.char_offset(7, end=True)   # byte 7 = after "Ça va?" (Ç takes two bytes)
    (6, True)
    >>> t.char_offset(7, end=False)  # the same byte as a start: the "T" of "Très" after the line break
    (7, True)
    """
    html = html.replace("\r\n", "\n").replace("\r", "\n")
    parser = _TextNodes()
    parser.feed(html)
    parser.close()
    out, nodes = [], []
    pos = nbytes = 0
    pending = False
    for kind, data in parser.items:
        if kind == "break":
            pending = True
            continue
        if not data:
            continue
        if pending and out and not out[-1].endswith("\n") and not data.startswith("\n"):
            out.append("\n")
            pos += 1
        pending = False
        nodes.append((nbytes, pos, data))
        out.append(data)
        pos += len(data)
        nbytes += len(data.encode("utf-8"))
    return HtmlText("".join(out), nodes, nbytes)


# ----------------------------------------------------------------------------- codebook


def _tag_names(paths) -> dict:
    """Tag path → code name: the last dotted part, or the full path when that part is not unique."""
    nodes = set()
    for p in paths:
        parts = [x.strip() for x in str(p).split(".")]
        for k in range(1, len(parts) + 1):
            nodes.add(".".join(parts[:k]))
    leaf = {n: n.split(".")[-1] for n in nodes}
    counts = pd.Series(list(leaf.values())).value_counts() if leaf else pd.Series(dtype=int)
    out = {n: (leaf[n] if counts[leaf[n]] == 1 else n) for n in nodes}
    for p in paths:  # the tag as written ("delivery . late") → the name of its stripped path
        out.setdefault(str(p), out[".".join(x.strip() for x in str(p).split("."))])
    return out


def _codebook_from_tags(tags: list[tuple[str, str]], *, name: str) -> tuple[Codebook, dict]:
    """Build a codebook from (tag path, description) pairs; return it and the path → name map.

    Dots separate levels (``delivery.late`` is ``late`` under ``delivery``); missing parents are
    created. A code is named by the last part of its path unless another node shares that part,
    then by its full path (``delivery.late`` and ``refund.late``).
    """
    names = _tag_names([p for p, _ in tags])
    desc = {str(p).strip(): d for p, d in tags}
    codes: dict[str, Code] = {}
    for path, _ in tags:
        parts = [x.strip() for x in str(path).split(".")]
        for k in range(1, len(parts) + 1):
            node = ".".join(parts[:k])
            if node in codes:
                continue
            parent = names[".".join(parts[: k - 1])] if k > 1 else None
            d = parse_description(desc.get(node, ""))
            codes[node] = Code(names[node], parent=parent, definition=d["definition"], include=d["include"],
                               exclude=d["exclude"], examples=d["examples"])
    return Codebook(list(codes.values()), name=name), names


def read_codebook(path, *, name: str | None = None) -> Codebook:
    """Read a codebook CSV exported by Taguette (``tag, description, number of highlights, ...``).

    Parameters
    ----------
    path : str or Path
        The CSV (Taguette: *Project → Export codebook → CSV*). A ``tag``, ``path`` or ``name``
        column holds the tag; ``description`` is optional; other columns are ignored.
    name : str, optional
        Codebook name; default the file stem.

    Returns
    -------
    Codebook
        Named as in :func:`import_taguette`: dots make the hierarchy (missing parents are
        created), a code is named by the last part of its tag unless another tag ends the same
        way (then by its full tag: ``delivery.late``, ``refund.late``), and a description written
        as journeylab writes them is split into definition / ``Include:`` / ``Exclude:`` /
        ``Examples:``.

    Notes
    -----
    :meth:`Codebook.from_csv` reads the same columns but needs unique last parts; Taguette
    projects often repeat them (``delivery.late``, ``refund.late``), hence this reader.

    Examples
    --------
    >>> from journeylab.interop import taguette
    >>> cb = taguette.read_codebook("tests/data/taguette/codebook.csv")  # doctest: +SKIP
    >>> cb.path("colère")                                                 # doctest: +SKIP
    'émotion/colère'
    """
    path = Path(path)
    rows = read_rows(path, what="the codebook CSV")
    if not rows:
        raise JourneylabError(f"{path}: empty file; expected a header with a tag, path or name column")
    header = [h.strip().lower() for h in rows[0]]
    keys = [k for k in ("tag", "path", "name") if k in header]
    if len(keys) != 1:
        raise JourneylabError(f"{path}, line 1: expected exactly one of the columns tag, path, name; "
                              f"found {', '.join(rows[0]) or 'no columns'}")
    i_tag = header.index(keys[0])
    i_desc = header.index("description") if "description" in header else None
    tags, seen = [], {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        tag = row[i_tag].strip() if i_tag < len(row) else ""
        if not tag or any(not part.strip() for part in tag.split(".")):
            raise JourneylabError(f"{path}, line {line}: tag {tag!r} is empty or has an empty part between dots")
        if tag in seen:
            raise JourneylabError(f"{path}, line {line}: tag {tag!r} appears twice (first on line {seen[tag]})")
        seen[tag] = line
        tags.append((tag, row[i_desc] if i_desc is not None and i_desc < len(row) else ""))
    return _codebook_from_tags(tags, name=name or path.stem)[0]


def write_codebook(codebook: Codebook, *, path) -> str:
    """Write a codebook as the CSV Taguette imports (*Project → Import codebook*).

    The content is :meth:`Codebook.to_csv` (``path, description``, the hierarchy joined with
    dots), written as UTF-8 **with a byte-order mark**: Taguette 1.5 guesses the encoding of an
    uploaded codebook with ``chardet``, which took plain UTF-8 with accents and emoji for
    Windows-1254 and rejected the file ("Invalid CSV file"); with the mark it reads UTF-8.
    Checked by uploading both versions to Taguette 1.5.2 (``tests/data/taguette/NOTES.md``).

    Parameters
    ----------
    codebook : Codebook
        The codebook to write (``study.codebook``).
    path : str or Path
        The CSV file to write.

    Returns
    -------
    str
        The CSV text (without the byte-order mark).
    """
    if not isinstance(codebook, Codebook):
        raise JourneylabError(f"write_codebook(): `codebook` must be a Codebook, got {type(codebook).__name__}")
    text = codebook.to_csv(sep=".")
    Path(path).write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return text


# ----------------------------------------------------------------------------- import


def _doc_id(name: str, used: set) -> str:
    base = SOURCE_EXT.sub("", str(name)).strip() or "document"
    doc_id, k = base, 2
    while doc_id in used:
        doc_id, k = f"{base}-{k}", k + 1
    used.add(doc_id)
    return doc_id


_TEXT = "text"
_TEXT_OR_NULL = "text or NULL"


def _typed(rows: list, table: str, columns: tuple, types: tuple, label: str) -> list:
    """``rows`` unchanged when each value has its column's type; else a JourneylabError naming the place."""
    for row in rows:
        for name, kind, value in zip(columns, types, row):
            if kind is int:
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif kind == _TEXT:
                ok = isinstance(value, str)
            else:
                ok = value is None or isinstance(value, str)
            if not ok:
                what = "a whole number" if kind is int else kind
                raise JourneylabError(f"{label}: table {table}, row with id {row[0]!r}, column {name!r}: expected "
                                      f"{what}, found {type(value).__name__} {repr(value)[:40]}; the file is not a "
                                      "Taguette project as Taguette writes it (re-export it from Taguette)")
    return rows


def _read_sqlite(path: Path, project, label: str):
    try:
        con = sqlite3.connect(file_uri(path, mode="ro"), uri=True)
    except sqlite3.Error as exc:
        raise JourneylabError(f"{label}: cannot open the Taguette SQLite file: {exc}") from None
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        needed = {"projects", "documents", "highlights", "tags", "highlight_tags"}
        if not needed <= tables:
            raise JourneylabError(f"{label}: not a Taguette project; expected the tables {', '.join(sorted(needed))}, "
                                  f"found {', '.join(sorted(tables)) or 'none'}")
        projects = con.execute("SELECT id, name FROM projects ORDER BY id").fetchall()
        if project is None:
            if len(projects) != 1:
                raise JourneylabError(f"{label}: holds {len(projects)} projects; pass project= one of "
                                      + ", ".join(f"{i} ({n!r})" for i, n in projects))
            pid, pname = projects[0]
        else:
            match = [p for p in projects if p[0] == project or p[1] == project]
            if not match:
                raise JourneylabError(f"{label}: no project {project!r}; projects: "
                                      + ", ".join(f"{i} ({n!r})" for i, n in projects))
            pid, pname = match[0]
        docs = _typed(con.execute("SELECT id, name, filename, contents FROM documents WHERE project_id=? ORDER BY id",
                                  (pid,)).fetchall(), "documents", ("id", "name", "filename", "contents"),
                      (int, _TEXT, _TEXT_OR_NULL, _TEXT_OR_NULL), label)
        tags = _typed(con.execute("SELECT id, path, description FROM tags WHERE project_id=? ORDER BY id",
                                  (pid,)).fetchall(), "tags", ("id", "path", "description"),
                      (int, _TEXT, _TEXT_OR_NULL), label)
        hls = _typed(con.execute(
            "SELECT h.id, h.document_id, h.start_offset, h.end_offset, h.snippet FROM highlights h "
            "JOIN documents d ON d.id = h.document_id WHERE d.project_id=? ORDER BY h.document_id, h.id",
            (pid,)).fetchall(), "highlights", ("id", "document_id", "start_offset", "end_offset", "snippet"),
            (int, int, int, int, _TEXT_OR_NULL), label)
        hls.sort(key=lambda r: (r[1], r[2], r[0]))
        hl_tags = _typed(con.execute("SELECT highlight_id, tag_id FROM highlight_tags").fetchall(), "highlight_tags",
                         ("highlight_id", "tag_id"), (int, int), label)
        authors = {}
        if "commands" in tables:
            for user, date, payload in con.execute(
                    "SELECT user_login, date, payload FROM commands WHERE project_id=? ORDER BY id", (pid,)):
                try:
                    obj = json.loads(payload)
                except (TypeError, ValueError):
                    continue
                if isinstance(obj, dict) and obj.get("type") == "highlight_add" and "highlight_id" in obj:
                    authors.setdefault(obj["highlight_id"], (user, str(date).replace(" ", "T")))
    except sqlite3.Error as exc:
        raise JourneylabError(f"{label}: cannot read the Taguette SQLite file: {exc}") from None
    finally:
        con.close()
    return pname, docs, tags, hls, hl_tags, authors


def _build_study(path, name, documents, segments, codings, codebook, problems, participants=None):
    if participants is None:
        pids = segments["participant_id"].dropna().unique().tolist() if len(segments) else []
        participants = pd.DataFrame({"participant_id": pd.array(pids, dtype="str")})
    return Study(path=Path(path), name=name, config={"name": name}, participants=participants, segments=segments,
                 documents=documents, codebook=codebook, codings=codings, problems=problems, redacted=False,
                 **empty_study_frames())


def _segments_frame(frames):
    return (pd.concat(frames, ignore_index=True) if frames
            else pd.DataFrame({c: pd.Series(dtype="string") for c in SEGMENT_COLUMNS}))


def _import_sqlite(path: Path, *, coder, interviewer_labels, project, label):
    pname, docs, tags, hls, hl_tags, authors = _read_sqlite(path, project, label)
    problems: list[Problem] = []

    def warn(msg):
        problems.append(Problem(label, None, None, msg, "warning"))

    codebook, names = _codebook_from_tags([(p, d or "") for _, p, d in tags], name=pname)
    tag_path = {tid: p.strip() for tid, p, _ in tags}
    by_hl: dict = {}
    for hid, tid in hl_tags:
        if tid in tag_path:
            by_hl.setdefault(hid, []).append(tid)
    used: set = set()
    doc_rows, seg_frames, mapped = [], [], {}
    for did, dname, fname, contents in docs:
        doc_id = _doc_id(dname, used)
        ht = html_text(contents or "")
        seg, seg_problems = segments_for_text(ht.text, doc_id, interviewer_labels=interviewer_labels,
                                              source=f"{label}: {dname}")
        problems.extend(seg_problems)
        seg_frames.append(seg)
        pids = seg["participant_id"].dropna().unique().tolist()
        doc_rows.append({"doc_id": doc_id, "path": f"{label}: document {did} ({fname})", "format": "html",
                         "encoding": "utf-8", "participant_id": ";".join(pids) or pd.NA, "text": ht.text})
        mapped[did] = (doc_id, ht, seg)
    rows = []
    for hid, did, b0, b1, snippet in hls:
        if did not in mapped:
            continue
        doc_id, ht, seg = mapped[did]
        tids = sorted(by_hl.get(hid, []), key=lambda t: tag_path[t])
        if not tids:
            warn(f"highlight {hid} in {doc_id!r} has no tag; not imported (a coding needs a code)")
            continue
        a, ok_a = ht.char_offset(b0, end=False)
        b, ok_b = ht.char_offset(b1, end=True)
        if b0 < 0 or b1 > ht.n_bytes or b0 >= b1:
            warn(f"highlight {hid} in {doc_id!r}: byte offsets [{b0}, {b1}) do not fit the document "
                 f"({ht.n_bytes} bytes); kept with segment_id <NA> and no span")
            a = b = None
        elif not (ok_a and ok_b):
            warn(f"highlight {hid} in {doc_id!r}: byte offset {b0 if not ok_a else b1} falls inside a multi-byte "
                 "character; moved past it as Taguette does")
        user, date = authors.get(hid, (None, None))
        for tid in tids:
            rows.append({"code": names[tag_path[tid]], "coder": coder or user or "taguette", "origin": "manual",
                         "memo": None, "decided_at": date, "doc_id": doc_id, "span_start": a, "span_end": b,
                         "highlight_id": hid})
    codings = _place_rows(rows, _segments_frame(seg_frames), warn)
    segments = _segments_frame(seg_frames)
    documents = pd.DataFrame(doc_rows, columns=["doc_id", "path", "format", "encoding", "participant_id", "text"])
    return _build_study(path, pname, documents, segments, codings, codebook, problems)


def _place_rows(rows: list, segments: pd.DataFrame, warn) -> pd.DataFrame:
    """Map rows with spans to segments (overlap rule); rows without a span keep segment_id <NA>."""
    if not rows:
        return codings_frame([]).assign(highlight_id=pd.array([], dtype="Int64"))
    df = pd.DataFrame(rows)
    placed = df[df["span_start"].notna()].copy()
    for c in ("span_start", "span_end"):
        placed[c] = placed[c].astype(np.int64)
    out = map_spans(placed, segments) if len(placed) else placed.assign(segment_id=pd.Series(dtype=object))
    for rec in out[out["segment_id"].isna()].to_dict("records"):
        warn(f"highlight {rec['highlight_id']} ({rec['code']!r}) in {rec['doc_id']!r} "
             f"[{rec['span_start']}, {rec['span_end']}) overlaps no segment; kept with segment_id <NA>")
    unplaced = df[df["span_start"].isna()].assign(segment_id=pd.NA)
    out = pd.concat([out, unplaced], ignore_index=True) if len(unplaced) else out
    result = codings_frame(out.to_dict("records"))
    result["highlight_id"] = pd.array(out["highlight_id"].tolist(), dtype="Int64")
    return result


def _squeeze(text: str) -> tuple[str, np.ndarray]:
    """Text without whitespace, and the position in ``text`` of each kept character."""
    keep = [i for i, ch in enumerate(text) if not ch.isspace()]
    return "".join(text[i] for i in keep), np.asarray(keep, dtype=np.int64)


def _import_csv(path: Path, *, study, coder, codebook, label):
    if study is None:
        raise JourneylabError(f"import_taguette(): {label} is a highlights CSV, which holds no document text; "
                              "pass study= (a Study whose documents are the ones coded in Taguette) or import "
                              "the project's SQLite export (project.sqlite3) instead")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise JourneylabError(f"{label}: cannot read the highlights CSV: {exc}") from None
    reader = list(csv.reader(io.StringIO(text)))
    if not reader:
        raise JourneylabError(f"{label}: empty file; expected Taguette's header id,document,tag,content")
    header = [h.strip().lower() for h in reader[0]]
    need = ["id", "document", "tag", "content"]
    missing = [h for h in need if h not in header]
    if missing:
        raise JourneylabError(f"{label}, line 1: missing column(s) {', '.join(missing)}; expected Taguette's "
                              f"highlights export (id,document,tag,content), found {', '.join(reader[0])}")
    col = {h: header.index(h) for h in need}
    problems: list[Problem] = []

    def warn(msg, line=None):
        problems.append(Problem(label, line, None, msg, "warning"))

    docs = study.documents
    by_key = {}
    for doc_id in docs["doc_id"].astype(str):
        for key in {doc_id, doc_id.casefold(), SOURCE_EXT.sub("", doc_id).casefold()}:
            by_key.setdefault(key, doc_id)
    texts = dict(zip(docs["doc_id"].astype(str), docs["text"].astype(str)))
    squeezed: dict = {}
    highlights: dict = {}  # id -> (line, document, content, [tags])
    for line, row in enumerate(reader[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        def get(h, row=row):
            return row[col[h]] if col[h] < len(row) else ""
        hid = get("id").strip()
        entry = highlights.setdefault(hid, [line, get("document"), get("content"), []])
        tag = get("tag").strip()
        if tag and any(not part.strip() for part in tag.split(".")):
            raise JourneylabError(f"{label}, line {line}: tag {tag!r} has an empty part between dots; "
                                  "expected a tag like 'delivery.late'")
        if tag:
            entry[3].append(tag)
    tag_paths = sorted({t for e in highlights.values() for t in e[3]})
    if codebook is None:
        cb, names = _codebook_from_tags([(t, "") for t in tag_paths], name=getattr(study, "name", "taguette"))
    else:
        cb = codebook if isinstance(codebook, Codebook) else read_codebook(codebook)
        _, names = _codebook_from_tags([(t, "") for t in tag_paths], name=cb.name)
        for t in tag_paths:
            if names[t] not in cb:
                warn(f"tag {t!r} is not in the codebook given; kept as code {names[t]!r}")
    rows = []
    last_start: dict = {}
    for hid, (line, dname, content, tags) in highlights.items():
        if not tags:
            warn(f"highlight {hid} has no tag; not imported (a coding needs a code)", line)
            continue
        doc_id = by_key.get(dname) or by_key.get(dname.casefold()) or by_key.get(SOURCE_EXT.sub("", dname).casefold())
        a = b = None
        if doc_id is None:
            warn(f"highlight {hid}: document {dname!r} is not a document of the study; kept with segment_id <NA> "
                 "(name the study's transcript like the Taguette document)", line)
            doc_id = dname
        else:
            if doc_id not in squeezed:
                squeezed[doc_id] = _squeeze(texts[doc_id])
            hay, index = squeezed[doc_id]
            needle = "".join(content.split())
            found = []
            if needle:
                k = hay.find(needle)
                while k >= 0:
                    found.append((int(index[k]), int(index[k + len(needle) - 1]) + 1))
                    k = hay.find(needle, k + 1)
            if not found and needle:
                nfc = unicodedata.normalize("NFC", needle)
                if nfc != needle:
                    k = hay.find(nfc)
                    if k >= 0:
                        found.append((int(index[k]), int(index[k + len(nfc) - 1]) + 1))
            if len(found) == 1:
                a, b = found[0]
            elif not found:
                warn(f"highlight {hid} ({', '.join(tags)}): {_short(content)!r} is not in document {doc_id!r}; "
                     "kept with segment_id <NA> (was the document edited after coding?)", line)
            else:
                after = [f for f in found if f[0] >= last_start.get(doc_id, 0)]
                warn(f"highlight {hid} ({', '.join(tags)}): {_short(content)!r} occurs {len(found)} times in "
                     f"{doc_id!r} (at characters {', '.join(str(f[0]) for f in found)}); the CSV has no offsets to "
                     "tell which, so it is kept with segment_id <NA> — import project.sqlite3 for exact places"
                     + (f" (in CSV order it is at or after character {last_start[doc_id]}: candidates "
                        f"{', '.join(str(f[0]) for f in after)})" if doc_id in last_start and after else ""), line)
            if a is not None:
                last_start[doc_id] = a
        for t in tags:
            rows.append({"code": names[t], "coder": coder or "taguette", "origin": "manual", "memo": None,
                         "decided_at": None, "doc_id": doc_id, "span_start": a, "span_end": b,
                         "highlight_id": int(hid) if hid.isdigit() else None})
    codings = _place_rows(rows, study.segments, lambda m: warn(m))
    return _build_study(path, study.name, study.documents, study.segments, codings, cb, problems,
                        participants=study.participants)


def _short(text: str, n: int = 50) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def import_taguette(path, *, study=None, coder: str | None = None, interviewer_labels=None, project=None,
                    codebook=None):
    """Import a Taguette project: its SQLite export (exact places) or its highlights CSV.

    Parameters
    ----------
    path : str or Path
        ``project.sqlite3`` (Taguette: *Project → Export project*) or the highlights CSV
        (*Highlights → Export → CSV*, columns ``id, document, tag, content``).
    study : Study, optional
        For a CSV only (it has no document text): the study whose documents were coded in
        Taguette. A Taguette document matches the ``doc_id`` equal to its name (case-insensitive,
        with or without a file extension).
    coder : str, optional
        Coder name for every coding. Default: the Taguette user who made each highlight
        (``admin`` in single-user Taguette), or ``"taguette"`` when unknown (CSV).
    interviewer_labels : list of str, optional
        Speaker labels of the research team, for segmenting documents into speaker turns.
    project : int or str, optional
        Project id or name, when the SQLite file holds several projects (a whole Taguette
        database rather than an export).
    codebook : Codebook or path, optional
        For a CSV: the codebook (e.g. Taguette's codebook CSV) whose descriptions to keep.

    Returns
    -------
    Study
        - ``documents`` (SQLite): one row per Taguette document: ``doc_id`` (its name),
          ``path``, ``format`` (``"html"``), ``encoding``, ``participant_id``, ``text`` (the HTML's
          text, see :func:`html_text`). CSV: the documents of ``study``.
        - ``segments``: speaker turns where the text has ``Label: ...`` lines, else one segment
          per non-empty line.
        - ``codebook``: one code per tag and per dotted prefix (``delivery.late`` is ``late`` under
          ``delivery``; a last part shared by two tags keeps the full path as name); tag
          descriptions become definitions.
        - ``codings``: one row per (highlight, tag, overlapping segment): ``segment_id``, ``code``,
          ``coder``, ``origin`` (``manual``), ``memo``, ``decided_at`` (when the highlight was made),
          ``doc_id``, ``span_start``, ``span_end`` (exact character span of the highlight),
          ``highlight_id`` (Taguette's id).
        - ``problems``: every highlight not placed exactly, and why (untagged, offsets outside
          the text, CSV snippet not found or found more than once, no overlapping segment).

    Notes
    -----
    **SQLite.** Offsets are UTF-8 byte positions in the concatenated text nodes of the
    document HTML; each is converted to a character position in the document text
    (:meth:`HtmlText.char_offset`), so ``documents.text[span_start:span_end]`` is exactly the
    highlighted text Taguette shows (its ``snippet``; checked on every fixture highlight).

    **CSV.** Taguette writes each snippet's text nodes stripped and joined by single spaces, so a
    snippet is found by comparing the non-whitespace characters of snippet and document; the
    span runs from its first to its last non-whitespace character. A snippet found nowhere or at
    several places is kept with ``segment_id`` ``<NA>`` and no span, and reported.

    **Overlap rule.** As :func:`journeylab.import_qdpx`: a span codes every segment it overlaps
    by at least one character.

    Examples
    --------
    >>> import journeylab as jl
    >>> project = jl.import_taguette("tests/data/taguette/project.sqlite3")  # doctest: +SKIP
    >>> row = project.codings.iloc[0]                                         # doctest: +SKIP
    >>> text = project.documents.set_index("doc_id").text[row.doc_id]         # doctest: +SKIP
    >>> text[row.span_start:row.span_end]                                     # doctest: +SKIP
    'Ça va?'
    """
    check_path(path, arg="path", func="import_taguette")
    path = Path(path)
    label = path.name
    if not path.is_file():
        raise JourneylabError(f"{path}: file not found; expected Taguette's project.sqlite3 or highlights CSV")
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head == SQLITE_MAGIC:
        return _import_sqlite(path, coder=coder, interviewer_labels=interviewer_labels, project=project,
                              label=label)
    if path.suffix.lower() in (".sqlite", ".sqlite3", ".db"):
        raise JourneylabError(f"{path}: not an SQLite file (expected Taguette's project export)")
    return _import_csv(path, study=study, coder=coder, codebook=codebook, label=label)
