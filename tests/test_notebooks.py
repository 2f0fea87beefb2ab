"""Notebook hygiene: paired sources, executed top to bottom, teaching structure, no errors.

nbval (``make notebooks``) re-executes them and compares outputs; these checks are static.
"""

import importlib
import inspect
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
SOURCES = ROOT / "sources"   # jupytext pairs notebooks/NN.ipynb with sources/NN.py (jupytext.toml)


def load(path):
    return json.loads(path.read_text())


def test_every_numbered_notebook_has_its_jupytext_pair():
    sources = sorted(SOURCES.glob("[0-9][0-9]*_*.py"))
    assert len(NOTEBOOKS) >= 10 and [SOURCES / f"{p.stem}.py" for p in NOTEBOOKS] == sources


def test_the_learners_folder_holds_only_the_notebooks():
    """What JupyterLab's file browser shows a learner: the numbered notebooks, in order, and the
    folder of the Chinese edition (zh/), nothing else."""
    shown = sorted(p.name for p in NOTEBOOKS[0].parent.iterdir()
                   if not p.name.startswith(".") and p.name != "__pycache__")
    assert shown == [p.name for p in NOTEBOOKS] + ["zh"]
    zh = sorted(p.name for p in (NOTEBOOKS[0].parent / "zh").iterdir()
                if not p.name.startswith(".") and p.name != "__pycache__")
    assert zh == [p.name for p in NOTEBOOKS]


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

    source = SOURCES / f"{path.stem}.py"
    assert source.exists(), f"sources/{source.name} missing: jupytext pairs it by jupytext.toml"
    paired = jupytext.read(source)
    cells = load(path)["cells"]
    assert ["".join(c["source"]) for c in cells] == [c["source"] for c in paired.cells], \
        f"{path.name} and {source.name} differ: run `make execute`"


def _bertlab_names(cells) -> dict[str, object]:
    """The names a notebook binds with ``from bertlab import a, b as c`` (and ``bertlab`` itself)."""
    import bertlab

    names: dict[str, object] = {"bertlab": bertlab}
    for cell in cells:
        for line in "".join(cell["source"]).splitlines():
            m = re.match(r"from bertlab import (.+)$", line.strip())
            for part in m.group(1).split(",") if m else []:
                name, _, alias = part.strip().partition(" as ")
                names[alias or name] = (getattr(bertlab, name) if hasattr(bertlab, name)
                                        else importlib.import_module(f"bertlab.{name}"))
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_shown_sources_match_the_current_code(path):
    """A cell that prints bertlab's code with show_source() must show today's code: change a
    shown function and the notebook needs re-executing (nbval would fail much later)."""
    cells = load(path)["cells"]
    names = _bertlab_names(cells)
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        printed = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
        for dotted in re.findall(r"show_source\(([A-Za-z_][\w.]*)\)", "".join(cell["source"])):
            head, *rest = dotted.split(".")
            obj = names[head]
            for attr in rest:
                obj = getattr(obj, attr)
            assert inspect.getsource(obj).rstrip() in printed, (
                f"{path.name}: the output of show_source({dotted}) is out of date; re-execute the notebook")


NBVAL_MARKERS = {"# NBVAL_IGNORE_OUTPUT", "# NBVAL_CHECK_OUTPUT", "# NBVAL_SKIP", "# NBVAL_RAISES_EXCEPTION"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbval_markers_are_exactly_what_nbval_honours(path):
    """nbval honours a marker only when the comment is exactly the marker: anything after it (an
    explanation in brackets, say) silently turns the cell back into a compared one."""
    for i, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] != "code":
            continue
        for line in "".join(cell["source"]).splitlines():
            if "NBVAL" in line.upper():
                assert line.strip() in NBVAL_MARKERS, (
                    f"{path.name} cell {i}: {line.strip()!r} is not a marker nbval honours; write exactly "
                    "one of " + ", ".join(sorted(NBVAL_MARKERS)) + " and put the reason on the next line")


def _cell_seconds(cell) -> float:
    """How long a code cell ran when the notebook was last executed (its timing metadata)."""
    from datetime import datetime

    times = cell.get("metadata", {}).get("execution", {})
    start, end = times.get("iopub.execute_input"), times.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_cell_that_runs_longer_than_20_seconds_shows_progress(path):
    """In a workshop a silent 2-minute cell looks like a hang: a long cell prints as it goes (a
    progress bar or periodic lines; stderr counts, nbval does not compare it)."""
    for i, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] == "code" and (took := _cell_seconds(cell)) > 20:
            streams = [o for o in cell.get("outputs", []) if o["output_type"] == "stream"]
            lines = sum("".join(o["text"]).count("\n") + "".join(o["text"]).count("\r") for o in streams)
            assert lines >= 2, f"{path.name} cell {i} ran {took:.0f} s and printed {lines} line(s) of progress"
