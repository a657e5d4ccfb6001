#!/usr/bin/env bash
# Start cost of resource limits: `rsandbox run -- true` with and without --memory/--pids/--cpus,
# each in a delegated scope of its own, in the VM lane (this host has no usable cgroup2
# controllers, no KVM: the guest is emulated by TCG). Target: <= +1 ms on real hardware.
# The guest's absolute times are tens of times the host's, so the native cost is estimated: the
# guest's difference scaled by (host plain / guest plain), the host's plain run measured here in
# the same script. That assumes the limits' work slows down under TCG like the rest does; it is
# an estimate, and the script says so.
# Usage: sudo bench/cgroup.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
source bench/lib.sh
guest=$(scripts/vm-test bench/cgroup-guest.sh "$runs")
cd "$work"
setpriv --reuid="$user" --regid="$user" --clear-groups -- \
    hyperfine -N --warmup 3 --runs "$runs" --style none --export-json "$work/host.json" \
    -n plain "$work/rsandbox run -- /bin/true" >/dev/null
cd - >/dev/null
python3 - "$work/host.json" "$guest" <<'PY' | tee bench/results/cgroup.md
import json, re, sys
host = json.load(open(sys.argv[1]))["results"][0]["median"]
text = sys.argv[2]
m = re.search(r"medians plain=([0-9.]+) limits=([0-9.]+)", text)
if not m:
    sys.exit("bench/cgroup.sh: the guest printed no medians:\n" + text)
plain, limits = float(m.group(1)), float(m.group(2))
print("\n".join(l for l in text.splitlines() if l.startswith("|")))
print()
print(f"guest (TCG): plain {plain*1e3:.1f} ms, limits {limits*1e3:.1f} ms: +{(limits-plain)*1e3:.1f} ms (+{(limits/plain-1)*100:.0f}%)")
print(f"host plain: {host*1e3:.2f} ms; guest/host slowdown {plain/host:.0f}x")
est = (limits - plain) * host / plain
print(f"estimated native cost of limits: +{est*1e3:.2f} ms (target <= +1 ms; an estimate: see bench/cgroup.sh)")
PY
