"""Student copies: each notebook with its solutions replaced by stubs, by nbgrader's conventions.

A solution is the region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` inside an
exercise cell. nbgrader's ``ClearSolutions`` preprocessor replaces it with
``raise NotImplementedError()``; the cell's outputs are cleared; every other cell, outputs
included, stays as it is. The exercise's checker then meets the stub with "not implemented yet".
nbgrader is a teacher's tool (requirements-teacher.txt), imported only when a copy is made.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import translation

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
NOT_YET = "not implemented yet"


def notebooks(folder: Path = ROOT / "notebooks") -> list[Path]:
    """The numbered notebooks of ``folder``, in order."""
    return sorted(folder.glob("[0-9][0-9]*_*.ipynb"))


def is_exercise(cell) -> bool:
    """Whether ``cell`` is a code cell holding a solution region."""
    return cell.get("cell_type") == "code" and BEGIN in "".join(cell["source"])


def solutions(cell) -> list[str]:
    """The solution regions of an exercise cell (marker lines excluded)."""
    return [m.strip("\n") for m in re.findall(rf"{BEGIN}[^\n]*\n(.*?)[^\n]*{END}", "".join(cell["source"]), re.S)]


def clear_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a student copy of ``nb``: stubs for solutions, their outputs cleared, the rest unchanged."""
    try:
        from nbgrader.preprocessors import ClearSolutions  # optional: a teacher's tool
    except ImportError:
        raise ImportError("making student copies needs nbgrader: run `make student` "
                          "(it installs requirements-teacher.txt first)") from None
    student = copy.deepcopy(nb)
    for cell in student.cells:
        if is_exercise(cell):
            cell.outputs, cell.execution_count = [], None
    student, _ = ClearSolutions(enforce_metadata=False).preprocess(student, {})
    student.metadata.pop("jupytext", None)   # the copy is not paired with sources/
    return student


def render(nb: nbformat.NotebookNode) -> str:
    """The notebook as written to disk (the committed notebooks' JSON style)."""
    return nbformat.writes(nb) + "\n"


def write_copies(source: Path = ROOT / "notebooks", out: Path = ROOT / "student") -> list[Path]:
    """Write a student copy of every numbered notebook in ``source`` to ``out``; return their paths."""
    found = notebooks(source)
    if not found:
        raise FileNotFoundError(f"no numbered notebooks (NN_*.ipynb) in {source}: is this a bertlab checkout?")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in found:
        target = out / path.name
        tmp = target.with_suffix(".ipynb.tmp")
        tmp.write_text(render(clear_solutions(nbformat.read(path, as_version=4))))
        tmp.replace(target)   # never a half-written copy
        written.append(target)
    return written


def write_all(out: Path = ROOT / "student") -> list[Path]:
    """Student copies of the English notebooks into ``out`` and of each translated edition
    (``notebooks/zh/``) into ``out/zh/``; return their paths."""
    written = write_copies(out=out)
    for edition in translation.EDITIONS.values():
        if notebooks(edition.notebooks):
            written += write_copies(edition.notebooks, out / edition.lang)
    return written


@dataclass
class Run:
    """What running a student copy top to bottom showed: which cells failed and which exercises are unmet."""

    errors: list[int]          # cells that raised (a student copy should have none)
    unmet: list[int]           # exercise cells that said "not implemented yet"
    exercises: list[int]       # all exercise cells (stub cells)


def run_copy(path: Path, timeout: int = 900) -> Run:
    """Execute a student copy top to bottom, continuing past errors; report errors and unmet exercises."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    stubs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "raise NotImplementedError()" in c.source]
    errors = [i for i, c in enumerate(nb.cells) if any(o.output_type == "error" for o in c.get("outputs", []))]
    unmet = [i for i in stubs
             if NOT_YET in "".join(o.get("text", "") for o in nb.cells[i].outputs if o.output_type == "stream")]
    return Run(errors=errors, unmet=unmet, exercises=stubs)
