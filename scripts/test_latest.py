"""The record of `make test-latest`: runs/latest-DATE.json, from the JUnit reports it left in its venv.

It lists the versions the newest releases gave (and which differ from requirements.txt), every test's
outcome, and the first line of each failure, so the next re-lock knows what a release breaks.

Usage: .venv-latest/bin/python scripts/test_latest.py .venv-latest
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import platform
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lock  # noqa: E402  (scripts/lock.py: the lock's parser)

ROOT = Path(__file__).resolve().parents[1]


def outcomes(junit: Path) -> dict[str, dict]:
    """``{test id: {"outcome": ..., "first_failure": ...}}`` from a pytest JUnit report (empty if it is missing)."""
    if not junit.exists():
        return {}
    found = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        outcome, first = "passed", None
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                if tag != "skipped":
                    first = first_failure(f"{node.get('message') or ''}\n{node.text or ''}") or tag
                break
        found[test] = {"outcome": outcome} | ({"first_failure": first} if first else {})
    return found


def first_failure(text: str) -> str | None:
    """The line that names the exception (``AssertionError: ...``), else the first line; colours removed."""
    lines = [ln.strip() for ln in re.sub(r"(#x1B|\x1b)\[[0-9;]*m", "", text).splitlines() if ln.strip()]
    named = [ln for ln in lines if re.match(r"^[A-Za-z_.]*(Error|Exception|Interrupt|Exit)\b:?", ln)]
    found = named[-1] if named else lines[0] if lines else None
    return found[:300] if found else None


def summary(tests: dict[str, dict]) -> dict[str, int]:
    """How many tests had each outcome."""
    counts: dict[str, int] = {}
    for t in tests.values():
        counts[t["outcome"]] = counts.get(t["outcome"], 0) + 1
    return counts


def main() -> None:
    """Write runs/latest-DATE.json and say where."""
    venv = Path(sys.argv[1])
    locked = lock.resolved(ROOT / "requirements.txt")
    used = {lock.canonical(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    top = [lock.canonical(ln.split("==")[0]) for ln in (ROOT / "requirements.in").read_text().splitlines()
           if ln[:1].isalpha()]
    unit, notebooks = outcomes(venv / "unit.xml"), outcomes(venv / "nbval.xml")
    today = datetime.date.today().isoformat()
    record = {
        "date": today,
        "command": "make test-latest",
        "python": platform.python_version(),
        "machine": platform.platform(),
        "top_level": {n: {"locked": locked.get(n, lock.torch_pin().split("==")[1] if n == "torch" else None),
                          "latest": used.get(n)} for n in top},
        "differs_from_lock": {n: {"locked": locked.get(n), "latest": v} for n, v in sorted(used.items())
                              if n not in ("pip", "torch") and locked.get(n) != v},
        "unit": {"summary": summary(unit), "tests": unit},
        "notebooks": {"summary": summary(notebooks), "tests": notebooks},
        "first_failures": {t: r["first_failure"] for t, r in {**unit, **notebooks}.items() if "first_failure" in r},
    }
    out = ROOT / "runs" / f"latest-{today}.json"
    out.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    print(f"{out.relative_to(ROOT)}: unit {record['unit']['summary']}, notebooks {record['notebooks']['summary']}, "
          f"{len(record['differs_from_lock'])} packages newer than the lock")


if __name__ == "__main__":
    main()
