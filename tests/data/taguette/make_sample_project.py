"""Code four sample-study interviews in a real Taguette, with the study's reference coding.

``data/sample_study/taguette.sqlite3`` is what notebooks/08_interop.ipynb imports as "codes from another
tool". Run from the repository root, with journeylab's environment::

    .venv/bin/python tests/data/taguette/make_sample_project.py /tmp/taguette-venv/bin/python

1. journeylab side (this script): load the sample study (redacted, as every notebook does), write
   the codebook with ``journeylab.interop.taguette.write_codebook`` (dotted hierarchy), turn the
   interviews P01, P05, P08 and P11 into HTML (one ``<p>`` per non-empty line of the document
   text), and list one highlight per coded participant turn of the reference coding
   (``data/sources/reference_codings.csv``: what a careful coder would apply, from which the
   generator derived amara's and jonas's codings): the turn's words, tagged with every reference
   code of that turn (tag = the code's path joined with dots).
2. Taguette side (``make_fixtures.py --plan``, run with Taguette's venv): start Taguette,
   import the codebook CSV through *Import codebook*, upload the documents, add the highlights
   with UTF-8 byte offsets as Taguette's page computes them, check every stored snippet, export
   the project (``project.sqlite3``) to ``data/sample_study/taguette.sqlite3``.
"""
from __future__ import annotations

import html
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

import journeylab as jl
from journeylab.interop import taguette

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
DOCS = ["P01", "P05", "P08", "P11"]


def main(taguette_python: str) -> None:
    study = jl.load_study(ROOT / "data" / "sample_study")
    ref = pd.read_csv(ROOT / "data" / "sources" / "reference_codings.csv")
    seg = study.segments.set_index("segment_id")
    ref = ref[ref["segment_id"].map(seg["doc_id"]).isin(DOCS)]
    tmp = Path(tempfile.mkdtemp(prefix="taguette-sample-"))
    taguette.write_codebook(study.codebook, path=tmp / "codebook.csv")
    documents, highlights = [], []
    texts = study.documents.set_index("doc_id")["text"]
    for d, doc_id in enumerate(DOCS):
        lines = [line for line in texts[doc_id].split("\n") if line.strip()]
        body = "\n".join(f"<p>{html.escape(line, quote=False)}</p>" for line in lines) + "\n"
        documents.append((doc_id, f"{doc_id}.html", f"Sample study interview {doc_id} (redacted)", body))
        joined = "\n".join(lines)
        for sid, codes in ref[ref["segment_id"].map(seg["doc_id"]) == doc_id].groupby("segment_id", sort=True):
            phrase = seg.loc[sid, "text"]
            # which occurrence of the phrase this turn is (turn text can repeat, e.g. "Yeah.")
            before = texts[doc_id][: int(seg.loc[sid, "start"])]
            occurrence, k = 0, before.find(phrase)
            while k >= 0:
                occurrence, k = occurrence + 1, before.find(phrase, k + 1)
            assert joined.count(phrase) >= occurrence + 1
            highlights.append((d, phrase, occurrence, [study.codebook.path(c, sep=".") for c in codes["code"]]))
    plan = {"project": "Larkspur reference coding", "description": "Reference coding of P01, P05, P08, P11",
            "codebook_csv": (tmp / "codebook.csv").read_text(encoding="utf-8-sig"), "documents": documents,
            "highlights": highlights}
    (tmp / "plan.json").write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    subprocess.run([taguette_python, str(HERE / "make_fixtures.py"), "--plan", str(tmp / "plan.json"),
                    str(HERE.parents[2] / "data" / "sample_study" / "taguette.sqlite3")], check=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/taguette-venv/bin/python")
