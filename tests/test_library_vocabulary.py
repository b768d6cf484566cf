"""Nothing the library computes or says carries the sample study's vocabulary.

The code of journeylab/ (identifiers, string literals such as error messages and labels, comments)
is scanned with the vocabulary scan the any-study tests use on a run's outputs. Docstrings are left
out: their examples run on the bundled sample study on purpose. Allowed: naming the bundled sample
study itself, "source checkout" (git), and ``postcode`` as a kind of personal data in the PII
detector.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT
from strategies import sample_words_in

ALLOWED = {
    "*": ["sample study", "sample_study", "source checkout", "checkout (notebooks/)"],
    "study/pii.py": ["postcode"],
}


def code_without_docstrings(source: str) -> str:
    tree = ast.parse(source)
    doc_lines: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for i, stmt in enumerate(body):
            # a docstring, or an attribute docstring (a string statement after an assignment)
            if (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                    and isinstance(stmt.value.value, str)
                    and (i == 0 or isinstance(body[i - 1], (ast.Assign, ast.AnnAssign)))):
                doc_lines.update(range(stmt.lineno, stmt.end_lineno + 1))
    return "\n".join(line for n, line in enumerate(source.splitlines(), 1) if n not in doc_lines)


MODULES = sorted((ROOT / "journeylab").rglob("*.py")) + sorted((ROOT / "journeylab").rglob("*.js"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(ROOT / "journeylab").as_posix())
def test_library_code_names_nothing_of_the_sample_study(path: Path):
    rel = path.relative_to(ROOT / "journeylab").as_posix()
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        text = code_without_docstrings(text)
    lowered = text.lower()
    for phrase in ALLOWED["*"] + ALLOWED.get(rel, []):
        lowered = lowered.replace(phrase, " ")
    assert sample_words_in(lowered) == [], f"journeylab/{rel} names the sample study's vocabulary"


def test_the_scan_finds_a_planted_word():
    planted = 'def f():\n    """Docstring about amara is fine."""\n    raise ValueError("coder amara missing")\n'
    assert "amara" not in code_without_docstrings(planted).split("raise")[0]
    assert sample_words_in(code_without_docstrings(planted).lower()) == ["amara"]
