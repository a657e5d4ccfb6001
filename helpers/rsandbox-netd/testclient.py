#!/usr/bin/env python3
"""A test client for rsandbox-netd (Tests/RSandboxTests/NetdTests.swift runs it as the
unprivileged test user). It sends well-formed and deliberately broken requests and prints the
answer, one line.

  testclient.py SOCKET attach BRIDGE [--fd KIND] [--hold] [--answered PATH] [--serve PORT | --connect ADDR:PORT]
  testclient.py SOCKET release NAME | status | raw HEX [--fd KIND] | slow SECONDS | fds N
  testclient.py SOCKET burst N BRIDGE [--uids UID,...] [--hold-while PATH] | flood N [HOLD]

--hold keeps the namespace (and what netd put in it) until the client is killed, even after a
refusal or a lost connection; --answered PATH creates PATH once the answer (or the error) is in.
--fd KIND: own (default: a new user+net namespace of this process), nested (a user+net namespace
inside a user namespace of ours), none, two, file, socket, userns, opath, hostnet (our own
current netns), N (an inherited descriptor number).
"""
import ctypes
import os
import pwd
import random
import socket
import struct
import sys
import time

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def unshare(flags):
    if libc.unshare(flags) != 0:
        e = ctypes.get_errno()
        sys.exit(f"testclient: unshare: {os.strerror(e)}")


def own_netns(nested=False):
    uid, gid = os.getuid(), os.getgid()
    if nested:
        unshare(CLONE_NEWUSER)
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
    unshare(CLONE_NEWUSER | CLONE_NEWNET)
    return [os.open("/proc/self/ns/net", os.O_RDONLY)]


def descriptors(kind):
    if kind == "own":
        return own_netns()
    if kind == "nested":
        return own_netns(nested=True)
    if kind == "none":
        return []
    if kind == "two":
        fds = own_netns()
        return fds + [os.dup(fds[0])]
    if kind == "file":
        return [os.open("/etc/hostname", os.O_RDONLY)]
    if kind == "socket":
        return [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).detach()]
    if kind == "userns":
        unshare(CLONE_NEWUSER)
        return [os.open("/proc/self/ns/user", os.O_RDONLY)]
    if kind == "opath":
        own_netns()
        return [os.open("/proc/self/ns/net", os.O_PATH)]
    if kind == "hostnet":
        return [os.open("/proc/self/ns/net", os.O_RDONLY)]
    return [int(kind)]


def request(op, name=b""):
    return b"RSND" + bytes([1, op, len(name), 0]) + name


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    return s


# Refusals that only say "not now": netd's connection limits. A request that meets one is sent
# again after a short, jittered, growing pause (up to 20 s in all), so a test sees only the answer
# the request itself gets. `flood` connects without asking and sees them.
TRANSIENT = ("refused netd is busy (too many connections)", "refused too many connections from your uid")


def ask_once(path, payload, fds=(), cmsgs=None):
    s = connect(path)
    try:
        if cmsgs is not None:
            s.sendmsg([payload], cmsgs)
        elif fds:
            s.sendmsg([payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack(f"{len(fds)}i", *fds))])
        else:
            s.send(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass  # netd refused the connection and closed it before we sent: its answer is still queued
    s.settimeout(10)
    answer = s.recv(4096).decode()
    s.close()
    return answer


def ask(path, payload, fds=(), cmsgs=None):
    deadline, pause = time.monotonic() + 20, 0.005
    while True:
        answer = ask_once(path, payload, fds, cmsgs)
        if answer not in TRANSIENT or time.monotonic() > deadline:
            return answer
        time.sleep(pause * (0.5 + random.random()))
        pause = min(pause * 2, 0.2)


def main():
    args = sys.argv[1:]
    path, mode = args[0], args[1]
    rest, opts, i = [], {}, 2
    while i < len(args):
        if args[i] == "--hold":
            opts["--hold"] = "1"
            i += 1
        elif args[i].startswith("--"):
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            rest.append(args[i])
            i += 1
    if mode == "attach":
        fds = descriptors(opts.get("--fd", "own"))
        try:
            answer = ask(path, request(1, rest[0].encode()), fds)
        except OSError as e:
            answer = f"error {e}"
        print(answer, flush=True)
        if "--answered" in opts:
            open(opts["--answered"], "w").close()
        if not answer.startswith("ok"):
            if "--hold" in opts:
                time.sleep(600)  # the namespace stays, whatever netd made in it (netd was killed)
            return 1
        os.system("ip -o -4 addr show dev eth0 | awk '{print \"addr\", $4}'; ip route show default | awk '{print \"route\", $0}'")
        sys.stdout.flush()
        if "--serve" in opts:
            srv = socket.socket()
            srv.bind(("0.0.0.0", int(opts["--serve"])))
            srv.listen(1)
            print("listening", flush=True)
            conn, peer = srv.accept()
            data = conn.recv(100)
            conn.sendall(b"echo " + data)
            print(f"served {peer[0]} {data.decode()}", flush=True)
            conn.close()
        if "--connect" in opts:
            host, port = opts["--connect"].rsplit(":", 1)
            for _ in range(100):
                try:
                    c = socket.create_connection((host, int(port)), timeout=5)
                    break
                except OSError:
                    time.sleep(0.05)
            c.sendall(b"hello")
            print(f"got {c.recv(100).decode()}", flush=True)
        if "--hold" in opts:
            time.sleep(600)  # until the test kills us: the namespace lives as long as we do
        return 0
    if mode == "release":
        print(ask(path, request(2, rest[0].encode())))
    elif mode == "status":
        print(ask(path, request(3)))
    elif mode == "raw":
        fds = descriptors(opts.get("--fd", "none"))
        print(ask(path, bytes.fromhex(rest[0]), fds))
    elif mode == "twocmsg":
        fds = own_netns()
        one = (socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fds[0]))
        print(ask(path, request(1, rest[0].encode()), cmsgs=[one, one]))
    elif mode == "fds":
        n = int(rest[0])
        fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(n)]
        print(ask(path, request(1, b"rsbt0"), fds))
    elif mode == "slow":
        s = connect(path)
        s.settimeout(float(rest[0]) + 5)
        start = time.monotonic()
        answer = s.recv(4096).decode()
        print(f"{answer} after {time.monotonic() - start:.1f}")
    elif mode == "burst":
        # N attaches at once from each uid of --uids (run as root; default: just our own uid), each
        # from a process with a namespace of its own. Every NIC is held until all have answered
        # (so the leases count against the quotas together and no address can be handed out
        # twice); with --hold-while PATH the answers are written to PATH and the NICs held until
        # PATH is removed. Prints `UID ANSWER`, one a line.
        n, bridge = int(rest[0]), rest[1].encode()
        uids = [int(u) for u in opts["--uids"].split(",")] if "--uids" in opts else [None]
        go_r, go_w = os.pipe()
        out_r, out_w = os.pipe()
        hold_r, hold_w = os.pipe()
        kids = []
        for uid in uids:
            for _ in range(n):
                pid = os.fork()
                if pid == 0:
                    os.close(go_w)
                    os.close(out_r)
                    os.close(hold_w)
                    if uid is not None:
                        os.setgroups([])
                        os.setgid(pwd.getpwuid(uid).pw_gid)
                        os.setuid(uid)
                    me = os.getuid()  # inside the new user namespace we would be 65534
                    fds = own_netns()
                    os.read(go_r, 1)  # start together
                    try:
                        answer = ask(path, request(1, bridge), fds)
                    except OSError as e:
                        answer = f"error {e}"
                    os.write(out_w, f"{me} {answer}\n".encode())
                    os.close(out_w)
                    os.read(hold_r, 1)  # end of file: the parent let go (or died)
                    os._exit(0)
                kids.append(pid)
        os.close(out_w)
        os.close(hold_r)
        time.sleep(0.5)
        os.write(go_w, b"x" * len(kids))
        data = b""
        while True:
            chunk = os.read(out_r, 65536)
            if not chunk:
                break
            data += chunk
        if "--hold-while" in opts:
            target = opts["--hold-while"]
            with open(target + ".tmp", "wb") as f:
                f.write(data)
            os.rename(target + ".tmp", target)
            deadline = time.monotonic() + 120
            while os.path.exists(target) and time.monotonic() < deadline:
                time.sleep(0.02)
        os.close(hold_w)
        sys.stdout.write(data.decode())
        for pid in kids:
            os.waitpid(pid, 0)
    elif mode == "flood":
        # N connections that never ask; with HOLD, kept silent HOLD seconds before reading.
        socks = [connect(path) for _ in range(int(rest[0]))]
        time.sleep(float(rest[1]) if len(rest) > 1 else 0)
        for s in socks:
            s.settimeout(0.5)
            try:
                print(s.recv(4096).decode() or "open")
            except socket.timeout:
                print("open")
    return 0


sys.exit(main())
