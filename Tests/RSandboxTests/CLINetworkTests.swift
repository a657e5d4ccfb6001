import Foundation
import RSandbox
import Testing
@testable import rsandbox

/// `rsandbox run --net …` as the unprivileged test user, with rsandbox-netd and its bridge in a
/// network namespace the test made (NetdFixture): the host's links are never touched.
// Serialized: these tests block their thread for seconds at a time, and on a small machine
// running them all at once starves the async tests of the cooperative pool.
@Suite(.serialized) struct CLINetworkTests {
    func run(_ args: [String], netd: NetdFixture?, socket: String? = nil) throws -> Running {
        try Running([TestEnvironment.binary] + args, runner: .testUser,
                    extraEnv: ["RSANDBOX_NETD_SOCKET": socket ?? (netd.map { $0.dir + "/netd.sock" } ?? "/nonexistent/netd.sock")])
    }

    @Test func theCommandStartsWithEth0ConfiguredAndTheLeaseEndsWithIt() throws {
        let netd = try NetdFixture()
        let r = try run(["run", "--net", "bridge=rsbt0", "--", "sh", "-c", "ip -o -4 addr show eth0 | awk '{print $4}'; ip route show default"], netd: netd).finish()
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["10.123.0.2/24", "default via 10.123.0.1 dev eth0 proto static "], "\(r.stdout)")
        #expect(netd.eventually(within: 1) { netd.state().isEmpty && !netd.hostLinks().contains("rsb0a7b0002") })
    }

    @Test func twoBridgedSandboxesTalkTCPBothWays() throws {
        let netd = try NetdFixture()
        let dir = userDirectory()
        // Each listens, then connects to the other (retrying until it listens), and echoes
        // what reaches its listener on a thread of its own.
        writeUserFile(dir + "/peer.py", """
            import socket, sys, threading, time
            port, peer, peer_port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
            srv = socket.socket(); srv.bind(("0.0.0.0", port)); srv.listen(1)
            def serve():
                c, a = srv.accept(); c.sendall(b"echo " + c.recv(100)); print("served", a[0], flush=True)
            t = threading.Thread(target=serve); t.start()
            for _ in range(200):
                try:
                    s = socket.create_connection((peer, peer_port), timeout=5); break
                except OSError:
                    time.sleep(0.05)
            s.sendall(b"hi"); print("got", s.recv(100).decode(), flush=True); t.join()
            """)
        let a = try run(["run", "--net", "bridge=rsbt0", "--", "/usr/bin/python3", dir + "/peer.py", "7000", "10.123.0.3", "7001"], netd: netd)
        #expect(netd.eventually { netd.leased(1) })
        let b = try run(["run", "--net", "bridge=rsbt0", "--", "/usr/bin/python3", dir + "/peer.py", "7001", "10.123.0.2", "7000"], netd: netd).finish()
        let ra = a.finish()
        #expect(ra.code == 0 && b.code == 0, "\(ra.stderr)\(b.stderr)")
        #expect(Set(ra.lines) == ["got echo hi", "served 10.123.0.3"], "\(ra.stdout)")
        #expect(Set(b.lines) == ["got echo hi", "served 10.123.0.2"], "\(b.stdout)")
    }

    /// netd serves at most 4 connections per uid at once; a user who starts ten bridged
    /// sandboxes together meets that limit, and the client asks again instead of failing.
    @Test func tenBridgedSandboxesStartedAtOnceAllGetTheirNIC() throws {
        let netd = try NetdFixture(rules: "rsandbox-test veth rsbt0 10\n")
        let runs = try (0..<10).map { _ in
            try run(["run", "--net", "bridge=rsbt0", "--", "sh", "-c", "ip -o -4 addr show eth0 | wc -l"], netd: netd)
        }
        let results = runs.map { $0.finish() }
        for r in results {
            #expect(r.code == 0 && r.lines == ["1"], "\(r.stdout)\(r.stderr)")
        }
    }

    @Test func aRefusalIsASetupErrorAndTheCommandNeverRuns() throws {
        let netd = try NetdFixture()
        let dir = userDirectory()
        let r = try run(["run", "--net", "bridge=nosuch", "--", "touch", dir + "/ran"], netd: netd).finish()
        #expect(r.code == 125)
        #expect(r.stderr == "rsandbox: network: bridge nosuch: rsandbox-netd refused: unknown bridge nosuch\n", "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/ran"))
        #expect(netd.state().isEmpty)
    }

    @Test func withoutNetdBridgeIsASetupErrorWithAHintNeverAFallback() throws {
        let r = try run(["run", "--net", "bridge", "--", "true"], netd: nil).finish()
        #expect(r.code == 125)
        #expect(r.stderr == """
            rsandbox: network: bridge rsbr0: cannot reach rsandbox-netd at /nonexistent/netd.sock: No such file or directory
            rsandbox: hint: no rsandbox-netd listens on /nonexistent/netd.sock: see docs/networking.md

            """, "\(r.stderr)")
    }

    @Test func badNetValuesAreRefused() throws {
        let bogus = try run(["run", "--net", "bogus", "--", "true"], netd: nil).finish()
        #expect(bogus.code == 125)
        #expect(bogus.stderr == "rsandbox: spec: net \"bogus\": expected none, host, bridge, bridge=NAME or user\n", "\(bogus.stderr)")
        let name = try run(["run", "--net", "bridge=a/b", "--", "true"], netd: nil).finish()
        #expect(name.code == 125)
        #expect(name.stderr == "rsandbox: spec: net bridge=\"a/b\": a bridge name is 1-15 characters of A-Z a-z 0-9 _ -\n", "\(name.stderr)")
    }

    @Test func noneIsOnlyLoopbackAndHostIsTheHostsNamespace() throws {
        let none = try run(["run", "--net", "none", "--", "sh", "-c", "ip -o link | cut -d: -f2"], netd: nil).finish()
        #expect(none.code == 0 && none.lines == [" lo"], "\(none.stdout)\(none.stderr)")
        let host = try shell("readlink /proc/self/ns/net", as: .testUser)
        let inside = try run(["run", "--unshare-all", "--net", "host", "--", "readlink", "/proc/self/ns/net"], netd: nil).finish()
        #expect(inside.code == 0 && inside.lines == host.lines, "\(inside.stderr)")
    }

    /// The default: without --net, `run` (like `shell`) gets a namespace of its own with
    /// only lo, up; the host's network only when asked for.
    @Test func runsDefaultIsNoneAndHostIsAskedFor() throws {
        let host = try shell("readlink /proc/self/ns/net", as: .testUser)
        let plain = try run(["run", "--", "sh", "-c", "readlink /proc/self/ns/net; ip -o link | cut -d: -f2,3"], netd: nil).finish()
        #expect(plain.code == 0, "\(plain.stderr)")
        #expect(plain.lines.count == 2 && plain.lines.first != host.lines.first, "\(plain.stdout)")
        #expect(plain.lines.last?.hasPrefix(" lo: <LOOPBACK,UP") == true, "only lo, up: \(plain.stdout)")
        for flags in [["--net", "host"], ["--share-net"]] {
            let kept = try run(["run"] + flags + ["--", "readlink", "/proc/self/ns/net"], netd: nil).finish()
            #expect(kept.code == 0 && kept.lines == host.lines, "\(flags): \(kept.stdout)\(kept.stderr)")
        }
        let shellSpec = try ShellSession(options: RunOptions()).spec(interactive: false)
        let runSpec = try RunOptions(command: ["true"]).buildSpec()
        #expect(shellSpec.namespaces.net && runSpec.namespaces.net && runSpec.network == nil)
    }

    @Test func killingTheSupervisorReleasesTheLeaseWithinASecond() throws {
        let netd = try NetdFixture()
        let r = try run(["run", "--net", "bridge=rsbt0", "--", "sleep", "100"], netd: netd)
        #expect(netd.eventually { netd.leased(1) })
        kill(r.pid, SIGKILL)
        _ = r.finish()
        #expect(netd.eventually(within: 1) { netd.state().isEmpty && !netd.hostLinks().contains("rsb0a7b0002") })
    }

    @Test func doctorSaysWhetherNetdAnswersAndTheCallersQuota() throws {
        let netd = try NetdFixture()
        let up = try run(["doctor"], netd: netd).finish()
        #expect(up.lines.contains("✓ rsandbox-netd: reachable at \(netd.dir)/netd.sock; your NICs in use/allowed: rsbt0 0/2 rsbdown 0/1"), "\(up.stdout)")
        let down = try run(["doctor"], netd: nil).finish()
        let line = try #require(down.lines.firstIndex { $0.hasPrefix("✗ rsandbox-netd: ") }, "\(down.stdout)")
        #expect(down.lines[line] == "✗ rsandbox-netd: cannot reach rsandbox-netd at /nonexistent/netd.sock: No such file or directory: --net bridge is unavailable")
        #expect(down.lines[line + 1] == "    fix: set up and start rsandbox-netd (docs/networking.md)")
    }

    @Test func shellTakesNetToo() throws {
        var o = RunOptions()
        o.net = "host"
        #expect(try ShellSession(options: o).spec(interactive: false).namespaces.net == false)
        o.net = "bridge=rsbt0"
        let spec = try ShellSession(options: o).spec(interactive: false)
        #expect(spec.namespaces.net && spec.network == .bridge(name: "rsbt0", socket: RunOptions.netdSocketOverride()))
    }

    /// Runs `body` with /dev/net/tun at `mode` (pasta opens it as the caller), then restores it.
    func withTun<T>(mode: mode_t, _ body: () throws -> T) throws -> T {
        var st = stat()
        try #require(stat("/dev/net/tun", &st) == 0, "no /dev/net/tun")
        chmod("/dev/net/tun", mode)
        defer { chmod("/dev/net/tun", st.st_mode & 0o7777) }
        return try body()
    }

    @Test func userModeReachesTheHostThroughPastaAndStopsIt() throws {
        let port = Int.random(in: 20_000...40_000)
        let server = try Running(["/usr/bin/python3", "-c", """
            import socket
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", \(port))); s.listen(1); s.settimeout(20)
            c, a = s.accept(); c.sendall(b"host says hi"); c.close()
            """], runner: .root)
        defer { kill(server.pid, SIGKILL); _ = server.finish() }
        usleep(300_000)
        let r = try withTun(mode: 0o666) {
            try run(["run", "--net", "user", "--", "sh", "-c", """
                ip -o -4 addr show eth0 | grep -c inet; gw=$(ip route show default | cut -d' ' -f3)
                python3 -c 'import socket,sys; print(socket.create_connection((sys.argv[1], \(port)), timeout=5).recv(100).decode())' $gw
                """], netd: nil).finish()
        }
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == ["1", "host says hi"], "\(r.stdout)\(r.stderr)")
        #expect(eventually(within: 2) { processes(containing: "--foreground --config-net --quiet --netns").isEmpty }, "pasta was stopped")
    }

    /// A server inside `--net user --publish 127.0.0.1:PORT:8080` is reached at the host's
    /// 127.0.0.1:PORT by a client running as the test user; a UDP forward carries a datagram and
    /// its reply too (same port both sides: Debian 12's pasta loses the replies of a UDP forward
    /// that changes the port, see docs/networking.md).
    @Test func publishForwardsAHostLoopbackPortIntoTheSandbox() throws {
        let tcp = Int.random(in: 40_001...50_000), udp = Int.random(in: 50_001...60_000)
        let dir = userDirectory()
        writeUserFile(dir + "/server.py", """
            import socket
            t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(("0.0.0.0", 8080)); t.listen(1)
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", \(udp)))
            print("listening", flush=True)
            c, a = t.accept(); c.sendall(b"sandbox says hi"); c.close()
            data, peer = u.recvfrom(100); u.sendto(b"udp " + data, peer)
            """)
        writeUserFile(dir + "/client.py", """
            import socket, sys, time
            # pasta listens on the host from the start; the server inside may not yet: retry.
            for _ in range(200):
                try:
                    got = socket.create_connection(("127.0.0.1", \(tcp)), timeout=5).recv(100)
                    if got: print(got.decode(), flush=True); break
                except OSError:
                    pass
                time.sleep(0.05)
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5)
            u.sendto(b"ping", ("127.0.0.1", \(udp))); print(u.recvfrom(100)[0].decode(), flush=True)
            """)
        try withTun(mode: 0o666) {
            let server = try run(["run", "--net", "user", "--publish", "127.0.0.1:\(tcp):8080", "-p", "127.0.0.1:\(udp):\(udp)/udp",
                                  "--", "/usr/bin/python3", dir + "/server.py"], netd: nil)
            let client = try Running(["/usr/bin/python3", dir + "/client.py"], runner: .testUser).finish()
            let r = server.finish()
            #expect(r.code == 0 && r.lines == ["listening"], "\(r.stdout)\(r.stderr)")
            #expect(client.lines == ["sandbox says hi", "udp ping"], "\(client.stdout)\(client.stderr)")
        }
    }

    @Test func badPublishSpecsAreRefusedWithOneLine() throws {
        let cases: [(String, String)] = [
            ("8080", "expected [HOSTIP:]HOSTPORT:SANDBOXPORT[/tcp|/udp], e.g. 127.0.0.1:8080:80"),
            ("0:80", "host port \"0\" is not a number in 1-65535"),
            ("8080:65536", "sandbox port \"65536\" is not a number in 1-65535"),
            ("8080:+80", "sandbox port \"+80\" is not a number in 1-65535"),
            ("8080:80/sctp", "the protocol after / is tcp or udp"),
            ("localhost:8080:80", "host address \"localhost\" is not an IPv4 or IPv6 address"),
            ("::1:8080:80", "expected [HOSTIP:]HOSTPORT:SANDBOXPORT[/tcp|/udp], e.g. 127.0.0.1:8080:80"),
            ("[::1:8080:80", "expected [IPV6]:HOSTPORT:SANDBOXPORT"),
        ]
        for (spec, reason) in cases {
            let r = try run(["run", "--net", "user", "--publish", spec, "--", "true"], netd: nil).finish()
            #expect(r.code == 125)
            #expect(r.stderr == "rsandbox: spec: publish \"\(spec)\": \(reason)\n", "\(r.stderr)")
        }
    }

    @Test func publishWithoutNetUserIsRefused() throws {
        for net in [[], ["--net", "none"], ["--net", "host"], ["--net", "bridge"]] {
            let r = try run(["run"] + net + ["-p", "8080:80", "--", "true"], netd: nil).finish()
            #expect(r.code == 125)
            #expect(r.stderr == "rsandbox: spec: publish \"8080:80\": needs --net user (ports are forwarded by pasta)\n", "\(net): \(r.stderr)")
        }
        var o = RunOptions()
        o.publish = ["8080:80"]
        #expect(throws: SandboxError.self) { try ShellSession(options: o).spec(interactive: false) }
    }

    /// A SIGKILLed supervisor leaves no pasta behind: pasta would run on otherwise, holding the
    /// sandbox's namespace (it did before it became the supervisor's bound child).
    @Test func aKilledSupervisorLeavesNoPasta() throws {
        try withTun(mode: 0o666) { try killTheSupervisorOfAUserModeSandbox() }
    }

    func killTheSupervisorOfAUserModeSandbox() throws {
        let r = try run(["run", "--net", "user", "--", "sleep", "100"], netd: nil)
        defer { kill(r.pid, SIGKILL); _ = r.finish() }
        // The sandbox's first process: the supervisor's child, with its command line.
        #expect(eventually(within: 5) { Self.sandbox(under: r.pid) != nil })
        let sandbox = try #require(Self.sandbox(under: r.pid))
        // pasta, by its arguments, whatever its parent (a daemonized one has none of ours).
        let pastaArgs = "--netns /proc/\(sandbox)/ns/net"
        #expect(eventually(within: 5) { !processes(containing: pastaArgs).isEmpty }, "pasta runs for the sandbox")
        kill(r.pid, SIGKILL)
        let gone = eventually(within: 2) { processes(containing: pastaArgs).isEmpty }
        if !gone { for p in processes(containing: pastaArgs) { kill(p, SIGKILL) } } // it may hold our pipes open
        #expect(gone, "pasta outlived its supervisor")
    }

    static func parent(of pid: Int32) -> Int32? {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // "pid (comm) state ppid ...": the comm may hold spaces, so split after the last ')'.
        let after = stat.split(separator: ")").last?.split(separator: " ") ?? []
        return after.count > 1 ? Int32(after[1]) : nil
    }

    static func sandbox(under supervisor: Int32) -> Int32? {
        processes(containing: "sleep 100").first { parent(of: $0) == supervisor }
    }

    @Test func userModeWithoutAUsableTunIsASetupErrorNeverAFallback() throws {
        let dir = userDirectory()
        let r = try withTun(mode: 0o600) {
            try run(["run", "--net", "user", "--", "touch", dir + "/ran"], netd: nil).finish()
        }
        #expect(r.code == 125)
        #expect(r.stderr == """
            rsandbox: network: net user: pasta failed: Failed to open tun socket in namespace
            rsandbox: hint: pasta needs /dev/net/tun to be usable by you (mode 0666)

            """, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/ran"))
    }
}
