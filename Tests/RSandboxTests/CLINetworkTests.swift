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
        #expect(eventually(within: 2) { processes(containing: "--config-net --quiet --netns").isEmpty }, "pasta was stopped")
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
