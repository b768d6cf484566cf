"""The HTML report in a real headless browser (Debian's chromium through Playwright).

Skipped when /usr/bin/chromium is missing, unless the CI environment variable is set (then it
fails: CI installs chromium with `make browser`). Run alone with
`pytest -m browser tests/test_report_browser.py`.
"""
from __future__ import annotations

import pytest
from test_render import make_map  # noqa: E402

from journeylab.map.report import to_html

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    jmap = make_map(n_stages=4, n_claims=2, long=True)
    jmap.title = "Browser check <script>alert('x')</script>"
    return to_html(jmap, tmp_path_factory.mktemp("browser") / "report.html")


def test_report_in_chromium(browser, report):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, requests, dialogs = [], [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    assert errors == [], errors
    assert dialogs == [], f"a hostile quote ran: {dialogs}"
    # nothing but the file itself (and the inlined image) was requested
    assert all(u.startswith(("file://", "data:")) for u in requests), requests
    img = page.locator("#map-image")
    assert img.is_visible()
    assert page.evaluate("document.getElementById('map-image').naturalWidth") > 0
    assert page.evaluate("document.getElementById('map-image').complete")
    page.screenshot(path="/tmp/journeylab_report_top.png")
    # a quote's evidence link leads to its source context
    link = page.locator("a.evidence-link").first
    href = link.get_attribute("href")
    link.scroll_into_view_if_needed()
    link.click()
    page.wait_for_function(f"location.hash === {href!r}")
    target = page.locator(f"[id='{href[1:]}']")
    assert target.is_visible()
    assert target.locator(".turn.quote").count() == 1
    box = target.bounding_box()
    assert box is not None and -2 <= box["y"] < 900, box  # scrolled into the viewport
    assert page.evaluate("document.querySelector(':target').id") == href[1:]
    page.screenshot(path="/tmp/journeylab_report_context.png")
    page.close()


# ----------------------------------------------------------------------------- the decision document (issue 20)

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

import journeylab as jl  # noqa: E402

OTHER = Path(__file__).parent / "data" / "other_study"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """What a run on tests/data/other_study writes: the metric CSVs (computed and written as
    notebook 05 does) and the report of notebook 07 (with the study and the persona maps)."""
    out = tmp_path_factory.mktemp("run")
    study = jl.load_study(OTHER)
    jl.write_csv(jl.nps(study.survey, score=study.nps_column), path=out / "nps.csv")
    jl.write_csv(jl.funnel(study.events, steps=study.funnel_steps, window=study.funnel_window).steps,
                 path=out / "funnel_steps.csv")
    jl.write_csv(jl.csat(study.survey, columns=study.csat_columns, scale=study.csat_scale), path=out / "csat.csv")
    design = jl.change_design(study)
    fix = jl.compare_periods(study.events, steps=design.steps, change_date=design.date, window=study.funnel_window)
    jl.write_csv(fix, path=out / jl.file_name(design.name, "before_after", suffix=".csv"))
    codings = pd.concat([study.codings, jl.autocode(study.segments, codebook=study.codebook)], ignore_index=True)
    ev = jl.evidence_table(study, codings=codings, persona=[None, *study.personas], n_boot=200, random_state=0)
    jmap = jl.JourneyMap.build(study, ev)
    maps = [jl.JourneyMap.build(study, ev, persona=p) for p in study.personas]
    jmap.to_html(out / "report.html", study=study, personas=maps)
    return out, jmap, maps


def _open(browser, path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors


def test_first_page_numbers_match_the_runs_csvs(browser, run_dir):
    out, _, _ = run_dir
    page, errors = _open(browser, out / "report.html")
    cell = lambda metric: page.locator(f"#headline tr[data-metric='{metric}'] .headline-value").inner_text()  # noqa: E731
    nps = pd.read_csv(out / "nps.csv").iloc[0]
    assert float(cell("nps")) == round(nps["nps"], 1)
    steps = pd.read_csv(out / "funnel_steps.csv")
    assert cell("conversion") == f"{100 * steps['conversion_from_start'].iloc[-1]:.1f}%"
    cs = pd.read_csv(out / "csat.csv")
    for r in cs.to_dict("records"):
        assert cell(f"csat:{r['column']}") == f"{100 * r['top_box_share']:.0f}%"
    fix = pd.read_csv(next(out.glob("*_before_after.csv"))).iloc[0]
    assert page.locator(".change-before").inner_text() == f"{100 * fix['rate_control']:.1f}%"
    assert page.locator(".change-after").inner_text() == f"{100 * fix['rate_treatment']:.1f}%"
    assert page.locator(".change-diff").inner_text() == f"{100 * fix['difference']:+.1f} points"
    assert page.locator("#decisions > li").count() == 3
    # every number of the first page links to its method in the appendix
    for link in page.locator("#first-page a[href^='#method-']").all():
        assert page.locator(f"[id='{link.get_attribute('href')[1:]}']").count() == 1
    page.screenshot(path="/tmp/journeylab_report_first_page.png")
    assert errors == [], errors
    page.close()


def test_filters_by_grade_stage_and_persona(browser, run_dir):
    out, jmap, maps = run_dir
    page, errors = _open(browser, out / "report.html")
    claims = jmap.claims()
    assert page.locator("#filters").is_visible()
    visible = lambda sel: [el for el in page.locator(sel).all() if el.is_visible()]  # noqa: E731
    assert len(visible("article.claim")) == len(claims)
    page.select_option("#filter-grade", "strong")
    shown = visible("article.claim")
    assert len(shown) == int((claims["grade"] == "strong").sum()) > 0
    assert all(el.get_attribute("data-grade") == "strong" for el in shown)
    assert all(el.get_attribute("data-grade") == "strong" for el in visible("#priorities tbody tr"))
    assert page.locator("#filter-status").inner_text() == f"{len(shown)} of {len(claims)} claims shown"
    stage = jmap.stage_names[1]
    page.select_option("#filter-stage", stage)
    assert [s.get_attribute("data-stage") for s in visible("section.stage")] == [stage]
    assert len(visible("article.claim")) == int(((claims["grade"] == "strong") & (claims["stage"] == stage)).sum())
    page.click("#filter-reset")
    page.wait_for_function(f"document.getElementById('filter-status').textContent.startsWith('{len(claims)} of')")
    # the persona who raised the fewest claims (so the filter has something to hide)
    persona = min(maps, key=lambda m: int((m.claims()["n_participants"] > 0).sum()))
    page.select_option("#filter-persona", persona.persona)
    own = persona.claims()
    key = ["stage", "kind", "code"]   # a persona map's claim ids carry the persona: match on what they claim
    raised = own.loc[own["n_participants"] > 0, key].astype(str).apply(tuple, axis=1)
    expected = claims.loc[claims[key].astype(str).apply(tuple, axis=1).isin(set(raised)), "claim_id"]
    shown = {el.get_attribute("id") for el in visible("article.claim")}
    assert 0 < len(shown) < len(claims)
    assert shown == {"claim-" + "".join(c if c.isalnum() or c in "_-" else "_" for c in cid) for cid in expected}
    # keyboard: the filters are reachable with Tab and show where the focus is
    page.click("#filter-reset")
    page.focus("#filter-persona")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "filter-stage"
    style = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert style not in ("none", ""), style
    assert errors == [], errors
    page.close()


def test_accessibility_axe_and_headings(browser, run_dir):
    axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    out, _, _ = run_dir
    page, errors = _open(browser, out / "report.html")
    levels = page.evaluate("[...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1])")
    assert levels[0] == 1 and levels.count(1) == 1
    for a, b in zip(levels, levels[1:]):
        assert b <= a + 1, f"heading level jumps from h{a} to h{b}"
    results = axe.Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a",
                                                                                 "wcag21aa", "best-practice"]}})
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, results.generate_report()
    page.close()


def test_printed_pdf_is_short_and_starts_with_the_first_page(run_dir, browser):
    pypdf = pytest.importorskip("pypdf")
    from journeylab.map.report import to_pdf

    out, _, _ = run_dir
    pdf = to_pdf(out / "report.html")
    reader = pypdf.PdfReader(pdf)
    assert 1 <= len(reader.pages) <= 6, len(reader.pages)
    first = reader.pages[0].extract_text()
    nps = pd.read_csv(out / "nps.csv").iloc[0]
    assert f"{nps['nps']:+.1f}" in first and "What to do next" in first
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "Run manifest" not in text and "Source context of every quote" not in text  # the appendix is not printed
    # dated by source_date_epoch, two prints are the same bytes (journeylab run compares its outputs)
    again = [to_pdf(out / "report.html", out / f"r{k}.pdf", source_date_epoch=1767225600).read_bytes()
             for k in (1, 2)]
    assert again[0] == again[1] and b"D:20260101000000" in again[0]
