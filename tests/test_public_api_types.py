"""Every public function fed a wrong type (and an empty frame where a frame is expected) raises a
JourneylabError naming the argument (issue 10, section 2).

The public names are enumerated from the ``journeylab`` namespace; each must have a row in ROWS
or a reason in EXEMPT / PENDING, so a new public function without a row fails
``test_every_public_name_has_a_row``.
"""
from __future__ import annotations

import inspect
import types

import pandas as pd
import pytest

import journeylab as jl
from journeylab.errors import JourneylabError

WRONG = ["not a path", 3.5, None, ["a", "list"]]
WRONG_PATH = [3.5, None, ["a", "list"], ""]

# name -> (call taking the bad value, the argument its message must name, bad values)
ROWS = {
    "read_transcript": (lambda v: jl.read_transcript(v), "path", WRONG_PATH),
    "read_document": (lambda v: jl.read_document(v), "path", WRONG_PATH),
    "load_study": (lambda v: jl.load_study(v), "path", WRONG_PATH),
    "validate_study": (lambda v: jl.validate_study(v), "path", WRONG_PATH),
    "import_qdpx": (lambda v: jl.import_qdpx(v), "path", WRONG_PATH),
    "import_taguette": (lambda v: jl.import_taguette(v), "path", WRONG_PATH),
    "read_codings": (lambda v: jl.read_codings(v), "path", WRONG_PATH),
    "redact": (lambda v: jl.redact(v), "segments", WRONG + [pd.DataFrame()]),
    "sentiment": (lambda v: jl.sentiment(v), "", [3.5, None, pd.DataFrame()]),  # a list of texts is valid
    "nps": (lambda v: jl.nps(v), "", WRONG + [pd.DataFrame()]),
    "csat": (lambda v: jl.csat(v), "", WRONG + [pd.DataFrame()]),
    "key_drivers": (lambda v: jl.key_drivers(v), "", WRONG + [pd.DataFrame()]),
    "agreement": (lambda v: jl.agreement(v), "", WRONG + [pd.DataFrame()]),
}

# Not functions of data, or not callable with one argument by design.
EXEMPT = {
    "Code": "a dataclass of one code (validated by Codebook)",
    "Study": "a dataclass built by load_study/import_*; not constructed by users",
    "FunnelResult": "a result container returned by funnel()",
    "KeyDrivers": "a result container returned by key_drivers()",
}

# Public names whose wrong-type rows are not written yet (issue 10, section 2: to do). Each still
# raises *some* error on a wrong type; the test below records which ones already name the argument.
PENDING = {
    "Codebook", "CodingSession", "CodingStore", "GradingRules", "JourneyMap", "LearnedCoder", "ReconcileSession",
    "ab_test", "autocode", "co_occurrence", "code_frequencies", "code_sentiment", "compare_coders", "compare_maps",
    "compare_periods", "compare_personas", "compare_rates", "disagreements", "emotion_curve", "evaluate_codings",
    "evidence_table", "exemplar_quotes", "export_qdpx", "funnel", "funnel_paths", "grade_claims",
    "krippendorff_alpha", "load_lexicon", "load_notes", "merge_codings", "minimum_detectable_effect",
    "plot_co_occurrence", "plot_drivers", "plot_emotion_curve", "plot_evidence", "plot_funnel", "plot_map",
    "plot_saturation", "prioritise", "redact_text", "sample_size", "saturation", "save_map",
    "sentiment_terms", "sentiment_vs_scores", "split_sentences", "study_between", "suggest_codes", "theme_nps",
    "time_to_convert", "touchpoint_metrics",
}


def _public_names() -> list[str]:
    def exception(obj):  # error classes are not functions of data
        return inspect.isclass(obj) and issubclass(obj, BaseException)

    return sorted(n for n in dir(jl) if not n.startswith("_") and callable(getattr(jl, n))
                  and not isinstance(getattr(jl, n), types.ModuleType) and not exception(getattr(jl, n)))


def test_every_public_name_has_a_row():
    names = set(_public_names())
    missing = names - set(ROWS) - set(EXEMPT) - PENDING
    assert not missing, f"public names without a row in tests/test_public_api_types.py: {sorted(missing)}"
    stale = (set(ROWS) | set(EXEMPT) | PENDING) - names
    assert not stale, f"rows for names that are no longer public: {sorted(stale)}"
    assert not (set(ROWS) & PENDING), "a name with a row is no longer pending"


@pytest.mark.parametrize("name, value", [(n, v) for n, (_, _, vals) in ROWS.items() for v in vals],
                         ids=lambda x: x if isinstance(x, str) else type(x).__name__)
def test_wrong_type_of_first_argument_is_a_journeylab_error_naming_it(name, value):
    call, arg, _ = ROWS[name]
    with pytest.raises(JourneylabError) as info:
        call(value)
    message = str(info.value)
    assert name in message or arg in message, message
    if arg:
        assert f"`{arg}`" in message, f"{name}(): message does not name `{arg}`: {message}"
    assert inspect.isfunction(getattr(jl, name)) or inspect.isclass(getattr(jl, name))
