#!/usr/bin/env bash
# Throughput: N sandboxes running `true` back to back, and the same N split over 2 parallel
# loops, for rsandbox, bubblewrap and unshare, as the test user in one hyperfine run. Prints
# sandboxes per second and the ratio to bwrap. The loop (a dash while loop) forks once per
# sandbox for every tool alike; the `true` rows are that loop alone.
# Usage: bench/throughput.sh [N] [runs]   (as root: it drops to the test user)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
n=${1:-$([ "$quick" = 1 ] && echo 200 || echo 1000)}
runs=${2:-$([ "$quick" = 1 ] && echo 1 || echo 3)}

cat >"$work/loop.sh" <<'SH'
#!/bin/sh
# loop.sh COUNT PARALLEL CMD...: COUNT runs of CMD in PARALLEL loops; fails if any run fails.
count=$1 par=$2; shift 2
pids=""
i=0
while [ $i -lt "$par" ]; do
    (j=0; while [ $j -lt $((count / par)) ]; do "$@" || exit 1; j=$((j + 1)); done) &
    pids="$pids $!"
    i=$((i + 1))
done
status=0
for p in $pids; do wait "$p" || status=1; done
exit $status
SH
chmod 755 "$work/loop.sh"
declare -A tools=(
    [rsandbox]="$rs run --unshare-all -- true"
    [rsandbox-mounts]="$rs run --unshare-all --ro-bind / / --dev /dev --proc /proc -- true"
    [bwrap]="bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc true"
    [unshare-all]="unshare -UrmpfniuC --mount-proc true"
    [true]="/bin/true"
)
cmds=()
for par in 1 2; do
    for t in rsandbox rsandbox-mounts bwrap unshare-all true; do
        cmds+=(-n "$t x$par" "$work/loop.sh $n $par ${tools[$t]}")
    done
done
cd "$work"
as_user timeout "$limit" hyperfine -N --runs "$runs" --export-json "$work/throughput.json" "${cmds[@]}" >/dev/null
cd - >/dev/null
python3 - "$work/throughput.json" "$n" "$runs" <<'PY' | report throughput
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
n, runs = int(sys.argv[2]), sys.argv[3]
rate = lambda t, p: n / r[f"{t} x{p}"]["median"]
rows = []
for t in ("rsandbox", "rsandbox-mounts", "bwrap", "unshare-all", "true"):
    rows.append([t, f"{r[t + ' x1']['median']:.2f}", f"{rate(t, 1):.0f}", f"{rate(t, 1) / rate('bwrap', 1):.2f}",
                 f"{r[t + ' x2']['median']:.2f}", f"{rate(t, 2):.0f}", f"{rate(t, 2) / rate('bwrap', 2):.2f}",
                 f"{rate(t, 2) / rate(t, 1):.2f}"])
json.dump({"title": f"Throughput: {n} sandboxes running `true` (hyperfine, {runs} run(s) each; medians)",
           "columns": ["tool", "back to back s", "sandboxes/s", "vs bwrap", "2 in parallel s", "sandboxes/s",
                       "vs bwrap", "parallel speed-up"],
           "rows": rows,
           "notes": ["rsandbox = `rsandbox run --unshare-all -- true`; rsandbox-mounts adds bwrap's "
                     "`--ro-bind / / --dev /dev --proc /proc`; unshare-all = `unshare -UrmpfniuC --mount-proc true`; "
                     "true = the loop alone (one fork + exec of /bin/true per iteration)"],
           "raw": {k: {f: v[f] for f in ("mean", "stddev", "median", "min", "max")} for k, v in r.items()}},
          sys.stdout)
PY
