"""Rendering: the journey canvas never lets two texts overlap (checked with the renderer's own
bounding boxes), handles many stages and long labels, uses the Okabe–Ito palette, and exports
PNG, SVG and PDF."""
from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.text import Text

import journeylab as jl
from journeylab.map.journey_map import _normalise_evidence
from journeylab.map.render import A3_LANDSCAPE, GREY, OKABE_ITO

LONG = ("an extraordinarily long label that keeps going well past any reasonable width because participants "
        "rarely speak in tidy sentences and analysts rarely write short codes")


def make_map(n_stages=5, n_claims=3, long=False, persona="all"):
    """A hand-made map: ``n_claims`` pain points and delights per stage, metrics, quotes, notes."""
    stages = [f"stage_{i}_{'with_a_really_long_stage_name' if long else 'x'}" for i in range(n_stages)]
    grades = ["strong", "qualitative_only", "quantitative_only", "contradicted", "weak"]
    rows, quotes, thoughts = [], {}, {}
    for i, s in enumerate(stages):
        thoughts[s] = []
        for k in range(n_claims):
            for kind in ("pain_point", "delight"):
                code = f"{kind}_{i}_{k}" + (("_" + LONG.replace(" ", "_")) if long else "")
                qid = f"P{k:02d}-t{i:03d}{kind[0]}"
                rows.append({"claim_id": f"{s}/tp/{code}", "stage": s, "stage_order": i, "touchpoint": "tp",
                             "persona": persona, "kind": kind, "code": code, "claim": "definition " + (LONG if long else ""),
                             "n_participants": k + 1, "n_participants_total": 12, "share_participants": (k + 1) / 12,
                             "share_ci_low": 0.01, "share_ci_high": 0.5, "n_segments": k + 2, "quote_ids": qid,
                             "sentiment_mean": -0.3 if kind == "pain_point" else 0.4, "sentiment_ci_low": -0.5,
                             "sentiment_ci_high": 0.6, "grade": grades[(i + k) % 5],
                             "grade_reason": "reason <b>" + LONG})
                text = ("I said <script>alert('x')</script> and \"><img src=x onerror=alert(1)> " + LONG) if long \
                    else f"quote {i} {k}"
                quotes[qid] = {"participant_id": f"P{k:02d}", "doc_id": f"P{k:02d}", "start": 0, "end": len(text),
                               "speaker": f"P{k:02d}", "text": text,
                               "context": [{"segment_id": "x-t001", "speaker": "Interviewer", "speaker_role": "interviewer",
                                            "text": "And then?", "is_quote": False},
                                           {"segment_id": qid, "speaker": f"P{k:02d}", "speaker_role": "participant",
                                            "text": text, "is_quote": True}]}
                if kind == "pain_point":
                    thoughts[s].append({"segment_id": qid, "participant_id": f"P{k:02d}", "claim_id": f"{s}/tp/{code}",
                                        "text": text})
        for j in range(3 if long else 2):
            rows.append({"claim_id": f"{s}/tp/metric:step:e{i}{j}", "stage": s, "stage_order": i, "touchpoint": "tp",
                         "persona": persona, "kind": "metric", "metric": f"step:e{i}{j}",
                         "claim": f"step e{i}{j}", "step": f"event_{i}_{j}" + ("_" + "x" * 40 if long else ""),
                         "step_from": f"event_{i}_{j - 1}", "step_conversion": 0.5 + 0.1 * j, "step_ci_low": 0.45,
                         "step_ci_high": 0.75, "step_signal": ["problem", "healthy", "inconclusive"][j % 3],
                         "step_users_from": 1000, "step_lost": 300, "n_participants": 0})
    ev = _normalise_evidence(pd.DataFrame(rows))
    rng = np.random.default_rng(0)
    mean = rng.uniform(-0.5, 0.5, n_stages)
    emotion = pd.DataFrame({"stage": stages, "stage_order": range(n_stages), "mean": mean, "ci_low": mean - 0.2,
                            "ci_high": mean + 0.2, "n_segments": rng.integers(1, 40, n_stages),
                            "n_participants": [1 if i == 1 else 6 for i in range(n_stages)],
                            "enough_data": [i != 1 for i in range(n_stages)]})
    if n_stages > 3:
        emotion.loc[2, ["mean", "ci_low", "ci_high"]] = np.nan
        emotion.loc[2, ["n_segments", "n_participants"]] = 0
    opps = pd.DataFrame([{"stage": s, "touchpoint": "tp", "text": ("Do the thing " + (LONG if long else "")),
                          "source": "analyst" if k == 0 else "codebook", "code": f"pain_point_{i}_{k}",
                          "claim_id": None, "owner": "Team " + ("with a long name " * 3 if long else "A"), "grade": None}
                         for i, s in enumerate(stages) for k in range(2)])
    return jl.JourneyMap(
        title=("A map title " + LONG) if long else "Small map", persona=persona,
        stages=[{"name": s, "order": i, "touchpoints": [f"touchpoint_{j}" + ("_long_name" * 3 if long else "")
                                                        for j in range(4)],
                 "owner": ("Owner team " + "x" * 30) if long else "Team"} for i, s in enumerate(stages)],
        persona_card={"name": "Everyone " + (LONG if long else ""), "description": LONG if long else "d",
                      "goals": [LONG] * (3 if long else 1), "needs": [LONG] * (4 if long else 1),
                      "participants": [f"P{k:02d}" for k in range(40 if long else 4)], "n_participants": 40 if long else 4,
                      "attributes": {"device": {"mobile": 3, "desktop": 1}}},
        goals={s: [LONG] * 4 if long else ["goal"] for s in stages},
        actions={s: [{"event": "e", "label": "Event " + ("y" * 50 if long else ""), "users": 10, "share": 0.5}] * 4
                 for s in stages},
        thoughts=thoughts, emotion=emotion, evidence=ev, opportunities=opps, quotes=quotes,
        methods={"sample": {"participants": 12, "survey_responses": 100, "events": 1000}, "rules": {}},
        warnings=["One map for all segments is accurate for none. " + (LONG if long else ""), "Second warning."])


def texts_of(fig):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    out = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip():
            continue
        out.append((t.get_text(), t.get_window_extent(r)))
    return out


def assert_no_overlaps(fig, tol=0.5):
    boxes = texts_of(fig)
    W, H = fig.bbox.width, fig.bbox.height
    for txt, b in boxes:
        assert b.x0 >= -tol and b.y0 >= -tol and b.x1 <= W + tol and b.y1 <= H + tol, f"off the page: {txt[:60]!r}"
    bad = []
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        if (min(a.x1, b.x1) - max(a.x0, b.x0) > tol) and (min(a.y1, b.y1) - max(a.y0, b.y0) > tol):
            bad.append((ta[:40], tb[:40]))
    assert not bad, f"{len(bad)} overlapping text pairs, e.g. {bad[:3]}"
    return boxes


def test_no_overlaps_default_map(tmp_path):
    fig = make_map().plot()
    boxes = assert_no_overlaps(fig)
    assert len(boxes) > 60
    assert tuple(fig.get_size_inches()) == pytest.approx(A3_LANDSCAPE)


def test_no_overlaps_many_stages_and_long_labels(tmp_path):
    jmap = make_map(n_stages=9, n_claims=6, long=True)
    fig = jl.plot_map(jmap)
    boxes = assert_no_overlaps(fig)
    texts = " ".join(t for t, _ in boxes)
    # long content is shortened rather than overflowing
    assert "…" in texts or "more (see the report)" in texts
    fig.savefig("/tmp/journeylab_test_render_long.png", dpi=100)


def test_small_figure_still_no_overlaps():
    fig = jl.plot_map(make_map(n_stages=4, n_claims=4, long=True), figsize=(11.69, 8.27))  # A4
    assert_no_overlaps(fig)


def test_markers_styled_by_grade_and_palette():
    fig = make_map(n_stages=5, n_claims=5).plot()
    allowed = {c.lower() for c in OKABE_ITO.values()} | {GREY, "#ffffff", "#222222", "#444444", "#555555"}
    shapes = set()
    for coll in fig.axes[0].collections:
        for fc in coll.get_facecolors():
            assert to_hex(fc) in allowed, to_hex(fc)
        for ec in coll.get_edgecolors():
            assert to_hex(ec) in allowed, to_hex(ec)
        if len(coll.get_offsets()):
            shapes.add(len(coll.get_paths()[0].vertices))
    # circles, squares and Xs are drawn (different path sizes)
    assert len(shapes) >= 3


def test_lanes_subset_and_errors():
    fig = jl.plot_map(make_map(), lanes=["pain_points", "emotion", "metrics"])
    labels = {t for t, _ in texts_of(fig)}
    assert "Pain points" in labels and "Thoughts (real quotes)" not in labels
    with pytest.raises(jl.JourneylabError, match="unknown lane 'feelings'"):
        jl.plot_map(make_map(), lanes=["feelings"])
    with pytest.raises(jl.JourneylabError, match="must be a JourneyMap"):
        jl.plot_map("map")


def test_dollar_signs_are_not_mathtext():
    jmap = make_map()
    jmap.thoughts[jmap.stage_names[0]] = [{"segment_id": "q", "participant_id": "P1", "claim_id": "c",
                                            "text": "It cost $5 and then $10 more, ^_^ {braces}"}]
    texts = [t for t, _ in texts_of(jmap.plot())]
    assert any("$5 and then $10" in t for t in texts)


def test_export_png_svg_pdf(tmp_path):
    jmap = make_map(n_stages=3, n_claims=1)
    fig = jmap.plot()
    png = jl.save_map(fig, path=tmp_path / "map.png", dpi=80)
    svg = jl.save_map(fig, path=tmp_path / "map.svg")
    pdf = jl.save_map(jmap, path=tmp_path / "map.pdf")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(png) as im:
        assert im.size == (round(A3_LANDSCAPE[0] * 80), round(A3_LANDSCAPE[1] * 80))
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    # deterministic output: same map, same bytes
    assert jl.save_map(jmap, path=tmp_path / "again.pdf").read_bytes() == pdf.read_bytes()
    with pytest.raises(jl.JourneylabError, match="expected a .png, .svg or .pdf"):
        jl.save_map(jmap, path=tmp_path / "map.jpg")
    assert matplotlib.get_backend().lower() == "agg"


def test_plot_evidence_orders_by_share_and_marks_grades():
    jmap = make_map(n_stages=2, n_claims=3)
    ax = jl.plot_evidence(jmap, kind="pain_point")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    ev = jmap.claims("pain_point").sort_values("share_participants")
    assert len(labels) == len(ev)
    grades = [t.get_text() for t in ax.texts]
    assert "contradicted" in grades or "strong" in grades
    with pytest.raises(jl.JourneylabError, match="no 'delight' rows for persona 'x'"):
        jl.plot_evidence(jmap, kind="delight", persona="x")


def test_persona_card_of_a_large_study_lists_a_few_ids_and_a_count():
    """10,000 participants: the map's persona card names the first ids and counts the rest, no more."""
    jmap = make_map()
    jmap.persona_card = {**jmap.persona_card, "participants": [f"R{i:05d}" for i in range(10_000)],
                         "n_participants": 10_000}
    fig = jl.plot_map(jmap)
    shown = " ".join(t for t, _ in assert_no_overlaps(fig))
    assert "Rests on 10,000 interviewed participant(s)" in shown
    assert "R00009 and 9,990 more" in shown and "R00010" not in shown
    few = make_map()  # a short list is shown whole
    assert "P00, P01, P02, P03" in " ".join(t for t, _ in texts_of(jl.plot_map(few)))
