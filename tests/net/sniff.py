"""Listens on an interface (AF_PACKET) for frames marked RSPOOF:<name> (frames.py) and prints
the names seen, sorted, once "end" arrives or after SECONDS. Creates READY-FILE once listening.

  sniff.py INTERFACE SECONDS READY-FILE
"""
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
s.settimeout(0.2)
open(sys.argv[3], "w").close()
seen, end = set(), time.monotonic() + float(sys.argv[2])
while time.monotonic() < end and "end" not in seen:
    try:
        f = s.recv(65535)
    except socket.timeout:
        continue
    i = f.find(b"RSPOOF:")
    if i >= 0:
        seen.add(f[i + 7:].split(b".")[0].decode())
print(" ".join(sorted(seen)), flush=True)
