"""Any study, end to end (issue 14): the library on random valid studies it has never seen.

tests/strategies.py generates study folders (random stages, personas or none, ids, txt/vtt/srt
transcripts, codebook with or without rules, 0-2 coders, optional survey and event log with
their columns renamed through study.yml). Here:

(a) every generated folder passes ``validate_study``;
(b) the library pipeline (load → autocode → sentiment → evidence → map → prioritise → JSON and
    CSVs) raises nothing on them, and (b') the rendered map (PNG, SVG) and the HTML report neither;
(c) no text output holds a word of the bundled sample study (strategies.SAMPLE_VOCABULARY): a
    judgement the map makes must come from the study, not from "Larkspur & Co.";
(d) ``journeylab run`` (every notebook) on one generated study.

A failure names ``make_spec(seed)``, which rebuilds the study: ``write_study(make_spec(seed), dir)``.
No "does not apply" error is expected of the library today (:data:`DOES_NOT_APPLY` is empty):
every optional part missing from a study has a path that returns a result.
"""
from __future__ import annotations

import json
import re
import tempfile
import traceback
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from strategies import SAMPLE_VOCABULARY, make_spec, sample_words_in, study_specs, write_study

import journeylab as jl
from journeylab.errors import JourneylabError
from journeylab.run.pipeline import run

SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

#: Messages of a JourneylabError that means "this step does not apply to this study" (a documented
#: path). None is needed at present; add a pattern only with the docs that describe it.
DOES_NOT_APPLY: tuple[str, ...] = ()


def _guarded(spec, call):
    """Run ``call``; fail with the study's description on anything but a documented 'does not apply'."""
    try:
        return call()
    except JourneylabError as exc:
        if any(re.search(p, str(exc)) for p in DOES_NOT_APPLY):
            return None
        pytest.fail(f"JourneylabError on a valid study: {exc}\nstudy: {spec.describe()}\n"
                    f"{traceback.format_exc(limit=-4)}")
    except Exception as exc:  # noqa: BLE001 - that is the point of the test
        pytest.fail(f"{type(exc).__name__} on a valid study: {exc}\nstudy: {spec.describe()}\n"
                    f"{traceback.format_exc(limit=-4)}")


def _scan(spec, folder: Path) -> None:
    """No text file under ``folder`` holds the sample study's vocabulary."""
    hits = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in {".json", ".csv", ".svg", ".html", ".txt", ".md", ".yml"}:
            found = sample_words_in(path.read_text(encoding="utf-8", errors="replace"))
            if found:
                hits[str(path.relative_to(folder))] = found
    assert not hits, f"the sample study's words in another study's outputs: {hits}\nstudy: {spec.describe()}"


def _analyse(spec, root: Path, out: Path):
    """load → autocode → sentiment → evidence (all and each persona) → map → prioritise → files."""
    study = _guarded(spec, lambda: jl.load_study(root))
    codings = study.codings
    if study.codebook is not None:  # codes without rules are skipped by autocode
        rules = _guarded(spec, lambda: jl.autocode(study.segments, codebook=study.codebook))
        assert set(rules["origin"]) <= {"rule"}
        codings = pd.concat([codings, rules], ignore_index=True)
    sent = _guarded(spec, lambda: jl.sentiment(study.segments, split="sentence"))
    ev = _guarded(spec, lambda: jl.evidence_table(study, codings=codings, sentiment=sent, persona=[None, *study.personas],
                                                  n_boot=100, random_state=0))
    assert set(ev["persona"]) <= {"all", *study.personas}
    assert set(ev["stage"].dropna()) <= set(study.stages)
    jmap = _guarded(spec, lambda: jl.JourneyMap.build(study, ev))
    assert [s["name"] for s in jmap.stages] == study.stages
    # every quote on the map is a real turn of this study
    seg = study.segments.set_index("segment_id")
    for sid, q in jmap.quotes.items():
        assert seg.loc[sid, "text"] == q["text"], sid
    prio = _guarded(spec, lambda: jmap.prioritise(n_sim=200))
    maps = [_guarded(spec, lambda p=p: jl.JourneyMap.build(study, ev, persona=p)) for p in study.personas]
    jmap.save(out / "journey_map.json")
    assert jl.JourneyMap.load(out / "journey_map.json") == jmap
    jl.write_csv(ev, path=out / "evidence_table.csv")
    jl.write_csv(prio, path=out / "priorities.csv")
    jl.write_csv(codings, path=out / "codings.csv")
    if maps:
        jl.write_csv(jl.compare_personas(maps), path=out / "personas.csv")
    return study, ev, jmap, maps


@settings(max_examples=40, **SETTINGS)
@given(study_specs())
def test_every_generated_study_is_valid(spec):
    with tempfile.TemporaryDirectory() as tmp:
        problems = jl.validate_study(write_study(spec, Path(tmp) / "study"))
    errors = [str(p) for p in problems if p.severity == "error"]
    assert errors == [], f"{spec.describe()}\n" + "\n".join(errors)
    # the only warnings are the counted exclusions of unmapped events, information lines (encodings,
    # codings on interviewer turns) and personas listed in study.yml without a persona column
    # (the strategy makes such studies on purpose; the notebooks then skip per-persona sections)
    expected = ("excluded", "no persona column", "interviewer turns")
    assert all(p.severity == "info" or any(e in p.message for e in expected) for p in problems), \
        [str(p) for p in problems]


@settings(max_examples=25, **SETTINGS)
@given(study_specs())
def test_library_pipeline_on_any_study(spec):
    with tempfile.TemporaryDirectory() as tmp:
        root = write_study(spec, Path(tmp) / "study")
        out = Path(tmp) / "out"
        out.mkdir()
        _analyse(spec, root, out)
        _scan(spec, out)
    plt.close("all")


@settings(max_examples=3, **SETTINGS)
@given(study_specs())
def test_map_and_report_render_for_any_study(spec):
    """The rendered map and the report (PNG, SVG, HTML with the persona maps): ~12 s a study."""
    with tempfile.TemporaryDirectory() as tmp:
        root = write_study(spec, Path(tmp) / "study")
        out = Path(tmp) / "out"
        out.mkdir()
        study, ev, jmap, maps = _analyse(spec, root, out)
        for suffix in ("png", "svg"):
            _guarded(spec, lambda s=suffix: jl.save_map(jmap, path=out / f"journey_map.{s}"))
            assert (out / f"journey_map.{suffix}").stat().st_size > 0
        _guarded(spec, lambda: jmap.to_html(out / "report.html", study=study, personas=maps or None, map_dpi=60,
                                            slide=True))
        html = (out / "report.html").read_text(encoding="utf-8")
        for stage in study.stages:
            assert jl.map.report._e(stage) in html or jl.map.report._label(stage) in html, stage
        _scan(spec, out)
    plt.close("all")


def test_the_vocabulary_scan_finds_the_sample_study():
    """The scan of (c) is not vacuous: the sample study's own files are full of its words."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in
                     [jl.datasets.sample_study_path() / "study.yml", jl.datasets.sample_study_path() / "codebook.yml"])
    assert {"larkspur", "homeware", "shipping_form", "checkout_friction"} <= set(sample_words_in(text))
    assert sample_words_in("the lantern was slow; Ilse Varga, night owl") == []
    assert "Larkspur" in SAMPLE_VOCABULARY


#: A generated study with every part: personas, txt/vtt/srt, a codebook with rules, two coders,
#: survey (NPS, CSAT, comments) and an event log with a funnel. Chosen by scanning seeds with
#: make_spec; the test checks it still has them.
RUN_SEED = 400082


def test_journeylab_run_on_a_generated_study(tmp_path):
    """Every notebook (``journeylab run``) on one generated study (≈ 60-90 s: nine kernels)."""
    spec = make_spec(RUN_SEED)
    assert spec.personas and spec.has_rules and len(spec.coders) == 2 and spec.has_survey and spec.has_funnel
    assert len(set(spec.formats.values())) >= 2
    root = write_study(spec, tmp_path / "study")
    out = tmp_path / "out"
    manifest = run(root, out, quiet=True)
    assert manifest["status"] == "ok"
    jmap = json.loads((out / "journey_map.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in jmap["stages"]] == spec.stages
    # what the notebooks printed about this study, and what their Markdown says
    said = {}
    for nb_path in sorted((out / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                         + str(o.get("data", {}).get("text/html", "")) + str(o.get("data", {}).get("text/markdown", ""))
                         for c in nb.cells for o in c.get("outputs", []))
        # ... and their prose: the Markdown cells the run keeps (those tagged sample-study are left out)
        text += "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        if sample_words_in(text):
            said[nb_path.name] = sample_words_in(text)
    assert said == {}, f"notebooks print the sample study's words about another study: {said}"
    _scan(spec, out)
