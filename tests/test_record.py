"""Run records (``bertlab.record``): what ``make test-gpu record-full`` writes to results/gpu-full/."""

import json
import os
import subprocess
from pathlib import Path

import nbformat
import pytest
import torch

from bertlab import record, site

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="4">
<testcase classname="notebooks.00_welcome.ipynb" name="Cell 0" time="8.25" />
<testcase classname="notebooks.00_welcome.ipynb" name="Cell 1" time="0.50" />
<testcase classname="notebooks.04b_finetuning_experiments.ipynb" name="Cell 0" time="3.00" />
<testcase classname="notebooks.04b_finetuning_experiments.ipynb" name="Cell 7" time="40.04" />
</testsuite></testsuites>"""
LOG = "....\n[gw0] whatever\n================ 4 passed, 1 warning in 52.31s ================\n"


def fake_environment() -> dict:
    return {"machine": {"gpu": "NVIDIA H200", "driver": "580.159.04", "gpu memory": "143771 MiB",
                        "cuda": "13.0", "cpu": "some CPU", "cpu cores": 16, "python": "3.12.3",
                        "torch": "2.11.0+cu130", "device": "cuda", "platform": "Linux", "executable": "python3"},
            "versions": {"torch": {"pinned": "2.13.0", "used": "2.11.0+cu130"},
                         "nbval": {"pinned": "0.11.0", "used": "0.11.0"},
                         "captum": {"pinned": "0.9.0", "used": None}},
            "differs": ["captum", "torch"]}


def notebook(tmp_path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "07_toy.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_full_profile_differs_where_a_pick_sets_a_size_outside_the_exercise_solutions():
    assert not record.full_differs(record.NOTEBOOKS / "00_welcome.ipynb")  # its pick is a solution's demo
    assert not record.full_differs(record.NOTEBOOKS / "02_bert_encoder.ipynb")
    sizes = record.profile_sizes(record.NOTEBOOKS / "04b_finetuning_experiments.ipynb")
    assert any(s.startswith("N_TRAIN = bertlab.pick(quick=1000") for s in sizes)
    assert all("bertlab.pick(" in s for s in sizes)


def test_notebooks_are_named_by_number_or_stem_and_an_unknown_name_is_refused():
    assert [p.stem for p in record.notebook_paths(["04b", "00_welcome"])] == ["00_welcome",
                                                                               "04b_finetuning_experiments"]
    with pytest.raises(ValueError, match="No notebook 42"):
        record.notebook_paths(["42"])


def test_pins_come_from_requirements_and_the_environment_says_which_differ():
    pins = record.pins()
    assert pins["torch"] == "2.13.0" and "nbval" in pins
    env = record.environment()
    assert {"python", "torch", "device", "cpu", "cpu cores"} <= set(env["machine"])
    assert set(env["versions"]) == set(pins)
    assert all(env["versions"][n]["used"] != env["versions"][n]["pinned"] for n in env["differs"])
    assert "torch" not in env["differs"]  # 2.13.0+cpu is the pin: the local label is no difference


def test_nbval_times_sum_each_notebooks_cells_and_the_summary_is_pytests_last_line(tmp_path):
    (tmp_path / "nbval.xml").write_text(JUNIT)
    (tmp_path / "nbval.log").write_text(LOG)
    assert record.nbval_times(tmp_path / "nbval.xml") == {"00_welcome": 8.8, "04b_finetuning_experiments": 43.0}
    assert record.nbval_summary(tmp_path / "nbval.log") == ("4 passed, 1 warning", 52.31)


def test_the_record_states_machine_versions_summary_times_budget_and_command(tmp_path):
    (tmp_path / "nbval.xml").write_text(JUNIT)
    (tmp_path / "nbval.log").write_text(LOG)
    runs = [record.NotebookRun("04b_finetuning_experiments", "full", 300.4, True)]
    md = record.write(tmp_path, runs, "make test-gpu record-full", env=fake_environment()).read_text()
    for expected in ("NVIDIA H200", "580.159.04", "| torch | 2.13.0 | 2.11.0+cu130 |", "| captum | 0.9.0 | not installed |",
                     "`4 passed, 1 warning` in 52.31 s", "| 04b_finetuning_experiments | 43.0 | 300.4 | passed |",
                     "| 00_welcome | 8.8 | – | – |", "352.7 s, within the budget of 540 s",
                     "make test-gpu record-full", "`N_TRAIN = bertlab.pick(quick=1000"):
        assert expected in md, expected
    data = json.loads((tmp_path / "run.json").read_text())
    assert data["passed"] and data["notebooks"]["04b_finetuning_experiments"]["full"]["seconds"] == 300.4
    # the site's index reads the record's wall times
    assert site.gpu_runs("04b_finetuning_experiments", tmp_path / "none", tmp_path / "run.json") == [
        {"seconds": 300.4, "device": "NVIDIA H200", "profile": "full", "record": "results/gpu-full/run.json"}]


def test_a_failed_notebook_or_nbval_run_and_an_overrun_are_said_plainly(tmp_path):
    (tmp_path / "nbval.log").write_text("F.\n===== 1 failed, 1 passed in 600.0s =====\n")
    runs = [record.NotebookRun("03_pretraining", "full", 10.0, False, "AssertionError: loss did not fall")]
    md = record.write(tmp_path, runs, "make record-full", env=fake_environment()).read_text()
    assert "FAILED: AssertionError: loss did not fall" in md and "610.0 s, OVER the budget of 540 s" in md
    assert not json.loads((tmp_path / "run.json").read_text())["passed"]


def test_execute_runs_a_notebook_in_the_profile_and_keeps_its_outputs_even_when_an_assert_fails(tmp_path):
    ok = record.execute(notebook(tmp_path, "import bertlab\nprint(bertlab.profile())"), tmp_path / "out" / "a.ipynb")
    assert ok.passed and ok.profile == "full" and ok.seconds > 0
    assert nbformat.read(tmp_path / "out" / "a.ipynb", as_version=4).cells[0].outputs[0]["text"] == "full\n"
    bad = record.execute(notebook(tmp_path, "print('before')", "assert 1 + 1 == 3, 'arithmetic'"),
                         tmp_path / "out" / "b.ipynb", profile="quick")
    assert not bad.passed and "AssertionError" in bad.error and "arithmetic" in bad.error
    written = nbformat.read(tmp_path / "out" / "b.ipynb", as_version=4)
    assert written.cells[0].outputs[0]["text"] == "before\n" and written.cells[1].outputs[0]["ename"] == "AssertionError"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_make_test_gpu_refuses_a_machine_without_cuda_unless_told_it_is_a_dry_run(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "BERTLAB_DEVICE"}
    done = subprocess.run(["make", "-s", "test-gpu", f"RECORD={tmp_path / 'rec'}"], cwd=record.ROOT,
                          env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "sees no CUDA GPU" in done.stderr and "BERTLAB_DEVICE=cpu" in done.stderr
    assert not (tmp_path / "rec").exists()  # refused before anything was written
