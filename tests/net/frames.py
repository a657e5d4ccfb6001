"""Sends hand-made Ethernet frames out of eth0 (AF_PACKET, needs CAP_NET_RAW in the sandbox), each
carrying the marker RSPOOF:<name>. BridgePortFilterTests runs it in a bridged sandbox and a sniffer
(sniff.py) on the bridge reports which names got through the port.

  frames.py LEASED-IPV4 GATEWAY-IPV4 NAME...   then "end" (a legitimate frame) three times
"""
import socket, struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF

def mac(t):
    return bytes.fromhex(t.replace(":", ""))

def ipv4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

def ipv6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 255,
                       socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)) + payload

def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
me = s.getsockname()[4]
leased, gateway = sys.argv[1], sys.argv[2]
ll = "fe80::%02x%02x:%02xff:fe%02x:%02x%02x" % (me[0] ^ 2, me[1], me[2], me[3], me[4], me[5])
bcast = b"\xff" * 6
def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload
def mark(name):
    return b"RSPOOF:" + name.encode() + b"."
frames = {
    "ok4": eth(bcast, me, 0x0800, ipv4(leased, "255.255.255.255", 17, udp(5000, 9, mark("ok4")))),
    "otherip": eth(bcast, me, 0x0800, ipv4("10.123.0.99", "255.255.255.255", 17, udp(5000, 9, mark("otherip")))),
    "othermac": eth(bcast, mac("02:00:00:00:00:99"), 0x0800, ipv4(leased, "255.255.255.255", 17, udp(5000, 9, mark("othermac")))),
    "dhcpserver": eth(bcast, me, 0x0800, ipv4(leased, "255.255.255.255", 17, udp(67, 68, mark("dhcpserver")))),
    "stp": mac("01:80:c2:00:00:00") + me + struct.pack("!H", 3 + 30) + b"\x42\x42\x03" + mark("stp").ljust(30, b"\0"),
    "arpgateway": eth(bcast, me, 0x0806, struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, me, socket.inet_aton(gateway), bcast,
                                                   socket.inet_aton(gateway)) + mark("arpgateway")),
    "ok6": eth(bcast, me, 0x86DD, ipv6(ll, "ff02::1", 17, udp(5000, 9, mark("ok6")))),
    "routeradvert": eth(bcast, me, 0x86DD, ipv6(ll, "ff02::1", 58, struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0) + mark("routeradvert"))),
    "naown": eth(bcast, me, 0x86DD, ipv6(ll, "ff02::1", 58, struct.pack("!BBHI16s", 136, 0, 0, 0x20000000,
                                                                  socket.inet_pton(socket.AF_INET6, ll)) + mark("naown"))),
    "naother": eth(bcast, me, 0x86DD, ipv6(ll, "ff02::1", 58, struct.pack("!BBHI16s", 136, 0, 0, 0x20000000,
                                                                    socket.inet_pton(socket.AF_INET6, "fd42:123::99")) + mark("naother"))),
    "otherip6": eth(bcast, me, 0x86DD, ipv6("fd42:123::99", "ff02::1", 17, udp(5000, 9, mark("otherip6")))),
}
for _ in range(3):
    for name in sys.argv[3:]:
        s.send(frames[name])
for _ in range(3):
    s.send(eth(bcast, me, 0x0800, ipv4(leased, "255.255.255.255", 17, udp(5000, 9, mark("end")))))
print("sent", me.hex(":"))
