"""`journeylab run` on a bare study: no product change in study.yml and a single coder.

The notebooks must not assume what a study may leave out: notebook 03 needs two coders to
measure agreement, notebook 05 a recorded change for its before/after test (and exercises 3.1,
5.1 and 5.2 are about them). On a study without them every notebook runs to the end, says in
its output why a section does not apply, and the exercise checks say "not applicable".

The bare study is tests/data/other_study with `changes:` removed and one of its two coders'
files deleted, made in tmp. Its transcript, survey comments and coding memos also carry
spreadsheet formulas (CSV injection, issue 10): no CSV of the run may hold a text cell a
spreadsheet would execute. They also carry personal details from the labelled PII corpus
(tests/data/pii_corpus.yml, one or two sentences per kind) in a transcript turn, survey comments,
coding memos and notes.yml: none of them may reach any file of the run (issue 16), read as text,
inside the .qdpx zips and in every table of every SQLite file. The interviews-only study has no survey.csv, event log or codings/
(all optional in study.yml's format): every notebook still runs and says why a section does not
apply. Cost: two `journeylab run`s of the whole sequence (~35 s each).
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from journeylab.run.pipeline import notebook_paths, run

OTHER = Path(__file__).resolve().parent / "data" / "other_study"


def _text(nb_path: Path) -> str:
    """Everything a notebook printed or displayed (as plain text)."""
    nb = nbformat.read(nb_path, as_version=4)
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            data = out.get("data", {})
            parts.append(data.get("text/plain", ""))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def bare_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("bare")
    study = shutil.copytree(OTHER, base / "bare_study")
    config = yaml.safe_load((study / "study.yml").read_text(encoding="utf-8"))
    assert config.pop("changes")
    (study / "study.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (study / "codings" / "sam.csv").unlink()
    _plant_formulas(study)
    _plant_pii(study)
    out = base / "out"
    manifest = run(study, out, quiet=True)
    return out, manifest


# Text a spreadsheet would run as a formula (OWASP's CSV-injection examples; OWASP's "@SUM(..." is
# not used: the redaction step rightly reads "@SUM" as a social-media handle and replaces it).
HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "@(SUM(1+1))*cmd|' /C calc'!A0",
           "-2+3+cmd|' /C calc'!A0"]


def _plant_formulas(study: Path) -> None:
    """Formulas in a transcript turn, survey comments and coding memos of the study copy."""
    with open(study / "transcripts" / "G1.txt", "a", encoding="utf-8") as fh:
        fh.write("".join(f"\n[00:02:{10 + i}] G1: {text}\n" for i, text in enumerate(HOSTILE)))
    for name, column in [("survey.csv", "feedback"), ("codings/lee.csv", "memo")]:
        with open(study / name, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        for row, text in zip(rows, HOSTILE):
            row[column] = text
        with open(study / name, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


PII_CORPUS = Path(__file__).resolve().parent / "data" / "pii_corpus.yml"


def _pii_sentences() -> list[dict]:
    """Two corpus sentences per kind (participant names excepted: this study's participants.csv has
    none), each with details of at least five characters so that a hit is not chance."""
    corpus = yaml.safe_load(PII_CORPUS.read_text(encoding="utf-8"))
    chosen, per_kind = [], {}
    for p in corpus["positives"]:
        kinds = {k for _, k in p["pii"]}
        if "name" in kinds or any(len(str(v)) < 5 for v, _ in p["pii"]):
            continue
        if all(per_kind.get(k, 0) >= 2 for k in kinds):
            continue
        chosen.append(p)
        for k in kinds:
            per_kind[k] = per_kind.get(k, 0) + 1
    return chosen


def _plant_pii(study: Path) -> None:
    sentences = [p["text"] for p in _pii_sentences()]
    quarter = max(1, len(sentences) // 4)
    parts = [sentences[:quarter], sentences[quarter:2 * quarter], sentences[2 * quarter:3 * quarter],
             sentences[3 * quarter:]]
    with open(study / "transcripts" / "G4.txt", "a", encoding="utf-8") as fh:
        fh.write("".join(f"\nG4: {text}\n" for text in parts[0]))
    for name, column, texts in [("survey.csv", "feedback", parts[1]), ("codings/lee.csv", "memo", parts[2])]:
        with open(study / name, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        for row, text in zip(rows[len(HOSTILE):], texts):   # the first rows carry the formulas
            row[column] = text
        with open(study / name, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    notes = yaml.safe_load((study / "notes.yml").read_text(encoding="utf-8"))
    first_stage = next(iter(notes["stages"].values()))
    first_stage["opportunities"].append({"text": " ".join(parts[3])})
    first_stage["owner"] = first_stage.get("owner", "") + " (" + parts[3][0] + ")"
    (study / "notes.yml").write_text(yaml.safe_dump(notes, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _texts_of_the_run(out: Path):
    """(where, text) for every file of the run: text files as text, zips member by member, every
    text cell of every SQLite table; images are pixels (skipped), PDFs are compressed (skipped)."""
    import sqlite3
    import zipfile

    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        where = str(path.relative_to(out))
        head = path.read_bytes()[:16]
        if head.startswith(b"SQLite format 3"):
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
                for table in tables:
                    for row in con.execute(f'SELECT * FROM "{table}"'):
                        yield f"{where}:{table}", " ".join(str(v) for v in row if v is not None)
            finally:
                con.close()
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                for member in zf.namelist():
                    yield f"{where}!{member}", zf.read(member).decode("utf-8", "replace")
        elif path.suffix.lower() in (".png", ".pdf", ".jpg", ".gz", ".parquet"):
            continue
        else:
            yield where, path.read_bytes().decode("utf-8", "replace")


def test_no_planted_personal_detail_reaches_any_file_of_the_run(bare_run):
    out, _ = bare_run
    values = {str(v): k for p in _pii_sentences() for v, k in p["pii"]}
    assert len(set(values.values())) >= 12          # every kind but participant names
    seen_files, leaks = 0, []
    for where, text in _texts_of_the_run(out):
        seen_files += 1
        leaks += [(where, kind, value) for value, kind in values.items() if value in text]
    assert seen_files >= 30
    assert leaks == []
    # the planted sentences did travel: their words around the details are in the outputs
    everything = "\n".join(text for _, text in _texts_of_the_run(out))
    assert "[PHONE]" in everything and "[EMAIL]" in everything


def test_every_notebook_runs_and_writes_the_map_and_report(bare_run):
    out, manifest = bare_run
    assert manifest["status"] == "ok" and manifest["failed"] is None
    assert manifest["notebooks"] == [p.name for p in notebook_paths()]
    for name in ["journey_map.png", "journey_map.svg", "journey_map.pdf", "journey_map.json", "report.html",
                 "evidence_table.csv", "codings.csv", "funnel_steps.csv", "nps.csv"]:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    # what needs two coders or a change was not written
    for name in ["agreement.csv", "gold_codings.csv", "one-page_payment_form_before_after.csv", "report_before_after.html"]:
        assert not (out / name).exists(), name
    jmap = json.loads((out / "journey_map.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in jmap["stages"]] == ["discover", "try", "subscribe", "renew"]


def test_notebooks_say_why_a_section_does_not_apply(bare_run):
    out, _ = bare_run
    needs_two = "needs two coders who coded the same interviews (codings/), which this study does not have."
    reliability = _text(out / "notebooks" / "03_reliability.ipynb")
    # every section of 03 says it is skipped, and nothing else ran (exercise 3.1 sits in a skipped section)
    assert reliability.count(needs_two) == 4 and "Skipped: Two coders, coding blind: agreement " + needs_two in reliability
    assert "kappa" not in reliability.lower()
    metrics = _text(out / "notebooks" / "05_metrics.ipynb")
    no_change = "needs a product change (study.yml `changes:`) with an event log to test it, which this study does not have."
    assert "Skipped: Did the change work? " + no_change in metrics
    assert metrics.count(no_change) == 4      # CSAT/NPS by period, the test, by group, the placebo
    assert "Not applicable" not in metrics
    # the funnel sections look at the weakest step pair instead of the changed one
    assert "plan_viewed → payment_added, its weakest step" in metrics
    assert "A funnel is a definition: runs." in metrics
    interop = _text(out / "notebooks" / "08_interop.ipynb")
    assert "Skipped: Codes from another tool, and agreement with them needs a Taguette project" in interop


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_no_csv_of_the_run_holds_a_formula(bare_run):
    # every CSV the notebooks and the run wrote, read as a spreadsheet would: a text cell starting
    # with = + @ or - would run; journeylab writes it with a leading quote (jl.write_csv)
    out, _ = bare_run
    paths = sorted(out.rglob("*.csv"))
    assert len(paths) >= 20
    neutralised = set()
    for path in paths:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for line, row in enumerate(csv.reader(fh), 1):
                for cell in row:
                    assert not (cell.startswith(("=", "+", "@", "-")) and not _is_number(cell)), \
                        f"{path.relative_to(out)}, line {line}: {cell[:60]!r}"
                    neutralised.update(h for h in HOSTILE if cell == "'" + h)
    # the planted formulas did reach the tables (coding memos, quotes), quoted
    assert neutralised == set(HOSTILE)


@pytest.fixture(scope="module")
def interviews_run(tmp_path_factory):
    """other_study with interviews only: no survey.csv, no event log, no codings/."""
    base = tmp_path_factory.mktemp("interviews")
    study = shutil.copytree(OTHER, base / "interviews_only")
    (study / "survey.csv").unlink()
    (study / "events.csv").unlink()
    shutil.rmtree(study / "codings")
    import journeylab as jl
    assert jl.validate_study(study) == []   # all three are optional
    out = base / "out"
    return out, run(study, out, quiet=True)


def test_a_study_of_interviews_only_runs_through(interviews_run):
    out, manifest = interviews_run
    assert manifest["status"] == "ok" and manifest["notebooks"] == [p.name for p in notebook_paths()]
    for name in ["journey_map.png", "journey_map.svg", "journey_map.pdf", "report.html", "evidence_table.csv",
                 "codings.csv", "code_frequencies.csv", "sentiment_segments.csv"]:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    for name in ["funnel_steps.csv", "nps.csv", "csat.csv", "sentiment_survey.csv", "rule_quality.csv"]:
        assert not (out / name).exists(), name
    # without people's codings, 02's frequencies count the rule codings
    with open(out / "code_frequencies.csv", encoding="utf-8", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 8   # the rules' 8 codes (other_study's codebook)


def test_interviews_only_notebooks_say_why(interviews_run):
    out, _ = interviews_run
    no_survey = "a survey (survey.csv)"
    no_events = "an event log (events.csv, events.csv.gz or events.parquet)"
    no_codings = "codings (a CSV file per coder in codings/)"
    text = {p.name[:2]: _text(p) for p in (out / "notebooks").glob("*.ipynb")}
    assert "Skipped: The survey needs " + no_survey in text["01"]
    assert "Skipped: The event log needs " + no_events in text["01"]
    assert "Skipped: Exercise 1.2: blank answers needs " + no_survey in text["01"]
    assert "Skipped: What rules cannot do needs " + no_codings in text["02"]
    assert "Reading the coding: runs." in text["02"]      # on the rule codings
    assert "Skipped: Two coders, coding blind: agreement needs two coders" in text["03"]
    assert "Skipped: Comments against scores needs comments" in text["04"] or no_survey in text["04"]
    assert "Skipped: A funnel is a definition needs " + no_events in text["05"]
    assert "Skipped: NPS needs " + no_survey in text["05"]
    assert "Skipped: Did the change work? needs a testable change (this study has no event log" in text["05"]
    assert "Skipped: A coded selection in the project needs " + no_codings in text["08"]
    for t in text.values():   # no traceback anywhere
        assert "Traceback" not in t and "Error" not in t.replace("JourneylabError", "")
