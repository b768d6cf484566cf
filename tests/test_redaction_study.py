"""End to end: personal details planted everywhere a user writes text never reach load_study's outputs or exports.

A copy of tests/data/other_study is seeded with the labelled corpus (tests/data/pii_corpus.yml): every
positive sentence goes into a transcript turn, a survey free-text column (the mapped `feedback` and a
new `why_cancel`), a coding memo, notes.yml and a codebook example. The study is loaded, its codings
exported with jl.export_qdpx and jl.write_csv, and no planted value may appear in any output.
"""
from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

import journeylab as jl

DATA = Path(__file__).parent / "data"
CORPUS = yaml.safe_load((DATA / "pii_corpus.yml").read_text(encoding="utf-8"))
POSITIVES = [p["text"] for p in CORPUS["positives"]]
PLANTED = sorted({str(v) for p in CORPUS["positives"] for v, _ in p["pii"]}, key=len, reverse=True)


def _present(value: str, text: str) -> bool:
    return re.search(rf"(?<![\w@]){re.escape(value)}(?![\w])", text) is not None


def seed(root: Path) -> Path:
    shutil.copytree(DATA / "other_study", root)
    # the corpus's participants join the study's (no interview of their own)
    parts = pd.read_csv(root / "participants.csv", dtype=str)
    extra = pd.DataFrame({"pid": list(CORPUS["participants"]), "name": list(CORPUS["participants"].values()),
                          "profile": "weeknight cook", "platform": "ios", "interview_date": "2026-03-14"})
    pd.concat([parts, extra], ignore_index=True).to_csv(root / "participants.csv", index=False)
    # transcripts: one participant turn per sentence, positives and negatives, at the end of G1.txt
    lines = []
    for k, sent in enumerate(POSITIVES + CORPUS["negatives"]):
        lines.append(f"[00:{10 + k // 60:02d}:{k % 60:02d}] Moderator: And then?\n\n"
                     f"[00:{10 + k // 60:02d}:{k % 60:02d}] G1: {sent}\n")
    with open(root / "transcripts" / "G1.txt", "a", encoding="utf-8") as fh:
        fh.write("\n" + "\n".join(lines))
    # survey: the comment column (feedback) and another free-text column
    survey = pd.read_csv(root / "survey.csv", dtype=str, keep_default_na=False)
    n = len(survey)
    survey["feedback"] = [POSITIVES[i % len(POSITIVES)] for i in range(n)]
    survey["why_cancel"] = [POSITIVES[(i + 50) % len(POSITIVES)] for i in range(n)]
    survey.to_csv(root / "survey.csv", index=False)
    # coding memos
    for name in ("lee.csv", "sam.csv"):
        cod = pd.read_csv(root / "codings" / name, dtype=str, keep_default_na=False)
        cod["memo"] = [POSITIVES[(i * 7 + len(name)) % len(POSITIVES)] for i in range(len(cod))]
        cod.to_csv(root / "codings" / name, index=False)
    # notes.yml and codebook examples
    notes = yaml.safe_load((root / "notes.yml").read_text(encoding="utf-8"))
    notes["personas"]["all"]["description"] = " ".join(POSITIVES[:40])
    notes["stages"]["renew"]["opportunities"].append({"text": " ".join(POSITIVES[40:])})
    (root / "notes.yml").write_text(yaml.safe_dump(notes, allow_unicode=True), encoding="utf-8")
    cb = yaml.safe_load((root / "codebook.yml").read_text(encoding="utf-8"))
    cb["codes"][0]["examples"] = POSITIVES[::3]
    (root / "codebook.yml").write_text(yaml.safe_dump(cb, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    root = seed(tmp_path_factory.mktemp("pii") / "study")
    return root, jl.load_study(root)


def _leaks(text: str) -> list:
    """Planted values still in ``text`` (the negative sentences, which must stay, are taken out first)."""
    for sent in CORPUS["negatives"]:
        text = text.replace(sent, " ")
    return [v for v in PLANTED if _present(v, text)]


def test_seeding_reached_every_part_unredacted(seeded):
    root, _ = seeded
    raw = jl.load_study(root, redact=False)
    assert all(s in raw.documents["text"].str.cat() for s in POSITIVES[:5])
    assert _leaks(" ".join(raw.survey["why_cancel"])) and _leaks(" ".join(raw.codings["memo"].dropna()))
    assert _leaks(str(raw.notes)) and _leaks(" ".join(raw.codebook.codes[0].examples))


def test_load_study_outputs_hold_no_planted_detail(seeded):
    _, study = seeded
    parts = {
        "segments": " \n".join(study.segments["text"]),
        "documents": " \n".join(study.documents["text"]),
        "speakers": " ".join(study.segments["speaker"].dropna().astype(str)),
        "survey": study.survey.astype(str).to_csv(),
        "codings": study.codings.astype(str).to_csv(),
        "notes": yaml.safe_dump(study.notes, allow_unicode=True),
        "codebook": " ".join(e for c in study.codebook.codes for e in c.examples),
        "participants": study.participants.astype(str).to_csv(),
        "redactions": study.redactions.astype(str).to_csv(),
    }
    leaks = {k: _leaks(v) for k, v in parts.items()}
    assert not any(leaks.values()), {k: v for k, v in leaks.items() if v}
    # negatives pass through untouched and segments still point into their documents
    for sent in CORPUS["negatives"]:
        assert sent in parts["segments"], sent
    texts = study.documents.set_index("doc_id")["text"]
    for seg in study.segments.itertuples():
        assert texts[seg.doc_id][seg.start:seg.end] == seg.text
    assert set(study.redactions["source"]) == {"transcripts", "survey", "codings", "notes", "codebook"}
    assert {"comment", "why_cancel"} <= set(study.redactions.loc[study.redactions["source"] == "survey", "field"])


def test_exports_hold_no_planted_detail(seeded, tmp_path):
    _, study = seeded
    qdpx = jl.export_qdpx(study, codings=study.codings, path=tmp_path / "study.qdpx")
    with zipfile.ZipFile(qdpx) as zf:
        exported = " \n".join(zf.read(n).decode("utf-8", errors="replace") for n in zf.namelist())
    assert "[PHONE]" in exported  # the transcripts and memos are in there, redacted
    assert _leaks(exported) == []
    csv_path = jl.write_csv(study.codings, path=tmp_path / "codings.csv")
    assert _leaks(csv_path.read_text(encoding="utf-8")) == []


def test_journey_map_uses_the_redacted_notes(seeded):
    _, study = seeded
    nt = jl.load_notes(study.notes)
    text = str(nt)
    assert "[PHONE]" in text and _leaks(text) == []


def test_redaction_review_lists_replacements_from_every_source(seeded):
    _, study = seeded
    review = jl.redaction_review(study)
    assert list(review.columns) == ["action", "source", "doc_id", "segment_id", "field", "kind", "value", "reason",
                                    "start", "end", "context"]
    replaced = review[review["action"] == "replaced"]
    assert len(replaced) == len(study.redactions)
    assert set(replaced["source"]) == {"transcripts", "survey", "codings", "notes", "codebook"}
    # the context is redacted text around the placeholder, and never a planted value
    for r in replaced.head(200).itertuples():
        assert r.value in r.context
    # contexts are cut mid-sentence, so words that negative sentences keep ("Grace period") are not checked here
    in_negatives = [v for v in PLANTED if any(_present(v, n) for n in CORPUS["negatives"])]
    assert sorted(in_negatives) == ["Grace", "Hope", "Will"]
    text = review.astype(str).to_csv()
    assert [v for v in PLANTED if v not in in_negatives and _present(v, text)] == []


def test_review_keeps_and_flags_a_word_name_without_context(tmp_path):
    root = seed(tmp_path / "s")
    with open(root / "transcripts" / "G2.vtt", "a", encoding="utf-8") as fh:
        fh.write("\n99:00:00.000 --> 99:00:05.000\nG2: I asked Will about it, but nobody knew.\n")
    study = jl.load_study(root)
    review = jl.redaction_review(study)
    kept = review[review["action"] == "kept"]
    assert not kept.empty and (kept["reason"].str.len() > 0).all()
    assert set(kept["kind"]) <= {"name", "person"}


def test_an_imported_qda_project_is_redacted_by_redact_study(seeded, tmp_path):
    root, _ = seeded
    raw = jl.load_study(root, redact=False)
    path = jl.export_qdpx(raw, codings=raw.codings, path=tmp_path / "raw.qdpx")  # a project made elsewhere, unredacted
    imported = jl.import_qdpx(path)
    assert not imported.redacted and _leaks(" ".join(imported.documents["text"]))
    study = jl.redact_study(imported)
    assert study.redacted and len(study.redactions)
    texts = " ".join(study.documents["text"]) + " ".join(study.segments["text"])
    memos = " ".join(study.codings["memo"].dropna().astype(str))
    assert _leaks(texts) == [] and _leaks(memos) == []
    assert imported.documents["text"].str.cat() != study.documents["text"].str.cat()  # the input is untouched
    with pytest.raises(jl.JourneylabError, match=r"`region` must be a two-letter region code"):
        jl.redact_study(imported, region="UK1")
