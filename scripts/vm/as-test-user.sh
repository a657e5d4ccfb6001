#!/bin/sh
# Inside the VM (as root): delegate a cgroup2 subtree to the test user the way systemd's
# Delegate=yes would (a directory it owns, with memory, cpu and pids enabled above it), move
# this shell into it, then run the command as the test user.
set -eu
user=${RSANDBOX_TEST_USER:-rsandbox-test}
uid=$(id -u "$user"); gid=$(id -g "$user")
cg=/sys/fs/cgroup
echo "+memory +pids +cpu" > $cg/cgroup.subtree_control
mkdir -p $cg/user-$uid
chown "$uid:$gid" $cg/user-$uid $cg/user-$uid/cgroup.procs $cg/user-$uid/cgroup.subtree_control $cg/user-$uid/cgroup.threads
echo $$ > $cg/user-$uid/cgroup.procs
exec setpriv --reuid="$uid" --regid="$gid" --init-groups env HOME=/tmp USER="$user" "$@"
