#!/bin/sh
# Inside the VM (as root): delegate a cgroup2 subtree to the test user the way systemd does for
# user@UID.service (Delegate=yes): a directory it owns, with memory, cpu, pids and io enabled, and this
# shell in a leaf of it. Then run the command as the test user. scripts/vm/scope.sh puts one
# command in a scope of its own, like `systemd-run --user --scope -p Delegate=yes`.
set -eu
user=${RSANDBOX_TEST_USER:-rsandbox-test}
uid=$(id -u "$user"); gid=$(id -g "$user")
cg=/sys/fs/cgroup
d=$cg/user-$uid
echo "+memory +pids +cpu +io" > $cg/cgroup.subtree_control
mkdir -p $d/shell
chown -R "$uid:$gid" $d
echo $$ > $d/shell/cgroup.procs
echo "+memory +pids +cpu +io" > $d/cgroup.subtree_control
# The scratch disk of the io checks (scripts/vm-test) is the test user's to write.
[ -b /dev/vda ] && chown "$uid:$gid" /dev/vda
# systemd --user refuses to start unless the system looks booted with systemd: this marker is
# all it checks (scripts/vm/systemd.sh starts one; nothing else here looks at it).
mkdir -p /run/systemd/system
export RSANDBOX_DELEGATED=$d
exec setpriv --reuid="$uid" --regid="$gid" --init-groups env HOME=/tmp USER="$user" RSANDBOX_DELEGATED=$d "$@"
