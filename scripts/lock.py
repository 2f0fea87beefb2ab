"""Re-lock the environment: `make lock` runs this (uv pip compile, pinned in the Makefile).

From the two files people edit, requirements.in (what a learner needs) and requirements-teacher.in
(what a teacher adds), it writes every file that names a version:

    requirements.txt          the learner's lock: every package by exact version and sha256, for
                              Python 3.11, 3.12 and 3.13 on Linux, macOS and Windows (markers where
                              they differ), except torch (see below)
    requirements-teacher.txt  what the teacher's tools add to it, locked the same way
    environment.yml           the same lock for conda users (no hashes; torch included)
    requirements-gpu.txt      the packages a CUDA machine with its own stack lacks, at the versions the
                              lock gives Python 3.12 (its names are kept; only versions are written)

torch is the one package installed by version instead of by hash: torch==2.13.0 is a different
wheel, with different dependencies, on each platform and index (a CPU build of a few hundred MB
here, a CUDA build with ~3 GB of nvidia-* packages from PyPI on Linux). The lock is resolved with
the dependencies the CPU build declares (lock/uv.toml), so it holds whichever build you install;
`make install` installs the lock with --require-hashes --no-deps, then torch by its pin, then
runs `pip check`.

Usage: python scripts/lock.py [--uv PATH]   (from the repository root; needs the network)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYTHONS = ("3.11", "3.12", "3.13")  # the oldest one is the lock's floor; markers cover the others
GPU_PYTHON = "3.12"  # the Python of the CUDA machines requirements-gpu.txt is for
UV_CONFIG = ROOT / "lock" / "uv.toml"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def digest(*paths: Path) -> str:
    """The sha256 of the given input files, concatenated: the lock names what it was made from."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()


def entries(lock: Path | str) -> list[tuple[str, str, str | None]]:
    """Every ``(name, version, marker)`` line of a lock file (or of lock text), in order."""
    found = []
    for line in (lock.read_text() if isinstance(lock, Path) else lock).splitlines():
        m = PIN.match(line.strip())
        if m:
            found.append((canonical(m.group(1)), m.group(2), m.group(3)))
    return found


def canonical(name: str) -> str:
    """A distribution name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def applies(marker: str | None, python: str | None = None, platform: str = "linux") -> bool:
    """Whether a lock line's marker holds here, or for another Python version (a current patch release) on a platform."""
    if not marker:
        return True
    if python is None:
        return Marker(marker).evaluate()
    env = {"python_version": python, "python_full_version": f"{python}.99", "sys_platform": platform,
           "platform_system": {"linux": "Linux", "darwin": "Darwin", "win32": "Windows"}[platform],
           "os_name": "nt" if platform == "win32" else "posix", "platform_machine": "x86_64",
           "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    return Marker(marker).evaluate(env)


def resolved(lock: Path, python: str | None = None, platform: str = "linux") -> dict[str, str]:
    """``{name: version}`` that a lock installs here, or for another Python version on a platform."""
    return {name: version for name, version, marker in entries(lock) if applies(marker, python, platform)}


def torch_pin(requirements_in: Path = ROOT / "requirements.in") -> str:
    """The ``torch==X`` line of requirements.in (installed by version, not by hash)."""
    for line in requirements_in.read_text().splitlines():
        if line.split("#")[0].strip().startswith("torch=="):
            return line.split("#")[0].strip()
    raise SystemExit("requirements.in has no torch==VERSION line: bertlab pins torch exactly; add one.")


def compile_lock(uv: str, inputs: list[Path], out: Path, constraints: Path | None = None) -> None:
    """uv pip compile: universal (every platform), Python >= the oldest supported, hashed, torch not emitted."""
    cmd = [uv, "pip", "compile", *map(str, inputs), "--universal", "--python-version", PYTHONS[0],
           "--config-file", str(UV_CONFIG), "--no-emit-package", "torch", "--generate-hashes",
           "--custom-compile-command", "make lock", "--quiet", "-o", str(out)]
    if constraints:
        cmd += ["--constraint", str(constraints)]
    # pip's and uv's own settings (a local find-links, say) would make the lock depend on this machine
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)


def header(inputs: list[Path]) -> str:
    """The first lines of every generated file: what made it and from what."""
    names = " + ".join(p.name for p in inputs)
    return (f"# Generated by `make lock` (scripts/lock.py) from {names}: do not edit by hand.\n"
            f"# inputs sha256: {digest(*inputs)}\n")


def prepend(path: Path, text: str) -> None:
    """Put ``text`` before the file's content."""
    path.write_text(text + path.read_text())


def teacher_lock(uv: str) -> None:
    """requirements-teacher.txt: only what the teacher's tools add, at versions consistent with the learner lock."""
    learner = entries(ROOT / "requirements.txt")
    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp, "learner.txt")
        constraints.write_text("".join(f"{n}=={v}" + (f" ; {m}" if m else "") + "\n" for n, v, m in learner))
        full = Path(tmp, "teacher-full.txt")
        compile_lock(uv, [ROOT / "requirements.in", ROOT / "requirements-teacher.in"], full, constraints)
        text = full.read_text()
    keep = set(entries(text)) - set(learner)
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    body = [b for b in blocks if (m := PIN.match(b.splitlines()[0].strip()))
            and (canonical(m.group(1)), m.group(2), m.group(3)) in keep]
    out = ROOT / "requirements-teacher.txt"
    out.write_text(header([ROOT / "requirements.in", ROOT / "requirements-teacher.in"])
                   + "# What the teacher's tools add to requirements.txt (installed after it, by `make teacher`).\n"
                   + "\n".join(b.rstrip("\n") for b in body) + "\n")



def environment_yml() -> None:
    """environment.yml: conda's Python 3.11 and the whole lock for pip (markers kept, hashes dropped)."""
    lines = [f"      - {torch_pin()}"]
    lines += [f"      - {n}=={v}" + (f" ; {m}" if m else "") for n, v, m in entries(ROOT / "requirements.txt")]
    (ROOT / "environment.yml").write_text(
        header([ROOT / "requirements.in"])
        + "# Conda users: `conda env create -f environment.yml && conda activate bertlab`, then\n"
        + "# `pip install -e . --no-deps` and `python -m bertlab fetch`. The pins are requirements.txt's.\n"
        + "name: bertlab\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n"
        + "\n".join(lines) + "\n")


def gpu_requirements() -> None:
    """requirements-gpu.txt: its names kept, each at the version the lock gives Python 3.12 on Linux."""
    path = ROOT / "requirements-gpu.txt"
    names = [canonical(Requirement(ln).name) for ln in path.read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    versions = resolved(ROOT / "requirements.txt", GPU_PYTHON)
    missing = [n for n in names if n not in versions]
    if missing:
        raise SystemExit(f"requirements-gpu.txt names {missing}, which the lock no longer installs: remove them.")
    path.write_text(
        header([ROOT / "requirements.in"])
        + "# What a CUDA machine with its own Python 3.12, torch and scientific stack (numpy, pandas, scikit-learn,\n"
        + "# matplotlib, transformers, ...) lacks to run the notebooks and nbval, at the versions requirements.txt\n"
        + "# gives Python 3.12. `make gpu-pack` downloads them as wheels into .gpu/wheels/ for a machine with no\n"
        + "# package index; on a CUDA machine with one: pip install -r requirements-gpu.txt. To change the list,\n"
        + "# edit the names here and run `make lock`. See README, 'On a GPU'.\n"
        + "".join(f"{n}=={versions[n]}\n" for n in sorted(names)))


def main() -> None:
    """Write the locks and the files derived from them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uv", default="uv", help="the uv executable (make lock installs a pinned one)")
    args = parser.parse_args()
    if f'version = "{torch_pin().split("==")[1]}"' not in UV_CONFIG.read_text():
        raise SystemExit(f"lock/uv.toml describes another torch than requirements.in's {torch_pin()}: "
                         "copy that wheel's Requires-Dist lines into it, then run make lock again.")
    lock = ROOT / "requirements.txt"
    compile_lock(args.uv, [ROOT / "requirements.in"], lock)
    prepend(lock, header([ROOT / "requirements.in"])
            + f"# Every package but torch, by version and hash; `make install` then installs {torch_pin()}.\n")
    teacher_lock(args.uv)
    environment_yml()
    gpu_requirements()
    print(f"locked {len(entries(lock))} lines in requirements.txt, "
          f"{len(entries(ROOT / 'requirements-teacher.txt'))} in requirements-teacher.txt; "
          "environment.yml and requirements-gpu.txt follow them", file=sys.stderr)


if __name__ == "__main__":
    main()
