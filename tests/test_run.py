"""``journeylab run``: the whole notebook sequence on the sample study and on a second, different
study (tests/data/other_study), outputs, reproducibility, the manifest, and failures.

Cost: the three full runs (sample once, the other study twice) start together in one session
fixture, as CLI subprocesses, so they share the machine's cores: ~2-3 min of wall time in all.
The failure tests use two tiny notebooks (a few seconds each).
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from journeylab.errors import JourneylabError, StudyError
from journeylab.run.cli import _parameters
from journeylab.run.manifest import MANIFEST_FIELDS
from journeylab.run.pipeline import NotebookFailed, notebook_paths, run

ROOT = Path(__file__).resolve().parent.parent
OTHER = ROOT / "tests" / "data" / "other_study"
SAMPLE = ROOT / "data" / "sample_study"
CLI = Path(sys.executable).parent / "journeylab"
NOTEBOOKS = [p.name for p in notebook_paths()]
PRODUCTS = ["journey_map.png", "journey_map.svg", "journey_map.pdf", "journey_map.json", "report.html",
            "evidence_table.csv", "codings.csv", "codings.sqlite", "manifest.json"]


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """{"sample": out, "other_a": out, "other_b": out}: three `journeylab run`s started together."""
    base = tmp_path_factory.mktemp("runs")
    jobs = {"sample": SAMPLE, "other_a": OTHER, "other_b": OTHER}
    procs, outs = {}, {}
    for name, study in jobs.items():
        outs[name] = base / name / "out"  # same folder name: the manifests compare equal
        procs[name] = subprocess.Popen([str(CLI), "run", str(study), "--out", str(outs[name])], cwd=base,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    logs = {name: p.communicate(timeout=1800) for name, p in procs.items()}
    for name, p in procs.items():
        assert p.returncode == 0, f"journeylab run ({name}) failed:\n{logs[name][0]}\n{logs[name][1]}"
    return {"outs": outs, "stdout": {k: v[0] for k, v in logs.items()}}


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["sample", "other_a"])
def test_run_writes_everything(runs, name):
    out = runs["outs"][name]
    for product in PRODUCTS:
        assert (out / product).is_file() and (out / product).stat().st_size > 0, product
    assert sorted(p.name for p in (out / "notebooks").glob("*.ipynb")) == NOTEBOOKS
    # every store is one self-contained file: its WAL was folded in (copying codings.sqlite copies it all)
    assert not list(out.rglob("*.sqlite-wal")) and not list(out.rglob("*.sqlite-shm"))
    con = sqlite3.connect(f"file:{out / 'codings.sqlite'}?mode=ro", uri=True)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert con.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1
    con.close()
    nb = nbformat.read(out / "notebooks" / "07_journey_map.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and f"output_dir = {str(out)!r}" in injected[0].source
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert (out / "journey_map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "journey_map.pdf").read_bytes()[:5] == b"%PDF-"
    # progress: one line per notebook with its seconds and "ok"
    n = len(NOTEBOOKS)
    lines = [ln for ln in runs["stdout"][name].splitlines() if re.match(rf"\[\d+/{n}\]", ln)]
    assert len(lines) == n and all(re.search(r"\d+\.\d s  ok$", ln) for ln in lines)


def test_other_study_is_not_the_sample(runs):
    """The second study's own stages, personas, coders and column names come through."""
    out = runs["outs"]["other_a"]
    jmap = json.loads((out / "journey_map.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in jmap["stages"]] == ["discover", "try", "subscribe", "renew"]
    import pandas as pd

    ev = pd.read_csv(out / "evidence_table.csv")
    assert set(ev["stage"].dropna()) <= {"discover", "try", "subscribe", "renew"}
    assert {"weeknight cook", "meal planner"} <= set(ev["persona"].dropna())
    assert ev.loc[(ev["code"] == "payment_form_friction") & (ev["persona"] == "all"), "n_participants"].item() == 3
    cod = pd.read_csv(out / "codings.csv")
    assert {"lee", "sam"} <= set(cod["coder"])
    assert "amara" not in set(cod["coder"])
    # notebook 05 tested the payment-form change on the step at the payment touchpoint
    fix = pd.read_csv(out / "one-page_payment_form_before_after.csv")   # named after the study's change
    assert (fix["from_step"].iloc[0], fix["step"].iloc[0]) == ("plan_viewed", "payment_added")


def test_tables_are_byte_identical_across_runs(runs):
    a, b = runs["outs"]["other_a"], runs["outs"]["other_b"]
    files = sorted(p.relative_to(a).as_posix() for p in a.rglob("*")
                   if p.is_file() and p.suffix in {".csv", ".json", ".png", ".svg", ".pdf", ".qdc", ".qdpx"}
                   and not p.relative_to(a).as_posix().startswith("notebooks/") and p.name != "manifest.json")
    assert len(files) > 30 and "evidence_table.csv" in files
    different = [f for f in files if (a / f).read_bytes() != (b / f).read_bytes()]
    assert different == []


def test_manifest_same_apart_from_timings(runs):
    ma, mb = _manifest(runs["outs"]["other_a"]), _manifest(runs["outs"]["other_b"])
    ta, tb = ma.pop("timings"), mb.pop("timings")
    assert ma == mb
    assert set(ta["notebooks"]) == set(tb["notebooks"]) == set(NOTEBOOKS)


def test_report_same_apart_from_timings(runs):
    def strip(out):
        text = (out / "report.html").read_text(encoding="utf-8")
        assert text.count("<div id='timings'>") == 1
        return re.sub(r"<div id='timings'>.*?</div>", "", text, flags=re.S)

    assert strip(runs["outs"]["other_a"]) == strip(runs["outs"]["other_b"])


@pytest.mark.parametrize("name, study", [("sample", SAMPLE), ("other_a", OTHER)])
def test_manifest_complete(runs, name, study):
    out = runs["outs"][name]
    m = _manifest(out)
    assert list(m) == MANIFEST_FIELDS
    assert m["status"] == "ok" and m["failed"] is None
    # every input file hashed, with the right digest
    files = sorted(p for p in study.rglob("*") if p.is_file())
    assert sorted(m["inputs"]) == sorted(p.relative_to(study).as_posix() for p in files)
    for p in files:
        assert m["inputs"][p.relative_to(study).as_posix()] == hashlib.sha256(p.read_bytes()).hexdigest()
    assert m["study"]["folder"] == study.name and m["study"]["name"]
    assert m["parameters"] == {"study_path": study.name, "output_dir": ".", "seed": 2026}
    assert m["seeds"] == {"seed": 2026, "PYTHONHASHSEED": "0"}
    assert m["notebooks"] == NOTEBOOKS
    assert set(m["notebook_parameters"]) == set(NOTEBOOKS)
    assert m["notebook_parameters"]["04_sentiment.ipynb"]["engine"] == "vader"
    assert all(p["seed"] == 2026 for p in m["notebook_parameters"].values())
    for pkg in ("python", "journeylab", "pandas", "numpy", "matplotlib", "nbclient"):
        assert m["versions"][pkg], pkg
    assert m["journeylab_version"] == m["versions"]["journeylab"]
    assert m["python"] and m["platform"]
    out_hash = hashlib.sha256((out / "evidence_table.csv").read_bytes()).hexdigest()
    assert m["outputs"]["evidence_table.csv"] == out_hash
    assert not [k for k in m["outputs"] if k.startswith("notebooks/") or k.endswith((".html", ".sqlite"))]
    t = m["timings"]
    assert set(t["notebooks"]) == set(NOTEBOOKS) and all(v > 0 for v in t["notebooks"].values())
    assert t["started"] <= t["finished"]
    # two notebooks at a time (the default on two or more cores): the run takes at least its longest notebook,
    # one at a time at least their sum
    assert t["jobs"] in (1, 2)
    assert t["total_seconds"] >= (sum(t["notebooks"].values()) if t["jobs"] == 1 else max(t["notebooks"].values())) - 1


def test_report_includes_run_manifest(runs):
    text = (runs["outs"]["sample"] / "report.html").read_text(encoding="utf-8")
    timings = re.search(r"<div id='timings'>.*?</div>", text, flags=re.S).group(0)
    assert all(nb in timings for nb in NOTEBOOKS)
    assert "map_parameters" in text and "notebook_parameters" in text
    assert "study.yml" in text  # input hashes


# ----------------------------------------------------------------------------- one set of numbers

def _anchor(claim_id) -> str:  # as journeylab.map.report._anchor
    return "claim-" + re.sub(r"[^A-Za-z0-9_-]", "_", str(claim_id))


def _close(a, b, tol=1e-9) -> bool:
    import math

    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tol


def shared_figure_disagreements(out: Path) -> tuple[list, int]:
    """Every figure a run shows in two places, compared: (what differs, how many were compared).

    The evidence table is the reference; the code frequencies, triangulation, sentiment per code,
    emotion curve and funnel CSVs of notebooks 02-06, the map's JSON and the report HTML must give
    the same participants per claim, shares, sentiment per code, emotion per stage and funnel
    conversions.
    """
    import pandas as pd

    bad, n = [], 0

    def same(where, a, b, tol=1e-9):
        nonlocal n
        n += 1
        if isinstance(a, (str, tuple)) or isinstance(b, (str, tuple)):
            ok = a == b
        else:
            ok = _close(a, b, tol)
        if not ok:
            bad.append(f"{where}: {a!r} != {b!r}")

    ev_all = pd.read_csv(out / "evidence_table.csv")
    ev = ev_all[ev_all["persona"] == "all"]
    claims = ev[ev["code"].notna()].set_index("code")
    emo = ev[ev["kind"] == "emotion"].set_index("stage")
    # notebook 02: code frequencies (codes applied directly; a parent's row also counts its children)
    if (out / "code_frequencies.csv").is_file():
        fq = pd.read_csv(out / "code_frequencies.csv").set_index("code")
        direct = fq[fq["includes"].isna()] if "includes" in fq.columns else fq
        for code, r in claims.iterrows():
            if code in direct.index:
                for col in ("n_participants", "n_participants_total", "n_segments"):
                    same(f"code_frequencies.csv {code} {col}", direct.loc[code, col], r[col])
    # notebook 06: triangulation
    if (out / "triangulation.csv").is_file():
        tri = pd.read_csv(out / "triangulation.csv").set_index("code")
        for code, r in tri.iterrows():
            for col in ("n_participants", "n_participants_total"):
                same(f"triangulation.csv {code} {col}", r[col], claims.loc[code, col])
    # notebook 04: sentiment per code and the emotion curve
    if (out / "sentiment_per_code.csv").is_file():
        pc = pd.read_csv(out / "sentiment_per_code.csv").set_index("code")
        for code, r in claims.iterrows():
            if code in pc.index:
                for a, b in (("mean", "sentiment_mean"), ("ci_low", "sentiment_ci_low"),
                             ("ci_high", "sentiment_ci_high"), ("n_segments", "n_segments")):
                    same(f"sentiment_per_code.csv {code} {a}", pc.loc[code, a], r[b])
    jmap = json.loads((out / "journey_map.json").read_text(encoding="utf-8"))
    lane = pd.DataFrame(jmap["emotion"]).set_index("stage")
    curve = pd.read_csv(out / "emotion_curve.csv").set_index("stage") if (out / "emotion_curve.csv").is_file() \
        else None
    for stage, r in emo.iterrows():
        for a, b in (("mean", "sentiment_mean"), ("ci_low", "sentiment_ci_low"), ("ci_high", "sentiment_ci_high"),
                     ("n_segments", "n_segments"), ("n_participants", "n_participants")):
            same(f"journey_map.json emotion {stage} {a}", lane.loc[stage, a], r[b])
            if curve is not None:
                same(f"emotion_curve.csv {stage} {a}", curve.loc[stage, a], r[b])
    if (out / "emotion_curve_by_persona.csv").is_file():  # notebook 04's persona curves and the persona maps
        bp = pd.read_csv(out / "emotion_curve_by_persona.csv").set_index(["persona", "stage"])
        pe = ev_all[(ev_all["kind"] == "emotion") & (ev_all["persona"] != "all")].set_index(["persona", "stage"])
        for key, r in pe.iterrows():
            if key in bp.index:
                for a, b in (("mean", "sentiment_mean"), ("ci_low", "sentiment_ci_low"), ("n_segments", "n_segments"),
                             ("n_participants", "n_participants")):
                    same(f"emotion_curve_by_persona.csv {key} {a}", bp.loc[key, a], r[b])
    # the map's JSON holds the evidence table it was built from
    js = pd.DataFrame(jmap["evidence"]["rows"], columns=jmap["evidence"]["columns"])
    js = js[js["code"].notna()].set_index("code")
    for code, r in claims.iterrows():
        for col in ("n_participants", "n_participants_total", "share_participants", "n_segments", "sentiment_mean",
                    "step_conversion"):
            if col in js.columns:
                same(f"journey_map.json {code} {col}", js.loc[code, col], r[col])
    # the actions lane: each share names its base, every user of the event log
    for stage, acts in jmap["actions"].items():
        for a in acts:
            if "users_total" not in a:
                bad.append(f"journey_map.json action {a['event']}: its share names no base (users_total)")
                continue
            same(f"journey_map.json action {a['event']} share", a["share"], a["users"] / a["users_total"])
    # notebook 05: the funnel's step conversions
    if (out / "funnel_steps.csv").is_file():
        fs = pd.read_csv(out / "funnel_steps.csv").set_index("step")
        steps = ev[ev["kind"] == "metric"].dropna(subset=["step_conversion"])
        for r in steps.to_dict("records"):
            if r["step"] in fs.index:
                same(f"funnel_steps.csv {r['step']} conversion", fs.loc[r["step"], "conversion_from_previous"],
                     r["step_conversion"])
                same(f"funnel_steps.csv {r['step']} users", fs.loc[r["step"], "users"], r["step_users"])
    # notebook 05: CSAT per touchpoint
    if (out / "csat.csv").is_file():
        cs = pd.read_csv(out / "csat.csv").set_index("column")
        for r in ev.dropna(subset=["csat_column"]).to_dict("records"):
            for a, b in (("top_box_share", "csat_top2"), ("top_box_ci_low", "csat_top2_ci_low"),
                         ("top_box_ci_high", "csat_top2_ci_high"), ("mean", "csat_mean"), ("n", "csat_n")):
                same(f"csat.csv {r['csat_column']} {a} ({r['claim_id']})", cs.loc[r["csat_column"], a], r[b])
    # the report: claims, priorities, the stages' emotion, funnel steps
    html = (out / "report.html").read_text(encoding="utf-8")
    by_anchor = {_anchor(c): r for c, r in zip(ev_all["claim_id"], ev_all.to_dict("records"))}
    for m in re.finditer(r"<article class='claim[^']*' id='([^']+)'.*?</article>", html, flags=re.S):
        r = by_anchor[m.group(1)]
        block = m.group(0)
        raised = re.search(r"Raised by <b>(\d+) of (\d+)</b> participants \((\d+)%.*?in (\d+) turn", block)
        if raised:
            same(f"report {m.group(1)} participants", int(raised.group(1)), int(r["n_participants"]))
            same(f"report {m.group(1)} base", int(raised.group(2)), int(r["n_participants_total"]))
            same(f"report {m.group(1)} share", raised.group(3), f"{100 * r['share_participants']:.0f}")
            same(f"report {m.group(1)} turns", int(raised.group(4)), int(r["n_segments"]))
        sent = re.search(r"sentiment of those turns <a href='#method-sentiment'>([^<]+)</a>", block)
        if sent:
            same(f"report {m.group(1)} sentiment", sent.group(1), f"{r['sentiment_mean']:+.2f}")
        step = re.search(r"Funnel step</td><td>[^<]*: ([\d.]+)% \(95% CI [^)]*\) of ([\d,]+) users", block)
        if step:
            same(f"report {m.group(1)} step conversion", step.group(1), f"{100 * r['step_conversion']:.1f}")
            same(f"report {m.group(1)} step base", int(step.group(2).replace(",", "")), int(r["step_users_from"]))
    for m in re.finditer(r"<tr class='filterable'[^>]*>(.*?)</tr>", html, flags=re.S):
        link = re.search(r"href='#(claim-[^']+)'", m.group(1))
        cell = re.search(r"<td>(\d+) of (\d+) participants, (\d+)%", m.group(1))
        if link and cell:
            r = by_anchor[link.group(1)]
            same(f"report priorities {link.group(1)}", (int(cell.group(1)), int(cell.group(2))),
                 (int(r["n_participants"]), int(r["n_participants_total"])))
    for m in re.finditer(r"<section class='stage' id='stage-[^']*' data-stage='([^']+)'>.*?Emotion <a href='"
                         r"#method-sentiment'>([^<]+)</a>[^<]*? from (\d+) turns of (\d+) people", html, flags=re.S):
        stage = m.group(1)
        if stage in emo.index:
            same(f"report emotion {stage}", (m.group(2), int(m.group(3)), int(m.group(4))),
                 (f"{emo.loc[stage, 'sentiment_mean']:+.2f}", int(emo.loc[stage, "n_segments"]),
                  int(emo.loc[stage, "n_participants"])))
    return bad, n


@pytest.mark.parametrize("name", ["sample", "other_a"])
def test_every_shared_figure_is_one_number(runs, name):
    """Issue 19 item 8: participants per claim, shares, sentiment per code, emotion per stage and funnel
    conversions are the same in the report, the map's JSON and the run's CSVs (one set of codings, one
    set of sentiment scores: jl.analysis_codings, jl.study_sentiment)."""
    out = runs["outs"][name]
    bad, n = shared_figure_disagreements(out)
    assert n > 50, f"only {n} shared figures compared: the outputs changed shape"
    assert bad == [], f"{len(bad)} of {n} shared figures differ:\n" + "\n".join(bad[:30])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "id='analysis-codings'" in html                       # the report says which codings
    assert " of users)" not in html                               # every share names its base
    assert not re.search(r"[+-]1[0-9][0-9] to [+-]", html)       # no NPS interval past its range


# ----------------------------------------------------------------------------- failures


def _tiny_notebooks(folder: Path) -> Path:
    from nbformat.v4 import new_code_cell, new_notebook

    folder.mkdir(parents=True, exist_ok=True)

    def write(name, params, cells):
        p = new_code_cell(params)
        p.metadata["tags"] = ["parameters"]
        nb = new_notebook(cells=[p, *map(new_code_cell, cells)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, folder / name)

    write("01_first.ipynb", 'study_path = None\noutput_dir = "outputs"\nseed = 0',
          ['from pathlib import Path\nPath(output_dir, "first.csv").write_text("a,b\\n1,2\\n")'])
    write("02_second.ipynb", 'study_path = None\noutput_dir = "outputs"\nseed = 0\nthreshold = 0.5',
          ["x = 1", "def check(t):\n    if t > 0.8:\n        raise ValueError(f'threshold {t} is too high')\ncheck(threshold)",
           'from pathlib import Path\nPath(output_dir, "second.csv").write_text("never")'])
    write("03_third.ipynb", 'study_path = None\noutput_dir = "outputs"\nseed = 0', ["print('never run')"])
    return folder


def test_failing_notebook_stops_the_run_and_keeps_outputs(tmp_path):
    nbs = _tiny_notebooks(tmp_path / "nbs")
    out = tmp_path / "out"
    with pytest.raises(NotebookFailed) as info:
        run(OTHER, out, notebooks=nbs, parameters={"threshold": 0.9}, quiet=True)
    msg = str(info.value)
    assert "02_second.ipynb failed at cell 3" in msg
    assert "check(threshold)" in msg and "ValueError: threshold 0.9 is too high" in msg
    assert info.value.notebook == "02_second.ipynb" and info.value.cell == 3
    # what was produced is kept: the first notebook's table, both executed notebooks (the second
    # partly, with the error), a manifest that says "failed"; the third never ran
    assert (out / "first.csv").read_text() == "a,b\n1,2\n"
    assert not (out / "second.csv").exists()
    partial = nbformat.read(out / "notebooks" / "02_second.ipynb", as_version=4)
    errors = [o for c in partial.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert [e["evalue"] for e in errors] == ["threshold 0.9 is too high"]
    assert not (out / "notebooks" / "03_third.ipynb").exists()
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "failed" and m["failed"] == {"notebook": "02_second.ipynb", "cell": 3}
    assert list(m["timings"]["notebooks"]) == ["01_first.ipynb", "02_second.ipynb"]
    assert m["outputs"] == {"first.csv": hashlib.sha256(b"a,b\n1,2\n").hexdigest()}


def test_cli_failure_is_a_message_not_a_traceback(tmp_path):
    nbs = _tiny_notebooks(tmp_path / "nbs")
    r = subprocess.run([str(CLI), "run", str(OTHER), "--out", str(tmp_path / "out"), "--notebooks", str(nbs),
                        "--param", "threshold=0.95"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert "[2/3] 02_second" in r.stdout and "FAILED" in r.stdout and "[3/3]" not in r.stdout
    assert "journeylab run: 02_second.ipynb failed at cell 3" in r.stderr
    assert "ValueError: threshold 0.95 is too high" in r.stderr
    assert "Traceback (most recent call last)" not in r.stderr  # no Python traceback of journeylab itself


def test_broken_study_stops_before_any_kernel(tmp_path):
    study = shutil.copytree(OTHER, tmp_path / "broken")
    survey = (study / "survey.csv").read_text().splitlines()
    survey[1] = survey[1].replace(",9,", ",42,", 1) if ",9," in survey[1] else survey[1] + "x"
    (study / "survey.csv").write_text("\n".join(survey) + "\n")
    (study / "participants.csv").write_text("pid,name,profile\nG1,A,astronaut\n")
    with pytest.raises(StudyError, match="participants.csv, line 2.*astronaut"):
        run(study, tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists()
    r = subprocess.run([str(CLI), "run", str(study), "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert r.returncode == 2 and "journeylab run:" in r.stderr and "astronaut" in r.stderr
    assert "Traceback" not in r.stderr


def test_run_arguments(tmp_path):
    with pytest.raises(JourneylabError, match="study folder .*nowhere not found"):
        run(tmp_path / "nowhere", tmp_path / "out")
    with pytest.raises(JourneylabError, match="seed are set by run"):
        run(OTHER, tmp_path / "out", parameters={"seed": 1}, notebooks=_tiny_notebooks(tmp_path / "nbs"))
    assert _parameters(["engine=nltk", "threshold=0.9", "n=3", "name='a b'"]) == \
        {"engine": "nltk", "threshold": 0.9, "n": 3, "name": "a b"}
    with pytest.raises(JourneylabError, match="expected NAME=VALUE"):
        _parameters(["engine"])
