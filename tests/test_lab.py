"""``journeylab lab`` (``make lab``): JupyterLab on notebooks/ with this environment's kernel.

The browser side (running notebooks, clicking the coding widget) is tests/test_lab_browser.py.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_lab_browser import _free_port

import journeylab.run.cli as cli
from journeylab.run.pipeline import NOTEBOOK_DIR


def test_lab_command_uses_this_python_and_the_notebooks():
    cmd = cli.lab_command(["--port=8899"])
    assert cmd[:3] == [sys.executable, "-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={NOTEBOOK_DIR}" in cmd
    assert (NOTEBOOK_DIR / "02_coding.ipynb").is_file()
    assert cmd[-1] == "--port=8899"
    assert ("--allow-root" in cmd) == (hasattr(os, "geteuid") and os.geteuid() == 0)


def test_lab_passes_options_through(monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "_lab", lambda args: seen.append(args.extra) or 0)
    assert cli.main(["lab", "--no-browser", "--port=8899"]) == 0
    assert seen == [["--no-browser", "--port=8899"]]


@pytest.mark.slow
def test_journeylab_lab_serves_the_notebooks(tmp_path):
    """The real command starts a server on notebooks/ whose default kernel is this Python's."""
    script = Path(sys.executable).with_name("journeylab")
    cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "journeylab.run.cli"]
    port, token = _free_port(), secrets.token_hex(8)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"))
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd + ["lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
                                       f"--ServerApp.token={token}", "--LabApp.news_url=None"],
                                env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def api(path, method="GET"):
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            body = r.read()
        return json.loads(body) if body else None

    try:
        end = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"journeylab lab exited ({proc.returncode}):\n{log.read_text()[-2000:]}"
            try:
                api("/api/status")
                break
            except OSError:
                assert time.monotonic() < end, f"journeylab lab did not answer in 60 s:\n{log.read_text()[-2000:]}"
                time.sleep(0.25)
        names = {item["name"] for item in api("/api/contents")["content"]}
        assert {"02_coding.ipynb", "07_journey_map.ipynb"} <= names, names
        specs = api("/api/kernelspecs")
        assert specs["default"] == "python3"
        # Jupyter swaps a kernel's `python` for the server's interpreter: this environment's
        argv0 = specs["kernelspecs"]["python3"]["spec"]["argv"][0]
        assert argv0 in ("python", "python3", sys.executable), argv0
        text = log.read_text()
        assert "Serving notebooks from local directory: " + str(NOTEBOOK_DIR) in text, text[-2000:]
    finally:
        if proc.poll() is None:
            try:
                api("/api/shutdown", method="POST")
                proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
