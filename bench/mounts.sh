#!/usr/bin/env bash
# Mount cost: rsandbox with 1, 50 and 500 read-only binds (new mount points in a tmpfs),
# bubblewrap with the same, and the kernel's floor (bench/mount-floor.c: only the mount calls, no
# tool around them), in one hyperfine run as the unprivileged test user. Prints each time, its
# ratio to the one-bind run of the same tool, and the cost per extra bind. Target: rsandbox's
# 500 binds <= 3x one (the cost must grow linearly).
# Usage: bench/mounts.sh [runs]   (as root: it drops to the test user)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
runs=${1:-$([ "$quick" = 1 ] && echo 5 || echo 30)}
binds() {
    local a="--ro-bind / / --tmpfs /mnt"
    for i in $(seq 1 "$1"); do a="$a --ro-bind /usr /mnt/b$i"; done
    echo "$a"
}
gcc -O2 -Wall -o "$work/mount-floor" bench/mount-floor.c
cmds=()
for n in 1 50 500; do
    cmds+=(-n "rsandbox-$n" "$rs run $(binds "$n") -- /bin/true")
done
for n in 1 50 500; do
    cmds+=(-n "bwrap-$n" "bwrap $(binds "$n") /bin/true")
done
for n in 1 50 500; do
    cmds+=(-n "floor-$n" "$work/mount-floor $n")
done
cd "$work"
as_user timeout "$limit" hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/mounts.json" "${cmds[@]}" >/dev/null
cd - >/dev/null
python3 - "$work/mounts.json" "$runs" <<'PY' | report mounts
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
m = lambda k: r[k]["median"]
per = lambda tool, a, b: (m(f"{tool}-{b}") - m(f"{tool}-{a}")) / (b - a) * 1e6
rows = []
for n in (1, 50, 500):
    rows.append([n, f"{m(f'rsandbox-{n}')*1e3:.1f}", f"{m(f'rsandbox-{n}')/m('rsandbox-1'):.1f}x",
                 f"{m(f'bwrap-{n}')*1e3:.1f}", f"{m(f'bwrap-{n}')/m('bwrap-1'):.1f}x",
                 f"{m(f'floor-{n}')*1e3:.1f}", f"{m(f'rsandbox-{n}')/m(f'bwrap-{n}'):.2f}"])
ratio = m("rsandbox-500") / m("rsandbox-1")
base = m("rsandbox-1")
floor_only = (base + 499 * per("floor", 50, 500) / 1e6) / base
json.dump({"title": f"Mounts: `true` with 1, 50 and 500 read-only binds (hyperfine -N, {sys.argv[2]} runs; medians)",
           "columns": ["binds", "rsandbox ms", "vs 1 bind", "bwrap ms", "vs 1 bind", "kernel floor ms", "rsandbox/bwrap"],
           "rows": rows,
           "checks": [{"what": "rsandbox 500 binds / 1 bind", "value": round(ratio, 1), "target": "<= 3", "met": ratio <= 3}],
           "notes": [f"µs per extra bind, 1→50 and 50→500 (equal figures = linear growth): rsandbox "
                     f"{per('rsandbox', 1, 50):.0f} and {per('rsandbox', 50, 500):.0f}; kernel floor "
                     f"{per('floor', 1, 50):.0f} and {per('floor', 50, 500):.0f}; bwrap {per('bwrap', 1, 50):.0f} and {per('bwrap', 50, 500):.0f}",
                     f"the kernel floor alone (bench/mount-floor.c: the same open_tree_attr + mkdirat + move_mount calls "
                     f"in a new user + mount namespace) would make rsandbox's 500 binds {floor_only:.1f}x its one-bind start",
                     "each command: `--ro-bind / / --tmpfs /mnt` then N times `--ro-bind /usr /mnt/bI`"],
           "raw": {k: {f: v[f] for f in ("mean", "stddev", "median", "min", "max")} for k, v in r.items()}},
          sys.stdout)
PY
