// netns-tool: the Netns API as a command, one operation per run, so tests can drive it inside a
// sandbox's own user and network namespaces and check the result with iproute2.
import Glibc
import Netns

let usage = """
usage: netns-tool bridge NAME | veth NAME PEER [NETNS-PATH] | master NAME BRIDGE|none
       | up NAME | down NAME | rename NAME NEW | move NAME NETNS-PATH | delete NAME
       | addr-add NAME PREFIX | addr-del NAME PREFIX | addrs NAME
       | route-add DEST GATEWAY|- NAME | route-del DEST GATEWAY|- NAME | list | watch COUNT

"""

/// Writes all of `text` to `fd` (no stdio: its globals are not concurrency-safe in Swift 6).
func put(_ text: String, _ fd: Int32 = 1) {
    var bytes = Array(text.utf8)
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
        if n <= 0 { return }
        off += n
    }
}

func fail(_ message: String, code: Int32 = 1) -> Never {
    put("netns-tool: \(message)\n", 2)
    exit(code)
}

func prefix(_ s: String) -> IPPrefix {
    guard let p = IPPrefix(s) else { fail("not an address: \(s)", code: 2) }
    return p
}

func openNamespace(_ path: String) -> Int32 {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { fail("\(path): \(String(cString: strerror(errno)))") }
    return fd
}

let args = Array(CommandLine.arguments.dropFirst())
guard let op = args.first else { fail(usage, code: 2) }
let a = Array(args.dropFirst())
func need(_ n: ClosedRange<Int>) { if !n.contains(a.count) { fail(usage, code: 2) } }

do throws(NetnsError) {
    if op == "watch" {
        need(1...1)
        guard let count = Int(a[0]) else { fail(usage, code: 2) }
        let events = try LinkEventSocket()
        put("watching\n")
        var seen = 0
        while seen < count {
            let batch = try events.next(timeoutMilliseconds: 10_000)
            if batch.isEmpty { fail("no link event within 10 s") }
            for e in batch where seen < count {
                put("\(e.kind == .new ? "new" : "del") \(e.index) \(e.name) \(e.isUp ? "up" : "down")\n")
                seen += 1
            }
        }
        exit(0)
    }
    let s = try RouteSocket()
    switch op {
    case "bridge": need(1...1); try s.createBridge(a[0])
    case "veth":
        need(2...3)
        try s.createVeth(a[0], peer: a[1], peerNamespace: a.count == 3 ? openNamespace(a[2]) : nil)
    case "master": need(2...2); try s.setMaster(a[0], a[1] == "none" ? nil : a[1])
    case "up": need(1...1); try s.setUp(a[0], true)
    case "down": need(1...1); try s.setUp(a[0], false)
    case "rename": need(2...2); try s.rename(a[0], to: a[1])
    case "move": need(2...2); try s.move(a[0], toNamespace: openNamespace(a[1]))
    case "delete": need(1...1); try s.delete(a[0])
    case "addr-add": need(2...2); try s.addAddress(prefix(a[1]), to: a[0])
    case "addr-del": need(2...2); try s.removeAddress(prefix(a[1]), from: a[0])
    case "addrs": need(1...1); for x in try s.addresses(of: a[0]) { put(x + "\n") }
    case "route-add": need(3...3); try s.addRoute(prefix(a[0]), via: a[1] == "-" ? nil : prefix(a[1]), dev: a[2])
    case "route-del": need(3...3); try s.removeRoute(prefix(a[0]), via: a[1] == "-" ? nil : prefix(a[1]), dev: a[2])
    case "list":
        need(0...0)
        let links = try s.links()
        for l in links {
            let master = links.first { $0.index == l.masterIndex }?.name ?? "-"
            put("\(l.index) \(l.name) \(l.kind ?? "-") \(l.isUp ? "up" : "down") master=\(master) mtu=\(l.mtu)\n")
        }
    default: fail(usage, code: 2)
    }
} catch {
    fail(error.description)
}
