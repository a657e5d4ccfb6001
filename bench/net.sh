#!/usr/bin/env bash
# Network: TCP throughput (iperf3) and connect() latency of a sandbox's network, rsandbox's
# bridge mode vs the user-mode stacks slirp4netns and pasta, with host loopback as the ceiling.
# All traffic stays on this machine: the servers listen on 127.0.0.1 only (the user-mode stacks
# map their gateway to the host's loopback) or, for the bridge, inside the sandboxes.
# Target: bridge >= 5x slirp4netns.
#
# The bridge: rsandbox-netd from this build, run as root in a network namespace this script
# makes (with its own bridge), and two sandboxes on it (measure_bridge). Were `--net bridge`
# missing from `rsandbox run --help`, the section would report "not yet".
# `bench/net.sh --peers` measures loopback, slirp4netns and pasta alone (no bridge).
# Usage: bench/net.sh [--peers] [seconds]   (as root: it drops to the test user; /dev/net/tun
# is opened to the user for the run and its mode restored after)
set -euo pipefail
cd "$(dirname "$0")/.."
peers_only=0
[ "${1:-}" = --peers ] && { peers_only=1; shift; }
source bench/lib.sh
secs=${1:-$([ "$quick" = 1 ] && echo 2 || echo 5)}
connects=$([ "$quick" = 1 ] && echo 100 || echo 500)

bridge=0
help=$("$rs" run --help)   # (grep -q on a pipe would SIGPIPE it under pipefail)
grep -Eq -- '--net[ =<]' <<<"$help" && grep -q bridge <<<"$help" && bridge=1
if [ "$bridge" = 0 ] && [ "$peers_only" = 0 ]; then
    echo '{"title": "Network: bridge vs slirp4netns vs pasta", "not_yet": "rsandbox run has no --net bridge yet (rsandbox-netd is being built); bench/net.sh --peers measures the user-mode peers alone"}' | report network
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

# Two sandboxes on one bridge: rsandbox-netd (the build's) runs as root in a network namespace
# this script makes, holding bridge rsbbench; the server sandbox runs iperf3 and the accept
# loop on its eth0, the client sandbox connects to it. Nothing touches the host's links.
measure_bridge() {
    local netd=.build/helpers/rsandbox-netd nd="$work/netd" status=0
    [ -x "$netd" ] || scripts/build-helpers >/dev/null
    mkdir -p "$nd"; chmod 755 "$nd"
    printf 'bridge rsbbench 10.231.0.0/24\n%s veth rsbbench 2\n' "$user" > "$nd/netd.conf"
    unshare --net sleep 3600 & local holder=$!
    on_exit "kill $holder 2>/dev/null"
    local i=0; while [ "$(readlink /proc/$holder/ns/net)" = "$(readlink /proc/self/ns/net)" ] && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done
    nsenter --net=/proc/$holder/ns/net sh -c 'ip link set lo up && ip link add rsbbench type bridge &&
        ip addr add 10.231.0.1/24 dev rsbbench && ip link set rsbbench up'
    nsenter --net=/proc/$holder/ns/net "$netd" --config "$nd/netd.conf" --socket "$nd/netd.sock" \
        --state "$nd/netd.state" >"$work/netd.log" 2>&1 &
    local daemon=$!
    on_exit "kill $daemon 2>/dev/null"
    i=0; while [ ! -S "$nd/netd.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    export RSANDBOX_NETD_SOCKET=$nd/netd.sock
    # The server: its address is the first lease (10.231.0.2), written where the client waits.
    (cd "$work" && exec "${drop[@]}" "$rs" run --net bridge=rsbbench --timeout $((secs + 60)) -- sh -c "
        ip -o -4 addr show eth0 | awk '{print \$4}' | cut -d/ -f1 > $work/bridge-server-ip
        iperf3 -s -p $port -1 >/dev/null 2>&1 &
        exec /usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"0.0.0.0\", int(sys.argv[1]))); s.listen(128)
s.settimeout($((secs + 50)))
try:
    while True: s.accept()[0].close()
except socket.timeout: pass' $((port + 1))") >"$work/bridge-server.log" 2>&1 &
    local server=$!
    i=0; while [ ! -s "$work/bridge-server-ip" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    sleep 0.5
    local ip; ip=$(cat "$work/bridge-server-ip" 2>/dev/null)
    [ -n "$ip" ] || { echo "bridge: the server sandbox got no address: $(tail -3 "$work/bridge-server.log") $(tail -3 "$work/netd.log")" >&2; kill $server; return 1; }
    (cd "$work" && exec "${drop[@]}" "$rs" run --net bridge=rsbbench --timeout $((secs + 30)) -- \
        "$work/client.sh" "$ip" bridge) >"$work/out-bridge" 2>"$work/bridge-client.log" || status=$?
    kill $server 2>/dev/null; wait $server 2>/dev/null || true
    # What a NIC adds to a start: `true` with --net none against --net bridge, one hyperfine run
    # back to back, one with 100 ms between starts (what one command typed sees: back to back,
    # each start also meets the kernel still tearing down the previous sandbox's namespace and
    # veth, which holds the lock every link change takes).
    local runs; runs=$([ "$quick" = 1 ] && echo 10 || echo 30)
    for kind in back spaced; do
        local pause=()
        [ $kind = spaced ] && pause=(--prepare "sleep 0.1")
        (cd "$work" && "${drop[@]}" env RSANDBOX_NETD_SOCKET="$nd/netd.sock" hyperfine -N --warmup 3 \
            --runs "$runs" --export-json "$work/bridge-start-$kind.json" \
            "${pause[@]}" \
            -n none "$rs run --net none -- true" -n bridge "$rs run --net bridge=rsbbench -- true") >/dev/null 2>&1 \
            || echo "bridge: the start-up run ($kind) failed" >&2
    done
    kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true
    kill $holder 2>/dev/null; wait $holder 2>/dev/null || true
    unset RSANDBOX_NETD_SOCKET
    [ $status = 0 ] || { echo "bridge: the client failed ($status); $(tail -3 "$work/bridge-client.log")" >&2; return 1; }
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
    res["start_ms"] = {}
    for kind, label in [("spaced", "one start at a time (100 ms apart)"), ("back", "back to back")]:
        try:
            st = {x["command"]: x["median"] for x in json.load(open(os.path.join(work, f"bridge-start-{kind}.json")))["results"]}
            added = (st["bridge"] - st["none"]) * 1e3
            res["start_ms"][kind] = {"none": round(st["none"] * 1e3, 2), "bridge": round(st["bridge"] * 1e3, 2)}
            checks.append({"what": f"--net bridge start-up ({st['bridge']*1e3:.1f} ms) minus --net none ({st['none']*1e3:.1f} ms), {label}, ms",
                           "value": round(added, 1), "target": "<= 5", "met": added <= 5})
        except (OSError, KeyError, ValueError):
            checks.append({"what": f"--net bridge start-up cost, {label}", "value": "not measured (the run failed)", "target": "<= 5", "met": False})
print(json.dumps({
    "title": f"Network: sandbox to server, iperf3 -t {secs} (1 stream) and median connect() of {connects}"
             + (" (peers only: no bridge yet)" if peers_only else ""),
    "columns": ["path", "Gbit/s", "vs slirp4netns", "connect µs"],
    "rows": rows, "checks": checks,
    "notes": ["loopback: client and server in the host's network namespace (the ceiling); slirp4netns "
              "(--configure --mtu=65520) and pasta (--config-net) attached to `rsandbox run --unshare-net`, "
              "server on 127.0.0.1 reached through the stack's gateway; with 2 cores the stack and both "
              "iperf3 ends share the CPUs",
              "bridge: two `rsandbox run --net bridge` sandboxes on one bridge, their veths made by this "
              "build's rsandbox-netd running in a network namespace the script made; server in one, client "
              "in the other"],
    "raw": res}))
PY
