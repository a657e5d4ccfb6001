#!/usr/bin/env bash
# The library's spawn path alone: Sandbox.spawn + wait of /bin/true per iteration, measured by
# ordo-one/benchmark (bench/spawn, a package of its own) as the unprivileged test user, next
# to posix_spawn + wait of `unshare -Urmpf --mount-proc true` (the floor) and of /bin/true in
# the same process. Prints p50/p99 and spawns per second. Target: library <= 1.1x unshare.
# The first run builds the benchmark package (a few minutes; later runs are incremental).
# Usage: bench/spawn.sh [iterations]   (as root: the benchmark drops to the test user itself)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
iterations=${1:-$([ "$quick" = 1 ] && echo 100 || echo 1000)}
out=$work/spawn
mkdir -p "$out"
# The benchmark tool runs as root (it builds and writes here); the measured process becomes
# the test user before its first benchmark (Benchmarks/Spawn/Spawn.swift: dropToBenchUser).
(cd bench/spawn && RSANDBOX_BENCH_UID=$uid RSANDBOX_BENCH_GID=$gid RSANDBOX_BENCH_ITERATIONS=$iterations \
    timeout "$limit" swift package --disable-sandbox benchmark --format histogramPercentiles --path "$out" --no-progress \
    >"$work/spawn.log" 2>&1) || { tail -20 "$work/spawn.log" >&2; exit 1; }
python3 - "$out" "$iterations" <<'PY' | report spawn
import glob, os, sys
out, iterations = sys.argv[1], sys.argv[2]
def percentiles(name, metric):
    [path] = glob.glob(os.path.join(out, f"*.Spawn.{name}.{metric}.histogram.percentiles.tsv"))
    lines = open(path).read().split("\n")[1:]
    return {int(a): int(b) for a, b in (l.split("\t") for l in lines if l)}
what = {
    "library-default": "Sandbox.spawn + waitBlocking: user, pid, mount namespaces, fresh /proc, reaper, default seccomp filter",
    "library-unconfined": "the same without a seccomp filter (SeccompPolicy.unconfined)",
    "library-all": "the same with all seven namespaces (net with lo up, ipc, uts, cgroup)",
    "unshare": "posix_spawn + waitpid: unshare -Urmpf --mount-proc /bin/true",
    "true": "posix_spawn + waitpid: /bin/true",
}
t = {k: percentiles(k, "wallClock") for k in what}
mallocs = {k: percentiles(k, "mallocCountTotal")[50] for k in ("library-default", "library-all")}
rows = []
for k, desc in what.items():
    rows.append([k, desc, t[k][50], t[k][99], f"{1e6 / t[k][50]:.0f}", f"{t[k][50] / t['unshare'][50]:.2f}"])
ratio = t["library-default"][50] / t["unshare"][50]
bare = t["library-unconfined"][50] / t["unshare"][50]
print(__import__("json").dumps({
    "title": f"Library spawn alone (ordo-one/benchmark, up to {iterations} iterations after 10 warm-up; µs)",
    "columns": ["benchmark", "what", "p50 µs", "p99 µs", "spawns/s (1/p50)", "p50 vs unshare"],
    "rows": rows,
    "checks": [{"what": "library-default p50 / unshare p50", "value": round(ratio, 3), "target": "<= 1.10", "met": ratio <= 1.1},
               {"what": "library-unconfined p50 / unshare p50 (no filter, like unshare)", "value": round(bare, 3), "target": "<= 1.10", "met": bare <= 1.1}],
    "notes": [f"mallocs per spawn + wait (p50): {mallocs['library-default']} (default), {mallocs['library-all']} (all seven)",
              "the benchmark process runs as the test user (it drops from root before the first benchmark); "
              "every child gets PATH only, so the benchmark tool's malloc interposer reaches none of them"],
    "raw": {"wall_clock_us_percentiles": {k: {p: v[p] for p in (0, 25, 50, 75, 90, 99, 100)} for k, v in t.items()},
            "mallocs_p50": mallocs}}))
PY
