#!/usr/bin/env bash
# What the lock does on other Pythons than CI's: for each Python given, a fresh venv made by `make install`
# (the lock by hash, then torch by its pin, then pip check), then `make unit` in it. Writes runs/pythons.json.
#
#   bash scripts/check_pythons.sh /path/to/python3.12 /path/to/python3.13
#
# Needs the network (a fresh install) and the filled asset cache (make fetch). On Linux, PyPI's torch is the
# CUDA build (about 3 GB more); it runs on the CPU as well. The notebooks are not run here (CI runs them on 3.11).
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: bash scripts/check_pythons.sh PYTHON [PYTHON ...]" >&2; exit 64; }
WORK=${WORK:-/tmp/bertlab-pythons}
mkdir -p "$WORK"
entries=()
for python in "$@"; do
    version=$("$python" -c 'import platform; print(platform.python_version())') || { echo "$python does not run" >&2; exit 1; }
    venv="$WORK/venv-$version"
    rm -rf "$venv"
    start=$(date +%s)
    make --no-print-directory install VENV="$venv" PYTHON="$python" >"$WORK/install-$version.log" 2>&1
    install_rc=$?
    install_s=$(( $(date +%s) - start ))
    start=$(date +%s)
    make --no-print-directory unit VENV="$venv" >"$WORK/unit-$version.log" 2>&1
    unit_rc=$?
    unit_s=$(( $(date +%s) - start ))
    entries+=("$("$venv/bin/python" - "$version" "$install_rc" "$install_s" "$unit_rc" "$unit_s" "$WORK" <<'EOF'
import json, re, sys, importlib.metadata as md
version, install_rc, install_s, unit_rc, unit_s, work = sys.argv[1:]
unit_log = open(f"{work}/unit-{version}.log").read()
summary = [ln.strip("= ") for ln in unit_log.splitlines() if re.search(r"\d+ (passed|failed)", ln)]
failures = [ln for ln in unit_log.splitlines() if ln.startswith("FAILED ")]
check = [ln for ln in open(f"{work}/install-{version}.log").read().splitlines() if "broken requirements" in ln]
print(json.dumps({"python": version, "make install": {"exit": int(install_rc), "seconds": int(install_s),
                  "pip check": check[-1] if check else None,
                  "torch": md.version("torch"), "packages": len(list(md.distributions()))},
                  "make unit": {"exit": int(unit_rc), "seconds": int(unit_s),
                                "summary": summary[-1] if summary else None, "failed": failures}}))
EOF
)")
done
python3 - "${entries[@]}" <<'EOF'
import datetime, json, platform, subprocess, sys
record = {"what": "scripts/check_pythons.sh: a fresh make install and make unit on each Python (the notebooks run in CI, on 3.11)",
          "date": datetime.date.today().isoformat(),
          "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
          "machine": platform.platform(), "pythons": [json.loads(e) for e in sys.argv[1:]]}
open("runs/pythons.json", "w").write(json.dumps(record, indent=1) + "\n")
for p in record["pythons"]:
    print(f"Python {p['python']}: make install exit {p['make install']['exit']} in {p['make install']['seconds']} s "
          f"(torch {p['make install']['torch']}); make unit exit {p['make unit']['exit']}: {p['make unit']['summary']}")
EOF
