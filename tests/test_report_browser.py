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
