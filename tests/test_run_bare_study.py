"""`journeylab run` on a bare study: no product change in study.yml and a single coder.

The notebooks must not assume what a study may leave out: notebook 03 needs two coders to
measure agreement, notebook 05 a recorded change for its before/after test (and exercises 3.1,
5.1 and 5.2 are about them). On a study without them every notebook runs to the end, says in
its output why a section does not apply, and the exercise checks say "not applicable".

The bare study is tests/data/other_study with `changes:` removed and one of its two coders'
files deleted, made in tmp. Cost: one `journeylab run` of the whole sequence on it (~40-60 s).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from journeylab.pipeline import notebook_paths, run

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
    out = base / "out"
    manifest = run(study, out, quiet=True)
    return out, manifest


def test_every_notebook_runs_and_writes_the_map_and_report(bare_run):
    out, manifest = bare_run
    assert manifest["status"] == "ok" and manifest["failed"] is None
    assert manifest["notebooks"] == [p.name for p in notebook_paths()]
    for name in ["journey_map.png", "journey_map.svg", "journey_map.pdf", "journey_map.json", "report.html",
                 "evidence_table.csv", "codings.csv", "funnel_steps.csv", "nps.csv"]:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    # what needs two coders or a change was not written
    for name in ["agreement.csv", "gold_codings.csv", "shipping_form_before_after.csv", "report_before_after.html"]:
        assert not (out / name).exists(), name
    jmap = json.loads((out / "journey_map.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in jmap["stages"]] == ["discover", "try", "subscribe", "renew"]


def test_notebooks_say_why_a_section_does_not_apply(bare_run):
    out, _ = bare_run
    reliability = _text(out / "notebooks" / "03_reliability.ipynb")
    assert "agreement needs two coders; this study has one (lee)" in reliability
    assert "Not applicable to this study" in reliability          # exercise 3.1 (amara vs jonas)
    metrics = _text(out / "notebooks" / "05_metrics.ipynb")
    assert "this study has no recorded change (study.yml `changes:`), so there is no before/after test" in metrics
    assert metrics.count("Not applicable to this study") == 2    # exercises 5.1 and 5.2
    # the funnel sections look at the weakest step pair instead of the changed one
    assert "plan_viewed → payment_added, its weakest step" in metrics
    interop = _text(out / "notebooks" / "08_interop.ipynb")
    assert "agreement needs two coders; this study has one (lee)" in interop
