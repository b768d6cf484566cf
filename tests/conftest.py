"""Shared fixtures."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample_study"
OTHER = ROOT / "tests" / "data" / "other_study"
SHARED = ROOT.parent / "shared"

# fixtures and the scripts that made them, not tests (their modules would clash under --doctest-modules)
collect_ignore_glob = ["data/*"]


@pytest.fixture(autouse=True, scope="session")
def _no_nltk_download():
    """No network here: any code path that calls nltk.download fails the test that reached it."""
    import nltk

    def _refuse(*args, **kwargs):
        raise AssertionError(f"nltk.download{args} called: ship the resource instead")

    original, nltk.download = nltk.download, _refuse
    yield
    nltk.download = original


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def sample_path() -> Path:
    return SAMPLE


# ----------------------------------------------------------------------------- bundled studies
# Loading a study takes about 2 s, so each bundled study is loaded once per test session and
# shared. The fixtures are read-only: a test that changes a study works on a copy
# (``dataclasses.replace(study, survey=study.survey.copy())``, ``copy.deepcopy(study)``), and
# the session checks at teardown that nobody changed the shared one.

def _fingerprint(study) -> dict:
    import pandas as pd

    out = {}
    for name in ("segments", "codings", "participants", "survey", "events", "documents"):
        frame = getattr(study, name)
        out[name] = (frame.shape, tuple(map(str, frame.columns)),
                     int(pd.util.hash_pandas_object(frame.astype(str), index=True).sum()))
    return out


def _shared_study(path: Path, **kwargs):
    import journeylab as jl

    if not (path / "study.yml").is_file():
        pytest.skip(f"{path} is not there")
    study = jl.load_study(path, **kwargs)
    before = _fingerprint(study)
    yield study
    changed = [k for k, v in _fingerprint(study).items() if v != before[k]]
    assert not changed, (f"a test changed the shared study {path.name}'s {changed}: copy it first "
                         "(dataclasses.replace with copied frames, or copy.deepcopy)")


@pytest.fixture(scope="session")
def sample_study():
    """``jl.load_study(data/sample_study)``, loaded once per session; do not change it (copy first)."""
    yield from _shared_study(SAMPLE)


@pytest.fixture(scope="session")
def other_study():
    """``jl.load_study(tests/data/other_study)``, loaded once per session; do not change it (copy first)."""
    yield from _shared_study(OTHER)


@pytest.fixture(scope="session")
def other_study_raw():
    """``jl.load_study(tests/data/other_study, redact=False)``, once per session; do not change it."""
    yield from _shared_study(OTHER, redact=False)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/ is not beside this clone")
    return SHARED


CHROMIUM = os.environ.get("JOURNEYLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (test tools cannot download browsers here).

    Missing chromium fails under CI (``make test`` installs it) and skips elsewhere; the
    ``browser`` marker lets a local run leave these tests out (``-m "not browser"``).
    """
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not executable:
        if os.environ.get("CI"):
            pytest.fail(f"chromium not found at {CHROMIUM}; CI must install it (make browser)")
        pytest.skip("chromium is not installed (apt-get install chromium, or make browser)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, lab):
    """A fresh JupyterLab page of the module's ``lab`` server (tests/test_lab_browser.py's Lab), with the
    page's JavaScript errors collected in ``page.journeylab_errors``."""
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.journeylab_errors = errors
    yield pg
    pg.close()
