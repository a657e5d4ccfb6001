#!/bin/sh
# In the VM, as the test user (bench/cgroup.sh): hyperfine of rsandbox with and without limits.
runs=${1:-30}
rs=$PWD/.build/release/rsandbox
scope=$PWD/scripts/vm/scope.sh
out=$(mktemp); cd /tmp && hyperfine -N --warmup 3 --runs "$runs" --style none --export-markdown "$out" \
    -n plain "$scope $rs run -- /bin/true" \
    -n limits "$scope $rs run --memory 256M --pids 64 --cpus 1 -- /bin/true"
cat "$out"; rm -f "$out"
