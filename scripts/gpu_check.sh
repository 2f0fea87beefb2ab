#!/usr/bin/env bash
# The GPU check on a CUDA machine that has its own Python and torch but no network (README: "On a GPU").
# Made on a machine with network first: `make gpu-pack` (the asset chunks and wheels, in .gpu/).
#
#   bash scripts/gpu_check.sh receive   add the chunks found in .gpu/assets/ to the stage; once all are
#                                        there, verify and unpack them into the cache and rebuild the models
#   bash scripts/gpu_check.sh run       make test-gpu, then make record-full; results/gpu-full/ holds the
#                                        record, and with $OUT set, a copy is bundled into $OUT
#
# The chunks may arrive over several calls (a transfer limit, say): `receive` exits 2 while some are
# missing. Environment: PY (default python3), BERTLAB_GPU_STAGE (default /tmp/bertlab-gpu), NB (only these
# notebooks), RECORD_PROFILE (default full), BERTLAB_DEVICE=cpu (a dry run on the CPU).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
STAGE=${BERTLAB_GPU_STAGE:-/tmp/bertlab-gpu}
export BERTLAB_CACHE=${BERTLAB_CACHE:-$STAGE/cache}
export PYTHONPATH="$STAGE/site${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
mkdir -p "$STAGE/chunks"

# What this Python lacks of requirements-gpu.txt comes from the wheels in .gpu/wheels/, once.
if ! "$PY" -c 'import nbval, nbclient, ipykernel, datasets, captum, platformdirs' 2>/dev/null; then
    ls .gpu/wheels/*.whl >/dev/null 2>&1 || { echo "gpu_check: $PY lacks nbval/datasets/captum and .gpu/wheels/ has no wheels: run make gpu-pack where there is network and carry .gpu/wheels" >&2; exit 1; }
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$STAGE/site" .gpu/wheels/*.whl || exit 1
fi

case "${1:-}" in
receive)
    cp .gpu/assets/* "$STAGE/chunks/" 2>/dev/null
    "$PY" -m bertlab unpack "$STAGE/chunks" --quiet
    rc=$?
    [ $rc -eq 0 ] && HF_HUB_OFFLINE=1 "$PY" -m bertlab fetch --quiet >/dev/null && echo "gpu_check: cache $BERTLAB_CACHE is complete"
    exit $rc
    ;;
run)
    command -v make >/dev/null || { echo "gpu_check: make is not installed here" >&2; exit 1; }
    "$PY" - <<'EOF'
import platform, torch
print(f"gpu_check: Python {platform.python_version()}, torch {torch.__version__} (CUDA {torch.version.cuda}),",
      f"GPU: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")
EOF
    record=${RECORD:-results/gpu-full}
    start=$(date +%s)
    make --no-print-directory test-gpu PY="$PY" RECORD="$record" ${NB:+NB="$NB"}
    nbval_rc=$?
    make --no-print-directory record-full PY="$PY" RECORD="$record" ${NB:+NB="$NB"} RECORD_PROFILE="${RECORD_PROFILE:-full}"
    record_rc=$?
    echo "gpu_check: test-gpu exit $nbval_rc, record-full exit $record_rc, $(( $(date +%s) - start )) s in all"
    if [ -n "${OUT:-}" ]; then  # what comes back: few files, so the record travels as one archive
        tar czf "$OUT/gpu-full.tar.gz" "$record" && cp "$record/RUN.md" "$OUT/RUN.md"
    fi
    [ $nbval_rc -eq 0 ] && [ $record_rc -eq 0 ]
    ;;
*)
    echo "usage: bash scripts/gpu_check.sh receive|run" >&2
    exit 64
    ;;
esac
