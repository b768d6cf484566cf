"""Shared fixtures."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample_study"
SHARED = ROOT.parent / "shared"


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


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/ is not beside this clone")
    return SHARED
