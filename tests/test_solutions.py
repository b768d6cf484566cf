"""The course's exercises and the instructors' solution notebooks (notebooks/solutions/).

nbval runs the solution notebooks with the others (`pytest --nbval-lax notebooks`); their check cells
assert that each solution is right. Here: the committed solutions are what the generator makes from
the notebooks today, and the student notebooks leave every exercise open."""
from __future__ import annotations

import nbformat
import pytest

from journeylab.course import solutions as _solutions
from journeylab.errors import JourneylabError

NOTEBOOKS = _solutions.NOTEBOOKS


def test_committed_solutions_are_up_to_date():
    built = _solutions.generate()
    assert {p.name for p in built} == {p.name for p in _solutions.SOLUTIONS.glob("*.ipynb")}, \
        "solution notebooks without a notebook, or missing: run python -m journeylab.course.solutions"
    for path, nb in built.items():
        assert path.read_text(encoding="utf-8") == nbformat.writes(nb) + "\n", \
            f"{path.name} is out of date: run python -m journeylab.course.solutions"
    assert _solutions.main(["--check"]) == 0


def test_every_notebook_from_01_to_08_has_open_exercises():
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        found = _solutions.exercises(nb)
        number = int(path.name[:2])
        if 1 <= number <= 8:     # 02, 06 and 08 include a conceptual exercise (issue 21)
            assert 1 <= len(found) <= 3, path.name
        else:
            assert not found, path.name
        for ex, parts in found.items():
            assert ex.startswith(f"{number}."), (path.name, ex)
            assert parts["prompt"].source.startswith(f"### Exercise {ex} ·"), (path.name, ex)
            # students start from an open answer, and the check says "not answered yet"
            assert "answer = None  # your answer here" in parts["answer"].source, (path.name, ex)
            assert parts["check"].source.startswith("jl.exercises.check_"), (path.name, ex)
        assert list(found) == sorted(found), f"{path.name}: exercises out of order"


def test_solution_notebooks_assert_their_checks():
    for path in _solutions.SOLUTIONS.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        checks = [c for c in nb.cells if "exercise-check" in c.metadata.get("tags", [])]
        answers = [c for c in nb.cells if "exercise-answer" in c.metadata.get("tags", [])]
        assert checks and len(checks) == len(answers), path.name
        for c in checks:
            assert "assert result.correct, result" in c.source, path.name
        for c in answers:
            assert "answer = None" not in c.source and "answer =" in c.source, path.name
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assert 'output_dir = "../outputs"' in params.source  # nothing written inside solutions/


def test_generator_names_what_is_missing(tmp_path):
    nb = nbformat.read(NOTEBOOKS / "02_coding.ipynb", as_version=4)
    with pytest.raises(JourneylabError, match="no entry for 02_coding"):
        _solutions.build(NOTEBOOKS / "02_coding.ipynb", {})
    with pytest.raises(JourneylabError, match=r"no solution for exercise\(s\) 2.1"):
        _solutions.build(NOTEBOOKS / "02_coding.ipynb", {"02_coding": {"exercises": {}}})
    # a check cell without its prompt is reported
    prompt = next(c for c in nb.cells if "exercise" in c.metadata.get("tags", []))
    prompt.metadata["tags"] = []
    broken = tmp_path / "02_coding.ipynb"
    nbformat.write(nb, broken)
    with pytest.raises(JourneylabError, match="exercise 2.1: no prompt cell"):
        _solutions.build(broken, _solutions.load_answers())


def test_every_notebook_opens_with_objectives_and_ends_with_a_summary():
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    assert [p.name[:2] for p in paths] == [f"{i:02d}" for i in range(10)]
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        first, last = nb.cells[0].source, nb.cells[-1].source
        assert first.startswith(f"# {path.name[:2]} · "), path.name
        assert "### Learning objectives" in first and "### Prerequisites" in first, path.name
        assert first.index("### Learning objectives") < first.index("### Prerequisites"), path.name
        assert last.startswith("## Summary") and "`output_dir`" in last, path.name
        assert nb.cells[-2].source.startswith("## Key points"), path.name   # issue 21
        # the summary names at least one file it saved
        assert any(ext in last for ext in (".csv`", ".png`", ".qdpx`", ".html`")), path.name
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", []), path.name
        assert "study_path = None" in code[0].source and 'output_dir = "outputs"' in code[0].source
