# Shared set-up of the bench scripts (sourced, from the repository root): root check,
# packages, the test user, a release build, and a world-readable work dir holding a copy of
# the binary. Sets $user, $uid, $gid, $work, $rs (the copied binary), $quick (1 in quick mode),
# $limit (seconds one timed step may take).
# bench/run-all does the one-time part once and sets RSANDBOX_BENCH_READY=1 for the sections.
user=${RSANDBOX_TEST_USER:-rsandbox-test}
quick=${RSANDBOX_BENCH_QUICK:-0}
[ -d /opt/swift/usr/bin ] && PATH=/opt/swift/usr/bin:$PATH
[ "$(id -u)" = 0 ] || { echo "$0: run as root; it runs the commands as $user" >&2; exit 1; }
if [ "${RSANDBOX_BENCH_READY:-0}" != 1 ]; then
    scripts/install-deps
    bench/install-deps
    scripts/setup-test-user >/dev/null
    scripts/build >/dev/null   # incremental: a stale binary would measure old code
fi
# The longest any one timed step (a hyperfine run, the spawn benchmark with its first build) may
# take before it is killed and the section fails: a hung peer must not hold run-all forever.
limit=${RSANDBOX_BENCH_STEP_TIMEOUT:-900}
uid=$(id -u "$user")
gid=$(id -g "$user")
work=$(mktemp -d /tmp/rsandbox-bench.XXXXXX)
chmod 755 "$work"
cp .build/release/rsandbox "$work/rsandbox"
rs=$work/rsandbox
chown "$user" "$work"
mkdir -p bench/results

# Commands run at exit, last added first (restoring a device mode, killing a pause process).
cleanups=()
on_exit() { cleanups=("$1" "${cleanups[@]}"); }
run_cleanups() {
    local c
    for c in "${cleanups[@]}"; do eval "$c" || true; done
    rm -rf "$work"
}
trap run_cleanups EXIT

# Runs a command as the unprivileged test user, with no supplementary groups.
as_user() { setpriv --reuid="$user" --regid="$user" --clear-groups -- "$@"; }

# Runs a command as the test user in a private mount namespace where the cgroup2 hierarchy
# lists no controllers. crun 1.8 (and podman through it) refuse a hybrid host whose unified
# hierarchy lists v1-only controllers ("cgroups in hybrid mode not supported"); an empty file
# bound over cgroup.controllers in a namespace of our own hides that from them without
# touching the host's mounts. The other commands of a run go through the same namespace, so
# peers and rsandbox are timed in the same conditions.
as_user_peer_ns() {
    local controllers=/sys/fs/cgroup/unified/cgroup.controllers
    [ -f "$work/empty" ] || : >"$work/empty"
    if [ -f "$controllers" ]; then
        unshare --mount --propagation private -- sh -c \
            'mount --bind "$1" "$2" && u=$3 && shift 3 && exec setpriv --reuid="$u" --regid="$u" --clear-groups -- "$@"' \
            sh "$work/empty" "$controllers" "$user" "$@"
    else
        as_user "$@"
    fi
}
# Writes a section's results: bench/report.py reads the JSON on stdin and writes
# bench/results/<section>.json and .md, and prints the Markdown.
report() { python3 bench/report.py section "$1"; }
