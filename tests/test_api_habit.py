"""One API habit across the public functions (issue 13, item 3).

- The data argument first and positional, every other argument keyword-only, so a call in an old
  positional order fails with a TypeError instead of swapping arguments silently.
- ``ax`` keyword-only in every plot; ``random_state`` defaults to 0 wherever it appears.
- Every type a public function is annotated to return is exported from ``journeylab``.
- Every public function documents each of its parameters (numpydoc ``Parameters``), with the
  entries shared by many functions written once in ``journeylab/utils/docstrings.py``.
"""
from __future__ import annotations

import inspect
import re

import pandas as pd
import pytest

import journeylab as jl
from journeylab.utils.docstrings import PARAMS, shared_docs

PUBLIC = sorted(n for n in jl.__all__ if inspect.isfunction(getattr(jl, n)))
CLASSES = sorted(n for n in jl.__all__ if inspect.isclass(getattr(jl, n))
                 and not issubclass(getattr(jl, n), BaseException))
P = inspect.Parameter


def _positional(sig: inspect.Signature) -> list[str]:
    return [p.name for p in sig.parameters.values() if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]


def test_there_are_public_functions_to_check():
    assert len(PUBLIC) > 60 and "co_occurrence" in PUBLIC and "merge_report" in PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_data_first_then_keyword_only(name):
    positional = _positional(inspect.signature(getattr(jl, name)))
    assert len(positional) <= 1, f"jl.{name}: only the data argument is positional; found {positional}"


# Classes built from data take it first and everything else by keyword, as functions do. Result
# containers and dataclasses of settings (built by the library, or field by field) are not data calls.
DATA_CLASSES = ["CodingSession", "SpanCodingSession", "ReconcileSession", "CodingStore", "Codebook", "CoderPair"]


@pytest.mark.parametrize("name", DATA_CLASSES)
def test_classes_built_from_data_take_it_first(name):
    positional = [p for p in _positional(inspect.signature(getattr(jl, name)))]
    assert len(positional) <= 1, f"jl.{name}(): only the data argument is positional; found {positional}"


@pytest.mark.parametrize("name", PUBLIC + CLASSES)
def test_ax_is_keyword_only_and_random_state_defaults_to_0(name):
    obj = getattr(jl, name)
    try:
        params = inspect.signature(obj).parameters
    except ValueError:  # a class without an inspectable signature
        return
    if "ax" in params:
        assert params["ax"].kind is P.KEYWORD_ONLY, f"jl.{name}: `ax` must be keyword-only"
        assert params["ax"].default is None
    if "random_state" in params:
        assert params["random_state"].default == 0, f"jl.{name}: random_state defaults to 0 everywhere"


def _journeylab_types(annotation, module) -> set[type]:
    """The journeylab classes named in a return annotation (strings resolved in the function's module)."""
    if annotation is inspect.Signature.empty:
        return set()
    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", annotation if isinstance(annotation, str) else
                           getattr(annotation, "__name__", str(annotation))))
    found = set()
    for n in names:
        obj = getattr(module, n, None)
        if inspect.isclass(obj) and obj.__module__.startswith("journeylab"):
            found.add(obj)
    return found


@pytest.mark.parametrize("name", PUBLIC)
def test_every_returned_type_is_exported(name):
    func = getattr(jl, name)
    module = inspect.getmodule(func)
    exported = {getattr(jl, n) for n in jl.__all__}
    for cls in _journeylab_types(inspect.signature(func).return_annotation, module):
        assert cls in exported, f"jl.{name} returns {cls.__name__}, which is not exported from journeylab"


# Types returned without a return annotation (documented under Returns): exported too.
RETURNED = {"redact": "Redaction", "read_document": "Document", "compare_coders": "CoderComparison",
            "validate_study": "Problem", "coder_pair": "CoderPair", "section": "SectionStatus",
            "study_part": "StudyPart", "participant_codings": "ParticipantCodings", "import_project": "ImportReport"}


@pytest.mark.parametrize("name, type_name", sorted(RETURNED.items()))
def test_types_named_under_returns_are_exported(name, type_name):
    assert type_name in jl.__all__
    assert type_name in inspect.getdoc(getattr(jl, name)), f"jl.{name}'s Returns does not name {type_name}"


def test_reconcile_view_and_check_result_are_public():
    assert jl.ReconcileSession.view.fget.__annotations__["return"].strip("'\"") == "ReconcileView"
    assert "CheckResult" in jl.__all__ and "DaskFunnel" in jl.__all__
    assert jl.OVERALL == "(overall)" and callable(jl.plot_agreement)


# ----------------------------------------------------------------------------- old orders fail loudly

SEG = pd.DataFrame({"segment_id": ["d1-1"], "doc_id": ["d1"], "participant_id": ["p1"], "speaker_role": ["participant"],
                    "text": ["The delivery was late"]})
COD = pd.DataFrame({"segment_id": ["d1-1"], "code": ["late"], "coder": ["ann"]})
SENT = pd.DataFrame({"segment_id": ["d1-1"], "compound": [-0.4]})

OLD_CALLS = {
    "suggest_codes(segments, codings)": lambda: jl.suggest_codes(SEG, COD),
    "co_occurrence(codings, segments)": lambda: jl.co_occurrence(COD, SEG),
    "code_sentiment(sentiment, codings, segments)": lambda: jl.code_sentiment(SENT, COD, SEG),
    "emotion_curve(sentiment, segments, codings)": lambda: jl.emotion_curve(SENT, SEG, COD, stages=["a"]),
    "autocode(segments, codebook)": lambda: jl.autocode(SEG, jl.Codebook([jl.Code("late")])),
    "disagreements(codings, segments)": lambda: jl.disagreements(COD, SEG),
    "compare_rates(560, 1000, 720, 1000)": lambda: jl.compare_rates(560, 1000, 720, 1000),
    "merge_codings(..., return_report=True)": lambda: jl.merge_codings(COD, return_report=True),
    "write_csv(frame, path)": lambda: jl.write_csv(COD, "never.csv"),
    "plot_funnel(result, ax)": lambda: jl.plot_funnel(None, None),
}


@pytest.mark.parametrize("call", sorted(OLD_CALLS))
def test_a_call_in_the_old_positional_order_is_a_type_error(call):
    with pytest.raises(TypeError, match="positional argument|unexpected keyword"):
        OLD_CALLS[call]()


def test_merge_codings_has_one_return_type_and_merge_report_the_other():
    a = COD.assign(origin="manual", memo=None)
    merged = jl.merge_codings(a, a.assign(coder="ANN "))
    assert isinstance(merged, pd.DataFrame) and merged["coder"].tolist() == ["ann"]
    report = jl.merge_report(a, a.assign(coder="ANN "))
    assert report["kind"].tolist() == ["coder_merged", "duplicate"]
    assert len(merged.attrs["merge_report"]) == len(report)
    assert [r["kind"] for r in merged.attrs["merge_report"]] == report["kind"].tolist()


# ----------------------------------------------------------------------------- docstrings

_SECTION = re.compile(r"^Parameters\n-+\n(.*?)(?=^\S[^\n]*\n-{3,}\n|\Z)", re.S | re.M)


def documented_parameters(doc: str) -> set[str]:
    """Names in a numpydoc Parameters section (``a, b : type`` documents both; ``*args`` too)."""
    m = _SECTION.search(doc or "")
    if not m:
        return set()
    names = set()
    for line in m.group(1).splitlines():
        if line and not line[0].isspace():
            head = line.split(" : ")[0]
            names.update(n.strip().lstrip("*") for n in head.split(","))
    return names


def test_documented_parameters_reads_numpydoc():
    doc = "Do.\n\nParameters\n----------\na, b : DataFrame\n    x\n*rest\n    y\nc : int\n\nReturns\n-------\nd : int\n"
    assert documented_parameters(doc) == {"a", "b", "rest", "c"}


@pytest.mark.parametrize("name", PUBLIC)
def test_every_parameter_is_documented(name):
    func = getattr(jl, name)
    params = {p.name for p in inspect.signature(func).parameters.values()}
    missing = params - documented_parameters(inspect.getdoc(func))
    assert not missing, f"jl.{name}: parameters not documented under Parameters: {sorted(missing)}"


def test_no_placeholder_is_left_unfilled():
    for name in PUBLIC:
        doc = inspect.getdoc(getattr(jl, name)) or ""
        left = [k for k in PARAMS if re.search(rf"^\s*\{{{k}\}}\s*$", doc, re.M)]
        assert not left, f"jl.{name}: placeholder {left} not filled (missing @shared_docs?)"


def test_shared_docs_fills_whole_line_placeholders_only():
    @shared_docs
    def f(data, *, ax=None, random_state=0):
        """Draw {ax} here.

        Parameters
        ----------
        {ax}
            Extra words for this function.
        {random_state}
        """

    doc = f.__doc__
    assert "Draw {ax} here." in doc                       # inside a sentence: left alone
    assert "        ax : matplotlib Axes, optional\n            Where to draw" in doc
    assert "            Extra words for this function." in doc
    assert "random_state : int, numpy Generator or None, default 0" in doc
    with pytest.raises(KeyError, match="no shared parameter doc {nope}"):
        shared_docs(type("X", (), {"__doc__": "    {nope}\n"}))


def test_shared_entries_are_used_by_several_functions():
    uses = {k: [n for n in PUBLIC if PARAMS[k].split("\n")[1] in (inspect.getdoc(getattr(jl, n)) or "")]
            for k in PARAMS}
    assert all(len(v) >= 2 for v in uses.values()), {k: v for k, v in uses.items() if len(v) < 2}
