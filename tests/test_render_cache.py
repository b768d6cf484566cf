"""render: text widths measured by one layout are reused by the next (a speed-up for notebook 07,
which lays the same map out for the screen, each export and the report) without changing a byte."""
from __future__ import annotations

import matplotlib.pyplot as plt
from test_render import make_map

from journeylab.map import render
from journeylab.map.render import plot_map, save_map


def test_shared_widths_give_the_same_bytes_and_skip_measuring(tmp_path, monkeypatch):
    jmap = make_map(n_stages=4, n_claims=2, long=True)
    render._WIDTHS.clear()
    cold = save_map(jmap, path=tmp_path / "cold.svg").read_bytes()
    assert render._WIDTHS, "the first layout fills the shared cache"
    measured = []
    original = render._Fitter.width

    def counting(self, s, *args, **kwargs):
        before = len(render._WIDTHS)
        out = original(self, s, *args, **kwargs)
        measured.append(len(render._WIDTHS) > before)
        return out

    monkeypatch.setattr(render._Fitter, "width", counting)
    warm = save_map(jmap, path=tmp_path / "warm.svg").read_bytes()
    assert warm == cold
    assert measured and not any(measured), "a second layout of the same map measures nothing new"
    # another resolution is another key: measured afresh, and the cache stays bounded
    n = len(render._WIDTHS)
    plt.close(plot_map(jmap, dpi=73))
    assert len(render._WIDTHS) > n
    monkeypatch.setattr(render, "_WIDTHS_MAX", 1)
    plt.close(plot_map(jmap, dpi=74))
    assert len(render._WIDTHS) <= 1
