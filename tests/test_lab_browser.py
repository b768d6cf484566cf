"""The notebooks in a real JupyterLab, driven by a real browser (Debian's chromium through Playwright).

A JupyterLab server runs on 127.0.0.1 (free port, random token) over a temporary copy of
``notebooks/`` with its own ``JUPYTER_*`` folders, using this environment's kernel. The tests

* open ``02_coding.ipynb``, run every cell from the *Run* menu, and code the sample study's first
  participant turns by clicking the coding widget; the decisions are then read back from the
  SQLite coding store the kernel wrote (not from the page);
* open ``07_journey_map.ipynb``, run all its cells and screenshot the map once it is drawn.

Skipped when chromium is missing, unless the CI environment variable is set (then they fail:
CI installs chromium with ``make browser``). Skip locally with ``-m "not browser"``; run alone
with ``pytest -m browser tests/test_lab_browser.py``. On a failure the page is saved as a PNG
in the test's ``tmp_path`` and the message gives its path and the server log's tail.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import journeylab as jl
from journeylab.coding.store import CodingStore

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CODER = "you"  # the coder name in 02_coding.ipynb's parameters cell
TIMEOUT_MS = 90_000  # the longest single wait (a notebook's cells); a normal run needs a fraction


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


class Lab:
    """A JupyterLab server over a temporary copy of the notebooks."""

    def __init__(self, base: Path):
        self.base = base
        self.root = base / "notebooks"
        self.root.mkdir()
        for nb in NOTEBOOKS.glob("*.ipynb"):
            shutil.copy2(nb, self.root / nb.name)
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = base / "jupyterlab.log"
        jup = base / "jupyter"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MPLBACKEND"))}
        env.update(JUPYTER_CONFIG_DIR=str(jup / "config"), JUPYTER_DATA_DIR=str(jup / "data"),
                   JUPYTER_RUNTIME_DIR=str(jup / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(jup / "settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(jup / "workspaces"), IPYTHONDIR=str(jup / "ipython"),
                   JUPYTER_PLATFORM_DIRS="1")
        # no network: no news or update checks
        _write_json(jup / "config" / "jupyter_server_config.json", {"LabApp": {
            "news_url": None, "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate"}})
        settings = jup / "settings" / "@jupyterlab"
        # every cell in the page (the default windowing leaves cells out of view unrendered)
        _write_json(settings / "notebook-extension" / "tracker.jupyterlab-settings", {"windowingMode": "none"})
        _write_json(settings / "apputils-extension" / "notification.jupyterlab-settings",
                    {"fetchNews": "false", "checkForUpdates": False})
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
               "--port-retries=0", f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={self.root}",
               "--KernelManager.shutdown_wait_time=1"]  # a kernel still running cells is killed after 1 s
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, env=env, cwd=base, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            body = r.read()
        return json.loads(body) if body else None

    def log_tail(self, n: int = 25) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def wait_ready(self, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"JupyterLab exited with code {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                self.api("/api/status")
                return
            time.sleep(0.25)
        raise AssertionError(f"JupyterLab did not answer on {self.url} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Shut the kernels and the server down (the kernels run in sessions of their own)."""
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                for k in self.api("/api/kernels"):
                    self.api(f"/api/kernels/{k['id']}", method="DELETE")
            with contextlib.suppress(OSError):
                self.api("/api/shutdown", method="POST")
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        self._log.close()

    def notebook_url(self, name: str) -> str:
        # a workspace of its own, so that JupyterLab does not reopen the other test's notebook
        workspace = re.sub(r"\W", "-", Path(name).stem)
        return f"{self.url}/lab/workspaces/{workspace}/tree/{name}?token={self.token}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser):  # browser first: no server is started when the test is skipped
    server = Lab(tmp_path_factory.mktemp("lab"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def shot_on_failure(page, lab: Lab, path: Path):
    """Re-raise any failure with a screenshot of the page and the server log's tail."""
    try:
        yield
    except Exception as exc:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(path), full_page=False)
        raise AssertionError(f"{exc}\n\nscreenshot: {path}\npage errors: {page.journeylab_errors}\n"
                             f"JupyterLab log ({lab.log_path}):\n{lab.log_tail()}") from exc


# --------------------------------------------------------------------------- JupyterLab steps


def open_notebook(page, lab: Lab, name: str) -> None:
    """Open a notebook and wait until its kernel is started and idle."""
    page.goto(lab.notebook_url(name))
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(state="visible", timeout=60_000)
    # the status bar's "| Idle" (the toolbar's indicator turns idle before the kernel is attached,
    # and a Run All then runs nothing)
    page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\|\s*Idle$")).wait_for(timeout=60_000)


def run_menu(page, label: str) -> None:
    """Choose an item of the menu bar's Run menu by its label."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    item = page.locator(".lm-Menu-item", has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{label}$")))
    item.click()


_PROMPTS_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell')).map(c => {
    const p = c.querySelector('.jp-InputPrompt');
    return p ? p.textContent.trim() : '';
})"""


def wait_executed(page, n_cells: int, timeout_ms: int = TIMEOUT_MS) -> None:
    """Wait until the first ``n_cells`` code cells have run (``[n]:``), or a cell failed.

    Fails with the first error's text.
    """
    js = f"""() => {{
        const prompts = ({_PROMPTS_JS})().slice(0, {n_cells});
        const busy = prompts.some(p => p.includes('*'));
        const done = prompts.every(p => /\\[\\d+\\]/.test(p));
        const failed = document.querySelector('.jp-Notebook [data-mime-type="application/vnd.jupyter.stderr"]')
            && Array.from(document.querySelectorAll('.jp-Notebook [data-mime-type="application/vnd.jupyter.stderr"]'))
                .some(e => e.textContent.includes('Traceback'));
        return !busy && (done || failed);
    }}"""
    page.wait_for_function(js, timeout=timeout_ms, polling=250)
    errors = [t for t in page.locator(".jp-Notebook [data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
              if "Traceback" in t]
    assert not errors, f"a cell failed:\n{errors[0][-3000:]}"


def poll(fn, what: str, timeout: float = 15.0):
    """Call ``fn`` until it returns something other than None (the kernel writes asynchronously)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        result = fn()
        if result is not None:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _source_cells(name: str) -> list[dict]:
    return json.loads((NOTEBOOKS / name).read_text())["cells"]


# --------------------------------------------------------------------------- the tests


def test_code_two_segments_in_jupyterlab(page, lab, tmp_path):
    study = jl.load_study(jl.datasets.sample_study_path())
    seg = study.segments
    codable = seg.loc[seg["speaker_role"] == "participant", "segment_id"].tolist()
    n_code = sum(c["cell_type"] == "code" for c in _source_cells("02_coding.ipynb"))
    store_path = lab.root / "outputs" / "codings.sqlite"

    with shot_on_failure(page, lab, tmp_path / "02_coding_failure.png"):
        open_notebook(page, lab, "02_coding.ipynb")
        run_menu(page, "Run All Cells")
        wait_executed(page, n_code)
        widget = page.locator(".jl-coding-session")
        widget.wait_for(state="visible")
        header = widget.locator(".jl-header")
        filters = widget.locator(".widget-dropdown select").evaluate_all(
            "ss => ss.map(s => s.selectedIndex < 0 ? '(empty)' : s.options[s.selectedIndex].text.replace(/\\u00a0/g, ' '))")
        assert filters == ["all participants", "all stages"], f"filter boxes show {filters}"

        def shown() -> str:
            return header.locator("code").inner_text()

        def wait_shown(sid: str) -> None:
            header.locator("code", has_text=re.compile(f"^{re.escape(sid)}$")).wait_for()

        def toggle(code: str, active: bool = False):
            css = ".jl-code-toggle.mod-active" if active else ".jl-code-toggle"
            return widget.locator(css, has_text=re.compile(rf"^\s*{re.escape(code)}\s*$"))

        # the session opens on the first participant turn, "Yeah, that's fine, go for it."
        wait_shown(codable[0])
        assert widget.locator(".jl-code-toggle").count() == sum(c.codable for c in study.codebook)
        widget.locator(".jl-no-code").click()
        header.get_by_text(re.compile(r"1 of \d+ segments coded")).wait_for()
        widget.locator(".jl-next").click()

        # turn 2: "never pay full price ... four apps on my phone just for vouchers and cashback"
        wait_shown(codable[1])
        assert shown() == codable[1]
        toggle("price_comparison").click()
        toggle("price_comparison", active=True).wait_for()
        header.get_by_text(re.compile(r"2 of \d+ segments coded")).wait_for()

        # two turns on, "It was an Instagram ad": accept the rule's ad_discovery suggestion
        widget.locator(".jl-next").click()
        wait_shown(codable[2])
        widget.locator(".jl-next").click()
        wait_shown(codable[3])
        suggestion = widget.locator(".jl-suggestion", has=page.locator("b", has_text=re.compile("^ad_discovery$")))
        suggestion.locator(".jl-accept").click()
        toggle("ad_discovery", active=True).wait_for()
        header.get_by_text(re.compile(r"3 of \d+ segments coded")).wait_for()
        page.screenshot(path=str(tmp_path / "02_coding_widget.png"))

        # what the kernel wrote: the coder's decisions in the SQLite store
        assert store_path.is_file(), f"no coding store at {store_path}"

        def decisions():
            with CodingStore(store_path) as store:
                d = store.decisions(CODER)
            return d if len(d) >= 2 else None

        d = poll(decisions, f"two decisions by {CODER!r} in {store_path}")
        got = sorted(zip(d["segment_id"], d["code"], d["coder"], d["value"].astype(bool), d["origin"]))
        assert got == [(codable[1], "price_comparison", CODER, True, "manual"),
                       (codable[3], "ad_discovery", CODER, True, "manual")], got
        assert d.loc[d["code"] == "ad_discovery", "rule"].notna().all(), "the accepted rule is not recorded"
        with CodingStore(store_path) as store:
            assert store.done_segments(CODER) >= {codable[0], codable[1], codable[3]}
            assert store.position(CODER) == codable[3]
        codings = jl.read_codings(store_path, coder=CODER)
        assert sorted(zip(codings["segment_id"], codings["code"])) == [(codable[1], "price_comparison"),
                                                                       (codable[3], "ad_discovery")]
        assert page.journeylab_errors == [], page.journeylab_errors


def test_map_notebook_shows_the_map(page, lab, tmp_path):
    cells = _source_cells("07_journey_map.ipynb")
    at = next(i for i, c in enumerate(cells) if "journey_map_crop.png" in "".join(c["source"]))  # a readable crop
    n_code = sum(c["cell_type"] == "code" for c in cells[: at + 1])
    shot = tmp_path / "07_journey_map.png"

    with shot_on_failure(page, lab, tmp_path / "07_journey_map_failure.png"):
        open_notebook(page, lab, "07_journey_map.ipynb")
        # Run All, then wait for the cells down to the map (the rest, exports and before/after
        # maps, take half a minute more and are nbval's job; the server stops their kernel)
        run_menu(page, "Run All Cells")
        wait_executed(page, n_code)
        image = page.locator(".jp-Notebook .jp-Cell").nth(at).locator(".jp-OutputArea-output img")
        image.wait_for(state="visible")
        image.scroll_into_view_if_needed()
        size = image.evaluate("i => [i.complete, i.naturalWidth, i.naturalHeight]")
        assert size[0] and size[1] > 800 and size[2] > 300, f"the map image is not drawn: {size}"
        page.screenshot(path=str(shot))
        image.screenshot(path=str(tmp_path / "07_journey_map_image.png"))
        assert shot.stat().st_size > 20_000
        assert page.journeylab_errors == [], page.journeylab_errors
