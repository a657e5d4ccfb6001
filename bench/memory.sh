#!/usr/bin/env bash
# Memory: peak RSS of the supervisor (the process you start) during a sandbox's life, rsandbox
# vs bubblewrap (and unshare), as the test user. Two figures, median of N runs each:
#   - life peak: /usr/bin/time's maximum RSS over a whole `true` sandbox (static busybox true,
#     so the command itself is never the largest): the largest of the supervisor and every
#     process it waited for (the child between clone and exec is a copy of the supervisor).
#   - while running `sleep 1`: the supervisor's VmHWM, and the VmRSS of the sandbox's own
#     processes other than the command (rsandbox's pid-1 reaper, bwrap's pid-1 monitor), read
#     from /proc half-way.
# Usage: bench/memory.sh [runs]   (as root: the commands run as the test user)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
runs=${1:-$([ "$quick" = 1 ] && echo 3 || echo 9)}
cd "$work"
python3 - "$user" "$runs" "$rs" <<'PY' | (cd - >/dev/null && report memory)
import json, os, statistics, subprocess, sys, time
user, runs, rs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
drop = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--"]
tools = {
    "rsandbox": [rs, "run", "--unshare-all", "--"],
    "rsandbox-mounts": [rs, "run", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--"],
    "bwrap": ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"],
    "unshare-all": ["unshare", "-UrmpfniuC", "--mount-proc"],
}

def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out

def kb(s):
    return int(s.split()[0]) if s else 0

def children():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    return kids

def descendants(pid, kids):
    out = []
    for c in kids.get(pid, []):
        out.append(c)
        out += descendants(c, kids)
    return out

def life_peak(cmd):
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + drop + cmd + ["/bin/busybox", "true"],
                       capture_output=True, text=True, check=True, timeout=60)
    return int(p.stderr.strip().splitlines()[-1])

def while_running(cmd):
    p = subprocess.Popen(drop + cmd + ["/bin/sleep", "1"])
    time.sleep(0.5)
    sup = status(p.pid)
    helpers = 0
    for d in descendants(p.pid, children()):
        try:
            s = status(d)
        except OSError:
            continue
        if s["Name"] != "sleep":
            helpers += kb(s.get("VmRSS"))
    if p.wait(timeout=60) != 0:
        raise SystemExit(f"{cmd[0]} failed")
    return kb(sup["VmHWM"]), helpers

res = {}
for name, cmd in tools.items():
    life = [life_peak(cmd) for _ in range(runs)]
    run = [while_running(cmd) for _ in range(runs)]
    res[name] = {"life_peak_kb": statistics.median(life), "supervisor_hwm_kb": statistics.median(r[0] for r in run),
                 "helpers_rss_kb": statistics.median(r[1] for r in run)}
b = res["bwrap"]
mb = lambda k: f"{k / 1024:.2f}"
rows = [[n, mb(r["life_peak_kb"]), f"{r['life_peak_kb'] / b['life_peak_kb']:.1f}", mb(r["supervisor_hwm_kb"]),
         f"{r['supervisor_hwm_kb'] / b['supervisor_hwm_kb']:.1f}", mb(r["helpers_rss_kb"])] for n, r in res.items()]
print(json.dumps({
    "title": f"Memory: peak RSS of the supervisor (median of {runs}; MB)",
    "columns": ["tool", "life peak (time %M)", "vs bwrap", "supervisor VmHWM while running", "vs bwrap",
                "reaper/monitor VmRSS"],
    "rows": rows,
    "notes": ["rsandbox is one static executable (Swift runtime and ArgumentParser linked in); bwrap is a small dynamic C program",
              "unshare-all's supervisor is unshare itself, waiting for its forked child"],
    "raw": res}))
PY
