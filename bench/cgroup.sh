#!/usr/bin/env bash
# Start cost of resource limits: `rsandbox run -- true` with and without --memory/--pids/--cpus,
# each in a delegated scope of its own, in the VM lane (this host has no usable cgroup2
# controllers). Absolute times under QEMU's emulation are several times the host's; the
# difference between the two is the figure (target: <= +1 ms on real hardware).
# Usage: sudo bench/cgroup.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
scripts/build >/dev/null   # incremental
mkdir -p bench/results
scripts/vm-test bench/cgroup-guest.sh "$runs" | grep "^|" | tee bench/results/cgroup.md
