#!/usr/bin/env bash
# Network: TCP throughput (iperf3) and connect() latency of a sandbox's network, rsandbox's
# bridge mode vs the user-mode stacks slirp4netns and pasta, with host loopback as the ceiling.
# All traffic stays on this machine: the servers listen on 127.0.0.1 only (the user-mode stacks
# map their gateway to the host's loopback) or, for the bridge, inside the sandboxes.
# Target: bridge >= 5x slirp4netns.
#
# Until `rsandbox run --help` offers `--net bridge` this section reports "not yet".
# `bench/network.sh --peers` measures loopback, slirp4netns and pasta alone (no bridge) to check
# the harness. To add the bridge: fill in measure_bridge below (two sandboxes on the bridge,
# iperf3 -s in one, the client in the other) and keep its output format.
# Usage: bench/network.sh [--peers] [seconds]   (as root: it drops to the test user; /dev/net/tun
# is opened to the user for the run and its mode restored after)
set -euo pipefail
cd "$(dirname "$0")/.."
peers_only=0
[ "${1:-}" = --peers ] && { peers_only=1; shift; }
source bench/lib.sh
secs=${1:-$([ "$quick" = 1 ] && echo 2 || echo 5)}
connects=$([ "$quick" = 1 ] && echo 100 || echo 500)

bridge=0
"$rs" run --help | grep -Eq -- '--net[ =<]' && "$rs" run --help | grep -q bridge && bridge=1
if [ "$bridge" = 0 ] && [ "$peers_only" = 0 ]; then
    echo '{"title": "Network: bridge vs slirp4netns vs pasta", "not_yet": "rsandbox run has no --net bridge yet (rsandbox-netd is being built); bench/network.sh --peers measures the user-mode peers alone"}' | report network
    exit 0
fi

mode=$(stat -c %a /dev/net/tun)
on_exit "chmod $mode /dev/net/tun"
chmod 666 /dev/net/tun
port=$((20000 + RANDOM % 20000))
gateway=$(ip route show default | awk '{print $3; exit}')

# client.sh HOST: inside the sandbox: waits for a default route (the stack is attached from
# outside), then connect latency (python, $connects connects) and iperf3 to HOST.
cat >"$work/client.sh" <<SH
#!/bin/sh
set -e
i=0
until ip route show default | grep -q .; do
    i=\$((i + 1)); [ \$i -lt 200 ] || { echo "no default route in the sandbox" >&2; exit 1; }; sleep 0.05
done
/usr/bin/python3 - "\$1" $((port + 1)) $connects <<'PY'
import socket, statistics, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = []
for _ in range(n):
    s = socket.socket()
    a = time.perf_counter()
    s.connect((host, port))
    t.append(time.perf_counter() - a)
    s.close()
print(f"connect_us {statistics.median(t) * 1e6:.0f}")
PY
iperf3 -c "\$1" -p $port -t $secs -J >"$work/iperf-\$2.json"
SH
chmod 755 "$work/client.sh"

# Servers on the host's loopback, as the test user: iperf3 (one test each) and an accept loop.
# Started as plain background commands (not through a shell function) so that $! is the
# server itself and the kill at the end reaches it.
drop=(setpriv --reuid="$user" --regid="$user" --clear-groups --)
start_servers() {
    "${drop[@]}" iperf3 -s -B 127.0.0.1 -p $port -1 >"$work/iperf-server.log" 2>&1 &
    iperf_pid=$!
    on_exit "kill $iperf_pid 2>/dev/null"
    "${drop[@]}" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(128)
while True: s.accept()[0].close()' $((port + 1)) >"$work/accept-server.log" 2>&1 &
    accept_pid=$!
    on_exit "kill $accept_pid 2>/dev/null"
    sleep 0.5
}
stop_servers() {
    kill "$iperf_pid" "$accept_pid" 2>/dev/null || true
    wait "$iperf_pid" "$accept_pid" 2>/dev/null || true
}

# A process inside the sandbox whose namespaces a stack can join: the command under the
# reaper, once rsandbox (pid $1) has started it. Not the reaper itself: it makes itself
# non-dumpable, so its /proc/PID/ns files belong to root.
first_child() { cat /proc/"$1"/task/"$1"/children 2>/dev/null | awk '{print $1}'; }
sandbox_pid() {
    local reaper="" c="" i=0
    while [ -z "$c" ] && [ $i -lt 200 ]; do
        [ -n "$reaper" ] || reaper=$(first_child "$1")
        [ -z "$reaper" ] || c=$(first_child "$reaper")
        i=$((i + 1))
        [ -n "$c" ] || sleep 0.02
    done
    echo "$c"
}

measure_loopback() {
    start_servers
    local status=0
    (cd "$work" && exec "${drop[@]}" timeout $((secs + 30)) "$work/client.sh" 127.0.0.1 loopback) >"$work/out-loopback" || status=$?
    stop_servers
    [ $status = 0 ] || { echo "loopback: the client failed ($status)" >&2; return 1; }
}

# A sandbox with its own network namespace (bounded by --timeout); $2 attaches a user-mode
# stack to it from outside (PID in it is replaced by the sandbox's first pid).
measure_user_mode() {   # name stack-command target
    local name=$1 attach=$2 target=$3 c status=0
    start_servers
    (cd "$work" && exec "${drop[@]}" "$rs" run --unshare-net --timeout $((secs + 30)) -- \
        "$work/client.sh" "$target" "$name") >"$work/out-$name" &
    local box=$!
    c=$(sandbox_pid $box)
    "${drop[@]}" ${attach/PID/$c} >"$work/$name.log" 2>&1 &
    local stack=$!
    on_exit "kill $stack 2>/dev/null"
    wait $box || status=$?
    kill $stack 2>/dev/null || true
    wait $stack 2>/dev/null || true
    stop_servers
    [ $status = 0 ] || { echo "$name: the client failed ($status); $(tail -2 "$work/$name.log")" >&2; return 1; }
}

measure_bridge() {
    echo "bench/network.sh: rsandbox has --net bridge but this section does not measure it yet (fill in measure_bridge)" >&2
    return 1
}

measure_loopback
measure_user_mode slirp4netns "slirp4netns --configure --mtu=65520 PID tap0" 10.0.2.2
measure_user_mode pasta "pasta --config-net -f PID" "$gateway"
[ "$peers_only" = 0 ] && measure_bridge

python3 - "$work" "$secs" "$connects" "$peers_only" <<'PY' | report network
import json, os, sys
work, secs, connects, peers_only = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
names = ["loopback", "slirp4netns", "pasta"] + ([] if peers_only else ["bridge"])
res = {}
for n in names:
    it = json.load(open(os.path.join(work, f"iperf-{n}.json")))
    connect = int(open(os.path.join(work, f"out-{n}")).read().split()[1])
    res[n] = {"gbit_s": it["end"]["sum_received"]["bits_per_second"] / 1e9, "connect_us": connect}
rows = [[n, f"{r['gbit_s']:.2f}", f"{r['gbit_s'] / res['slirp4netns']['gbit_s']:.2f}", r["connect_us"]] for n, r in res.items()]
checks = []
if "bridge" in res:
    v = res["bridge"]["gbit_s"] / res["slirp4netns"]["gbit_s"]
    checks.append({"what": "bridge / slirp4netns throughput", "value": round(v, 1), "target": ">= 5", "met": v >= 5})
print(json.dumps({
    "title": f"Network: sandbox to server, iperf3 -t {secs} (1 stream) and median connect() of {connects}"
             + (" (peers only: no bridge yet)" if peers_only else ""),
    "columns": ["path", "Gbit/s", "vs slirp4netns", "connect µs"],
    "rows": rows, "checks": checks,
    "notes": ["loopback: client and server in the host's network namespace (the ceiling); slirp4netns "
              "(--configure --mtu=65520) and pasta (--config-net) attached to `rsandbox run --unshare-net`, "
              "server on 127.0.0.1 reached through the stack's gateway; with 2 cores the stack and both "
              "iperf3 ends share the CPUs"],
    "raw": res}))
PY
