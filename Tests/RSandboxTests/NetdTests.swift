import Foundation
import Testing

/// rsandbox-netd's checks (shared/HELPER-SECURITY.md, "rsandbox-netd"). netd runs as root inside
/// a network namespace this test made, with its own bridge there, so the host's links are never
/// touched; the client (helpers/rsandbox-netd/testclient.py) runs as the unprivileged test user.
// Serialized: these tests block their thread for seconds at a time, and on a small machine
// running them all at once starves the async tests of the cooperative pool.
@Suite(.serialized) struct NetdTests {
    @Test func attachGivesEth0AnAddressAndADefaultRouteInsideTheCallersNamespace() throws {
        let netd = try NetdFixture()
        let r = try netd.client(["attach", "rsbt0"])
        #expect(r.lines == ["ok eth0 10.123.0.2/24 10.123.0.1 rsb0a7b0002", "addr 10.123.0.2/24",
                            "route default via 10.123.0.1 dev eth0 proto static "], "\(r.stdout)\(r.stderr)")
        // The client exited, its namespace died, and with it both ends of the veth and the lease.
        #expect(netd.eventually { !netd.hostLinks().contains("rsb0a7b0002") && netd.state().isEmpty }, "\(netd.hostLinks())")
    }

    @Test func twoSandboxesGetDistinctAddressesAndTalkTCPOverTheBridge() throws {
        let netd = try NetdFixture()
        let server = try netd.start(["attach", "rsbt0", "--serve", "7000"])
        #expect(netd.eventually { netd.leased(1) })
        let host = netd.hostLinkDetails()
        #expect(host.contains { $0.contains("rsb0a7b0002") && $0.contains("master rsbt0") && $0.contains("link/ether fe:") }, "\(host)")
        let c = try netd.client(["attach", "rsbt0", "--connect", "10.123.0.2:7000"])
        let s = server.finish()
        #expect(c.lines.first == "ok eth0 10.123.0.3/24 10.123.0.1 rsb0a7b0003", "\(c.stdout)\(c.stderr)")
        #expect(c.lines.last == "got echo hello", "\(c.stdout)\(c.stderr)")
        #expect(s.lines.first == "ok eth0 10.123.0.2/24 10.123.0.1 rsb0a7b0002", "\(s.stdout)\(s.stderr)")
        #expect(s.lines.last == "served 10.123.0.3 hello", "\(s.stdout)\(s.stderr)")
    }

    @Test func everyDescriptorThatIsNotTheCallersNetworkNamespaceIsRefused() throws {
        let netd = try NetdFixture()
        for (kind, reason) in [("none", "attach needs your sandbox's network namespace descriptor"),
                               ("two", "send exactly one descriptor"),
                               ("file", "the descriptor is not a namespace"),
                               ("socket", "the descriptor is not a namespace"),
                               ("userns", "the descriptor is not a network namespace"),
                               ("opath", "the descriptor is not a network namespace"),
                               ("hostnet", "the host's user namespace owns that network namespace")] {
            let r = try netd.client(["attach", "rsbt0", "--fd", kind])
            #expect(r.lines.first == "refused \(reason)", "--fd \(kind): \(r.stdout)\(r.stderr)")
        }
        // Namespaces only root can hand over: netd's own, one `ip netns add` would make (owned by
        // the host's user namespace), and another user's.
        let rootNetns = try Running(["/usr/bin/unshare", "--net", "sleep", "60"], runner: .root)
        let other = try Running(["/usr/bin/setpriv", "--reuid=2743", "--regid=2743", "--clear-groups", "--",
                                 "/usr/bin/unshare", "--user", "--net", "sleep", "60"], runner: .root)
        defer { kill(rootNetns.pid, SIGKILL); kill(other.pid, SIGKILL); _ = rootNetns.finish(); _ = other.finish() }
        #expect(eventually(within: 5) { (try? String(contentsOfFile: "/proc/\(other.pid)/uid_map", encoding: .utf8))?.isEmpty == true })
        #expect(NetdFixture.waitForOwnNetns(rootNetns.pid))
        for (path, reason) in [("/proc/\(netd.daemon.pid)/ns/net", "the descriptor is netd's own network namespace"),
                               ("/proc/\(rootNetns.pid)/ns/net", "the host's user namespace owns that network namespace"),
                               ("/proc/\(other.pid)/ns/net", "that network namespace is not yours")] {
            let r = try netd.client(["attach", "rsbt0", "--fd", "5"], openingAs5: path)
            #expect(r.lines.first == "refused \(reason)", "\(path): \(r.stdout)\(r.stderr)")
        }
        // A namespace of a user namespace nested in the caller's own is the caller's.
        let nested = try netd.client(["attach", "rsbt0", "--fd", "nested"])
        #expect(nested.lines.first == "ok eth0 10.123.0.2/24 10.123.0.1 rsb0a7b0002", "\(nested.stdout)\(nested.stderr)")
    }

    @Test func malformedMessagesAreRefusedWithAReasonAndNetdKeepsServing() throws {
        let netd = try NetdFixture()
        let cases: [([String], String)] = [
            (["raw", "52534e44"], "truncated request"),
            (["raw", "52534e440101050072736274"], "truncated request"),
            (["raw", "52534e44010100007273627430"], "request longer than its header says"),
            (["raw", "00112233445566778899"], "not an rsandbox-netd request"),
            (["raw", "52534e4402010000"], "unsupported protocol version (this netd speaks version 1)"),
            (["raw", "52534e4401090000"], "unknown operation"),
            (["raw", "52534e4401010501727362743"+"0"], "malformed request header"),
            (["raw", "52534e440103000061"], "request longer than its header says"),
            (["raw", "52534e44010305006162636465", "--fd", "own"], "status takes no name"),
            (["raw", "", "--fd", "own"], "truncated request"),
            (["raw", "52534e440101050072736274" + "30" + String(repeating: "00", count: 5000)], "request too long"),
            (["attach", "bad/x"], "bad interface name (1-15 characters of A-Z a-z 0-9 _ -)"),
            (["attach", "rsbt0%"], "bad interface name (1-15 characters of A-Z a-z 0-9 _ -)"),
            (["attach", "abcdefghijklmnop"], "bad interface name (1-15 characters of A-Z a-z 0-9 _ -)"),
            (["attach", "nosuch"], "unknown bridge nosuch"),
            (["attach", "rsbdown"], "bridge rsbdown is not set up on this host"),
            (["fds", "3"], "too many descriptors (send exactly one)"),
            (["fds", "253"], "too many descriptors (send exactly one)"),
            (["twocmsg", "rsbt0"], "send exactly one descriptor"),
            (["raw", "52534e4401030000", "--fd", "own"], "this request takes no descriptor"),
        ]
        for (args, reason) in cases {
            let r = try netd.client(args)
            #expect(r.lines.first == "refused \(reason)", "\(args.prefix(2)): \(r.stdout)\(r.stderr)")
        }
        #expect(try netd.client(["status"]).lines == ["ok rsbt0 0/2 rsbdown 0/1"])
        #expect(netd.daemon.process.isRunning)
        #expect(netd.openDescriptors() == netd.baselineDescriptors, "every received descriptor was closed")
    }

    @Test func quotaUsersWithoutARuleAndUidsWithoutAPasswdEntryAreRefused() throws {
        let netd = try NetdFixture()
        let a = try netd.start(["attach", "rsbt0", "--hold"])
        let b = try netd.start(["attach", "rsbt0", "--hold"])
        defer { kill(a.pid, SIGKILL); kill(b.pid, SIGKILL); _ = a.finish(); _ = b.finish() }
        #expect(netd.eventually { netd.leased(2) })
        #expect(try netd.client(["attach", "rsbt0"]).lines.first == "refused quota reached: 2 of 2 NICs on bridge rsbt0 in use")
        #expect(try netd.client(["status"]).lines == ["ok rsbt0 2/2 rsbdown 0/1"])
        let other = try netd.client(["attach", "rsbt0"], uid: 2743)
        #expect(other.lines.first == "refused you may not use bridge rsbt0 (see \(netd.dir)/netd.conf)", "\(other.stdout)\(other.stderr)")
        #expect(try netd.client(["status"], uid: 2743).lines == ["ok"])
        #expect(try netd.client(["status"], uid: 2999).lines == ["refused your uid has no passwd entry"])
    }

    @Test func onlyTheOwnerReleasesALease() throws {
        let netd = try NetdFixture()
        let a = try netd.start(["attach", "rsbt0", "--hold"])
        defer { kill(a.pid, SIGKILL); _ = a.finish() }
        #expect(netd.eventually { netd.leased(1) })
        #expect(try netd.client(["release", "rsb0a7b0002"], uid: 2743).lines == ["refused no lease rsb0a7b0002 of yours"])
        #expect(try netd.client(["release", "rsb0a7b000"]).lines == ["refused no lease rsb0a7b000 of yours"])
        #expect(netd.hostLinks().contains("rsb0a7b0002"))
        #expect(try netd.client(["release", "rsb0a7b0002"]).lines == ["ok released rsb0a7b0002"])
        // Given back: it no longer counts against the quota and cannot be given back twice; its
        // link is deleted by a child of netd's and the lease ends when the link is gone.
        #expect(try netd.client(["status"]).lines == ["ok rsbt0 0/2 rsbdown 0/1"])
        #expect(try netd.client(["release", "rsb0a7b0002"]).lines == ["refused no lease rsb0a7b0002 of yours"])
        #expect(netd.eventually(within: 1) { !netd.hostLinks().contains("rsb0a7b0002") && netd.state().isEmpty }, "\(netd.state())")
    }

    @Test func killingTheSandboxReleasesLeaseAndVethWithinASecond() throws {
        let netd = try NetdFixture()
        let a = try netd.start(["attach", "rsbt0", "--hold"])
        #expect(netd.eventually { netd.leased(1) && netd.hostLinks().contains("rsb0a7b0002") })
        kill(a.pid, SIGKILL)
        _ = a.finish()
        #expect(netd.eventually(within: 1) { netd.state().isEmpty && !netd.hostLinks().contains("rsb0a7b0002") })
    }

    @Test func aRestartedNetdKeepsLiveLeasesAndDropsHalfMadeOnes() throws {
        let netd = try NetdFixture()
        let a = try netd.start(["attach", "rsbt0", "--hold"])
        #expect(netd.eventually { netd.leased(1) })
        netd.stopDaemon()
        // What a netd killed during a create leaves: a pending lease (ifindex 0) and its link.
        try root("nsenter --net=/proc/\(netd.holder.pid)/ns/net ip link add rsbdead type veth peer name rsbdeadp")
        let live = netd.state()
        try (live + ["2742 rsbt0 0 rsbdead 175833093", "2742 rsbt0 999 rsbgone 175833094", ""]).joined(separator: "\n")
            .write(toFile: netd.dir + "/state", atomically: false, encoding: .utf8)
        try netd.startDaemon()
        #expect(netd.state() == live, "\(netd.state())")
        #expect(!netd.hostLinks().contains("rsbdead"))
        #expect(try netd.client(["status"]).lines == ["ok rsbt0 1/2 rsbdown 0/1"])
        kill(a.pid, SIGKILL)
        _ = a.finish()
        #expect(netd.eventually(within: 1) { netd.state().isEmpty }, "the new netd saw the link go")
    }

    @Test func aNetdKilledWhileItsChildWorksInANamespaceCanBeRestartedAtOnce() throws {
        let netd = try NetdFixture()
        netd.stopDaemon()
        try? FileManager.default.removeItem(atPath: netd.dir + "/netd.sock")
        // strace holds netd's configuring child 3 s in setns(); netd itself is killed meanwhile.
        let traced = try Running(["/usr/bin/nsenter", "--net=/proc/\(netd.holder.pid)/ns/net", "/usr/bin/strace", "-f", "-o", "/dev/null",
                                  "-e", "trace=setns", "-e", "inject=setns:delay_enter=3000000", NetdFixture.binary,
                                  "--config", netd.dir + "/netd.conf", "--socket", netd.dir + "/netd.sock", "--state", netd.dir + "/state"],
                                 runner: .root)
        defer {
            // Whatever is left of the traced netd holds strace's output pipe: end it all first.
            for pid in processes(containing: netd.dir + "/netd.conf") where pid != netd.daemon.pid { kill(pid, SIGKILL) }
            kill(traced.pid, SIGKILL)
            _ = traced.finish()
        }
        #expect(netd.eventually { FileManager.default.fileExists(atPath: netd.dir + "/netd.sock") })
        let client = try netd.start(["attach", "rsbt0", "--hold"])
        defer { kill(client.pid, SIGKILL); _ = client.finish() }
        func parent(_ pid: Int32) -> Int32? {
            (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)).flatMap { Int32($0.split(separator: ")").last!.split(separator: " ")[1]) }
        }
        let daemons = { processes(containing: netd.dir + "/netd.conf").filter { parent($0) == traced.pid } }
        // netd (strace's child) and its child (netd's) both exist: the child is in setns.
        #expect(netd.eventually { !daemons().isEmpty })
        let main = try #require(daemons().first)
        #expect(netd.eventually { processes(containing: netd.dir + "/netd.conf").contains { parent($0) == main } }, "netd forked its child")
        kill(main, SIGKILL)
        try netd.startDaemon() // records an issue (and throws) when the lock is still held
        // The link was made (its lease recorded) before netd died: it lives with the client's
        // namespace, which never got an answer, and ends with it.
        let status = try netd.client(["status"]).lines
        #expect(status == ["ok rsbt0 1/2 rsbdown 0/1"], "\(status)")
        kill(client.pid, SIGKILL)
        // (the dead netd's child is still in that namespace for the rest of its 3 s)
        #expect(netd.eventually(within: 5) { netd.state().isEmpty && !netd.hostLinks().contains { $0.hasPrefix("rsb0a7b") } }, "\(netd.state())")
    }

    @Test func aSecondNetdOnTheSameStateRefusesToStart() throws {
        let netd = try NetdFixture()
        let r = try root("\(NetdFixture.binary) --config \(netd.dir)/netd.conf --socket \(netd.dir)/other.sock --state \(netd.dir)/state")
        #expect(r.code == 1)
        #expect(r.stderr.contains("another rsandbox-netd owns this state"), "\(r.stderr)")
    }

    @Test func badConfigurationsStopNetdWithTheLine() throws {
        let dir = TestEnvironment.makeSharedDirectory()
        chmod(dir, 0o755)
        func start(_ config: String, owner: uid_t = 0, mode: mode_t = 0o644) throws -> CLIResult {
            try config.write(toFile: dir + "/netd.conf", atomically: false, encoding: .utf8)
            chown(dir + "/netd.conf", owner, 0)
            chmod(dir + "/netd.conf", mode)
            return try root("unshare --net \(NetdFixture.binary) --config \(dir)/netd.conf --socket \(dir)/s --state \(dir)/state")
        }
        let good = "bridge rsbt0 10.123.0.0/24\nrsandbox-test veth rsbt0 2\n"
        for (text, owner, mode, message) in [
            (good, uid_t(2742), mode_t(0o644), "must be a regular file owned by root and writable only by it"),
            (good, 0, 0o664, "must be a regular file owned by root and writable only by it"),
            ("bridge rsbt0 10.123.0.1/24\n", 0, 0o644, "line 1: subnet 10.123.0.1/24 is not A.B.C.D/PREFIX"),
            ("bridge rsbt0 10.123.0.0/24\nbob veth rsbt0 -1\n", 0, 0o644, "line 2: expected `USER|@GROUP veth BRIDGE COUNT`"),
            ("bridge rsbt0 10.123.0.0/24\nbob veth rsbt1 1\n", 0, 0o644, "names bridge rsbt1, which no `bridge` line declares"),
            ("bridge rsbt0 10.123.0.0/29\nbob veth rsbt0 3\n@staff veth rsbt0 3\n", 0, 0o644,
             "bridge rsbt0: the rules hand out 6 NICs but its subnet has 5 addresses"),
        ] {
            let r = try start(text, owner: owner, mode: mode)
            #expect(r.code == 1 && r.stderr.contains(message), "\(text): \(r.stderr)")
        }
    }

    @Test func concurrentRequestsFromTwoUsersEachGetAnAnswerAndQuotasHold() throws {
        let netd = try NetdFixture(rules: "rsandbox-test veth rsbt0 5\n424242 veth rsbt0 5\n")
        let answers = try netd.client(["burst", "25", "rsbt0", "--uids", "2742,2743"], uid: nil).lines
        #expect(answers.count == 50, "\(answers)")
        // The client asks again after a connection-limit refusal, and every NIC is held until
        // all 50 requests were answered: exactly the quota succeeds.
        for uid in ["2742", "2743"] {
            let mine = answers.filter { $0.hasPrefix(uid + " ") }.map { String($0.dropFirst(uid.count + 1)) }
            #expect(mine.filter { $0.hasPrefix("ok eth0 10.123.0.") }.count == 5, "\(uid): \(mine)")
            #expect(mine.filter { $0 == "refused quota reached: 5 of 5 NICs on bridge rsbt0 in use" }.count == 20, "\(uid): \(mine)")
        }
        let ok = answers.filter { $0.contains(" ok eth0 ") }
        #expect(Set(ok.map { $0.split(separator: " ")[3] }).count == ok.count, "distinct addresses: \(ok)")
        #expect(netd.daemon.process.isRunning)
        #expect(netd.eventually { netd.state().isEmpty }, "every lease ended with its namespace")
        #expect(try netd.client(["status"]).lines == ["ok rsbt0 0/5"])
    }

    /// The issue's "100 concurrent requests from 10 users all succeed or get their quota
    /// refusal": users rsandbox-net0..9 (scripts/setup-test-user), 10 requests each at once, each
    /// from a user+net namespace of its own, quota 6 each.
    @Test func aHundredConcurrentRequestsFromTenUsersEachGetANICOrTheirQuotaRefusal() throws {
        let users = (0..<10).map { "rsandbox-net\($0)" }
        let uids = users.map { name -> uid_t in
            guard let pw = getpwnam(name) else { fatalError("user \(name) is missing: run scripts/setup-test-user as root") }
            return pw.pointee.pw_uid
        }
        let netd = try NetdFixture(rules: users.map { "\($0) veth rsbt0 6\n" }.joined())
        let held = netd.dir + "/answers"
        let started = Date()
        let burst = try netd.start(["burst", "10", "rsbt0", "--uids", uids.map(String.init).joined(separator: ","), "--hold-while", held], uid: nil)
        defer { try? FileManager.default.removeItem(atPath: held); kill(burst.pid, SIGKILL); _ = burst.finish() }
        guard netd.eventually(within: 60, { FileManager.default.fileExists(atPath: held) }) else {
            Issue.record("not all 100 requests were answered within 60 s")
            return
        }
        let answered = Date().timeIntervalSince(started)
        let answers = try String(contentsOfFile: held, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(answers.count == 100, "\(answers)")
        for uid in uids {
            let mine = answers.filter { $0.hasPrefix("\(uid) ") }.map { String($0.dropFirst("\(uid) ".count)) }
            let ok = mine.filter { $0.hasPrefix("ok eth0 10.123.0.") }
            let quota = mine.filter { $0 == "refused quota reached: 6 of 6 NICs on bridge rsbt0 in use" }
            #expect(mine.count == 10 && ok.count == 6 && quota.count == 4, "uid \(uid): \(mine)")
        }
        // While every NIC is held: one lease per ok, each with its port on the bridge, and
        // no address handed out twice.
        let ok = answers.filter { $0.contains(" ok eth0 ") }
        let addresses = ok.map { $0.split(separator: " ")[3] }
        #expect(Set(addresses).count == 60, "distinct addresses: \(addresses)")
        let leases = netd.state()
        #expect(leases.count == 60 && netd.leased(60), "\(leases)")
        for uid in uids {
            #expect(leases.filter { $0.hasPrefix("\(uid) rsbt0 ") }.count == 6, "uid \(uid): \(leases)")
        }
        let ports = netd.hostPorts()
        #expect(Set(ports.map(\.name)) == Set(ok.map { String($0.split(separator: " ")[5]) }), "\(ports)")
        #expect(ports.allSatisfy { $0.master == "rsbt0" }, "\(ports)")
        #expect(netd.daemon.process.isRunning)
        #expect(try netd.client(["status"], uid: uids[0]).lines == ["ok rsbt0 6/6"])
        // Letting go: every lease and port ends with its namespace.
        try FileManager.default.removeItem(atPath: held)
        let out = burst.finish()
        #expect(out.lines.sorted() == answers.sorted(), "\(out.stdout)\(out.stderr)")
        let released = Date()
        #expect(netd.eventually(within: 15) { netd.state().isEmpty && netd.hostPorts().isEmpty }, "\(netd.state()) \(netd.hostPorts())")
        print("netd: 100 requests from 10 users answered in \(String(format: "%.2f", answered)) s (from the client's start); 60 leases gone \(String(format: "%.2f", Date().timeIntervalSince(released))) s after their holders exited")
        #expect(netd.daemon.process.isRunning)
    }

    /// shared/HELPER-SECURITY.md [8] "kill -9 during create", for real: netd is killed (with
    /// its process group, as systemd's stop kills its cgroup) at spread-out moments of attaches
    /// (before, during and after), restarted, and each time the state, the links and the port
    /// filters agree.
    @Test func killingNetdAtAnyMomentOfAnAttachLeavesNoPortWithoutALeaseNorALeaseWithoutItsPort() throws {
        let netd = try NetdFixture(rules: "rsandbox-test veth rsbt0 80\n")
        var clients: [Running] = []
        defer { for c in clients { kill(c.pid, SIGKILL); _ = c.finish() } }
        // How long an attach takes here from the client's start: the kills are spread over that.
        let t0 = Date()
        clients.append(try netd.start(["attach", "rsbt0", "--hold"]))
        #expect(netd.eventually { netd.leased(1) })
        let span = Date().timeIntervalSince(t0)
        // Half the rounds kill netd while it holds the client's connection (it has more
        // descriptors than when idle: the connection and the netns fd), at a jittered moment of
        // the request; the others at a moment spread over the client's whole run (before it
        // connects, while netd is down, after its answer).
        let markers = TestEnvironment.makeSharedDirectory()
        let rounds = 30
        var duringRequest = 0, pendingAtKill = 0
        for round in 0..<rounds {
            let answered = markers + "/\(round)"
            clients.append(try netd.start(["attach", "rsbt0", "--hold", "--answered", answered]))
            if round % 2 == 0 {
                let deadline = Date().addingTimeInterval(2)
                while netd.openDescriptors() <= netd.baselineDescriptors && Date() < deadline { usleep(100) }
                usleep(UInt32.random(in: 0..<4_000))
            } else {
                let phase = (Double(round) * 0.618034).truncatingRemainder(dividingBy: 1) // spread evenly, never in order
                usleep(UInt32((span * phase + Double.random(in: 0..<0.002)) * 1e6))
            }
            if netd.openDescriptors() > netd.baselineDescriptors { duringRequest += 1 }
            netd.killDaemon()
            pendingAtKill += netd.state().filter { $0.split(separator: " ").count == 5 && $0.split(separator: " ")[2] == "0" }.count
            try netd.startDaemon()
            // The client may have come to the new netd: once it has its answer, no request is
            // under way and every client still holds its namespace: nothing changes under our feet.
            #expect(netd.eventually(within: 10) { FileManager.default.fileExists(atPath: answered) }, "round \(round): the client got no answer")
            // Every client still holds its namespace: nothing changes under our feet.
            let leases = netd.state().map { $0.split(separator: " ").map(String.init) }
            let ports = netd.hostPorts()
            for l in leases {
                #expect(l.count == 5 && ports.contains { $0.index == Int(l[2]) && $0.name == l[3] && $0.master == "rsbt0" },
                        "round \(round): lease \(l) has no port: \(ports)")
            }
            for p in ports {
                #expect(leases.contains { $0.count == 5 && Int($0[2]) == p.index && $0[3] == p.name },
                        "round \(round): port \(p) has no lease: \(leases)")
            }
            #expect(Set(leases.map { $0.count == 5 ? $0[4] : "" }).count == leases.count, "round \(round): an address twice: \(leases)")
            // [9] and exactly the leased ports have their anti-spoofing chain.
            let chains = netd.portChains()
            #expect(Set(chains) == Set(leases.compactMap { $0.count == 5 ? $0[3] : nil }) && chains.count == leases.count,
                    "round \(round): chains \(chains), leases \(leases)")
        }
        #expect(duringRequest >= 5, "kills during a request: \(duringRequest) of \(rounds)")
        let held = netd.state().count
        var answers: [String: Int] = [:]
        for c in clients {
            kill(c.pid, SIGKILL)
            let first = c.finish().lines.first ?? "nothing"
            answers[first.hasPrefix("ok") ? "ok" : first.hasPrefix("error") ? String(first.prefix(30)) : first, default: 0] += 1
        }
        clients = []
        #expect(netd.eventually(within: 10) { netd.state().isEmpty && netd.hostPorts().isEmpty }, "\(netd.state()) \(netd.hostPorts())")
        let fresh = try netd.client(["attach", "rsbt0"])
        #expect(fresh.lines.first == "ok eth0 10.123.0.2/24 10.123.0.1 rsb0a7b0002", "\(fresh.stdout)\(fresh.stderr)")
        print("netd kill -9: \(rounds) rounds over \(String(format: "%.0f", span * 1000)) ms, \(duringRequest) during a request, \(pendingAtKill) with a half-made lease; \(held) leases kept; clients' answers \(answers)")
    }

    /// systemd socket activation (rsandbox-netd.socket): netd serves on the socket it is given
    /// (LISTEN_FDS) and refuses anything but one SOCK_SEQPACKET socket.
    @Test func socketActivatedNetdServesOnTheSocketItIsGivenAndRefusesOtherSockets() throws {
        let netd = try NetdFixture()
        netd.stopDaemon()
        try? FileManager.default.removeItem(atPath: netd.dir + "/netd.sock")
        let pidFile = netd.dir + "/activated.pid"
        // systemd-socket-activate closes every descriptor it does not pass, the one Foundation
        // watches its child's exit by too (it would then wait for a live process and stall every
        // other child's reaping): a small parent in between keeps it. (Foundation starts
        // children with signals blocked, which makes sh's `wait` hang: python waits.)
        func activate(_ options: [String]) throws -> (Running, pid_t) {
            try? FileManager.default.removeItem(atPath: pidFile)
            let wrapper = "import subprocess, sys; p = subprocess.Popen(sys.argv[2:]); open(sys.argv[1], 'w').write(f'{p.pid}\\n'); sys.exit(p.wait())"
            let r = try Running(["/usr/bin/python3", "-c", wrapper, pidFile,
                                 "/usr/bin/nsenter", "--net=/proc/\(netd.holder.pid)/ns/net", "/usr/bin/systemd-socket-activate"] + options +
                                [NetdFixture.binary, "--config", netd.dir + "/netd.conf", "--socket", netd.dir + "/own.sock", "--state", netd.dir + "/state"],
                                runner: .root)
            guard netd.eventually({ (try? String(contentsOfFile: pidFile, encoding: .utf8))?.hasSuffix("\n") == true }),
                  let pid = pid_t((try String(contentsOfFile: pidFile, encoding: .utf8)).dropLast()) else {
                kill(-r.pid, SIGKILL)
                Issue.record("systemd-socket-activate did not start: \(r.finish().stderr)")
                throw CocoaError(.fileNoSuchFile)
            }
            return (r, pid)
        }
        let (activated, pid) = try activate(["--seqpacket", "-l", netd.dir + "/netd.sock"])
        var stopped = false
        defer { if !stopped { kill(pid, SIGKILL); _ = activated.finish() } }
        #expect(netd.eventually { FileManager.default.fileExists(atPath: netd.dir + "/netd.sock") })
        chmod(netd.dir + "/netd.sock", 0o666) // what SocketMode=0666 does
        let r = try netd.client(["attach", "rsbt0"])
        #expect(r.lines.first == "ok eth0 10.123.0.2/24 10.123.0.1 rsb0a7b0002", "\(r.stdout)\(r.stderr)")
        #expect(try netd.client(["status"]).lines == ["ok rsbt0 0/2 rsbdown 0/1"])
        // It is netd itself on the passed socket (systemd-socket-activate execs it in place,
        // LISTEN_PID its pid), not a socket of its own.
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) == NetdFixture.binary)
        #expect(!FileManager.default.fileExists(atPath: netd.dir + "/own.sock"))
        kill(pid, SIGTERM)
        let served = activated.finish()
        stopped = true
        #expect(served.stderr.contains("rsandbox-netd: leased rsb0a7b0002 (10.123.0.2) on rsbt0 to uid 2742"), "\(served.stderr)")

        for (name, options) in [("stream", ["-l", netd.dir + "/stream.sock"]),
                                ("two", ["--seqpacket", "-l", netd.dir + "/one.sock", "-l", netd.dir + "/two.sock"])] {
            let (wrong, wrongPid) = try activate(options)
            var ended = false
            defer { if !ended { kill(wrongPid, SIGKILL); _ = wrong.finish() } }
            let path = netd.dir + (name == "stream" ? "/stream.sock" : "/one.sock")
            #expect(netd.eventually { FileManager.default.fileExists(atPath: path) })
            // systemd-socket-activate starts netd at the first connection.
            try root("/usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.\(name == "stream" ? "SOCK_STREAM" : "SOCK_SEQPACKET")); s.connect(sys.argv[1])' \(path)")
            let exited = netd.eventually { kill(wrongPid, 0) != 0 }
            #expect(exited, "\(name): netd still runs")
            if !exited { kill(wrongPid, SIGKILL) }
            let out = wrong.finish()
            ended = true
            #expect(out.code == 1 && out.stderr.contains("rsandbox-netd: socket activation: expected one SOCK_SEQPACKET socket (ListenSequentialPacket=)"),
                    "\(name): \(out.code) \(out.stderr)")
            #expect(!FileManager.default.fileExists(atPath: netd.dir + "/own.sock"))
        }
    }

    /// The shipped units pass `systemd-analyze verify` (it needs no running systemd: it loads
    /// the units against a root directory holding the system's units and the installed binary).
    @Test func theSystemdUnitsVerify() throws {
        let root = TestEnvironment.makeSharedDirectory()
        let units = TestEnvironment.packageRoot.path + "/helpers/rsandbox-netd"
        let r = try RSandboxTests.root("""
            set -e
            mkdir -p \(root)/usr/local/libexec/rsandbox \(root)/etc/systemd/system \(root)/usr/lib/systemd
            cp -a /lib/systemd/system \(root)/usr/lib/systemd/
            install -m 755 \(NetdFixture.binary) \(root)/usr/local/libexec/rsandbox/rsandbox-netd
            cp \(units)/rsandbox-netd.service \(units)/rsandbox-netd.socket \(root)/etc/systemd/system/
            systemd-analyze verify --man=no --root=\(root) rsandbox-netd.service rsandbox-netd.socket
            """)
        #expect(r.code == 0 && r.stdout.isEmpty && r.stderr.isEmpty, "\(r.code) \(r.stdout)\(r.stderr)")
    }

    /// [10] the global connection limit: 16 uids holding 4 silent connections each fill netd's
    /// 64 slots; the next caller, whoever it is, is told netd is busy, and is served once they go.
    @Test func sixtyFourSilentConnectionsMakeNetdBusyForEveryoneUntilTheyGo() throws {
        let netd = try NetdFixture()
        // uids without a passwd entry: netd counts connections before it looks at the caller.
        var floods: [Running] = []
        defer { for f in floods { kill(f.pid, SIGKILL); _ = f.finish() } }
        for uid in uid_t(3000)..<3016 { floods.append(try netd.start(["flood", "4", "3"], uid: uid)) }
        #expect(netd.eventually(within: 4) { netd.openDescriptors() >= netd.baselineDescriptors + 64 }, "\(netd.openDescriptors())")
        let busy = try netd.client(["flood", "1"], uid: 3016)
        #expect(busy.lines == ["refused netd is busy (too many connections)"], "\(busy.stdout)\(busy.stderr)")
        let outs = floods.map { $0.finish() }
        floods = []
        // Each of the 64 was let in (and later cut off by the 5 s deadline, or not yet).
        #expect(outs.allSatisfy { $0.lines.count == 4 && $0.lines.allSatisfy { $0 == "open" || $0 == "refused timed out" } }, "\(outs.map(\.stdout))")
        #expect(try netd.client(["status"]).lines == ["ok rsbt0 0/2 rsbdown 0/1"])
        #expect(netd.daemon.process.isRunning)
    }

    @Test func slowAndFloodingClientsAreCutOffWhileOthersAreServed() throws {
        let netd = try NetdFixture()
        let slow = try netd.start(["slow", "6"])
        let flood = try netd.client(["flood", "6"], uid: 2743)
        #expect(flood.lines.filter { $0 == "open" }.count == 4, "\(flood.stdout)")
        #expect(flood.lines.filter { $0 == "refused too many connections from your uid" }.count == 2, "\(flood.stdout)")
        // Meanwhile another user is served at once.
        #expect(try netd.client(["status"]).lines == ["ok rsbt0 0/2 rsbdown 0/1"])
        let s = slow.finish()
        #expect(s.lines.first?.hasPrefix("refused timed out after 5.") == true, "\(s.stdout)\(s.stderr)")
    }
}

/// Runs a shell snippet as root.
@discardableResult
func root(_ script: String) throws -> CLIResult {
    try shell(script, as: .root)
}

/// A network namespace holding a bridge (rsbt0, 10.123.0.1/24, with `ipv6` also fd42:123::1/64;
/// rsbdown configured but absent), and rsandbox-netd serving in it on a socket in a temp directory.
final class NetdFixture {
    static let binary = TestEnvironment.packageRoot.appendingPathComponent(".build/helpers/rsandbox-netd").path
    let dir: String
    let holder: Running
    var daemon: Running
    var baselineDescriptors = 0
    let clientScript: String

    init(rules: String = "rsandbox-test veth rsbt0 2 # the test user\n@rsandbox-test veth rsbdown 1\n", ipv6: Bool = false) throws {
        precondition(FileManager.default.isExecutableFile(atPath: Self.binary), "run scripts/build-helpers first (scripts/test does)")
        dir = TestEnvironment.makeSharedDirectory()
        chmod(dir, 0o755)
        clientScript = dir + "/testclient.py"
        try root("install -m 755 \(TestEnvironment.packageRoot.path)/helpers/rsandbox-netd/testclient.py \(clientScript)")
        try ("bridge rsbt0 10.123.0.0/24\(ipv6 ? " fd42:123::/64" : "")\nbridge rsbdown 10.124.0.0/24\n" + rules)
            .write(toFile: dir + "/netd.conf", atomically: false, encoding: .utf8)
        holder = try Running(["/usr/bin/unshare", "--net", "sleep", "600"], runner: .root)
        daemon = holder // replaced below
        let ns = "/proc/\(holder.pid)/ns/net"
        guard Self.waitForOwnNetns(holder.pid) else { throw CocoaError(.fileNoSuchFile) }
        try root("nsenter --net=\(ns) sh -c 'ip link set lo up && ip link add rsbt0 type bridge && ip addr add 10.123.0.1/24 dev rsbt0 && ip link set rsbt0 up'")
        if ipv6 {
            try root("nsenter --net=\(ns) ip addr add fd42:123::1/64 dev rsbt0 nodad")
        }
        try startDaemon()
        baselineDescriptors = openDescriptors()
    }

    deinit {
        kill(daemon.pid, SIGKILL)
        kill(holder.pid, SIGKILL)
        _ = daemon.finish()
        _ = holder.finish()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Whether `pid` reached a network namespace other than ours (it unshared) within 5 s.
    static func waitForOwnNetns(_ pid: pid_t) -> Bool {
        let fm = FileManager.default
        return RSandboxTests.eventually(within: 5) {
            (try? fm.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")) != (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/ns/net"))
        }
    }

    func startDaemon() throws {
        try? FileManager.default.removeItem(atPath: dir + "/netd.sock")
        daemon = try Running(["/usr/bin/nsenter", "--net=/proc/\(holder.pid)/ns/net", Self.binary, "--config", dir + "/netd.conf",
                              "--socket", dir + "/netd.sock", "--state", dir + "/state"], runner: .root)
        guard eventually(within: 5, { FileManager.default.fileExists(atPath: self.dir + "/netd.sock") }) else {
            let r = daemon.finish()
            Issue.record("netd did not start: \(r.stderr)")
            throw CocoaError(.fileNoSuchFile)
        }
    }

    func stopDaemon() {
        kill(daemon.pid, SIGTERM)
        _ = daemon.finish()
    }

    /// netd's death by SIGKILL, with its process group (a forked child of netd's included), as
    /// systemd's stop kills the service's cgroup.
    func killDaemon() {
        kill(-daemon.pid, SIGKILL)
        _ = daemon.finish()
    }

    /// Starts the client as `uid` (nil: root) without waiting.
    func start(_ args: [String], uid: uid_t? = 2742) throws -> Running {
        let drop = uid.map { ["/usr/bin/setpriv", "--reuid=\($0)", "--regid=\($0)", "--clear-groups", "--"] } ?? []
        return try Running(drop + ["/usr/bin/python3", clientScript, dir + "/netd.sock"] + args, runner: .root)
    }

    /// Runs the client as `uid`; with `openingAs5`, root opens that path as fd 5 first.
    func client(_ args: [String], uid: uid_t? = 2742, openingAs5 path: String? = nil) throws -> CLIResult {
        if let path {
            return try root("exec 5<\(path); exec setpriv --reuid=\(uid ?? 0) --regid=\(uid ?? 0) --clear-groups -- /usr/bin/python3 \(clientScript) \(dir)/netd.sock \(args.joined(separator: " "))")
        }
        return try start(args, uid: uid).finish()
    }

    /// The leases in netd's state file, one line each.
    func state() -> [String] {
        ((try? String(contentsOfFile: dir + "/state", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Whether exactly `n` leases are recorded and each has its interface (not half-made).
    func leased(_ n: Int) -> Bool {
        let s = state()
        return s.count == n && s.allSatisfy { $0.split(separator: " ").count == 5 && $0.split(separator: " ")[2] != "0" }
    }

    func hostLinkDetails() -> [String] {
        ((try? root("nsenter --net=/proc/\(holder.pid)/ns/net ip -o link"))?.lines) ?? []
    }

    /// Link names in netd's namespace.
    func hostLinks() -> [String] {
        hostLinkDetails().compactMap { $0.split(separator: ":").dropFirst().first.map { String($0.split(separator: "@")[0]).trimmingCharacters(in: .whitespaces) } }
    }

    /// The host ends netd made (rsbXXXXXXXX), with their index and bridge.
    func hostPorts() -> [(index: Int, name: String, master: String?)] {
        hostLinkDetails().compactMap { line in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count > 2, let index = Int(fields[0].dropLast()) else { return nil }
            let name = String(fields[1].dropLast().split(separator: "@")[0])
            guard name.hasPrefix("rsb"), name.count == 11, name.dropFirst(3).allSatisfy(\.isHexDigit) else { return nil }
            let master = fields.firstIndex(of: "master").map { fields[$0 + 1] }
            return (index, name, master)
        }
    }

    /// The per-port chains of netd's nftables table (bridge rsandbox), by port name.
    func portChains() -> [String] {
        ((try? root("nsenter --net=/proc/\(holder.pid)/ns/net /usr/sbin/nft list chains bridge"))?.lines ?? []).compactMap { line in
            let words = line.split(whereSeparator: \.isWhitespace)
            guard words.count == 3, words[0] == "chain", words[1].hasPrefix("rsb") else { return nil }
            return String(words[1])
        }
    }

    func openDescriptors() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.pid)/fd")) ?? []).count
    }

    func eventually(within seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        RSandboxTests.eventually(within: seconds, condition)
    }
}
