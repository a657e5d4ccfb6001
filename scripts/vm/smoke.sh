#!/bin/sh
# Smoke checks of the built CLI in the VM's pure-cgroup2 kernel, as the unprivileged test user.
# Prints one line per check and "N passed, N failed".
set -u
rs=${RSANDBOX:-.build/debug/rsandbox}
pass=0 fail=0
check() { # name, expected output, command...
    name=$1 want=$2; shift 2
    got=$("$@" 2>&1 | tr '\n' ' ' | sed 's/ $//')
    if [ "$got" = "$want" ]; then echo "ok   $name"; pass=$((pass + 1)); else echo "FAIL $name: want [$want] got [$got]"; fail=$((fail + 1)); fi
}
echo "kernel $(uname -r), cgroup $(cat /proc/self/cgroup), uid $(id -u)"
check "run --unshare-all" "2" "$rs" run --unshare-all -- sh -c 'echo $$'
check "read-only bind (mount_setattr; open_tree_attr absent on 6.1)" "ro" "$rs" run --ro-bind / / --dev /dev -- sh -c 'touch /etc/x 2>/dev/null && echo rw || echo ro'
check "tmpfs and dev" "null" "$rs" run --ro-bind / / --dev /dev --tmpfs /mnt -- sh -c 'ls /dev | grep -x null'
check "delegated cgroup visible" "writable" sh -c "test -w /sys/fs/cgroup\$(cut -d: -f3 /proc/self/cgroup)/cgroup.procs && echo writable"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
