"""Run records: the notebooks executed top to bottom in one profile on one machine, timed, with its versions.

``make test-gpu`` (nbval, quick profile, on CUDA) and ``make record-full`` (the full profile of every
notebook whose full profile differs from the quick one) write one record folder, by default
``results/gpu-full/``::

    NN_name.ipynb   each full-profile notebook, executed, with its outputs (the asserts are the checks)
    nbval.xml       the JUnit report of the nbval run (one test per cell)
    nbval.log       its console output, whose last line is pytest's summary
    run.json        what RUN.md says, for programs: the machine, versions, and every wall time
    RUN.md          the record for people
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
RECORD = ROOT / "results" / "gpu-full"
REQUIREMENTS = ROOT / "requirements.in"  # the top-level pins; requirements.txt locks the rest
BUDGET_SECONDS = 540  # the GPU nbval run and the full-profile record together: 9 minutes on one H200
RUN_JSON = "run.json"
RUN_MD = "RUN.md"
NBVAL_XML = "nbval.xml"
NBVAL_LOG = "nbval.log"
SOLUTION = "### BEGIN SOLUTION"
PICK_RE = re.compile(r"\bbertlab\.pick\(")
SUMMARY_RE = re.compile(r"^=*\s*(?P<summary>\d+ (passed|failed|error).*?) in (?P<seconds>[\d.]+)s", re.M)


@dataclass(frozen=True)
class NotebookRun:
    """One notebook executed top to bottom: how long it took and whether every cell (and assert) held."""

    notebook: str  # file stem, e.g. "04_finetuning"
    profile: str
    seconds: float  # wall time, kernel start included
    passed: bool
    error: str = ""  # the failing cell's exception, one line


# --------------------------------------------------------------------------- what the full profile changes
def notebook_paths(names: Sequence[str] = (), folder: Path = NOTEBOOKS) -> list[Path]:
    """The English notebooks, or those named by number or stem (``04b``, ``05_long_documents``)."""
    every = sorted(Path(folder).glob("[0-9]*.ipynb"))
    if not names:
        return every
    chosen = [p for p in every if any(p.stem == n or p.stem.split("_")[0] == n for n in names)]
    unknown = [n for n in names if not any(p.stem == n or p.stem.split("_")[0] == n for p in every)]
    if unknown:
        raise ValueError(f"No notebook {', '.join(unknown)} in {folder}; name them by number "
                         f"({', '.join(p.stem.split('_')[0] for p in every)}) or by file stem.")
    return chosen


def profile_sizes(path: Path) -> list[str]:
    """The code lines (outside exercise solutions) where ``bertlab.pick`` sets a size for the profiles."""
    nb = nbformat.read(path, as_version=4)
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code" or SOLUTION in cell.source:
            continue
        lines += [" ".join(line.split()) for line in cell.source.splitlines() if PICK_RE.search(line)]
    return lines


def full_differs(path: Path) -> bool:
    """True when the notebook's full profile runs other sizes than its quick one."""
    return bool(profile_sizes(path))


# --------------------------------------------------------------------------- the machine and its versions
def pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """The top-level pins: ``{distribution: version}`` from requirements.in."""
    found = {}
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[name.strip()] = version.strip()
    return found


def installed(name: str) -> str | None:
    """The installed version of distribution ``name``, or None."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _nvidia_smi() -> dict[str, str]:
    """The GPU's name, driver and memory as nvidia-smi reports them (empty without one)."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                              "--format=csv,noheader"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return {}
    if out.returncode != 0 or not out.stdout.strip():
        return {}
    name, driver, memory = (s.strip() for s in out.stdout.splitlines()[0].split(",", 2))
    return {"gpu": name, "driver": driver, "gpu memory": memory}


def _cpu_name() -> str:
    """The CPU's model name (``platform.processor()`` is often empty on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict:
    """The machine that runs the record: GPU, driver, CUDA, CPU, Python, and each pinned package's version."""
    machine = {"python": platform.python_version(), "executable": sys.executable,
               "platform": platform.platform(), "cpu": _cpu_name(), "cpu cores": os.cpu_count(),
               "torch": torch.__version__, "cuda": torch.version.cuda, "device": "cpu"}
    if torch.cuda.is_available():
        machine.update({"device": "cuda", "gpu": torch.cuda.get_device_name(0),
                        "cudnn": torch.backends.cudnn.version()})
    machine.update(_nvidia_smi())
    pinned = pins()
    versions = {name: {"pinned": want, "used": installed(name)} for name, want in pinned.items()}
    return {"machine": machine, "versions": versions,
            "differs": sorted(n for n, v in versions.items() if (v["used"] or "").split("+")[0] != v["pinned"])}


# --------------------------------------------------------------------------- running notebooks
@contextmanager
def profile_env(profile: str) -> Iterator[None]:
    """Set ``BERTLAB_PROFILE`` (and the Hub's offline switches) for kernels started inside the block."""
    saved = dict(os.environ)
    os.environ.update({"BERTLAB_PROFILE": profile, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                       "TRANSFORMERS_OFFLINE": "1"})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def execute(path: Path, out: Path, profile: str = "full", timeout: int = 900) -> NotebookRun:
    """Execute notebook ``path`` top to bottom in ``profile``; write it, outputs and all, to ``out``."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            record_timing=True, resources={"metadata": {"path": str(path.parent)}})
    error = ""
    start = time.perf_counter()
    with profile_env(profile):
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError) as err:
            lines = [ln for ln in str(err).splitlines() if ln.strip()]
            error = lines[-1] if lines else type(err).__name__
    seconds = time.perf_counter() - start
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return NotebookRun(notebook=path.stem, profile=profile, seconds=round(seconds, 1),
                       passed=not error, error=error)


# --------------------------------------------------------------------------- the nbval run's results
def nbval_times(junit: Path) -> dict[str, float]:
    """Seconds per notebook of an nbval run, summed over its cells, from pytest's ``--junitxml`` report."""
    times: dict[str, float] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):  # classname: notebooks.04b_finetuning_experiments.ipynb
        stem = case.get("classname", "").removesuffix(".ipynb").rsplit(".", 1)[-1]
        times[stem] = times.get(stem, 0.0) + float(case.get("time", 0))
    return {k: round(v, 1) for k, v in sorted(times.items())}


def nbval_summary(log: Path) -> tuple[str, float] | None:
    """pytest's closing summary (``269 passed, 2 warnings``) and its seconds, from the run's console log."""
    found = list(SUMMARY_RE.finditer(Path(log).read_text(errors="replace")))
    return (found[-1]["summary"].strip(), float(found[-1]["seconds"])) if found else None


# --------------------------------------------------------------------------- the record
def write(folder: Path, runs: Sequence[NotebookRun], command: str, env: dict | None = None) -> Path:
    """Write ``run.json`` and ``RUN.md`` for the full-profile ``runs`` and the nbval run found in ``folder``."""
    folder = Path(folder)
    env = env or environment()
    xml, log = folder / NBVAL_XML, folder / NBVAL_LOG
    summary = nbval_summary(log) if log.is_file() else None
    quick = nbval_times(xml) if xml.is_file() else {}
    sizes = {p.stem: profile_sizes(p) for p in notebook_paths()}
    device = env["machine"].get("gpu") or env["machine"]["cpu"]
    notebooks = {}
    for stem in sorted({*quick, *(r.notebook for r in runs)}):
        full = next((r for r in runs if r.notebook == stem), None)
        notebooks[stem] = {"device": device, "profile": full.profile if full else "quick",
                           "seconds": full.seconds if full else quick.get(stem),
                           "nbval seconds": quick.get(stem), "full": asdict(full) if full else None,
                           "sizes": sizes.get(stem, [])}
    total = (summary[1] if summary else sum(quick.values())) + sum(r.seconds for r in runs)
    record = {"created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "command": command, "device": device, **env,
              "nbval": {"summary": summary[0] if summary else None, "seconds": summary[1] if summary else None},
              "notebooks": notebooks, "total seconds": round(total, 1), "budget seconds": BUDGET_SECONDS,
              "passed": bool(summary and "failed" not in summary[0] and "error" not in summary[0])
              and all(r.passed for r in runs)}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RUN_JSON).write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    (folder / RUN_MD).write_text(render(record))
    return folder / RUN_MD


def _cell(value: object) -> str:
    return "–" if value is None else str(value).replace("|", "\\|")


def render(record: dict) -> str:
    """RUN.md: the machine and versions, the nbval summary, every notebook's wall time, the command."""
    m, nbval = record["machine"], record["nbval"]
    lines = [f"# Run record: nbval (quick profile) and the full profile, on {m.get('gpu') or 'the CPU (a dry run)'}", "",
             f"Written by `python -m bertlab record` on {record['created']}. Command:", "",
             "```bash", record["command"], "```", "",
             "## The machine", "", "| | |", "|---|---|"]
    for key in ("gpu", "driver", "gpu memory", "cuda", "cudnn", "device", "cpu", "cpu cores", "python",
                "platform", "executable"):
        if m.get(key) is not None:
            lines.append(f"| {key} | {_cell(m[key])} |")
    lines += ["", "## Versions", "",
              "The top-level pins are `requirements.in` (locked with the rest in `requirements.txt`). "
              "Packages whose version here differs from the pin "
              "(a GPU machine runs its own CUDA torch, and whatever else it has installed):", "",
              "| package | pinned | used |", "|---|---|---|"]
    for name in record["differs"]:
        v = record["versions"][name]
        lines.append(f"| {name} | {v['pinned']} | {_cell(v['used']) if v['used'] else 'not installed'} |")
    if not record["differs"]:
        lines.append("| (none) | | |")
    lines += ["", "## `make test-gpu`: nbval, quick profile, against the committed outputs", "",
              f"pytest's summary: `{nbval['summary']}` in {nbval['seconds']} s." if nbval["summary"]
              else "No nbval run was recorded in this folder.", "",
              "## Wall time of each notebook", "",
              "nbval: the quick profile under nbval (its cells' times summed, kernel start included); "
              "full: the full profile executed top to bottom (– where the full profile equals the quick one).", "",
              "| notebook | nbval (s) | full (s) | full profile |", "|---|---|---|---|"]
    for stem, e in record["notebooks"].items():
        full = e["full"]
        state = "–" if not full else ("passed" if full["passed"] else f"FAILED: {full['error']}")
        lines.append(f"| {stem} | {_cell(e['nbval seconds'])} | {_cell(full['seconds'] if full else None)} | {_cell(state)} |")
    verdict = "within" if record["total seconds"] <= record["budget seconds"] else "OVER"
    lines += ["", f"Together: {record['total seconds']} s, {verdict} the budget of {record['budget seconds']} s.", "",
              "## What each notebook's full profile changes", "",
              "The lines of code where `bertlab.pick(quick=..., full=...)` sets a size (from the notebooks):", ""]
    for stem, e in record["notebooks"].items():
        if e["sizes"]:
            lines += [f"- **{stem}**", *[f"  - `{s}`" for s in e["sizes"]]]
    return "\n".join(lines) + "\n"


def record_full(names: Sequence[str], folder: Path, command: str, profile: str = "full", timeout: int = 900,
                progress: bool = True) -> list[NotebookRun]:
    """Execute each named notebook (default: those whose full profile differs) into ``folder``; write the record."""
    paths = notebook_paths(names) if names else [p for p in notebook_paths() if full_differs(p)]
    runs = []
    for path in paths:
        if progress:
            print(f"bertlab record: {path.stem} ({profile} profile) ...", file=sys.stderr, flush=True)
        runs.append(execute(path, Path(folder) / path.name, profile=profile, timeout=timeout))
        if progress:
            r = runs[-1]
            print(f"bertlab record: {r.notebook} {'passed' if r.passed else 'FAILED: ' + r.error} "
                  f"in {r.seconds} s", file=sys.stderr, flush=True)
    write(folder, runs, command)
    return runs
