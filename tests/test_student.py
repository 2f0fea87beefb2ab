"""Student copies (student/NN_*.ipynb and the Chinese edition's student/zh/NN_*.ipynb, written by
`make student`) are current, hold no solution code, change nothing else, and run top to bottom
stopping only at the exercises.

Running a copy takes as long as the notebook itself, so `make test` runs the three quick ones
(00-02) and the Chinese 00, and `make test-student` (BERTLAB_STUDENT_RUN=all) runs all of them.
"""

import os
import re

import nbformat
import pytest

from bertlab import student, translation

NOTEBOOKS = student.notebooks()
CHINESE = student.notebooks(translation.ZH.notebooks)
PAIRS = ([(path, student.ROOT / "student" / path.name) for path in NOTEBOOKS]
         + [(path, student.ROOT / "student" / "zh" / path.name) for path in CHINESE])
IDS = [path.stem for path in NOTEBOOKS] + [f"zh/{path.stem}" for path in CHINESE]
QUICK = ("00_", "01_", "02_")
ALL = os.environ.get("BERTLAB_STUDENT_RUN") == "all"
# A Chinese copy runs the same code from student/zh/: `make test` runs 00 there (it proves nothing
# depends on the folder), `make test-student` runs every one.
TO_RUN = ([student.ROOT / "student" / p.name for p in NOTEBOOKS if ALL or p.name.startswith(QUICK)]
          + [student.ROOT / "student" / "zh" / p.name for p in CHINESE if ALL or p.name.startswith("00_")])


def read(path):
    return nbformat.read(path, as_version=4)


def code_lines(text: str) -> set[str]:
    """The lines of ``text`` that are code, not blank, comments or a bare ``return``/``pass``."""
    return {s for line in text.splitlines() if (s := line.strip()) and not s.startswith("#")
            and s not in ("return", "pass", ")", "]", "}")}


def test_a_solution_region_becomes_nbgraders_stub_and_its_output_is_cleared():
    pytest.importorskip("nbgrader", reason="pip install -r requirements-teacher.txt")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Write `double`."),
        nbformat.v4.new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n\n"
                                  "check_double(double)", outputs=[nbformat.v4.new_output("stream", text="✔ ok\n")],
                                  execution_count=3),
        nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output("stream", text="1\n")]),
    ])
    copy = student.clear_solutions(nb)
    assert copy.cells[1].source == ("def double(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\n"
                                    "check_double(double)")
    assert copy.cells[1].outputs == [] and copy.cells[1].execution_count is None
    assert copy.cells[0] == nb.cells[0] and copy.cells[2] == nb.cells[2]
    assert "2 * x" in nb.cells[1].source, "the teacher's notebook is left as it was"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_sets_at_least_three_exercises_each_ending_in_its_checker(path):
    exercises = [c for c in read(path).cells if student.is_exercise(c)]
    assert len(exercises) >= 3, f"{path.name} has {len(exercises)} exercise cells (### BEGIN SOLUTION)"
    for cell in exercises:
        last = cell.source.strip().splitlines()[-1]
        assert re.match(r"check_\w+\(", last), f"an exercise cell should end by calling its checker: {last!r}"


def test_the_chinese_edition_has_student_copies_too():
    assert [p.name for p in CHINESE] == [p.name for p in NOTEBOOKS]
    assert sorted((student.ROOT / "student" / "zh").glob("*.ipynb")) == [student.ROOT / "student" / "zh" / p.name
                                                                        for p in CHINESE], "run `make student`"


@pytest.mark.parametrize("path, copy", PAIRS, ids=IDS)
def test_student_copy_is_current(path, copy):
    pytest.importorskip("nbgrader", reason="pip install -r requirements-teacher.txt")
    assert copy.exists(), "run `make student`"
    assert copy.read_text() == student.render(student.clear_solutions(read(path))), "run `make student`"


@pytest.mark.parametrize("path, copy", PAIRS, ids=IDS)
def test_student_copy_holds_no_solution_code_and_changes_nothing_else(path, copy):
    teacher, pupil = read(path), read(copy)
    assert len(teacher.cells) == len(pupil.cells)
    assert student.BEGIN not in copy.read_text() and student.END not in copy.read_text()
    for mine, theirs in zip(teacher.cells, pupil.cells):
        if not student.is_exercise(mine):
            assert theirs == mine, "only exercise cells may differ"
            continue
        answer = set().union(*map(code_lines, student.solutions(mine)))
        leaked = answer & code_lines(theirs.source)
        assert not leaked, f"solution lines left in the student copy: {sorted(leaked)}"
        assert "raise NotImplementedError()" in theirs.source and theirs.outputs == []


@pytest.mark.parametrize("path", TO_RUN, ids=[str(p.relative_to(student.ROOT / "student").with_suffix("")) for p in TO_RUN])
def test_running_a_student_copy_stops_only_at_its_exercises(path):
    run = student.run_copy(path)
    assert run.errors == [], f"cells {run.errors} raised: a student copy may stop only at exercises"
    assert run.exercises and run.unmet == run.exercises, \
        f"exercise cells {sorted(set(run.exercises) - set(run.unmet))} did not say '{student.NOT_YET}'"
