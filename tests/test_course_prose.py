"""The course states the study's findings only in sentences generated from the results (issue 21).

A number typed into a Markdown cell goes stale when the data change and is wrong on every other
study. So every sentence of a notebook's Markdown that carries a digit must be a *method fact*
(a threshold, a scale, a formula, a citation, a navigation number) from the small allow-list
below; a finding of the study is printed by a code cell with `jl.prose` from the objects it
describes. The test renders every notebook's Markdown (code spans, code blocks, link targets and
HTML tags removed) and fails on any other digit-bearing sentence, naming the notebook, the cell and
the sentence.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from strategies import sample_words_in

import journeylab as jl
from journeylab.run.pipeline import SAMPLE_TAG

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))

#: Method facts, references and navigation: removed before looking for a digit.
METHOD_FACTS = [
    r"(?<![\d.,])\b0\d\b(?![.,]\d)(\s*[–-]\s*\[?0\d\b)?",                 # notebook numbers and ranges: 01–08, [01]–[03]
    r"\bExercise \d\.\d\b",                           # exercise numbers
    r"\b(About|about) \d+( ?[–-] ?\d+)? minutes\b", r"\b\d+ ?[–-] ?\d+ minutes\b",
    r"\b(19[5-9]\d|20[01]\d)\b",                      # years of cited references (the studies are later)
    r"[≥≤<>±] ?[+−-]?\d*\.?\d+( ?%)?",                # thresholds: κ ≥ 0.8, ≥ 25 %, ±0.05
    r"[+−-]\d*\.\d+",                                 # VADER's label thresholds (+0.05, −0.05)
    r"\b(95|5|65|90) ?%",                             # confidence levels and the grading bars
    r"\b\d+\s*[–-]\s*\d+\b",                          # rating scales: 0–10, 1–5, 9–10, 0–6
    r"[−-]\d+ to \+\d+", r"[−-]\d+ \(extremely negative\) to \+\d+",
    r"= [+−-]?\d+\b",                                 # NPS coding: promoter = +100
    r"\b0 (and|or) 1\b", r"\bfrom 0\b", r"\bscores? 0\b", r"\b0 neutralises",
    r"\b2×2\b", r"\b2TP\b", r"\bA3\b", r"\bUTF-(8|16)\b", r"\bversion \d+(\.\d+)*",
    r"\bstep[ -]1\b", r"^\d+\.(\s|$)", r"\b\d+ words\b", r"\b4 or 5\b", r"\b4s and 5s\b",
    r"\.(667|800|20|40|60|80)\b", r"\babove 0\.2\b",
    r"[^\s]*[ₒₑ₁₂][^\s]*", r"\(\d+ ?[−-] ?[^\s)]*\)", r"\b\d(?=[Pp][ₒₑ₁₂])",  # formulas: 2Pₒ − 1, (1 − Pₑ)
    r"\bP\d\d\b",                                     # a participant id the exercise names (in the sample study, P13)
    r"\+N\b", r"\bF1\b", r"\(0, not undefined", r"\btop-2\b", r"\bincludes 0\b", r"\babove 0\.05\b",
    r"[−-]\d…\+\d",
]
#: Formula sentences (Pₒ, Pₑ, p₁, p₂): the method's own symbols.
FORMULA = re.compile(r"[ₒₑ₁₂]")
#: Published facts about VADER quoted in 04 (Hutto & Gilbert 2014; vaderSentiment's lexicon).
PUBLISHED = ["7,500 words", "~24,000 human-rated", "r 0.590 against 0.571", "rates +2.2", "(+1.5)",
             "\"okay\" is 0.9", "1.9, \"great\" 3.1", "turn 12)"]


def _markdown_sentences(nb_path: Path):
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        text = re.sub(r"```.*?```", " ", text, flags=re.S)
        text = re.sub(r"`[^`]*`", " ", text)
        text = re.sub(r"\]\([^)]*\)", "]", text)
        text = re.sub(r"<[^>]+>", " ", text)
        text = re.sub(r"\n(?![-*#|>\n]|\d+\.\s)", " ", text)   # a wrapped line continues its sentence
        for sentence in re.split(r"(?<=[.!?;:])\s+|\n", text):
            if sentence.strip():
                yield i, sentence.strip()


def _unexplained_digits(sentence: str) -> bool:
    if any(p in sentence for p in PUBLISHED) or (FORMULA.search(sentence) and "%" not in sentence):
        return False
    rest = sentence
    for pattern in METHOD_FACTS:
        rest = re.sub(pattern, " ", rest)
    return bool(re.search(r"\d", rest))


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_hand_written_number_about_the_study(nb_path):
    found = [f"{nb_path.name} cell {i}: {s}" for i, s in _markdown_sentences(nb_path) if _unexplained_digits(s)]
    assert not found, "digit-bearing sentences not generated from the results:\n" + "\n".join(found)



@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_untagged_markdown_names_nothing_of_the_sample_study(nb_path):
    """Issue 14: `journeylab run` on another study drops the cells tagged `sample-study` and keeps the
    others, so an untagged Markdown cell must not name the sample's shop, codes, coders, personas,
    participants or events (tests/strategies.py's vocabulary, the scan the run's outputs get). A worked
    example about the sample goes in a tagged cell; a finding is printed from the data."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    found = {i: sample_words_in("".join(c["source"])) for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "markdown" and SAMPLE_TAG not in c.get("metadata", {}).get("tags", [])}
    found = {i: words for i, words in found.items() if words}
    assert not found, f"{nb_path.name}: untagged Markdown cells name the sample study (cell: words): {found}"


def test_only_markdown_is_tagged_sample_study():
    """The run drops tagged Markdown only: a tagged code cell would still run, and print, on another study."""
    for nb_path in NOTEBOOKS:
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        tagged = [i for i, c in enumerate(nb["cells"]) if SAMPLE_TAG in c.get("metadata", {}).get("tags", [])]
        assert all(nb["cells"][i]["cell_type"] == "markdown" for i in tagged), (nb_path.name, tagged)


def test_the_scan_catches_a_hand_written_finding():
    # the statements issue 21 found, as they were written: each must be caught
    for sentence in ["Slow delivery is contradicted: eight people told the story, and 96 % of orders arrive within 2–4 days.",
                     "`frustration` tops the mentions (26 turns) but comes from the same four people.",
                     "the correlation is moderate (about 0.27)",
                     "In the sample study the shipping step rose by about 13 percentage points"]:
        assert _unexplained_digits(sentence), sentence
    for sentence in ["Krippendorff asks for α ≥ .800, and accepts .667 for tentative conclusions.",
                     "A text is *positive* from +0.05, *negative* from −0.05.",
                     "**Next:** [03 · Reliability] — measure how far the coders agree."]:
        assert not _unexplained_digits(sentence), sentence


@pytest.mark.parametrize("nb_path", [p for p in NOTEBOOKS if p.stem[:2] in {"02", "03", "04", "05", "06", "07"}],
                         ids=lambda p: p.stem)
def test_findings_are_printed_from_the_results(nb_path):
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    generated = [c for c in nb["cells"] if c["cell_type"] == "code" and "jl.prose." in "".join(c["source"])]
    assert len(generated) >= 2, f"{nb_path.name}: findings should be printed by code cells with jl.prose"
    assert any("Key points" in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_every_notebook_has_key_points_and_the_glossary_is_linked():
    glossary = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    anchors = {re.sub(r"[^\w\- ]", "", h.lower()).strip().replace(" ", "-") for h in re.findall(r"^### (.+)$", glossary, re.M)}
    linked = set()
    for nb_path in NOTEBOOKS:
        text = nb_path.read_text(encoding="utf-8")
        assert "## Key points" in text, nb_path.name
        linked |= set(re.findall(r"glossary\.md#([\w\-]+)", text))
    assert linked <= anchors, sorted(linked - anchors)     # every link lands on a heading
    for term in ["nps", "csat", "qda", "refi-qda", "guid", "kappa", "prevalence-paradox", "byte-offset-code-point"]:
        assert term in linked, term


# ----------------------------------------------------------------------------- the wording rules


def test_interval_reading_never_reads_absence_of_evidence_as_absence():
    wide = jl.prose.interval_reading(21.5, -20, 63, what="the gap")
    assert "do not show the gap" in wide and "nor do they rule it out" in wide and "+63.0" in wide
    assert "no effect" not in wide and "does not go with" not in wide
    clear = jl.prose.interval_reading(12.6, 8.6, 16.7, what="the change")
    assert "show an effect" in clear and "+8.6" in clear


def test_correlation_strength_uses_cohens_bands():
    # Cohen (1988): .1 small, .3 moderate (medium), .5 large; issue 21: r = 0.27 is not "moderate"
    assert jl.prose.correlation_strength(0.27) == "small"
    assert [jl.prose.correlation_strength(r) for r in (0.09, 0.1, 0.3, 0.5, -0.6)] == \
        ["negligible", "small", "moderate", "large", "large"]


def test_drivers_reading_uses_the_corrected_p_values():
    d = pd.DataFrame({"theme": ["form", "cost", "slow", "happy"], "coef": [-30.0, -12.0, 21.5, 18.0],
                      "p_value": [0.001, 0.03, 0.2, 0.004], "p_adj": [0.004, 0.25, 0.73, 0.02]})
    text = jl.prose.drivers_reading(d)
    # cost has p < 0.05 before the correction but not after: it must not be said to go with lower NPS
    assert "`form` goes with a lower NPS" in text and "`happy` with a higher one" in text
    assert "cost" not in text.split(";")[0] and "for the other 2 themes" in text and "not evidence that there is none" in text


def test_kappa_interval_reading_names_zero_width_intervals():
    t = pd.DataFrame({"code": ["a", "b", "c", "(overall)"], "n_positive": [2, 3, 40, 45],
                      "ci_low": [1.0, 0.0, 0.4, 0.6], "ci_high": [1.0, 0.0, 0.8, 0.7]})
    text = jl.prose.kappa_interval_reading(t)
    assert "2 codes (`a` and `b`, 2–3 positive turns)" in text and "not mean their kappa is certain" in text


def test_study_sentences_count_the_other_study():
    study = jl.load_study(ROOT / "tests" / "data" / "other_study")
    text = " ".join(jl.prose.study_sentences(study))
    assert f"{len(study.participants)} interviews" in text and f"{len(study.events):,} events" in text
    assert f"{study.events['user_id'].nunique():,} users" in text and f"{len(study.survey):,} answers" in text
    assert "one-page payment form" in text


def test_notebook_06_on_other_study_states_that_studys_numbers(tmp_path):
    """Executed on tests/data/other_study, the generated sentences carry that study's numbers (~30 s)."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    other = ROOT / "tests" / "data" / "other_study"
    nb = nbformat.read(ROOT / "notebooks" / "06_evidence.ipynb", as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source += f"\nstudy_path = {str(other)!r}\noutput_dir = {str(tmp_path)!r}\n"
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    printed = "\n".join(o.get("data", {}).get("text/markdown", "") for c in nb.cells if c.cell_type == "code"
                        for o in c.get("outputs", []))
    study = jl.load_study(other)
    codings = pd.concat([study.codings, jl.autocode(study.segments, codebook=study.codebook)], ignore_index=True)
    ev = jl.evidence_table(study, codings=codings, random_state=2026)
    pains = ev[ev["kind"] == "pain_point"].dropna(subset=["code"]).sort_values(["n_participants", "n_segments"],
                                                                               ascending=False)
    contradicted = pains[pains["grade"] == "contradicted"]
    focus = (contradicted if len(contradicted) else pains).iloc[0]
    assert (f"`{focus['code']}` ranks" in printed and
            f"{int(focus['n_participants'])} of {int(focus['n_participants_total'])} interviewees" in printed), printed
    assert f"is **{focus['grade']}**" in printed
    assert "Larkspur" not in printed and "eight people" not in printed
