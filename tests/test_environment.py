"""The environment is one lock, made from the file people edit, and CI runs exactly the README's test command.

requirements.in (what a learner needs) --make lock--> requirements.txt (every package by version and hash),
from which environment.yml and requirements-gpu.txt follow; requirements-teacher.in likewise.
"""

import importlib.metadata
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import lock  # noqa: E402  (scripts/lock.py: the lock's parser)



def top_level(path: Path) -> list[Requirement]:
    """The requirements a person wrote in a .in file."""
    return [Requirement(ln.split("#")[0]) for ln in path.read_text().splitlines() if ln.split("#")[0].strip()]


@pytest.mark.parametrize("python", lock.PYTHONS)
def test_the_lock_gives_every_top_level_requirement_a_version_it_allows(python):
    locked = lock.resolved(ROOT / "requirements.txt", python) | lock.resolved(ROOT / "requirements-teacher.txt", python)
    for req in top_level(ROOT / "requirements.in") + top_level(ROOT / "requirements-teacher.in"):
        if req.name == "torch":
            continue  # installed by its pin, not from the lock
        name = lock.canonical(req.name)
        assert name in locked, f"{name} is in requirements.in but not in the lock: run make lock"
        assert req.specifier.contains(locked[name], prereleases=True), \
            f"requirements.in wants {req}, the lock has {locked[name]}: run make lock"


def test_every_lock_was_made_from_the_requirements_as_they_are_now():
    learner = [ROOT / "requirements.in"]
    teacher = learner + [ROOT / "requirements-teacher.in"]
    for path, inputs in [("requirements.txt", learner), ("requirements-teacher.txt", teacher),
                         ("environment.yml", learner), ("requirements-gpu.txt", learner)]:
        assert f"# inputs sha256: {lock.digest(*inputs)}" in (ROOT / path).read_text(), \
            f"{path} was made from another {' + '.join(p.name for p in inputs)}: run make lock"


def test_every_locked_package_has_an_exact_version_and_a_hash_and_torch_is_installed_by_its_pin():
    for path in ("requirements.txt", "requirements-teacher.txt"):
        lines = (ROOT / path).read_text().splitlines()
        starts = [i for i, ln in enumerate(lines) if ln[:1].isalnum()]  # a requirement starts each block
        assert len(starts) == len(lock.entries(ROOT / path)) > 5  # and every one is a name==version pin
        assert all(lines[i + 1].strip().startswith("--hash=sha256:") for i in starts)
        assert "torch" not in [n for n, _, _ in lock.entries(ROOT / path)]
    assert lock.torch_pin() == "torch==2.13.0"
    teacher = {n for n, _, _ in lock.entries(ROOT / "requirements-teacher.txt")}
    assert not teacher & {n for n, _, _ in lock.entries(ROOT / "requirements.txt")}  # it adds, never overrides


def test_environment_yml_is_the_lock_with_torch_for_python_3_11():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*- python=3\.11\s*$", text, re.M)
    pins = [ln.strip()[2:] for ln in text.splitlines() if ln.startswith("      - ")]
    expected = [lock.torch_pin()] + [f"{n}=={v}" + (f" ; {m}" if m else "")
                                     for n, v, m in lock.entries(ROOT / "requirements.txt")]
    assert pins == expected


def test_what_a_gpu_machine_adds_is_pinned_to_the_versions_the_lock_gives_python_3_12():
    gpu = {lock.canonical(r.name): str(r.specifier)[2:] for r in top_level(ROOT / "requirements-gpu.txt")}
    assert {"nbval", "ipykernel", "datasets", "captum", "platformdirs"} <= set(gpu)
    assert "torch" not in gpu and "transformers" not in gpu  # the GPU machine's own (recorded, not replaced)
    locked = lock.resolved(ROOT / "requirements.txt", lock.GPU_PYTHON)
    assert gpu == {n: locked[n] for n in gpu}


@pytest.mark.pinned
def test_every_installed_package_is_in_the_lock_at_the_same_version():
    locked = lock.resolved(ROOT / "requirements.txt")
    locked |= lock.resolved(ROOT / "requirements-teacher.txt")  # if make teacher ran
    locked["torch"] = lock.torch_pin().split("==")[1]
    installed = {lock.canonical(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    installed.pop("pip")  # the installer itself, as pip freeze leaves it out
    for name in torch_build_extras(set(locked)):  # a CUDA build of the pinned torch brings CUDA's packages
        installed.pop(name, None)
    unlocked = {n: v for n, v in installed.items() if n not in locked}
    assert not unlocked, f"installed but not in the lock: {unlocked}; make clean-venv && make install"
    differ = {n: (v, locked[n]) for n, v in installed.items() if v.split("+")[0] != locked[n]}
    assert not differ, f"installed version, locked version: {differ}; make clean-venv && make install"


@pytest.mark.pinned
def test_every_package_the_lock_installs_here_is_installed():
    locked = lock.resolved(ROOT / "requirements.txt")
    missing = [n for n in locked if not _installed(n)]
    assert not missing, f"in the lock but not installed: {missing}; make clean-venv && make install"


def torch_build_extras(locked: set[str]) -> set[str]:
    """What the installed torch build requires beyond the lock, and what those require (CUDA's nvidia-* for one)."""
    extras, todo, seen = set(), [("torch", set())], set()
    while todo:
        parent, wanted = todo.pop()
        for line in importlib.metadata.requires(parent) or []:
            req = Requirement(line)
            name = lock.canonical(req.name)
            if name in locked or (req.marker and not any(req.marker.evaluate({"extra": e}) for e in wanted | {""})):
                continue
            extras.add(name)
            if (name, frozenset(req.extras)) not in seen:
                seen.add((name, frozenset(req.extras)))
                todo.append((name, set(req.extras)))
    return extras


def _installed(name: str) -> bool:
    try:
        importlib.metadata.version(name)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def test_python_versions_agree_everywhere():
    assert lock.PYTHONS == ("3.11", "3.12", "3.13")
    assert 'requires-python = ">=3.11,<3.14"' in (ROOT / "pyproject.toml").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "(3, 11) <= v <= (3, 13)" in makefile and "python3.11 python3.12 python3.13 python3" in makefile
    assert "Python 3.11, Python 3.12 or Python 3.13" in (ROOT / "README.md").read_text()


def test_make_install_installs_the_lock_by_hash_then_torch_by_its_pin():
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes --no-deps -r requirements.txt" in makefile
    assert "$(TORCH)" in makefile and "pip check" in makefile
    assert "test-latest" not in makefile.split("\ntest:")[1].splitlines()[0]  # never part of make test
    assert "test-latest" not in (ROOT / ".ci" / "run").read_text()


def test_ci_runs_the_readme_test_command_with_no_network():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    commands = [ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.startswith("#")]
    assert commands.index("make fetch") < commands.index("unshare -rn sh -c 'ip link set lo up && make test'")
    assert "make test" in commands  # the fallback where unshare is not available
    assert commands.index("unshare -rn sh -c 'ip link set lo up && make test-browser'") > commands.index("make teacher")


def test_the_test_latest_record_reads_pytests_junit_reports(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    import test_latest

    (tmp_path / "unit.xml").write_text(
        '<testsuites><testsuite><testcase classname="tests.test_a" name="test_ok"/>'
        '<testcase classname="tests.test_a" name="test_bad"><failure message="AssertionError: 2 != 3">trace'
        '</failure></testcase><testcase classname="tests.test_a" name="test_skip"><skipped message="no"/>'
        '</testcase></testsuite></testsuites>')
    found = test_latest.outcomes(tmp_path / "unit.xml")
    assert found["tests.test_a::test_bad"] == {"outcome": "failed", "first_failure": "AssertionError: 2 != 3"}
    assert test_latest.summary(found) == {"passed": 1, "failed": 1, "skipped": 1}
    assert test_latest.outcomes(tmp_path / "missing.xml") == {}
    nbval = "#x1B[91mNotebook cell execution failed#x1B[0m\nInput:\nassert x < 1\n#x1B[31mAssertionError#x1B[39m: \n"
    assert test_latest.first_failure(nbval) == "AssertionError:"  # the exception, not nbval's generic first line
