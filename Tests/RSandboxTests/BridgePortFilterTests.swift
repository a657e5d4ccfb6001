import Foundation
import Testing

/// What a bridged sandbox may put on the bridge (shared/HELPER-SECURITY.md, netd item 9): only
/// frames from its leased MAC and addresses; never router advertisements, DHCP-server replies,
/// STP, or ARP claiming another address. And IPv6 on a bridge whose netd.conf line has a prefix.
/// netd and its bridge live in a network namespace the test made (NetdFixture); the sandboxes run
/// as the unprivileged test user through the CLI.
// Serialized: like NetdTests, these block their thread for seconds at a time.
@Suite(.serialized) struct BridgePortFilterTests {
    static let scripts = TestEnvironment.packageRoot.appendingPathComponent("tests/net").path

    func run(_ args: [String], netd: NetdFixture) throws -> Running {
        try Running([TestEnvironment.binary] + args, runner: .testUser, extraEnv: ["RSANDBOX_NETD_SOCKET": netd.dir + "/netd.sock"])
    }

    /// A copy of tests/net/NAME the test user can read.
    func script(_ name: String) throws -> String {
        let dir = userDirectory()
        writeUserFile(dir + "/" + name, try String(contentsOfFile: Self.scripts + "/" + name, encoding: .utf8))
        return dir + "/" + name
    }

    @Test func aPortPassesOnlyTheLeasesOwnAddressesAndNoRouterServerOrSTPFrames() throws {
        let netd = try NetdFixture(ipv6: true)
        let frames = try script("frames.py"), sniff = try script("sniff.py")
        let ready = netd.dir + "/sniffing"
        // The sniffer listens on the bridge itself: it sees what got through the sandbox's port.
        let sniffer = try Running(["/usr/bin/nsenter", "--net=/proc/\(netd.holder.pid)/ns/net", "/usr/bin/python3", sniff, "rsbt0", "15", ready],
                                  runner: .root)
        defer { kill(sniffer.pid, SIGKILL) }
        #expect(netd.eventually { FileManager.default.fileExists(atPath: ready) })
        let names = ["ok4", "otherip", "othermac", "dhcpserver", "stp", "arpgateway", "ok6", "routeradvert", "naown", "naother", "otherip6"]
        let sent = try run(["run", "--net", "bridge=rsbt0", "--cap-add", "NET_RAW", "--", "/usr/bin/python3", frames,
                            "10.123.0.2", "10.123.0.1"] + names, netd: netd).finish()
        // eth0's MAC is the one netd set, the one its port accepts.
        #expect(sent.code == 0 && sent.lines == ["sent 02:0a:7b:00:02:00"], "\(sent.stdout)\(sent.stderr)")
        let seen = sniffer.finish()
        // Only the frames from the leased MAC with the leased IPv4, or with the leased IPv6
        // link-local address (not an RA, nor a neighbour advertisement for another address),
        // reached the bridge; and the closing "end".
        #expect(seen.lines == ["end naown ok4 ok6"], "\(seen.stdout)\(seen.stderr)")
    }

    @Test func eachLiveLeaseHasItsPortChainAcrossARestartAndLosesItWhenItEnds() throws {
        let netd = try NetdFixture()
        let ns = "--net=/proc/\(netd.holder.pid)/ns/net"
        func chains() -> [String] {
            ((try? root("nsenter \(ns) /usr/sbin/nft list chains bridge"))?.lines ?? []).filter { $0.contains("chain ") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let a = try netd.start(["attach", "rsbt0", "--hold"])
        defer { kill(a.pid, SIGKILL); _ = a.finish() }
        #expect(netd.eventually { netd.leased(1) }) // a has .2, b will have .3
        let b = try netd.start(["attach", "rsbt0", "--hold"])
        defer { kill(b.pid, SIGKILL); _ = b.finish() }
        #expect(netd.eventually { netd.leased(2) })
        let both = ["chain prerouting {", "chain rsb0a7b0002 {", "chain rsb0a7b0003 {"]
        #expect(chains() == both, "\(chains())")
        let rules = try root("nsenter \(ns) /usr/sbin/nft list chain bridge rsandbox rsb0a7b0002").stdout
        #expect(rules.contains("ether saddr != 02:0a:7b:00:02:00 drop") && rules.contains("ip saddr 10.123.0.2 accept"), "\(rules)")
        // A restarted netd builds the table anew from its leases.
        netd.stopDaemon()
        try root("nsenter \(ns) /usr/sbin/nft flush table bridge rsandbox")
        try netd.startDaemon()
        #expect(chains() == both, "\(chains())")
        kill(a.pid, SIGKILL)
        #expect(netd.eventually { chains() == ["chain prerouting {", "chain rsb0a7b0003 {"] }, "\(chains())")
        #expect(try netd.client(["release", "rsb0a7b0003"]).lines == ["ok released rsb0a7b0003"])
        #expect(chains() == ["chain prerouting {"], "the port closes with the answer")
    }

    @Test func anIPv6PrefixGivesEth0AnAddressAndARouteAndSandboxesTalkTCPOverIt() throws {
        let netd = try NetdFixture(ipv6: true)
        let dir = userDirectory()
        writeUserFile(dir + "/peer6.py", """
            import socket, sys, time
            if sys.argv[1] == "serve":
                s = socket.socket(socket.AF_INET6); s.bind(("::", 7000)); s.listen(1); s.settimeout(20)
                c, a = s.accept(); c.sendall(b"echo " + c.recv(100)); print("served", a[0], flush=True)
            else:
                for _ in range(200):
                    try:
                        c = socket.create_connection((sys.argv[2], 7000), timeout=5); break
                    except OSError:
                        time.sleep(0.05)
                c.sendall(b"hi"); print("got", c.recv(100).decode(), flush=True)
            """)
        let server = try run(["run", "--net", "bridge=rsbt0", "--", "sh", "-c",
                              "ip -o -6 addr show eth0 scope global | awk '{print $4}'; ip -6 route show default | cut -d' ' -f1-5; exec python3 \(dir)/peer6.py serve"],
                             netd: netd)
        #expect(netd.eventually { netd.leased(1) })
        let client = try run(["run", "--net", "bridge=rsbt0", "--", "python3", dir + "/peer6.py", "connect", "fd42:123::2"], netd: netd).finish()
        let s = server.finish()
        #expect(client.code == 0 && client.lines == ["got echo hi"], "\(client.stdout)\(client.stderr)")
        #expect(s.code == 0 && s.lines == ["fd42:123::2/64", "default via fd42:123::1 dev eth0", "served fd42:123::3"], "\(s.stdout)\(s.stderr)")
    }

    @Test func badIPv6PrefixesStopNetdWithTheLine() throws {
        let dir = TestEnvironment.makeSharedDirectory()
        chmod(dir, 0o755)
        for (line, message) in [
            ("bridge rsbt0 10.123.0.0/24 fd42:123::1/64", "line 1: subnet fd42:123::1/64 is not an IPv6 prefix (length 64-120, no host bits)"),
            ("bridge rsbt0 10.123.0.0/24 fd42:123::/48", "line 1: subnet fd42:123::/48 is not an IPv6 prefix (length 64-120, no host bits)"),
            ("bridge rsbt0 10.123.0.0/24 10.1.0.0/16", "line 1: subnet 10.1.0.0/16 is not an IPv6 prefix (length 64-120, no host bits)"),
            ("bridge rsbt0 10.123.0.0/16 fd42:123::/120", "line 1: IPv6 prefix fd42:123::/120 has fewer host addresses than 10.123.0.0/16"),
            ("bridge rsbt0 10.123.0.0/24 fd42::/64 extra", "line 1: expected `bridge NAME A.B.C.D/PREFIX [IPV6-PREFIX/LENGTH]`"),
        ] {
            try (line + "\n").write(toFile: dir + "/netd.conf", atomically: false, encoding: .utf8)
            chmod(dir + "/netd.conf", 0o644)
            let r = try root("unshare --net \(NetdFixture.binary) --config \(dir)/netd.conf --socket \(dir)/s --state \(dir)/state")
            #expect(r.code == 1 && r.stderr == "rsandbox-netd: \(dir)/netd.conf: \(message)\n", "\(line): \(r.stderr)")
        }
    }
}
