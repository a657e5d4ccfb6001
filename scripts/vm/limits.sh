#!/bin/sh
# Resource-limit checks in the VM's pure cgroup2 kernel, as the unprivileged test user, each
# rsandbox in a delegated scope of its own. Prints one line per check and "N passed, N failed".
set -u
rs=${RSANDBOX:-$PWD/.build/debug/rsandbox}
scope="$PWD/scripts/vm/scope.sh"
tmp=$(mktemp -d)
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
echo "kernel $(uname -r), $(id -un), cgroup $(cat /proc/self/cgroup)"

# OOM: a 512 MB allocation under --memory 64M is killed, the status says so, rsandbox survives.
"$scope" "$rs" run --memory 64M --memory-swap 0 --json-status $tmp/oom.json -- python3 -c 'x = bytearray(512 << 20)' 2>$tmp/oom.err
rc=$?
if [ $rc -eq 137 ] && grep -q "killed: out of memory (limit 64M, peak" $tmp/oom.err && [ "$(json $tmp/oom.json oom_killed)" = True ]; then
    ok "oom: exit 137, '$(cat $tmp/oom.err)', peak $(json $tmp/oom.json memory_peak_bytes)"
else bad "oom: rc=$rc err=$(cat $tmp/oom.err)"; fi

# Streaming 50 x 1 MB through dd under --memory 10M: page cache is reclaimable.
big=$(ls -S /opt/swift/usr/bin/* 2>/dev/null | head -1)
"$scope" "$rs" run --memory 10M -- dd if="$big" of=/dev/null bs=1M count=50 status=none 2>$tmp/dd.err
rc=$?
[ $rc -eq 0 ] && ok "dd 50 MB of $big under 10M" || bad "dd: rc=$rc $(cat $tmp/dd.err)"

# --pids 16 contains a fork bomb; the machine stays responsive.
start=$(date +%s)
"$scope" "$rs" run --pids 16 --timeout 20 -- sh -c 'i=0; while [ $i -lt 200 ]; do sleep 3 & i=$((i+1)); done 2>/dev/null; wait' >/dev/null 2>&1
rc=$?
took=$(( $(date +%s) - start ))
if [ $rc -ne 124 ] && [ $took -lt 15 ] && sh -c 'true'; then ok "pids 16: bomb contained (rc $rc, ${took}s)"; else bad "pids: rc=$rc took=${took}s"; fi

# --cpus 0.5 holds a 2 s busy loop to 0.8-1.2 s of CPU, as the issue asks (1.08-1.11 s on a quiet host; 1.22 s
# seen under TCG on a loaded one; unlimited it is 2 s).
"$scope" "$rs" run --cpus 0.5 --json-status $tmp/cpu.json -- timeout 2 sh -c 'while :; do :; done'
cpu=$(python3 -c "import json; s=json.load(open('$tmp/cpu.json')); print(round(s['cpu_user_seconds'] + s['cpu_system_seconds'], 2))")
if python3 -c "import sys; sys.exit(0 if 0.8 <= $cpu <= 1.2 else 1)"; then ok "cpus 0.5: ${cpu}s of CPU in 2s"; else bad "cpus 0.5: ${cpu}s"; fi

# The sandbox sees its own leaf.
leaf=$("$scope" "$rs" run --pids 100 -- cat /proc/self/cgroup)
case $leaf in 0::*/scope-*/rsandbox-*-0) ok "own leaf: $leaf";; *) bad "leaf: $leaf";; esac

# 20 sandboxes in parallel: 20 different leaves, all gone afterwards.
i=0
while [ $i -lt 20 ]; do
    "$scope" "$rs" run --pids 100 -- sh -c 'cat /proc/self/cgroup; sleep 1' > $tmp/par.$i 2>&1 &
    i=$((i + 1))
done
wait
n=$(cat $tmp/par.* | sort -u | grep -c rsandbox-)
left=$(find "$RSANDBOX_DELEGATED" -mindepth 2 -maxdepth 2 -type d -name 'rsandbox-[0-9]*' | wc -l)
[ "$n" -eq 20 ] && [ "$left" -eq 0 ] && ok "20 in parallel: 20 leaves, 0 left" || bad "parallel: $n leaves, $left left"

# A double-forked daemon dies with the sandbox (cgroup.kill), even without a pid namespace.
# Control first: without limits (no leaf) and without a pid namespace it survives.
"$scope" "$rs" run --share-pid -- sh -c 'sh -c "sleep 776 &" ; exit 0'
sleep 0.5
pgrep -fx "sleep 776" >/dev/null && { ok "control: without a leaf the daemon outlives its sandbox"; pkill -fx "sleep 776"; } || bad "control: no daemon to kill"
"$scope" "$rs" run --share-pid --pids 100 -- sh -c 'sh -c "sleep 777 &" ; exit 0'
sleep 0.5
pgrep -fx "sleep 777" >/dev/null && { bad "daemon survived"; pkill -fx "sleep 777"; } || ok "double-forked daemon killed with its sandbox"

# SIGKILL of the supervisor mid-run: a later run in the same subtree collects what it left (its
# leaf, with the process still in it, and its supervisor leaf). The second run starts where a
# supervisor of that subtree sits: in a supervisor leaf of its own.
k=$RSANDBOX_DELEGATED/scope-kill
mkdir $k
sh -c "echo \$\$ > $k/cgroup.procs; exec \"$rs\" run --share-pid --no-die-with-parent --pids 100 -- sleep 888" &
sv=$!
n=0; while ! pgrep -fx 'sleep 888' >/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
kill -9 $sv; wait $sv 2>/dev/null
before="$(find $k -name 'rsandbox-*' -type d | wc -l) dirs, $(pgrep -c -fx 'sleep 888') sleeps"
sh -c "mkdir $k/rsandbox-supervisor-\$\$ && echo \$\$ > $k/rsandbox-supervisor-\$\$/cgroup.procs && exec \"$rs\" run --pids 100 -- true"
after="$(find $k -name 'rsandbox-*' -type d | wc -l) dirs, $(pgrep -c -fx 'sleep 888') sleeps"
# What is left is the second run's own supervisor leaf (it cannot remove the cgroup it is in).
if [ "$before" = "2 dirs, 1 sleeps" ] && [ "$after" = "1 dirs, 0 sleeps" ]; then ok "SIGKILLed supervisor's leftovers collected (before: $before; after: $after)"
else bad "collect: before $before, after $after"; pkill -fx 'sleep 888'; fi

# --io-max: 2 MiB of direct writes to the scratch disk (scripts/vm-test) at wbps=512K take about
# about 4 s; the same writes without a limit at least 2 s less (both include starting a sandbox,
# slow under TCG). The leaf's io.max says the same.
if [ -b /dev/vda ]; then
    dd_vda='dd if=/dev/zero of=/dev/vda bs=64k count=32 oflag=direct status=none'
    t0=$(date +%s%N); "$scope" "$rs" run -- sh -c "$dd_vda"; rc0=$?; t1=$(date +%s%N)
    "$scope" "$rs" run --io-max /dev/vda:wbps=512K -- sh -c "cut -d: -f3 /proc/self/cgroup > $tmp/io.cg; $dd_vda"; rc1=$?; t2=$(date +%s%N)
    free=$(( (t1 - t0) / 1000000 )) limited=$(( (t2 - t1) / 1000000 ))
    if [ $rc0 -eq 0 ] && [ $rc1 -eq 0 ] && [ $((limited - free)) -ge 2000 ]; then
        ok "io-max wbps=512K: 2 MiB in ${limited} ms (unlimited: ${free} ms)"
    else bad "io-max: rc $rc0/$rc1, unlimited ${free} ms, limited ${limited} ms"; fi
    dev=$(cat /sys/class/block/vda/dev)
    line=$("$scope" "$rs" run --io-max /dev/vda:rbps=1M,wiops=50 --io-weight 300 -- \
        sh -c 'd=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup); grep "^'"$dev"' " $d/io.max; cat $d/io.weight')
    case $line in "$dev rbps=1048576 wbps=max riops=max wiops=50"*"default 300") ok "io.max and io.weight in the leaf: $(echo $line)";;
        *) bad "io files: $line";; esac
else bad "no scratch disk /dev/vda in the guest (scripts/vm-test attaches one)"; fi

rm -rf "$tmp"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
