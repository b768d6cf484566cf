"""From a QDA project to a study folder: ``journeylab import SOURCE --out STUDY_DIR``.

:func:`import_project` reads a Taguette project (``project.sqlite3``), a Taguette highlights
export (CSV, with the transcripts it was coded on) or a REFI-QDA project (``.qdpx`` from NVivo,
ATLAS.ti, MAXQDA, QualCoder or journeylab) and writes a study folder that
:func:`journeylab.load_study` reads as it is: ``study.yml`` (one stage to edit),
``participants.csv``, ``transcripts/`` (one ``.txt`` per document, the text exactly as imported),
``codebook.yml`` and ``codings/`` (one CSV per coder, one row per coding with its exact span:
``doc_id, start, end, text, segment_id, code, coder, origin, memo``). What could not be carried
over is listed in the returned :class:`ImportReport`. The route is described in
``docs/interop.md``.
"""
from __future__ import annotations

__all__ = ["import_project", "ImportReport"]

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import yaml

from ..errors import JourneylabError, Problem
from ..study.anchor import fingerprint
from ..study.codebook import Code, Codebook
from ..study.load import Study, load_study
from ..study.transcripts import TRANSCRIPT_SUFFIXES, TranscriptError, parse_transcript, read_document
from ..study.units import participant_codings
from ..utils.checks import check_path
from ..utils.tables import write_csv
from .qdpx import empty_study_frames, import_qdpx
from .taguette import SQLITE_MAGIC, import_taguette

#: Columns of the codings CSVs the import writes (the codings frame of docs/study-format.md).
CODINGS_FILE_COLUMNS = ["doc_id", "start", "end", "text", "segment_id", "code", "coder", "origin", "memo"]
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')  # not allowed in a file name on Windows, macOS or Linux
#: Reader warnings about its own segmentation: the study folder is segmented again on load.
_RESEGMENTED = ("no speaker turns recognised", "overlaps no segment")


@dataclass
class ImportReport:
    """What :func:`import_project` wrote, and what it could not carry over.

    Attributes
    ----------
    source : pathlib.Path
        The project imported.
    kind : {"taguette", "taguette-csv", "qdpx"}
        What it was read as.
    out_dir : pathlib.Path
        The study folder written.
    counts : dict
        ``documents``, ``participants``, ``codes``, ``coders``, ``codings_in_source`` (codings of
        the source: Taguette highlight–tag pairs, REFI-QDA codings of text selections),
        ``codings_written`` (rows in ``codings/``, each with its span), ``codings_not_written``
        (kept in ``import_leftovers.csv``: no exact place in the text), ``codings_on_no_turn``
        (written, but their span covers only a speaker label or blank lines, so
        :func:`journeylab.load_study` leaves them out, with a warning),
        ``codings_on_interviewer_turns`` (written; the analyses leave them out, see
        :func:`journeylab.participant_codings`).
    problems : list of Problem
        Everything not carried over, and why (severity ``"warning"``).
    next_steps : list of str
        What to edit next, in order.
    files : list of str
        The files written, relative to ``out_dir``.
    """

    source: Path
    kind: str
    out_dir: Path
    counts: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    next_steps: list = field(default_factory=list)
    files: list = field(default_factory=list)

    def __str__(self) -> str:
        c = self.counts
        lines = [f"Imported {self.source.name} ({self.kind}) into {self.out_dir}:",
                 f"  {c.get('documents', 0)} transcripts, {c.get('participants', 0)} participants, "
                 f"{c.get('codes', 0)} codes, {c.get('coders', 0)} coder(s)",
                 f"  {c.get('codings_written', 0)} of {c.get('codings_in_source', 0)} codings written with their "
                 "exact spans"]
        if c.get("codings_not_written"):
            lines.append(f"  {c['codings_not_written']} codings had no exact place in the text: kept in "
                         "import_leftovers.csv, not in codings/")
        if c.get("codings_on_interviewer_turns"):
            lines.append(f"  {c['codings_on_interviewer_turns']} codings sit on interviewer turns: kept in codings/, "
                         "left out of frequencies, evidence, the learned coder and agreement (each says so)")
        if c.get("codings_on_no_turn"):
            lines.append(f"  {c['codings_on_no_turn']} codings cover only a speaker label or blank lines; "
                         "load_study leaves them out (with a warning)")
        if self.problems:
            lines.append(f"\nNot carried over ({len(self.problems)}):")
            lines += [f"  - {p}" for p in self.problems[:40]]
            if len(self.problems) > 40:
                lines.append(f"  ... and {len(self.problems) - 40} more (ImportReport.problems)")
        if self.next_steps:
            lines.append("\nNext:")
            lines += [f"  {i}. {s}" for i, s in enumerate(self.next_steps, start=1)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        c = self.counts
        return (f"ImportReport({self.source.name!r} -> {str(self.out_dir)!r}, {c.get('documents', 0)} documents, "
                f"{c.get('codings_written', 0)} of {c.get('codings_in_source', 0)} codings written, "
                f"{len(self.problems)} problems)")


# ----------------------------------------------------------------------------- reading the source


def _kind(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head == SQLITE_MAGIC:
        return "taguette"
    if head[:2] == b"PK" or path.suffix.lower() in (".qdpx", ".qde"):
        return "qdpx"
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return "taguette-csv"
    raise JourneylabError(f"{path}: expected a Taguette project (.sqlite3), a Taguette highlights export (.csv) or "
                          f"a REFI-QDA project (.qdpx); found a {path.suffix or 'suffix-less'} file that is none of "
                          "these")


def _documents_from_folder(folder, interviewer_labels) -> Study:
    """The transcripts a Taguette highlights CSV was coded on, as a bare Study (documents + segments)."""
    check_path(folder, arg="transcripts", func="import_project")
    folder = Path(folder)
    if not folder.is_dir():
        raise JourneylabError(f"import_project(): transcripts={str(folder)!r} is not a folder; expected the folder of "
                              "the documents coded in Taguette (.txt, .docx, .odt, ...)")
    docs, segs = [], []
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.suffix.lower() not in TRANSCRIPT_SUFFIXES:
            continue
        try:
            doc = read_document(p, interviewer_labels=interviewer_labels)
        except TranscriptError:
            doc = read_document(p, speaker_labels=False)  # errors naming the file propagate
        docs.append({"doc_id": doc.doc_id, "path": str(p), "format": doc.format, "encoding": doc.encoding,
                     "participant_id": pd.NA, "text": doc.text})
        segs.append(doc.segments)
    if not docs:
        raise JourneylabError(f"import_project(): {folder} holds no transcript (.txt, .vtt, .srt, .docx, .odt)")
    segments = pd.concat(segs, ignore_index=True)
    pids = segments["participant_id"].dropna().unique().tolist()
    return Study(path=folder, name=folder.name, config={}, participants=pd.DataFrame({"participant_id": pids}),
                 segments=segments, documents=pd.DataFrame(docs), codebook=None,
                 codings=pd.DataFrame(columns=["segment_id", "code"]), redacted=False, **empty_study_frames())


def _read_source(path: Path, kind: str, *, transcripts, coder, interviewer_labels):
    if kind == "taguette":
        return import_taguette(path, coder=coder, interviewer_labels=interviewer_labels)
    if kind == "qdpx":
        return import_qdpx(path, interviewer_labels=interviewer_labels)
    if transcripts is None:
        raise JourneylabError(f"import_project(): {path.name} is a Taguette highlights CSV, which holds no document "
                              "text; pass transcripts=<folder of the documents coded> (`--transcripts DIR`), or "
                              "import the project's SQLite export (project.sqlite3) for exact places")
    return import_taguette(path, study=_documents_from_folder(transcripts, interviewer_labels), coder=coder)


# ----------------------------------------------------------------------------- writing the study


def _file_stems(doc_ids) -> dict:
    """doc_id -> a file stem safe on every file system (unique, case-insensitively)."""
    out, used = {}, set()
    for d in doc_ids:
        base = _UNSAFE.sub("_", str(d)).strip(" ._") or "document"
        stem, k = base, 2
        while stem.casefold() in used:
            stem, k = f"{base}-{k}", k + 1
        used.add(stem.casefold())
        out[d] = stem
    return out


def _labelled(text: str, doc_id: str, interviewer_labels) -> bool:
    try:
        parse_transcript(text, format="txt", doc_id=doc_id, interviewer_labels=interviewer_labels)
    except JourneylabError:
        return False
    return True


def _one_row_per_coding(codings: pd.DataFrame) -> pd.DataFrame:
    """The reader's rows are one per (coding, overlapping segment); keep one row per coding."""
    keys = [c for c in codings.columns if c != "segment_id"]
    return codings.drop_duplicates(subset=keys, keep="first").reset_index(drop=True)


def _codebook_stages(codebook: Codebook) -> dict:
    """Stages (in order of first use) and their touchpoints that the codebook's codes name."""
    stages: dict = {}
    for code in codebook:
        if code.stage is not None:
            tps = stages.setdefault(str(code.stage), [])
            if code.touchpoint is not None and str(code.touchpoint) not in tps:
                tps.append(str(code.touchpoint))
    loose = [str(c.touchpoint) for c in codebook if c.stage is None and c.touchpoint is not None]
    if loose:
        tps = stages.setdefault("journey", [])
        tps += [t for t in dict.fromkeys(loose) if t not in tps and all(t not in v for v in stages.values())]
    return stages


def _yaml_text(name: str, source: Path, *, stages: dict, unlabelled: list, all_unlabelled: bool,
               shared_labels: bool, interviewer_labels) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    lines = [f"# Written by `journeylab import {source.name}` on {stamp}: edit the stages, then",
             "# `journeylab validate` this folder (docs/study-format.md describes every key).",
             yaml.safe_dump({"name": name}, allow_unicode=True, sort_keys=False).strip(),
             "stages:                 # EDIT: your journey's stages, in order, each with its touchpoints"
             + (" (these are the ones the codebook names)" if stages else "")]
    for stage, tps in (stages or {"journey": []}).items():
        lines += ["  " + x for x in yaml.safe_dump([{"name": stage, "touchpoints": tps}], allow_unicode=True,
                                                  sort_keys=False, default_flow_style=None).strip().split("\n")]
    if interviewer_labels is not None:
        lines.append(yaml.safe_dump({"interviewer_labels": list(interviewer_labels)}, allow_unicode=True,
                                    default_flow_style=None).strip())
    tr = {}
    if all_unlabelled:
        tr["speaker_labels"] = False
    elif unlabelled:
        tr["unlabelled"] = list(unlabelled)
    if shared_labels:
        tr["participant_from"] = "file"
    if tr:
        lines.append("transcripts:             # how the transcripts are read (docs/study-format.md)")
        lines += ["  " + x for x in yaml.safe_dump(tr, allow_unicode=True, sort_keys=False,
                                                   default_flow_style=None).strip().split("\n")]
        if all_unlabelled or unlabelled:
            lines.append("  # moderator_pattern: '^(Q:|Interviewer)'   # EDIT if the moderator's lines are in the text")
    return "\n".join(lines) + "\n"


def import_project(source, *, out_dir, transcripts=None, coder: str | None = None, interviewer_labels=None,
                   overwrite: bool = False) -> ImportReport:
    """Turn a QDA project into a study folder, carrying every coding over with its exact span.

    Parameters
    ----------
    source : str or Path
        A Taguette project export (``project.sqlite3``), a Taguette highlights export (CSV:
        ``id, document, tag, content``; needs ``transcripts``) or a REFI-QDA project (``.qdpx``).
    out_dir : str or Path
        The study folder to write; it must not exist or be empty (unless ``overwrite``).
    transcripts : str or Path, optional
        For a highlights CSV: the folder of the documents that were coded (any format
        :func:`journeylab.read_document` reads; matched to Taguette's document names by file stem).
    coder : str, optional
        Coder name for every coding (default: the project's users; ``taguette`` for a CSV).
    interviewer_labels : list of str, optional
        Speaker labels of the research team; written to study.yml. Default: journeylab's
        (Interviewer, Moderator, Facilitator, Researcher, Int, I).
    overwrite : bool, default False
        Write into a non-empty ``out_dir`` (files of the same names are replaced).

    Returns
    -------
    ImportReport
        ``counts`` (documents, participants, codes, coders, codings in the source, written, not
        written, on no turn), ``problems`` (what was not carried over), ``next_steps``, ``files``.

    Raises
    ------
    JourneylabError
        The source is not one of the three formats or is damaged (naming the file), ``out_dir`` is
        not empty, or a CSV comes without ``transcripts``.

    Notes
    -----
    **Transcripts.** Each document's text is written unchanged as UTF-8 ``transcripts/<doc>.txt``
    (Taguette: the text of its HTML, one line per paragraph; REFI-QDA: the plain text, ``\\n``
    line ends), so every span position stays valid. A document whose text has speaker labels
    (``Name: ...``) is read by turns; one without is read one paragraph per turn
    (``transcripts: {speaker_labels: false}`` in study.yml, or ``unlabelled: [...]`` when only
    some documents lack labels). When the same participant label (``Participant:``,
    ``Respondent:``) appears in several documents, study.yml gets
    ``transcripts: {participant_from: file}``: each document is one participant, named by its
    file stem.

    **Codings.** One row per coding of the source (a Taguette highlight–tag pair, a REFI-QDA
    coding of a text selection), with ``doc_id, start, end`` (code points into the transcript
    as written, end exclusive), ``text`` (the coded text, checked on load), ``segment_id`` (the
    turn the span starts in, as :func:`journeylab.load_study` computes it), ``code``, ``coder``,
    ``origin``, ``memo``; one file per coder. A coding without an exact place (a highlights-CSV
    snippet found nowhere or at several places, offsets outside the text) goes to
    ``import_leftovers.csv`` and is reported.

    **Not carried over** (reported): non-text sources (pictures, PDF, audio, video), links,
    graphs, project notes, case-level references; see ``problems``.

    Examples
    --------
    >>> import journeylab as jl, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "my_study"
    >>> report = jl.import_project("tests/data/taguette/project.sqlite3", out_dir=out)  # doctest: +SKIP
    >>> report.counts["codings_written"], report.counts["codings_in_source"]    # doctest: +SKIP
    (14, 14)
    >>> jl.load_study(out).codings[["doc_id", "start", "end", "code"]].shape    # doctest: +SKIP
    (14, 4)
    """
    check_path(source, arg="source", func="import_project")
    check_path(out_dir, arg="out_dir", func="import_project")
    if not isinstance(overwrite, bool):
        raise JourneylabError(f"import_project(): `overwrite` must be True or False, got {overwrite!r}")
    if coder is not None and (not isinstance(coder, str) or not coder.strip()):
        raise JourneylabError(f"import_project(): `coder` must be a non-empty str, got {coder!r}")
    source, out = Path(source), Path(out_dir)
    if not source.is_file():
        raise JourneylabError(f"{source}: file not found; expected a Taguette project (.sqlite3), a Taguette "
                              "highlights export (.csv) or a REFI-QDA project (.qdpx)")
    if out.exists() and not out.is_dir():
        raise JourneylabError(f"import_project(): out_dir {str(out)!r} is a file; expected a folder to create")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise JourneylabError(f"import_project(): out_dir {str(out)!r} is not empty; choose a new folder "
                              "(or pass overwrite=True / --overwrite)")
    kind = _kind(source)
    src = _read_source(source, kind, transcripts=transcripts, coder=coder, interviewer_labels=interviewer_labels)
    problems = [p for p in src.problems if p.severity != "info" and not any(m in p.message for m in _RESEGMENTED)]

    # --- documents -> transcripts/
    docs = src.documents.reset_index(drop=True)
    empty = docs["text"].astype(str).str.strip() == ""
    for d in docs.loc[empty, "doc_id"]:
        problems.append(Problem(source.name, None, None, f"document {d!r} has no text; not written", "warning"))
    docs = docs[~empty].reset_index(drop=True)
    if not len(docs):
        raise JourneylabError(f"{source}: holds no text document ({len(src.codebook or [])} codes, "
                              f"{len(src.documents)} text sources); nothing to import as a study (a codebook-only "
                              "export? read its codebook with jl.import_qdpx(path).codebook)")
    stems = _file_stems(docs["doc_id"].astype(str))
    labelled = {d: _labelled(t, stems[d], interviewer_labels) for d, t in zip(docs["doc_id"].astype(str), docs["text"])}
    unlabelled = [stems[d] for d, ok in labelled.items() if not ok]
    all_unlabelled = len(unlabelled) == len(docs)

    # --- codings: one row per coding, with its exact span
    cod = src.codings.copy()
    if "span_start" not in cod.columns:
        cod["span_start"] = pd.array([pd.NA] * len(cod), dtype="Int64")
        cod["span_end"] = pd.array([pd.NA] * len(cod), dtype="Int64")
    cod = _one_row_per_coding(cod)
    n_source = len(cod)
    known = cod["doc_id"].astype(str).isin(stems) if len(cod) else pd.Series([], dtype=bool)
    placed = cod["span_start"].notna() & cod["span_end"].notna() & known
    leftovers = cod[~placed]

    out.mkdir(parents=True, exist_ok=True)
    files = []
    (out / "transcripts").mkdir(exist_ok=True)
    for d, text in zip(docs["doc_id"].astype(str), docs["text"]):
        (out / "transcripts" / f"{stems[d]}.txt").write_text(text, encoding="utf-8", newline="\n")
        files.append(f"transcripts/{stems[d]}.txt")

    # participants: read the transcripts as load_study will, to know who speaks
    seg_by_doc = {}
    for d in docs["doc_id"].astype(str):
        stem = stems[d]
        doc = read_document(out / "transcripts" / f"{stem}.txt", interviewer_labels=interviewer_labels,
                            speaker_labels=stem not in unlabelled, display_path=f"transcripts/{stem}.txt")
        seg_by_doc[stem] = doc.segments
    label_docs: dict = {}
    for stem, seg in seg_by_doc.items():
        if stem in unlabelled:
            continue
        for pid in seg["participant_id"].dropna().unique():
            label_docs.setdefault(str(pid), []).append(stem)
    shared = sorted(p for p, ds in label_docs.items() if len(ds) > 1)
    if shared:
        problems.append(Problem(source.name, None, None, f"the participant label(s) {', '.join(map(repr, shared[:5]))} "
                                f"appear in several documents; each document is read as one participant named by "
                                "its file stem (study.yml: transcripts: {participant_from: file})", "warning"))
    part_rows = []
    src_parts = src.participants.set_index("participant_id") if len(src.participants) else None
    for stem, seg in seg_by_doc.items():
        if shared or stem in unlabelled:
            pids = [stem] if (seg["speaker_role"] == "participant").any() else []
        else:
            pids = [str(p) for p in seg["participant_id"].dropna().unique()]
        d = next(k for k, v in stems.items() if v == stem)
        case = docs.loc[docs["doc_id"].astype(str) == d, "participant_id"].iloc[0]
        for pid in pids:
            row = {"participant_id": pid, "transcript": stem}
            attrs_from = pid if src_parts is not None and pid in src_parts.index else (
                case if isinstance(case, str) and src_parts is not None and case in src_parts.index else None)
            if attrs_from is not None:
                if attrs_from != pid:
                    row["case"] = attrs_from
                for k, v in src_parts.loc[attrs_from].items():
                    row[k] = v
            part_rows.append(row)
    participants = pd.DataFrame(part_rows)
    if len(participants):
        participants = participants.drop_duplicates("participant_id", keep="first")
    else:
        participants = pd.DataFrame({"participant_id": pd.Series(dtype=str), "transcript": pd.Series(dtype=str)})
    write_csv(participants, path=out / "participants.csv")
    files.append("participants.csv")

    # study.yml and codebook.yml
    codebook = src.codebook if isinstance(src.codebook, Codebook) else Codebook([], name=str(src.name))
    (out / "study.yml").write_text(
        _yaml_text(str(src.name), source, stages=_codebook_stages(codebook), unlabelled=unlabelled,
                   all_unlabelled=all_unlabelled, shared_labels=bool(shared), interviewer_labels=interviewer_labels),
        encoding="utf-8")
    files.insert(0, "study.yml")
    used = set(cod["code"].astype(str))
    missing = sorted(c for c in used if c not in codebook)
    if missing:
        codebook = Codebook(list(codebook) + [Code(c) for c in missing], name=codebook.name)
        problems.append(Problem(source.name, None, None, f"{len(missing)} code(s) used by codings are not in the "
                                f"project's codebook ({', '.join(map(repr, missing[:5]))}); added to codebook.yml",
                                "warning"))
    codebook.to_yaml(out / "codebook.yml")
    files.append("codebook.yml")

    # codings/<coder>.csv (segment_id left to load_study, then filled in from what it computed)
    rows = cod[placed].copy()
    rows["doc_id"] = rows["doc_id"].astype(str).map(stems)
    rows["start"] = rows["span_start"].astype("int64")
    rows["end"] = rows["span_end"].astype("int64")
    texts = {stems[d]: t for d, t in zip(docs["doc_id"].astype(str), docs["text"])}
    rows["text"] = [texts[d][a:b] for d, a, b in zip(rows["doc_id"], rows["start"], rows["end"])]
    # load_study checks it: a later edit of a transcript cannot move a coding silently
    rows["fingerprint"] = [fingerprint(texts[d], a, b) for d, a, b in zip(rows["doc_id"], rows["start"], rows["end"])]
    rows["segment_id"] = ""
    rows["origin"] = rows["origin"].fillna("manual")
    extra = [c for c in ("decided_at", "highlight_id") if c in rows.columns and rows[c].notna().any()] + ["fingerprint"]
    coding_dir = out / "codings"
    coding_dir.mkdir(exist_ok=True)
    coder_stems = _file_stems(sorted(rows["coder"].astype(str).unique()))
    for name, group in rows.groupby(rows["coder"].astype(str), sort=True):
        frame = group[CODINGS_FILE_COLUMNS + extra].sort_values(["doc_id", "start", "end", "code"], kind="stable")
        write_csv(frame, path=coding_dir / f"{coder_stems[name]}.csv")
        files.append(f"codings/{coder_stems[name]}.csv")
    if len(leftovers):
        left = leftovers.drop(columns=[c for c in ("span_start", "span_end") if c in leftovers.columns])
        write_csv(left, path=out / "import_leftovers.csv")
        files.append("import_leftovers.csv")
        problems.append(Problem(source.name, None, None, f"{len(leftovers)} coding(s) have no exact place in the "
                                "text (see the problems above); kept in import_leftovers.csv, not in codings/",
                                "warning"))

    # let load_study compute each span's turn, then write it into the files
    n_no_turn = 0
    try:
        loaded = load_study(out, redact=False)
    except JourneylabError as exc:
        raise JourneylabError(f"import_project(): the study folder written to {out} does not load; this is a bug in "
                              f"the import, please report it with the source file:\n{exc}") from None
    if len(rows):
        turn = (loaded.codings.dropna(subset=["start"])
                .set_index(["coder", "doc_id", "start", "end", "code"])["segment_id"])
        turn = turn[~turn.index.duplicated()]
        for name in coder_stems:
            path = coding_dir / f"{coder_stems[name]}.csv"
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
            key = list(zip(frame["coder"], frame["doc_id"], frame["start"].astype(int), frame["end"].astype(int),
                           frame["code"]))
            frame["segment_id"] = [turn.get(k, "") for k in key]
            n_no_turn += int((frame["segment_id"] == "").sum())
            write_csv(frame, path=path)  # write_csv re-neutralises what read_csv gave back as written
    report_problems = problems + [p for p in loaded.problems if p.severity == "warning" and
                                  "covers no turn" in p.message]
    on_interviewer = participant_codings(loaded.codings, segments=loaded.segments, what="the analyses",
                                         warn=False).n_left_out
    counts = {"documents": len(docs), "participants": len(participants), "codes": len(codebook),
              "coders": len(coder_stems), "codings_in_source": n_source, "codings_written": int(placed.sum()),
              "codings_not_written": len(leftovers), "codings_on_no_turn": n_no_turn,
              "codings_on_interviewer_turns": on_interviewer}
    staged = _codebook_stages(codebook)
    steps = [f"Edit {out / 'study.yml'}: " + (f"check the stages taken from the codebook ({', '.join(staged)}), "
                                               "add the missing ones in journey order" if staged else
                                               "name your journey's stages and touchpoints (one stage 'journey' "
                                               "for now)") + ".",
             f"Add attributes to {out / 'participants.csv'} (persona, segment, ...); one row per participant."]
    n_unstaged = sum(1 for c in codebook if c.stage is None)
    if n_unstaged:
        steps.append(f"Give the {n_unstaged} code(s) without a stage theirs in {out / 'codebook.yml'} (stage: ...) "
                     "so the map can place them.")
    if unlabelled:
        steps.append(f"{len(unlabelled)} transcript(s) have no speaker labels and are read one paragraph per turn, "
                     "all the participant's: if the moderator's lines are in them, set transcripts: "
                     "{moderator_pattern: ...} in study.yml.")
    steps += [f"journeylab validate {out}", f"journeylab run {out} --out results"]
    return ImportReport(source=source, kind=kind, out_dir=out, counts=counts, problems=report_problems,
                        next_steps=steps, files=files)
