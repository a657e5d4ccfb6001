#!/bin/sh
# On a systemd host: with a `systemd --user` manager and no usable cgroup of its own, rsandbox
# asks the manager over D-Bus for a transient scope with Delegate=yes, moves into it (what
# `systemd-run --user --scope -p Delegate=yes` does) and the limits hold. As the test user;
# prints "N passed, N failed".
set -u
rs=${RSANDBOX:-$PWD/.build/debug/rsandbox}
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
export XDG_RUNTIME_DIR=/tmp/xdg-$(id -u)
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
/lib/systemd/systemd --user >/tmp/systemd-user.log 2>&1 &
n=0; while [ ! -S "$XDG_RUNTIME_DIR/systemd/private" ] && [ $n -lt 200 ]; do sleep 0.1; n=$((n + 1)); done
[ -S "$XDG_RUNTIME_DIR/systemd/private" ] || { bad "systemd --user did not start: $(head -3 /tmp/systemd-user.log)"; echo "$pass passed, $fail failed"; exit 1; }
cd /tmp
# This shell's own cgroup has the controllers, but the shell lives in it: not usable for limits.
out=$("$rs" run --memory 64M --pids 32 -- sh -c 'cat /proc/self/cgroup; python3 -c "x = bytearray(256 << 20)"' 2>&1); rc=$?
case "$out" in
    */rsandbox-[0-9]*-*.scope/rsandbox-*"killed: out of memory (limit 64M"*) [ $rc -eq 137 ] && ok "limits in a systemd scope: $(echo "$out" | head -1)" || bad "rc $rc: $out";;
    *) bad "scope: rc $rc: $out";;
esac
# The scope ends with rsandbox and the manager removes it (CollectMode=inactive-or-failed).
scope=$(echo "$out" | head -1 | sed -n 's|^0::\(.*\.scope\)/.*|\1|p')
n=0; while [ -n "$scope" ] && [ -d "/sys/fs/cgroup$scope" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
[ -n "$scope" ] && [ ! -d "/sys/fs/cgroup$scope" ] && ok "the scope is gone after the run: $scope" || bad "scope left: $scope"
plain=$("$rs" run -- cat /proc/self/cgroup)
case "$plain" in */rsandbox-*.scope*) bad "no limits, yet a transient scope: $plain";; 0::/*) ok "without limits no transient scope: $plain";; *) bad "plain: $plain";; esac
doctor=$("$rs" doctor | grep "cgroup delegation")
case "$doctor" in "✓ cgroup delegation: "*"systemd --user manager runs"*) ok "doctor: $doctor";; *) bad "doctor: $doctor";; esac
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
