#!/bin/sh
# In the VM, as the test user (bench/cgroup.sh): hyperfine of rsandbox with and without limits.
# Prints hyperfine's table and a "medians plain=S limits=S" line for bench/cgroup.sh.
runs=${1:-30}
rs=$PWD/.build/release/rsandbox
scope=$PWD/scripts/vm/scope.sh
out=$(mktemp); json=$(mktemp); cd /tmp && hyperfine -N --warmup 3 --runs "$runs" --style none \
    --export-markdown "$out" --export-json "$json" \
    -n plain "$scope $rs run -- /bin/true" \
    -n limits "$scope $rs run --memory 256M --pids 64 --cpus 1 -- /bin/true"
cat "$out"
python3 -c "import json,sys; r={x['command']: x['median'] for x in json.load(open(sys.argv[1]))['results']}; print('medians plain=%f limits=%f' % (r['plain'], r['limits']))" "$json"
rm -f "$out" "$json"
