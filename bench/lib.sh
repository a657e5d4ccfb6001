# Shared set-up of the bench scripts (sourced): root check, packages, the test user, a release
# build, and a world-readable work dir holding a copy of the binary. Sets $user and $work.
user=${RSANDBOX_TEST_USER:-rsandbox-test}
[ "$(id -u)" = 0 ] || { echo "$0: run as root; it runs the commands as $user" >&2; exit 1; }
scripts/install-deps
scripts/setup-test-user >/dev/null
scripts/build >/dev/null   # incremental: a stale binary would measure old code
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cp .build/release/rsandbox "$work/rsandbox"
chown "$user" "$work"
mkdir -p bench/results
