"""Notebook hygiene: paired sources, executed top to bottom, teaching structure, no errors.

nbval (``make notebooks``) re-executes them and compares outputs; these checks are static.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def load(path):
    return json.loads(path.read_text())


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_executed_top_to_bottom_with_outputs(path):
    code = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "re-run with `make execute`"
    assert any(c["outputs"] for c in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_error_outputs(path):
    for c in load(path)["cells"]:
        for o in c.get("outputs", []):
            assert o["output_type"] != "error", "".join(c["source"])[:200]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_opens_with_objectives_prerequisites_runtime_and_closes_with_exercises(path):
    cells = load(path)["cells"]
    first = "".join(cells[0]["source"]).lower()
    for needed in ("what you will learn", "prerequisites", "run time"):
        assert needed in first, f"first cell lacks '{needed}'"
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown").lower()
    assert "## summary" in text and "## exercises" in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_matches_its_jupytext_source(path):
    import jupytext

    source = path.with_suffix(".py")
    assert source.exists(), f"{source.name} missing: pair with `jupytext --set-formats ipynb,py:percent`"
    paired = jupytext.read(source)
    cells = load(path)["cells"]
    assert ["".join(c["source"]) for c in cells] == [c["source"] for c in paired.cells], \
        f"{path.name} and {source.name} differ: run `make execute`"
