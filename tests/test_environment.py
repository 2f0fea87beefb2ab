"""The environment has one source of truth, and CI runs exactly the README's test command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pins(lines):
    return sorted(ln.strip() for ln in lines if re.match(r"^[A-Za-z0-9_.\-\[\]]+==\S+$", ln.strip()))


def requirements_pins():
    return pins((ROOT / "requirements.txt").read_text().splitlines())


def environment_yml_pins():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    return pins(ln.strip()[2:] for ln in lines if ln.strip().startswith("- ") and "==" in ln)


def test_every_requirement_is_an_exact_pin():
    body = [ln.strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()
            if ln.strip() and not ln.strip().startswith("#")]
    assert body and all("==" in ln for ln in body), body


def test_torch_is_pinned_to_the_cpu_wheel_version():
    assert "torch==2.13.0" in requirements_pins()


def test_environment_yml_pins_equal_requirements_txt():
    assert environment_yml_pins() == requirements_pins()


def test_environment_yml_uses_python_3_11():
    assert re.search(r"^\s*- python=3\.11\s*$", (ROOT / "environment.yml").read_text(), re.M)


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    for pin in requirements_pins():
        name, wanted = pin.split("==")
        assert version(name).split("+")[0] == wanted, f"{name}: installed {version(name)}, pinned {wanted}"


def test_ci_runs_the_readme_test_command_with_no_network():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    commands = [ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.startswith("#")]
    assert commands.index("make fetch") < commands.index("unshare -rn sh -c 'ip link set lo up && make test'")
    assert "make test" in commands  # the fallback where unshare is not available
    assert commands.index("unshare -rn sh -c 'ip link set lo up && make test-browser'") > commands.index("make teacher")


def test_what_a_gpu_machine_adds_is_pinned_to_the_versions_the_pinned_environment_runs():
    import importlib.metadata

    gpu = dict(p.split("==") for p in pins((ROOT / "requirements-gpu.txt").read_text().splitlines()))
    assert {"nbval", "ipykernel", "datasets", "captum", "platformdirs"} <= set(gpu)
    assert "torch" not in gpu and "transformers" not in gpu  # the GPU machine's own (recorded, not replaced)
    ours = dict(p.split("==") for p in requirements_pins())
    assert {n: v for n, v in gpu.items() if n in ours} == {n: ours[n] for n in gpu if n in ours}
    assert {n: importlib.metadata.version(n) for n in gpu} == gpu  # what .venv resolved requirements.txt to
