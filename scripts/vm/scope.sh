#!/bin/sh
# Runs a command in a new scope of the delegated subtree (what `systemd-run --user --scope -p
# Delegate=yes` gives on a systemd host): a cgroup holding only this command.
set -eu
scope=$RSANDBOX_DELEGATED/scope-$$
mkdir "$scope"
echo $$ > "$scope/cgroup.procs"
exec "$@"
