"""Every notebook on any valid study: only participant ids, transcripts and stages are required.

`strip_study` makes copies of tests/data/other_study without the optional parts (personas and every
other participant attribute, the survey or some of its columns, the event log's properties, the
codebook's rules, the codings). The fast tests check the sections registry (`jl.section`,
`jl.section_plan`) and `journeylab validate`'s table on them; one `journeylab run` on a study
stripped of almost everything checks that every notebook runs and that nothing of the sample study
leaks into what it writes (~90 s: ten kernels).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from strategies import sample_words_in

import journeylab as jl
from journeylab.map.journey_map import _amount
from journeylab.run.sections import SECTIONS, section

OTHER = Path(__file__).resolve().parent / "data" / "other_study"
ROOT = Path(__file__).resolve().parents[1]

#: Words of the sample study (Larkspur & Co., e-commerce) that must never reach another study's outputs.
SAMPLE_WORDS = ["Larkspur", "homeware", "shipping form", "overpriced", "flimsy", "sample_study", "orders",
                "bargain hunter", "amara", "jonas"]
#: ... and that must not reach even the executed notebooks (the sample's findings are tagged
#: `sample-study` in the notebooks and left out of a run on another study).
STORY_WORDS = ["Larkspur", "homeware", "shipping form", "overpriced", "flimsy", "sample_study", "orders"]


def strip_study(dst: Path, *, personas=True, attributes=True, survey=True, nps="keep", csat=True,
                event_properties=True, rules=True, codings=True, single_persona=False) -> Path:
    """A copy of other_study without some optional parts.

    nps: "keep", "drop" (no NPS column) or "blank" (the column is there, every answer blank).
    """
    shutil.copytree(OTHER, dst)
    cfg = yaml.safe_load((dst / "study.yml").read_text(encoding="utf-8"))
    part = pd.read_csv(dst / "participants.csv", dtype=str)
    if not attributes:
        part = part[["pid"]]
    elif not personas:
        part = part.drop(columns=["profile"])
    if single_persona:
        part["profile"] = "weeknight cook"
        cfg["personas"] = ["weeknight cook"]
    if not personas or not attributes:
        cfg.pop("personas", None)
        cfg["columns"]["participants"] = {"participant_id": "pid"}
    part.to_csv(dst / "participants.csv", index=False)
    if not survey:
        (dst / "survey.csv").unlink()
    else:
        sv = pd.read_csv(dst / "survey.csv", dtype=str)
        if nps == "drop":   # and study.yml no longer names it (naming a missing column is an error)
            sv = sv.drop(columns=["likelihood_to_recommend"])
            cfg["survey"].pop("nps")
        elif nps == "blank":
            sv["likelihood_to_recommend"] = ""
        if not csat:
            sv = sv.drop(columns=["sat_first_box", "sat_payment"])
            cfg["survey"].pop("csat", None)
        if not personas or not attributes or single_persona:
            sv = sv.drop(columns=["profile"])
            cfg["columns"]["survey"].pop("persona", None)
        sv.to_csv(dst / "survey.csv", index=False)
    if not event_properties:
        ev = pd.read_csv(dst / "events.csv", dtype=str)
        ev.drop(columns=["platform"]).to_csv(dst / "events.csv", index=False)
        cfg["columns"]["events"].pop("device", None)
    if not rules:
        book = yaml.safe_load((dst / "codebook.yml").read_text(encoding="utf-8"))
        for code in book["codes"]:
            code.pop("rules", None)
        (dst / "codebook.yml").write_text(yaml.safe_dump(book, sort_keys=False), encoding="utf-8")
    if not codings:
        shutil.rmtree(dst / "codings")
    (dst / "study.yml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return dst


VARIANTS = {
    "no_personas": dict(personas=False),
    "only_participant_id": dict(attributes=False),
    "no_survey": dict(survey=False),
    "survey_without_nps": dict(nps="drop"),
    "survey_blank_nps": dict(nps="blank"),
    "events_without_properties": dict(event_properties=False),
    "codebook_without_rules": dict(rules=False),
    "no_codings": dict(codings=False),
    "single_persona": dict(single_persona=True),
}

#: The study `journeylab run` is tested on: almost everything optional left out.
BARE = dict(attributes=False, nps="blank", csat=False, event_properties=False, rules=False, codings=False)


def _plan(tmp_path, name):
    study = jl.load_study(strip_study(tmp_path / name, **VARIANTS[name]))
    plan = jl.section_plan(study)
    return study, plan.set_index("section")


#: Sections for usability sessions, which the sample study (interviews, survey, event log) has not.
USABILITY_ONLY = {"05.tasks", "05.questionnaire"}


def test_every_variant_is_valid_and_sample_runs_everything(sample_study):
    plan = jl.section_plan(sample_study)
    runs = plan.set_index("section")["runs"]
    assert runs.drop(list(USABILITY_ONLY)).all(), plan[~plan["runs"]]
    assert not runs[list(USABILITY_ONLY)].any()
    assert set(plan["notebook"]) == {k for k, v in SECTIONS.items() if any(s.needs for s in v)}
    # and the bundled usability study runs them
    usability = jl.section_plan(jl.load_study(jl.datasets.usability_study_path())).set_index("section")["runs"]
    assert usability[list(USABILITY_ONLY)].all()


@pytest.mark.parametrize("name, skipped, reason", [
    ("no_personas", ["01.personas", "05.nps_persona", "07.personas", "06.personas"], "two or more personas"),
    ("only_participant_id", ["01.personas", "07.before_after"], "interview_date"),
    ("no_survey", ["01.survey", "05.nps", "05.csat", "04.comments", "05.drivers"], "a survey (survey.csv)"),
    ("survey_without_nps", ["01.nps", "05.nps", "05.drivers"], "an NPS column in survey.csv ('nps'; name yours in study.yml"),
    ("survey_blank_nps", ["01.nps", "05.nps", "04.nps_groups"], "column 'likelihood_to_recommend' is blank"),
    ("events_without_properties", ["05.groups", "05.change_groups", "09.groups"], "a property in the event log"),
    ("codebook_without_rules", ["02.rules", "02.saturation", "04.per_code"], "matching rules in the codebook"),
    ("no_codings", ["03.agreement", "08.selection", "02.rule_quality"], "codings"),
    ("single_persona", ["01.personas", "07.personas"], "two or more personas"),
])
def test_sections_skip_with_the_reason(tmp_path, name, skipped, reason):
    study, plan = _plan(tmp_path, name)
    assert not study.problems or all(p.severity != "error" for p in study.problems)
    for key in skipped:
        assert not plan.loc[key, "runs"], key
    assert any(reason in r for r in plan.loc[skipped, "reason"]), plan.loc[skipped, "reason"].tolist()
    # what the study has still runs
    assert plan.loc["01.events", "runs"] and plan.loc["05.funnel", "runs"]


def test_section_prints_one_sentence_and_returns_the_status(capsys, other_study):
    study = other_study
    assert section(study, key="05.nps").applies
    assert capsys.readouterr().out == "NPS: runs.\n"
    st = section(replace(study, survey=study.survey.iloc[:0]), key="05.nps")
    printed = capsys.readouterr().out
    assert not st and st.reason == printed.strip()
    assert printed.count(".") == 2 and "needs a survey (survey.csv)" in printed and "Skipped" in printed
    with pytest.raises(jl.JourneylabError, match="unknown section '05.nope'"):
        section(study, key="05.nope")


def test_skipped_section_turns_cells_into_no_ops_until_the_next_section(other_study):
    IPython = pytest.importorskip("IPython")
    from IPython.testing.globalipapp import start_ipython

    ip = start_ipython() or IPython.get_ipython()
    study = other_study
    ip.user_ns.update(jl=jl, study=study, bare=replace(study, survey=study.survey.iloc[:0]))
    ip.run_cell("x = 0")
    ip.run_cell('jl.section(bare, key="05.nps")')
    ip.run_cell("x = 1")
    ip.run_cell("x = undefined_name")          # would raise if it ran
    assert ip.user_ns["x"] == 0
    ip.run_cell('jl.section(study, key="05.csat")')
    ip.run_cell("x = 2")
    assert ip.user_ns["x"] == 2


def test_validate_prints_the_sections_table(tmp_path):
    study = strip_study(tmp_path / "s", survey=False, rules=False)
    res = subprocess.run([sys.executable, "-m", "journeylab.run.cli", "validate", str(study)],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "valid" in out
    line = next(ln for ln in out.splitlines() if "05.nps (" in ln)
    assert "a survey (survey.csv)" in line
    assert re.search(r"02\.rules \(.*\): matching rules in the codebook", out)
    assert not re.search(r"05\.funnel \(", out)          # it runs
    assert re.search(r"03_reliability\s+4/4", out)        # every section of 03 runs
    assert "sections skipped" in out


def test_vocabulary_from_study_yml(tmp_path):
    dst = strip_study(tmp_path / "v")
    cfg = yaml.safe_load((dst / "study.yml").read_text(encoding="utf-8"))
    cfg["vocabulary"] = {"conversion": "subscriptions", "period": "month"}
    (dst / "study.yml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    study = jl.load_study(dst)
    assert study.vocabulary == {"conversion": "subscriptions", "period": "month"}
    ev = jl.evidence_table(study, codings=pd.concat([study.codings, jl.autocode(study.segments, codebook=study.codebook)]),
                           random_state=0)
    prio = jl.JourneyMap.build(study, ev).prioritise()
    texts = " ".join(prio["upside"].fillna(""))
    assert "subscriptions a month" in texts and "week" not in texts and "orders" not in texts
    row = prio[prio["upside_per_week"].notna()].iloc[0]
    # a month is 365.25/12/7 weeks: the text's number is the weekly estimate scaled
    assert f"{_amount(row['upside_per_week'] * 365.25 / 12 / 7)} more subscriptions a month" in row["upside"]
    cfg["vocabulary"] = {"period": "fortnight"}
    (dst / "study.yml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    with pytest.raises(jl.StudyError, match="vocabulary period: expected one of day, week, month"):
        jl.load_study(dst)


def test_single_persona_map_has_no_pooling_warning(tmp_path, other_study):
    study = jl.load_study(strip_study(tmp_path / "one", single_persona=True))
    ev = jl.evidence_table(study, codings=study.codings, random_state=0)
    assert not any("pools every persona" in w for w in jl.JourneyMap.build(study, ev).warnings)
    other = other_study
    ev = jl.evidence_table(other, codings=other.codings, random_state=0)
    assert any("pools every persona" in w for w in jl.JourneyMap.build(other, ev).warnings)


@pytest.mark.parametrize("exercise, preferred", [("1.1", {"participant": "P13"}), ("1.2", {"column": "csat_delivery"}),
                                                 ("2.1", {"code": "returns_hassle"}), ("4.2", {"persona": "bargain hunter"}),
                                                 ("5.2", {"step": "shipping_submitted", "where": {"device": "mobile"}})])
def test_exercises_choose_from_the_study(exercise, preferred, other_study):
    study = other_study
    got = jl.exercises.choose(study, exercise, **preferred)
    assert not got["not_applicable"]
    picked = [v for k, v in got.items() if k != "not_applicable"]
    assert not set(map(str, picked)) & {"P13", "csat_delivery", "returns_hassle", "bargain hunter", "shipping_submitted"}
    if exercise == "1.1":   # G2's interview is a WebVTT file: cues, not turns
        assert got["participant"] == "G2"
        right = ((study.segments["participant_id"] == "G2") & (study.segments["speaker_role"] == "participant")).sum()
        assert jl.exercises.check_turn_count(int(right), study.segments, **got).status == "correct"
    if exercise == "5.2":
        assert got["step"] in study.funnel_steps and set(got["where"]) == {"device"}


def test_exercises_not_applicable_with_the_reason(tmp_path):
    study = jl.load_study(strip_study(tmp_path / "n", codings=False, personas=False))
    got = jl.exercises.choose(study, "3.1", code="shipping_form_tedious")
    assert got["code"] is None and "coder" in got["not_applicable"]
    res = jl.exercises.check_kappa(0.5, study.codings, study.segments, **{**got, "coders": ("a", "b")})
    assert res.status == "not_applicable"
    got = jl.exercises.choose(study, "4.2", persona="bargain hunter")
    assert "persona" in got["not_applicable"]
    assert jl.exercises.check_sentiment_share(0.1, study.segments, study.participants, label="negative",
                                              **got).status == "not_applicable"


def test_run_on_a_bare_study_and_nothing_of_the_sample_leaks(tmp_path):
    study = strip_study(tmp_path / "bare_study", **BARE)
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "journeylab.run.cli", "run", str(study), "--out", str(out)],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    names = {p.name for p in out.iterdir()}
    assert {"journey_map.png", "report.html", "evidence_table.csv", "bare_study.qdpx", "funnel_steps.csv"} <= names
    assert not {"nps.csv", "key_drivers.csv", "agreement.csv", "agreement_with_taguette.csv"} & names
    assert "one-page_payment_form_before_after.csv" in names
    # each skipped section said why, in one sentence, in the executed notebook
    nb05 = (out / "notebooks" / "05_metrics.ipynb").read_text(encoding="utf-8")
    assert "Skipped: NPS needs NPS answers (survey column 'likelihood_to_recommend' is blank)" in nb05
    leaks = []
    for path in out.rglob("*"):
        if path.is_dir() or path.suffix in {".png", ".pdf", ".qdpx"} or ".sqlite" in path.name:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        # the executed notebooks keep their code (which names the sample's choices for the exercises,
        # e.g. persona="bargain hunter"), so they are held to the words of the sample's story only
        words = STORY_WORDS if path.parent.name == "notebooks" else SAMPLE_WORDS
        leaks += [f"{path.name}: {w}" for w in words if re.search(rf"\b{re.escape(w)}\b", text, re.I)]
    assert not leaks, leaks
    # what the executed notebooks say in prose — their Markdown cells and the Markdown their code cells
    # print — holds no word of the sample study (tests/strategies.py's full vocabulary, issue 14)
    said = {}
    for path in sorted((out / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        prose = [c.source for c in nb.cells if c.cell_type == "markdown"]
        prose += [str(o.get("data", {}).get("text/markdown", "")) for c in nb.cells if c.cell_type == "code"
                  for o in c.get("outputs", [])]
        words = sample_words_in("\n".join(prose))
        if words:
            said[path.name] = words
    assert not said, f"the executed notebooks' prose names the sample study: {said}"


def test_key_drivers_section_needs_a_theme_common_enough_to_model():
    """Key drivers compares respondents who mention a theme with those who do not: with no theme the
    rules find in 5 scored comments (and not in 5 others) the section is skipped and says so, as
    on a generated study whose survey comments the rules hardly code."""
    other_study = jl.load_study(OTHER)
    assert jl.section(other_study, key="05.drivers", quiet=True).applies
    few = other_study.survey.head(8)
    status = jl.section(replace(other_study, survey=few), key="05.drivers", quiet=True)
    assert not status.applies
    assert "at least 5 scored survey comments and not in 5 others" in status.reason
