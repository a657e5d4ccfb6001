#!/usr/bin/env bash
# Mount cost: rsandbox with 1, 50 and 500 read-only binds (new mount points in a tmpfs), and
# bubblewrap with the same, and the kernel's floor (bench/mount-floor.c: only the mount calls, no
# tool around them), in one hyperfine run as the unprivileged test user. Prints each time, its
# ratio to the one-bind run of the same tool, and the cost per extra bind. Target: rsandbox's 500
# binds <= 3x one.
# Usage: bench/mounts.sh [runs]   (as root: it drops to the test user)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
source bench/lib.sh
binds() {
    local a="--ro-bind / / --tmpfs /mnt"
    for i in $(seq 1 "$1"); do a="$a --ro-bind /usr /mnt/b$i"; done
    echo "$a"
}
gcc -O2 -Wall -o "$work/mount-floor" bench/mount-floor.c
cmds=()
for n in 1 50 500; do
    cmds+=(-n "rsandbox-$n" "$work/rsandbox run $(binds "$n") -- /bin/true")
done
for n in 1 50 500; do
    cmds+=(-n "bwrap-$n" "bwrap $(binds "$n") /bin/true")
done
for n in 1 50 500; do
    cmds+=(-n "floor-$n" "$work/mount-floor $n")
done
cd "$work"
setpriv --reuid="$user" --regid="$user" --clear-groups -- \
    hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/mounts.json" "${cmds[@]}" >/dev/null
cd - >/dev/null
cp "$work/mounts.json" bench/results/mounts.json
python3 - bench/results/mounts.json <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
lines = ["| binds | rsandbox ms | vs 1 bind | bwrap ms | vs 1 bind | kernel floor ms |", "|---|---|---|---|---|---|"]
for n in (1, 50, 500):
    a, b = r[f"rsandbox-{n}"]["median"], r[f"bwrap-{n}"]["median"]
    lines.append(f"| {n} | {a*1e3:.1f} | {a/r['rsandbox-1']['median']:.1f}x | {b*1e3:.1f} | {b/r['bwrap-1']['median']:.1f}x | {r[f'floor-{n}']['median']*1e3:.1f} |")
def per(tool):
    return (r[f"{tool}-500"]["median"] - r[f"{tool}-50"]["median"]) / 450 * 1e6
ratio = r["rsandbox-500"]["median"] / r["rsandbox-1"]["median"]
base = r["rsandbox-1"]["median"] * 1e3
lines.append("")
lines.append(f"rsandbox 500/1 = {ratio:.1f}x (target <= 3x: {'met' if ratio <= 3 else 'NOT met'}); {per('rsandbox'):.1f} us per extra bind")
lines.append(f"kernel floor (bench/mount-floor.c, the mount calls alone): {per('floor'):.1f} us per extra bind;")
lines.append(f"at rsandbox's {base:.1f} ms one-bind start that floor alone makes 500 binds "
             f"{(base + 499 * per('floor') / 1e3) / base:.1f}x one bind")
text = "\n".join(lines)
print(text)
open("bench/results/mounts.md", "w").write(text + "\n")
PY
