#!/usr/bin/env bash
# Start latency: rsandbox run vs bwrap vs unshare vs /bin/true, in one hyperfine run, as the
# unprivileged test user. Prints each command's median and its ratio to bwrap.
# Target: rsandbox <= 0.8x bwrap. Usage: bench/start.sh [runs]   (as root: it drops to the user)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
source bench/lib.sh

cd "$work"
setpriv --reuid="$user" --regid="$user" --clear-groups -- \
    hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/start.json" \
    -n rsandbox "$work/rsandbox run --unshare-all -- true" \
    -n rsandbox-unconfined "$work/rsandbox run --unshare-all --seccomp=unconfined -- true" \
    -n rsandbox-mounts "$work/rsandbox run --unshare-all --ro-bind / / --dev /dev --proc /proc -- true" \
    -n bwrap "bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc true" \
    -n unshare "unshare -Urmpf --mount-proc true" \
    -n true "/bin/true" >/dev/null
cd - >/dev/null
cp "$work/start.json" bench/results/start.json
python3 - bench/results/start.json <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
base = r["bwrap"]["median"]
lines = ["| command | median ms | mean ms ± σ | vs bwrap |", "|---|---|---|---|"]
for name in ["rsandbox", "rsandbox-unconfined", "rsandbox-mounts", "bwrap", "unshare", "true"]:
    x = r[name]
    lines.append(f"| {name} | {x['median']*1e3:.2f} | {x['mean']*1e3:.2f} ± {x['stddev']*1e3:.2f} | {x['median']/base:.2f} |")
ratio = r["rsandbox"]["median"] / base
same = r["rsandbox-mounts"]["median"] / base
floor = r["rsandbox"]["median"] / r["unshare"]["median"]
lines.append("")
lines.append(f"rsandbox/bwrap = {ratio:.2f} (target <= 0.80: {'met' if ratio <= 0.8 else 'NOT met'}); rsandbox/unshare = {floor:.2f}")
lines.append(f"with bwrap's own mounts (--ro-bind / / --dev /dev --proc /proc): rsandbox/bwrap = {same:.2f}")
filt = (r["rsandbox"]["median"] - r["rsandbox-unconfined"]["median"]) * 1e3
lines.append(f"the default seccomp filter (built with libseccomp at each start) costs {filt:.2f} ms")
text = "\n".join(lines)
print(text)
open("bench/results/start.md", "w").write(text + "\n")
PY
