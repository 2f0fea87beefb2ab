#!/usr/bin/env bash
# A room with no Wi-Fi, end to end: the teacher makes a wheelhouse and a pack of the asset cache
# ("the USB stick"); a learner's fresh clone, with an empty asset cache, no .venv and NO NETWORK AT ALL
# (a user namespace with only loopback: `unshare -rn`), runs
#     make lab WHEELHOUSE=stick/wheelhouse ASSETS=stick/assets
# which must install everything and start JupyterLab. Prints PASS or FAIL with the seconds taken.
#
#   scripts/offline_room.sh [WORK_DIR]        (default /tmp/bertlab-offline-room; wiped first)
#
# Environment: PORT (default 8899), LAB_WAIT (seconds to wait for JupyterLab once the install is
# done, default 300), INSTALL_WAIT (seconds for make to install and unpack, default 1500),
# RECORD=runs/offline_room.json writes the figures as a run record. KEEP=1 keeps WORK_DIR afterwards (it holds ~2 GB of wheels and a ~2.3 GB .venv).
# It tests the committed HEAD (a `git clone`), not uncommitted edits. Needs unshare, ip, curl.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-/tmp/bertlab-offline-room}
PORT=${PORT:-8899}
LAB_WAIT=${LAB_WAIT:-300}
INSTALL_WAIT=${INSTALL_WAIT:-1500}
TOKEN=offline-room-$$
START=$(date +%s)

say() { printf '[offline-room %4ds] %s\n' "$(( $(date +%s) - START ))" "$*"; }
fail() { say "FAIL: $*"; echo "FAIL offline room ($(( $(date +%s) - START )) s): $*"; exit 1; }

for tool in unshare ip curl git make; do
    command -v "$tool" >/dev/null || fail "this check needs '$tool'"
done
unshare -rn true 2>/dev/null || fail "unshare -rn is not allowed here (no unprivileged user namespaces)"
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
# the real interpreter, not a pyenv shim: the learner's side runs with a fresh, empty HOME
PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)') || fail "no python3.11"
[ -x "$REPO/.venv/bin/python" ] || fail "the teacher's side needs $REPO/.venv (run make install there)"

rm -rf "$WORK" && mkdir -p "$WORK/stick" "$WORK/home" "$WORK/cache" || fail "cannot create $WORK"
say "repository $REPO at $(git -C "$REPO" rev-parse --short HEAD); work folder $WORK"

# ------------------------------------------------------------------ teacher's side (network allowed)
say "teacher: make wheelhouse in $REPO"
HAD_WHEELHOUSE=$([ -d "$REPO/wheelhouse" ] && echo 1)
t0=$(date +%s)
make -C "$REPO" -s wheelhouse PYTHON="$PYTHON" 2>&1 | grep -v "^WARNING: Location '.*' is ignored"  # pip's noise
[ "${PIPESTATUS[0]}" = 0 ] || fail "make wheelhouse"
WHEEL_S=$(( $(date +%s) - t0 ))
if [ -n "$HAD_WHEELHOUSE" ]; then cp -r "$REPO/wheelhouse" "$WORK/stick/wheelhouse"
else mv "$REPO/wheelhouse" "$WORK/stick/wheelhouse"; fi  # onto "the stick"; the repository stays as it was
say "wheelhouse: $(ls "$WORK/stick/wheelhouse" | wc -l) files, $(du -sh "$WORK/stick/wheelhouse" | cut -f1), ${WHEEL_S} s"
grep -q . <(ls "$WORK/stick/wheelhouse" | grep '^torch-2\.13\.0') || fail "the wheelhouse has no torch 2.13.0 wheel"
ls "$WORK/stick/wheelhouse" | grep -v '\.whl$' | sed 's/^/  not a wheel (built at install time): /'

say "teacher: python -m bertlab pack (from the filled cache $("$REPO/.venv/bin/python" -c 'from bertlab import store; print(store.cache_dir())'))"
t0=$(date +%s)
"$REPO/.venv/bin/python" -m bertlab pack "$WORK/stick/assets" --quiet || fail "bertlab pack"
PACK_S=$(( $(date +%s) - t0 ))
say "pack: $(du -sh "$WORK/stick/assets" | cut -f1), ${PACK_S} s"

# ------------------------------------------------------------------ learner's side (no network at all)
git clone -q "$REPO" "$WORK/learner" || fail "git clone of $REPO"
[ ! -e "$WORK/learner/.venv" ] || fail "the fresh clone has a .venv"
say "learner: fresh clone $WORK/learner, empty asset cache $WORK/cache, empty HOME; entering a namespace with no network"

cat > "$WORK/inside.sh" <<'INSIDE'
set -u
cd "$LEARNER"
now() { date +%s; }
T0=$(now)
say() { printf '[inside %4ds] %s\n' "$(( $(now) - T0 ))" "$*"; }
ip link set lo up || { echo "cannot bring loopback up"; exit 1; }
say "interfaces: $(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')"
if curl -s -o /dev/null --max-time 5 https://pypi.org/simple/; then
    say "the network is reachable in here: this is no test"; exit 1
fi
say "no network: https://pypi.org cannot be reached"
# A fresh machine: none of this machine's pip settings (local indexes, find-links, constraints).
for v in $(env | sed -n 's/^\(PIP_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
export PIP_CONFIG_FILE=/dev/null PIP_NO_INPUT=1
setsid make lab PYTHON="$PYTHON" WHEELHOUSE="$STICK/wheelhouse" ASSETS="$STICK/assets" PORT="$PORT" \
    LAB_ARGS="--IdentityProvider.token=$TOKEN" > "$WORK/lab.log" 2>&1 &
MAKE_PID=$!
stop() {
    kill -TERM -- "-$MAKE_PID" 2>/dev/null
    for _ in $(seq 20); do kill -0 "$MAKE_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$MAKE_PID" 2>/dev/null
    wait "$MAKE_PID" 2>/dev/null
}
trap stop EXIT
STAMP=.venv/.bertlab-installed
INSTALLED=""; UNPACKED=""; ANSWERED=""
while :; do
    t=$(( $(now) - T0 ))
    if ! kill -0 "$MAKE_PID" 2>/dev/null; then
        say "make lab exited before JupyterLab answered; its log:"; tail -40 "$WORK/lab.log"; exit 1
    fi
    if [ -z "$INSTALLED" ] && [ -e "$STAMP" ]; then INSTALLED=$t; say "installed from the wheelhouse (.venv ready)"; fi
    if [ -n "$INSTALLED" ] && [ -z "$UNPACKED" ] && grep -q "needs no network" "$WORK/lab.log"; then
        UNPACKED=$t; say "asset cache filled from the pack"
    fi
    code=$(curl -s -o "$WORK/status.json" -w '%{http_code}' --max-time 3 \
        -H "Authorization: token $TOKEN" "http://127.0.0.1:$PORT/api/status" 2>/dev/null)
    if [ "$code" = 200 ]; then ANSWERED=$t; break; fi
    if [ -z "$INSTALLED" ] && [ "$t" -gt "$INSTALL_WAIT" ]; then say "not installed after $INSTALL_WAIT s"; tail -20 "$WORK/lab.log"; exit 1; fi
    if [ -n "$INSTALLED" ] && [ $(( t - INSTALLED )) -gt "$LAB_WAIT" ]; then
        say "JupyterLab did not answer within $LAB_WAIT s of the install"; tail -20 "$WORK/lab.log"; exit 1
    fi
    sleep 2
done
say "JupyterLab answers on 127.0.0.1:$PORT: /api/status $(cat "$WORK/status.json")"
lab=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT/lab?token=$TOKEN")
nbs=$(curl -s --max-time 10 -H "Authorization: token $TOKEN" "http://127.0.0.1:$PORT/api/contents" |
      "$LEARNER/.venv/bin/python" -c 'import json,sys; print(" ".join(sorted(i["name"] for i in json.load(sys.stdin)["content"])))')
say "GET /lab: HTTP $lab; the learner's folder lists: $nbs"
[ "$lab" = 200 ] || { say "/lab did not load"; exit 1; }
echo "$nbs" | grep -q "00_welcome.ipynb" || { say "00_welcome.ipynb is not listed"; exit 1; }
say "the asset cache ($BERTLAB_CACHE):"
.venv/bin/python -m bertlab list | sed 's/^/    /'
.venv/bin/python -c 'from bertlab import store; m = store.missing_entries(); print("    missing:", m or "nothing"); raise SystemExit(bool(m))' || exit 1
.venv/bin/python -m bertlab fetch --quiet > /dev/null || { say "python -m bertlab fetch failed with no network"; exit 1; }
say "python -m bertlab fetch finds everything cached, with no network"
echo "FIGURES install_s=$INSTALLED unpacked_s=${UNPACKED:-?} lab_answers_s=$ANSWERED"
stop; trap - EXIT
say "JupyterLab stopped"
INSIDE

t0=$(date +%s)
env -i PATH="/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" HOME="$WORK/home" LANG=C.UTF-8 TERM=dumb \
    BERTLAB_CACHE="$WORK/cache" LEARNER="$WORK/learner" STICK="$WORK/stick" WORK="$WORK" \
    PYTHON="$PYTHON" PORT="$PORT" TOKEN="$TOKEN" LAB_WAIT="$LAB_WAIT" INSTALL_WAIT="$INSTALL_WAIT" \
    unshare -rn bash "$WORK/inside.sh" | tee "$WORK/inside.out"
RC=${PIPESTATUS[0]}
ROOM_S=$(( $(date +%s) - t0 ))
FIG=$(sed -n 's/^FIGURES //p' "$WORK/inside.out")
TOTAL=$(( $(date +%s) - START ))
[ "${KEEP:-0}" = 1 ] || rm -rf "$WORK/learner/.venv" "$WORK/stick/wheelhouse"
if [ "$RC" = 0 ] && [ -n "${RECORD:-}" ]; then   # a run record for docs/teaching.md (runs/*.json)
    python3 - "$RECORD" "$WHEEL_S" "$PACK_S" "$ROOM_S" "$FIG" "$(du -sm "$WORK/stick/assets" | cut -f1)" \
        "$(git -C "$REPO" rev-parse --short HEAD)" <<'PY'
import json, sys, datetime
out, wheel, pack, room, fig, pack_mb, commit = sys.argv[1:]
figures = dict(kv.split("=") for kv in fig.split())
json.dump({"what": "scripts/offline_room.sh: wheelhouse + pack, then make lab on a fresh clone with no network",
           "date": datetime.date.today().isoformat(), "commit": commit, "machine": "2-core CPU",
           "wheelhouse_s": int(wheel), "pack_s": int(pack), "pack_mb": int(pack_mb),
           "install_s": int(figures["install_s"]), "assets_unpacked_s": int(figures["unpacked_s"]),
           "lab_answers_s": int(figures["lab_answers_s"]), "no_network_part_s": int(room)},
          open(out, "w"), indent=1)
print(f"run record: {out}")
PY
fi
if [ "$RC" = 0 ]; then
    echo "PASS offline room in ${TOTAL} s: wheelhouse $WHEEL_S s, pack $PACK_S s; with no network: $FIG (seconds from make lab), ${ROOM_S} s in all"
else
    echo "FAIL offline room in ${TOTAL} s (no-network part exited $RC after ${ROOM_S} s); make lab's log: $WORK/lab.log"
    exit 1
fi
