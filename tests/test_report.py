"""The HTML report: standalone (no external resource), every data text escaped (hostile quotes),
anchors that resolve, sections in order, methods and manifest from what was run."""
from __future__ import annotations

import base64
from html.parser import HTMLParser

import pytest

import journeylab as jl
from journeylab.map.report import to_html
from test_journeymap import NOTES, write_tiny_study  # noqa: E402
from test_render import make_map  # noqa: E402

HOSTILE = ["<script>alert('x')</script>", '"><img src=x onerror=alert(1)>']


class Collect(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.ids, self.hrefs, self.srcs, self.on_attrs, self.text = [], set(), [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k == "id":
                assert v not in self.ids, f"duplicate id {v}"
                self.ids.add(v)
            if k == "href":
                self.hrefs.append(v)
            if k == "src":
                self.srcs.append(v)
            if k.startswith("on"):
                self.on_attrs.append((tag, k, v))

    def handle_data(self, data):
        self.text.append(data)


def parse(text: str) -> Collect:
    c = Collect()
    c.feed(text)
    c.close()
    return c


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    jmap = make_map(n_stages=4, n_claims=2, long=True)
    jmap.title = "Report " + HOSTILE[0]
    jmap.persona_card["name"] = HOSTILE[1]
    jmap.stages[0]["owner"] = HOSTILE[0]
    path = to_html(jmap, tmp_path_factory.mktemp("rep") / "report.html",
                             manifest={"parameters": {"note": HOSTILE[1]}})
    return jmap, path, path.read_text(encoding="utf-8")


def test_hostile_text_is_escaped(hostile_report):
    jmap, _, text = hostile_report
    doc = parse(text)
    assert "script" not in doc.tags, "a <script> element made it into the report"
    assert doc.tags.count("img") == 1, "only the map image"
    assert not doc.on_attrs, doc.on_attrs[:3]
    # the hostile strings are shown as text, exactly
    shown = "".join(doc.text)
    for h in HOSTILE:
        assert h in shown
    assert "reason <b>" in shown  # a data text that looks like markup stays text
    assert "<b>reason" not in text


def test_standalone_no_external_resources(hostile_report):
    _, _, text = hostile_report
    doc = parse(text)
    assert len(doc.srcs) == 1 and doc.srcs[0].startswith("data:image/png;base64,")
    png = base64.b64decode(doc.srcs[0].split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    for h in doc.hrefs:
        assert h.startswith("#"), f"external link {h!r}"
    assert "link" not in doc.tags and "iframe" not in doc.tags
    lower = text.lower()
    assert "@import" not in lower and "url(" not in lower


def test_every_anchor_resolves_and_quotes_link_to_context(hostile_report):
    jmap, _, text = hostile_report
    doc = parse(text)
    for h in doc.hrefs:
        assert h[1:] in doc.ids, f"dangling link {h}"
    ctx_links = [h for h in doc.hrefs if h.startswith("#ctx-")]
    # every quote of every claim links to its source context
    n_quotes = sum(len([q for q in str(r).split(";") if q.strip()]) for r in jmap.claims()["quote_ids"].dropna())
    assert len(ctx_links) == n_quotes
    assert {f"ctx-{q}" for q in jmap.quotes} <= doc.ids


def test_sections_in_order(hostile_report):
    _, _, text = hostile_report
    order = ["id='priorities-h'", "id='map'", "id='stages'", "id='sources'", "id='methods'", "id='manifest'"]
    pos = [text.index(o) for o in order]
    assert pos == sorted(pos)
    assert "One map for all segments is accurate for none" in text


@pytest.fixture(scope="module")
def tiny_maps(tmp_path_factory):
    study = jl.load_study(write_tiny_study(tmp_path_factory.mktemp("tiny") / "s", notes=NOTES))
    cod = jl.autocode(study.segments, study.codebook)
    ev = jl.evidence_table(study, cod, persona=[None, "saver", "rusher"], n_boot=100)
    before = jl.study_between(study, end="2026-01-10")
    ev_b = jl.evidence_table(before, cod[cod["segment_id"].isin(before.segments["segment_id"])], n_boot=100)
    return (jl.JourneyMap.build(study, ev), jl.JourneyMap.build(before, ev_b),
            [jl.JourneyMap.build(study, ev, persona=p) for p in ("saver", "rusher")])


def test_methods_and_manifest_from_the_run(tiny_maps, tmp_path):
    jmap, before, personas = tiny_maps
    path = jmap.to_html(tmp_path / "r.html", compare_with=before, personas=personas,
                        manifest={"timings": {"07_journey_map.ipynb": 1.0}})
    text = path.read_text(encoding="utf-8")
    doc = parse(text)
    shown = " ".join(doc.text)
    assert "Tiny codebook, version 2" in shown
    assert "product_view → add_to_cart → form_submitted → order_completed" in shown
    assert "window 7 days" in shown or "window 7D" in shown
    assert "4 interviewed participants" in shown
    assert "engine vader" in shown
    assert "fewer than two coders" in shown
    # manifest: the study's input files with their hashes, versions, and the caller's extra records
    assert "study.yml" in shown and "participants.csv" in shown
    assert "07_journey_map.ipynb" in shown and "pandas" in shown
    # what changed and personas
    assert "id='changes'" in text and "id='personas'" in text
    assert "claim added" in shown or "grade changed" in shown or "metric moved" in shown
    assert "saver" in shown and "rusher" in shown
    for h in doc.hrefs:
        assert h[1:] in doc.ids


def test_to_html_errors(tiny_maps, tmp_path):
    with pytest.raises(jl.JourneylabError, match="expected an .html file"):
        tiny_maps[0].to_html(tmp_path / "r.pdf")
    with pytest.raises(jl.JourneylabError, match="must be a JourneyMap"):
        to_html("map", tmp_path / "r.html")


def test_capped_quotes_say_how_many_turns_they_stand_for(tmp_path):
    """Each claim shows its few quotes and "k of N coded turns quoted" when it rests on more turns."""
    jmap = make_map(n_stages=2, n_claims=2)  # each claim: one quote, n_segments 2 or 3
    text = to_html(jmap, tmp_path / "r.html").read_text(encoding="utf-8")
    shown = " ".join(parse(text).text)
    assert "1 of 2 coded turns quoted." in shown and "1 of 3 coded turns quoted." in shown
    n_claims = len(jmap.evidence[jmap.evidence["quote_ids"].fillna("") != ""])
    assert text.count("quote-count") == n_claims
