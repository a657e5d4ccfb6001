#!/usr/bin/env bash
# Start latency of a sandbox running `true`, as the unprivileged test user, side by side in one
# hyperfine run: rsandbox (all seven namespaces; without its seccomp filter; and with bwrap's own
# mounts), bubblewrap,
# unshare (the kernel's floor), crun rootless on a minimal busybox bundle, /bin/true. podman
# rootless is ~30x slower and gets a second, shorter run with rsandbox and bwrap beside it.
# Prints each median and its ratio to bwrap in the same run. Target: rsandbox <= 0.8x bwrap.
# Usage: bench/start.sh [runs] [podman-runs]   (as root: it drops to the test user)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
source bench/peers.sh
runs=${1:-$([ "$quick" = 1 ] && echo 30 || echo 200)}
slow_runs=${2:-$([ "$quick" = 1 ] && echo 5 || echo 20)}

crun_bundle
podman_setup
rs_mounts="$rs run --unshare-all --ro-bind / / --dev /dev --proc /proc -- true"
bwrap="bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc true"
cmds=(
    -n rsandbox "$rs run --unshare-all -- true"
    -n rsandbox-unconfined "$rs run --unshare-all --seccomp=unconfined -- true"
    -n rsandbox-mounts "$rs_mounts"
    -n bwrap "$bwrap"
    -n unshare "unshare -Urmpf --mount-proc true"
    -n unshare-all "unshare -UrmpfniuC --mount-proc true"
)
[ -n "$crun_cmd" ] && cmds+=(-n crun "$crun_cmd")
cmds+=(-n true "/bin/true")
cd "$work"
as_user_peer_ns timeout "$limit" hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/start.json" "${cmds[@]}" >/dev/null
if [ -n "$podman_cmd" ]; then
    as_user_peer_ns "${podman_env[@]}" timeout "$limit" hyperfine -N --warmup 2 --runs "$slow_runs" --export-json "$work/podman.json" \
        -n podman "$podman_cmd" -n rsandbox-mounts "$rs_mounts" -n bwrap "$bwrap" >/dev/null
fi
cd - >/dev/null
python3 - "$work/start.json" "$work/podman.json" "$crun_why" "$podman_why" "$runs" "$slow_runs" <<'PY' | report start
import json, os, sys
start, podman, crun_why, podman_why, runs, slow = sys.argv[1:7]
def load(path):
    return {x["command"]: x for x in json.load(open(path))["results"]} if os.path.exists(path) else {}
r, p = load(start), load(podman)
what = {
    "rsandbox": "rsandbox run --unshare-all -- true (the host's tree, fresh /proc)",
    "rsandbox-unconfined": "the same with --seccomp=unconfined (no seccomp filter)",
    "rsandbox-mounts": "rsandbox run --unshare-all --ro-bind / / --dev /dev --proc /proc -- true",
    "bwrap": "bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc true",
    "unshare": "unshare -Urmpf --mount-proc true (user, mount, pid)",
    "unshare-all": "unshare -UrmpfniuC --mount-proc true (all seven)",
    "crun": "crun run, rootless, busybox-static bundle, all seven, --cgroup-manager=disabled",
    "true": "/bin/true",
    "podman": "podman run --rm --network none (local busybox image)",
}
rows = []
base = r["bwrap"]["median"]
for name, x in r.items():
    rows.append([name, what[name], f"{x['median']*1e3:.2f}", f"{x['mean']*1e3:.2f} ± {x['stddev']*1e3:.2f}", f"{x['median']/base:.2f}"])
if p:
    x = p["podman"]
    rows.append(["podman", what["podman"] + f" (own run of {slow}: ratio to bwrap's median in that run)",
                 f"{x['median']*1e3:.1f}", f"{x['mean']*1e3:.1f} ± {x['stddev']*1e3:.1f}",
                 f"{x['median']/p['bwrap']['median']:.1f}"])
checks = []
for name in ("rsandbox", "rsandbox-mounts"):
    v = r[name]["median"] / base
    checks.append({"what": f"{name}/bwrap", "value": round(v, 2), "target": "<= 0.80", "met": v <= 0.8})
notes = [f"the default seccomp filter costs {(r['rsandbox']['median'] - r['rsandbox-unconfined']['median'])*1e3:.2f} ms "
         f"(rsandbox - rsandbox-unconfined)",
         f"rsandbox/unshare (same namespaces as unshare-all) = {r['rsandbox']['median']/r['unshare-all']['median']:.2f}; "
         f"rsandbox/unshare -Urmpf = {r['rsandbox']['median']/r['unshare']['median']:.2f}"]
if "crun" in r:
    notes.append(f"crun/rsandbox-mounts = {r['crun']['median']/r['rsandbox-mounts']['median']:.1f}")
if p:
    notes.append(f"podman/rsandbox-mounts = {p['podman']['median']/p['rsandbox-mounts']['median']:.0f} (podman's run)")
skipped = [{"what": w, "why": y} for w, y in (("crun", crun_why), ("podman", podman_why)) if y]
strip = lambda d: {k: {f: v[f] for f in ("command", "mean", "stddev", "median", "min", "max")} for k, v in d.items()}
json.dump({"title": f"Start latency: `true` in a new sandbox (hyperfine -N, {runs} runs, warm-up 10; medians)",
           "columns": ["name", "command", "median ms", "mean ms ± σ", "vs bwrap"],
           "rows": rows, "checks": checks, "skipped": skipped, "notes": notes,
           "raw": {"main": strip(r), "podman": strip(p)}}, sys.stdout)
PY
